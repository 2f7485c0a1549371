//! [`Host`]: the machine captain runs on, as the `command` and `http.get` probes and a
//! phase's `command` rollback use it. The live one runs programs and fetches URLs for
//! real; the demo world answers without touching the machine or the network
//! (`docs/architecture.md`, "Backends").

use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;

/// What a program did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    /// `None`: ended by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Why a program gave no exit code of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// It could not be started (not found, not executable).
    Start(String),
    /// It ran past its timeout and was killed.
    TimedOut,
    /// Waiting for it failed.
    Wait(String),
}

/// What a URL answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub status: u16,
    pub body: String,
}

#[async_trait]
pub trait Host: Send + Sync {
    /// Run `argv` (its program, never a shell), killed at `timeout`. `argv` is not empty.
    async fn run(&self, argv: &[String], timeout: Duration) -> Result<Ran, RunError>;
    /// `GET url`, within `timeout`; an error says why there is no answer.
    async fn get(&self, url: &str, timeout: Duration) -> Result<Fetched, String>;
}

/// This machine.
#[derive(Debug, Default, Clone, Copy)]
pub struct LocalHost;

#[async_trait]
impl Host for LocalHost {
    async fn run(&self, argv: &[String], timeout: Duration) -> Result<Ran, RunError> {
        let Some((program, args)) = argv.split_first() else {
            return Err(RunError::Start("empty argv".into()));
        };
        let child = tokio::process::Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| RunError::Start(e.to_string()))?;
        // Dropping the unfinished future drops the child, which kills it.
        match tokio::time::timeout(timeout, child.wait_with_output()).await {
            Err(_) => Err(RunError::TimedOut),
            Ok(Err(e)) => Err(RunError::Wait(e.to_string())),
            Ok(Ok(out)) => Ok(Ran {
                code: out.status.code(),
                stdout: String::from_utf8_lossy(&out.stdout).trim().to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            }),
        }
    }

    async fn get(&self, url: &str, timeout: Duration) -> Result<Fetched, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| format!("http client: {e}"))?;
        let resp = client.get(url).send().await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        Ok(Fetched {
            status,
            body: resp.text().await.unwrap_or_default(),
        })
    }
}
