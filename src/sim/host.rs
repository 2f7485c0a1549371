//! The demo world's [`Host`]: a probe's program or URL is answered as a healthy machine
//! would, without running anything here or reaching the network. A demo never depends on
//! what the machine has installed (`docs/architecture.md`, "The demo world").

use std::time::Duration;

use async_trait::async_trait;

use super::World;
use crate::sources::host::{Fetched, Host, Ran, RunError};

#[async_trait]
impl Host for World {
    async fn run(&self, argv: &[String], _timeout: Duration) -> Result<Ran, RunError> {
        Ok(Ran {
            code: Some(0),
            stdout: format!(
                "demo world: `{}` answered as on a healthy machine, not run here",
                argv.join(" ")
            ),
            stderr: String::new(),
        })
    }

    async fn get(&self, url: &str, _timeout: Duration) -> Result<Fetched, String> {
        Ok(Fetched {
            status: 200,
            body: format!("demo world: {url} answered without the network"),
        })
    }
}
