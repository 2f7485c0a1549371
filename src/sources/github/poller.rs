//! The background task that keeps the main-health feed current: poll, publish, wait. Each
//! poll also reads the pull requests previews are joined to ([`super::recent_pulls`]) into a
//! feed of their own, within the same budget.
//!
//! A good poll replaces the reading; a failed one keeps the last value and sets the fault
//! (so the panel says "GitHub: rate limited, stale 2m" instead of going blank). Between
//! polls it waits the poll period, stretched to stay within the request budget, or until
//! someone asks for a refresh. While GitHub has said to wait (rate limited), it waits until
//! the reset, and a refresh does not cut that short. One poll at a time: a refresh asked
//! during a poll runs right after it, so it sees what the asker just changed.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};

use super::client::GithubClient;
use super::main_health::{self, PollMemory};
use super::rate;
use super::tags::FreezeMemo;
use crate::clock::Clock;
use crate::engine::main_health::MainHealth;
use crate::engine::preview_links::ListedPull;
use crate::sources::{Reading, SourceError};

/// The longest a rate limit is waited out before asking again (GitHub's window is an hour).
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

pub struct Poller {
    pub client: Arc<GithubClient>,
    pub freeze: FreezeMemo,
    pub tx: watch::Sender<Reading<MainHealth>>,
    pub pulls: watch::Sender<Reading<Vec<ListedPull>>>,
    pub refresh: Arc<Notify>,
    pub poll: Duration,
    pub clock: Arc<dyn Clock>,
}

impl Poller {
    pub async fn run(self) {
        let mut memory = PollMemory::default();
        let counter = self.client.counter();
        let mut failing: Option<SourceError> = None;
        let mut pulls_failing: Option<SourceError> = None;
        loop {
            let before = counter.counted();
            let result =
                main_health::read(&self.client, &mut memory, &self.freeze, self.clock.now()).await;
            // Read before the sweep below, so its cached pages stay for the next poll.
            self.read_pulls(&mut pulls_failing).await;
            let now = self.clock.now();
            match result {
                Ok(health) => {
                    self.client.sweep();
                    if failing.take().is_some() {
                        log::info!("GitHub: main health is readable again");
                    }
                    self.tx.send_replace(Reading::fresh(health, now));
                }
                Err(e) => {
                    if failing.as_ref() != Some(&e) {
                        log::warn!("GitHub: cannot read main health: {e}");
                    }
                    failing = Some(e.clone());
                    self.tx.send_modify(|r| r.fault = Some((now, e)));
                }
            }
            if let Some(until) = self.client.limited_until() {
                tokio::time::sleep(until_then(until, now)).await;
                continue;
            }
            let wait = rate::pace(self.poll, counter.counted().saturating_sub(before));
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.refresh.notified() => {}
            }
        }
    }
}

impl Poller {
    async fn read_pulls(&self, failing: &mut Option<SourceError>) {
        if self.client.limited_until().is_some() {
            return;
        }
        let result = super::recent_pulls::read(&self.client).await;
        let now = self.clock.now();
        match result {
            Ok(list) => {
                if failing.take().is_some() {
                    log::info!("GitHub: pull requests are readable again");
                }
                self.pulls.send_replace(Reading::fresh(list, now));
            }
            Err(e) => {
                if failing.as_ref() != Some(&e) {
                    log::warn!("GitHub: cannot list pull requests for previews: {e}");
                }
                *failing = Some(e.clone());
                self.pulls.send_modify(|r| r.fault = Some((now, e)));
            }
        }
    }
}

fn until_then(until: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (until - now)
        .to_std()
        .unwrap_or(Duration::ZERO)
        .min(MAX_BACKOFF)
}
