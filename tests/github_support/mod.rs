//! The GitHub forge connected to the mock of `captain_testkit::github`, and waiting on its
//! feed: these need captain's own types, so they stay with captain's tests (the kit does
//! not depend on captain, and so is not rebuilt when captain changes).
#![allow(dead_code)] // each test binary uses its own part

use std::sync::Arc;
use std::time::Duration;

use captain::clock::{Clock, ManualClock};
use captain::config::app::GithubConfig;
use captain::engine::main_health::MainHealth;
use captain::sources::github::GithubForge;
use captain::sources::{Feed, Forge, Reading};
use captain_testkit::github::{Github, TOKEN, capture_logs, t0};

/// A forge whose one poll (at start) is over, so every request after this is the test's.
/// Nothing for the poll is mounted: it fails at once and waits an hour.
pub async fn connect(github: &Github) -> GithubForge {
    capture_logs();
    let config = GithubConfig {
        repo: "acme/summit".into(),
        api_url: github.api_url(),
    };
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(t0()));
    let never = Duration::from_secs(3600);
    let forge = GithubForge::spawn(&config, TOKEN, never, clock).expect("a valid configuration");
    reading_where(&mut forge.main_health(), Duration::from_secs(10), |r| {
        r.updated.is_some() || r.fault.is_some()
    })
    .await;
    forge
}

/// The feed's next reading that satisfies `done`, or a panic after `within`.
pub async fn reading_where(
    feed: &mut Feed<MainHealth>,
    within: Duration,
    done: impl Fn(&Reading<MainHealth>) -> bool,
) -> Reading<MainHealth> {
    let wait = async {
        loop {
            {
                let r = feed.borrow_and_update();
                if done(&r) {
                    return r.clone();
                }
            }
            feed.changed().await.expect("the poller stopped");
        }
    };
    match tokio::time::timeout(within, wait).await {
        Ok(r) => r,
        Err(_) => panic!("no such reading within {within:?}: {:?}", *feed.borrow()),
    }
}
