//! A console that starts before its operator can: when the release history, the canary's
//! weight or the shared train cannot be read at start (the cluster unreachable), the
//! console runs on with what its other sources give, and the operator is started again
//! with backoff until it starts. Meanwhile every command is refused, with why, the SLOs are
//! measured at each interval (the verdict per objective and the golden signals show), and
//! the canary panel says what failed and when the next try is.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use super::command::Confirmed;
use super::driver::{self, Update};
use super::operator::{Operator, StartError};
use super::outcome::Outcome;
use crate::clock::Clock;
use crate::config::slo::SloConfig;
use crate::engine::analysis::analyse;
use crate::sources::{Metrics, Queries};

/// Starts the operator; the error says why it could not.
pub type Start = Box<dyn Fn() -> BoxFuture<'static, Result<Operator, String>> + Send>;

/// The operator a console runs: started, or to be started again until it starts.
pub enum Begin {
    Ready(Box<Operator>),
    Later {
        start: Start,
        why: String,
        /// Measured meanwhile, so the SLOs' verdict shows without a train.
        slo: Box<Slos>,
    },
}

/// The SLOs and where they are measured.
pub struct Slos {
    pub metrics: Arc<dyn Metrics>,
    pub config: SloConfig,
}

impl Slos {
    /// One measurement, judged: what the canary panel shows of the SLOs without a train.
    async fn measure(&self, now: chrono::DateTime<chrono::Utc>) -> Vec<Update> {
        let queries = Queries::resolve(&self.config);
        let mut updates = Vec::new();
        match self.metrics.measure(&queries, now).await {
            Ok(m) => {
                let a = analyse(&self.config, &m, &queries.evidence());
                updates.push(Update::Analysis(Box::new(a)));
            }
            Err(e) => log::warn!("measuring the SLOs: {e}"),
        }
        if let Ok(sample) = self.metrics.golden(now).await {
            updates.push(Update::Sample(sample));
        }
        updates
    }
}

/// The first wait before trying again, doubled after each failure up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_secs(2);
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Whether an operator that failed to start with `e` may start later: the cluster could not
/// be read, or has no deployed revision yet. A journal that cannot be trusted, or a file
/// that is wrong, is not: those stop the console.
pub fn retryable(e: &color_eyre::eyre::Report) -> bool {
    e.downcast_ref::<StartError>().is_some_and(|e| {
        matches!(
            e,
            StartError::History(_)
                | StartError::Weight(_)
                | StartError::NoRevision(_)
                | StartError::Shared(_)
        )
    })
}

/// The wait after `failures` failed starts.
pub fn backoff(failures: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1)))
        .min(MAX_BACKOFF)
}

/// Try `start` until it succeeds, then drive as [`driver::run`] does. `why` is the first
/// failure, which the caller met.
pub async fn run(
    start: Start,
    why: String,
    slo: Box<Slos>,
    clock: Arc<dyn Clock>,
    tick: Duration,
    mut requests: mpsc::Receiver<Confirmed>,
    out: mpsc::Sender<Update>,
) {
    let mut why = why;
    let mut failures = 1;
    let mut measuring = tokio::time::interval(tick);
    measuring.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let op = loop {
        let wait = backoff(failures);
        let retry_at = clock.now() + chrono::Duration::from_std(wait).unwrap_or_default();
        log::warn!(
            "the train cannot be started: {why}; trying again in {}",
            crate::sources::deadline::secs(wait)
        );
        let said = Update::Unstarted {
            why: why.clone(),
            retry_at,
        };
        if out.send(said).await.is_err() {
            return;
        }
        let sleep = tokio::time::sleep(wait);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => break,
                _ = measuring.tick() => {
                    for update in slo.measure(clock.now()).await {
                        if out.send(update).await.is_err() {
                            return;
                        }
                    }
                }
                request = requests.recv() => {
                    let Some(confirmed) = request else { return };
                    let refused = Outcome {
                        action: confirmed.command.action().to_string(),
                        target: String::new(),
                        ok: false,
                        message: format!("refused: the train is not started ({why}); nothing was done"),
                        trace_id: None,
                        automatic: false,
                    };
                    if out.send(Update::Outcome(refused)).await.is_err() {
                        return;
                    }
                }
            }
        }
        match start().await {
            Ok(op) => break op,
            Err(e) => {
                why = e;
                failures += 1;
            }
        }
    };
    log::info!("the train is started");
    driver::run(op, clock, tick, requests, out).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_up_to_a_minute() {
        let waits: Vec<u64> = (1..=8).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 60, 60, 60]);
    }
}
