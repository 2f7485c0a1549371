//! How long captain waits on a remote call, and what it is waiting on right now.
//!
//! A [`Budget`] bounds remote calls: each call on its own (the console, `canary run`), or
//! all of a command's calls together (a headless command that only reads), so nothing a
//! server does can keep captain waiting past it (see `docs/configuration.md`, `[timeouts]`).
//! Every call in flight is registered with [`wait_on`], so the console can say what an
//! action waits on and for how long. Nothing here touches UI state.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// The budget when `captain.toml` and `--timeout` say nothing.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(30);

/// How long remote calls may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    limit: Duration,
    /// When every call must be done, for a budget shared by a whole command.
    ends: Option<Instant>,
}

impl Default for Budget {
    fn default() -> Self {
        Budget::per_call(DEFAULT_BUDGET)
    }
}

impl Budget {
    /// Each call gets `limit` of its own: for work that legitimately runs for long.
    pub fn per_call(limit: Duration) -> Self {
        Budget { limit, ends: None }
    }

    /// All calls from now on share `limit`.
    pub fn total(limit: Duration) -> Self {
        Self::total_from(Instant::now(), limit)
    }

    fn total_from(start: Instant, limit: Duration) -> Self {
        Budget {
            limit,
            ends: Some(later(start, limit)),
        }
    }

    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// When a call that starts at `start` must have its answer.
    pub fn deadline(&self, start: Instant) -> Instant {
        let own = later(start, self.limit);
        self.ends.map_or(own, |ends| ends.min(own))
    }
}

/// `start + by`, or as far on as the clock goes for a budget of centuries.
fn later(start: Instant, by: Duration) -> Instant {
    start
        .checked_add(by)
        .or_else(|| start.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(start)
}

/// A call in flight: what it waits on, since when, and the task that waits.
struct Wait {
    what: String,
    since: Instant,
    task: Option<tokio::task::Id>,
}

/// The calls in flight.
static WAITING: Mutex<BTreeMap<u64, Wait>> = Mutex::new(BTreeMap::new());
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A call in flight, registered until dropped.
#[must_use = "the wait is registered only while this is held"]
pub struct Waiting(u64);

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Ok(mut waiting) = WAITING.lock() {
            waiting.remove(&self.0);
        }
    }
}

/// Register a remote call in flight for the task that makes it: `what` says what is waited
/// on ("helm rollback", "PATCH httproutes/summit").
pub fn wait_on(what: impl Into<String>) -> Waiting {
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut waiting) = WAITING.lock() {
        let wait = Wait {
            what: what.into(),
            since: Instant::now(),
            task: tokio::task::try_id(),
        };
        waiting.insert(id, wait);
    }
    Waiting(id)
}

/// The call this task has been waiting on longest, and for how long; `None` when it waits
/// on nothing remote. Another task's calls (a watcher's relist) are not this task's wait.
pub fn longest_wait_here() -> Option<(String, Duration)> {
    let task = tokio::task::try_id();
    let waiting = WAITING.lock().ok()?;
    waiting
        .values()
        .filter(|w| w.task == task)
        .min_by_key(|w| w.since)
        .map(|w| (w.what.clone(), w.since.elapsed()))
}

/// Seconds as a person reads a short wait: `5s`, `1.5s`.
pub fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 || d >= Duration::from_secs(10) {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_budget_shortens_every_later_call_and_a_per_call_one_does_not() {
        let start = Instant::now();
        let shared = Budget::total_from(start, Duration::from_secs(5));
        let own = Budget::per_call(Duration::from_secs(5));
        let later = start + Duration::from_secs(3);
        assert_eq!(shared.deadline(later), later + Duration::from_secs(2));
        assert_eq!(own.deadline(later), later + Duration::from_secs(5));
        let after = start + Duration::from_secs(7);
        assert_eq!(shared.deadline(after), start + Duration::from_secs(5));
    }

    /// Each test waits in a task of its own: the registry is shared by the whole process.
    async fn in_a_task(test: impl std::future::Future<Output = ()> + Send + 'static) {
        tokio::spawn(test).await.unwrap();
    }

    #[tokio::test]
    async fn the_longest_wait_is_the_oldest_call_still_in_flight() {
        in_a_task(async {
            let first = wait_on("helm rollback");
            tokio::time::sleep(Duration::from_millis(20)).await;
            let second = wait_on("GET secrets");
            let (what, waited) = longest_wait_here().unwrap();
            assert_eq!(what, "helm rollback");
            assert!(waited >= Duration::from_millis(20), "{waited:?}");
            drop(first);
            assert_eq!(longest_wait_here().unwrap().0, "GET secrets");
            drop(second);
            assert_eq!(longest_wait_here(), None);
        })
        .await;
    }

    #[tokio::test]
    async fn another_tasks_wait_is_not_this_ones() {
        in_a_task(async {
            let (held_tx, held_rx) = tokio::sync::oneshot::channel();
            let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
            let other = tokio::spawn(async move {
                let _waiting = wait_on("GET namespaces");
                let _ = held_tx.send(());
                let _ = done_rx.await;
            });
            held_rx.await.unwrap();
            assert_eq!(longest_wait_here(), None);
            let _mine = wait_on("helm rollback");
            assert_eq!(longest_wait_here().unwrap().0, "helm rollback");
            done_tx.send(()).unwrap();
            other.await.unwrap();
        })
        .await;
    }

    #[test]
    fn a_budget_of_centuries_does_not_overflow_the_clock() {
        let start = Instant::now();
        let forever = Budget::total_from(start, Duration::from_secs(u64::MAX));
        assert!(forever.deadline(start) > start + Duration::from_secs(86_400));
    }

    #[test]
    fn short_waits_keep_a_tenth_and_long_ones_whole_seconds() {
        assert_eq!(secs(Duration::from_secs(5)), "5s");
        assert_eq!(secs(Duration::from_millis(1500)), "1.5s");
        assert_eq!(secs(Duration::from_millis(12_400)), "12s");
    }
}
