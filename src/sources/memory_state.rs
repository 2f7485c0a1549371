//! [`MemoryState`]: the [`SharedState`] of consoles that share one process (the demo, the
//! tests). Every clone is a handle on the same store, so two consoles built from clones
//! see each other's writes and contend for the same lease, with the same rules as the
//! cluster's store: a write names the generation it was computed from and loses to any
//! write in between, and the lease expires by the injected clock, never the wall clock.

use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::watch;

use super::{
    Feed, LeaseHolder, Reading, SharedDoc, SharedDocs, SharedState, SourceError, WriteError,
};
use crate::clock::Clock;

/// Shared state held in memory; clones share it.
#[derive(Clone)]
pub struct MemoryState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Mutex<Store>,
    feed: watch::Sender<Reading<SharedDocs>>,
    /// Who holds the lease, as a watch on the Lease would see it.
    lease_tx: watch::Sender<Reading<Option<LeaseHolder>>>,
    clock: Arc<dyn Clock>,
}

#[derive(Default)]
struct Store {
    docs: SharedDocs,
    lease: Option<Lease>,
}

/// The lease as the cluster's Lease object has it; `holder` is `None` once released.
struct Lease {
    holder: Option<String>,
    renewed: DateTime<Utc>,
    ttl: TimeDelta,
}

impl Lease {
    fn expires(&self) -> DateTime<Utc> {
        expiry(self.renewed, self.ttl)
    }

    fn seen_by(&self, holder: &str) -> Option<LeaseHolder> {
        let current = self.holder.as_deref()?;
        Some(LeaseHolder {
            holder: current.to_string(),
            renewed: self.renewed,
            expires: self.expires(),
            ours: current == holder,
        })
    }
}

/// `renewed + ttl`, saturating: a lease too long to represent never expires.
fn expiry(renewed: DateTime<Utc>, ttl: TimeDelta) -> DateTime<Utc> {
    renewed
        .checked_add_signed(ttl)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl MemoryState {
    /// An empty store whose lease runs on `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        let (feed, _) = watch::channel(Reading::fresh(SharedDocs::new(), clock.now()));
        let (lease_tx, _) = watch::channel(Reading::fresh(None, clock.now()));
        Self {
            inner: Arc::new(Inner {
                store: Mutex::new(Store::default()),
                feed,
                lease_tx,
                clock,
            }),
        }
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // A panic elsewhere while holding the lock left the store as it was between two
        // whole operations: every change below is made in one step.
        self.inner
            .store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Write `key` at generation `after + 1` if `fits` what the store holds now.
    fn put(
        &self,
        key: &str,
        body: serde_json::Value,
        after: u64,
        by: &str,
        fits: impl Fn(Option<&SharedDoc>) -> bool,
    ) -> Result<u64, WriteError> {
        let mut store = self.store();
        let current = store.docs.get(key);
        if !fits(current) {
            return Err(WriteError::Conflict(current.cloned().map(Box::new)));
        }
        let now = self.inner.clock.now();
        let generation = after.saturating_add(1);
        store.docs.insert(
            key.to_string(),
            SharedDoc {
                generation,
                body,
                written_by: by.to_string(),
                written_at: now,
            },
        );
        // Published under the lock, so readings reach the feed in the order of the writes.
        self.inner
            .feed
            .send_replace(Reading::fresh(store.docs.clone(), now));
        Ok(generation)
    }
}

#[async_trait]
impl SharedState for MemoryState {
    fn docs(&self) -> Feed<SharedDocs> {
        self.inner.feed.subscribe()
    }

    async fn read(&self, key: &str) -> Result<Option<SharedDoc>, SourceError> {
        Ok(self.store().docs.get(key).cloned())
    }

    async fn write(
        &self,
        key: &str,
        body: serde_json::Value,
        expected: u64,
        by: &str,
    ) -> Result<u64, WriteError> {
        self.put(key, body, expected, by, |held| {
            held.map_or(0, |d| d.generation) == expected
        })
    }

    async fn recreate(
        &self,
        key: &str,
        body: serde_json::Value,
        after: u64,
        by: &str,
    ) -> Result<u64, WriteError> {
        self.put(key, body, after, by, |held| held.is_none())
    }

    async fn lease_holder(&self) -> Result<Option<LeaseHolder>, SourceError> {
        let now = self.inner.clock.now();
        Ok(self
            .store()
            .lease
            .as_ref()
            .and_then(|l| l.seen_by(""))
            .filter(|h| h.expires >= now))
    }

    async fn lease(
        &self,
        holder: &str,
        ttl: std::time::Duration,
    ) -> Result<LeaseHolder, SourceError> {
        let now = self.inner.clock.now();
        let ttl = TimeDelta::from_std(ttl).unwrap_or(TimeDelta::MAX);
        let mut store = self.store();
        // Expired only once past its last instant: `expires` itself is still the holder's.
        if let Some(other) = store.lease.as_ref().and_then(|l| l.seen_by(holder))
            && !other.ours
            && other.expires >= now
        {
            return Ok(other);
        }
        store.lease = Some(Lease {
            holder: Some(holder.to_string()),
            renewed: now,
            ttl,
        });
        self.publish_lease(&store, now);
        Ok(LeaseHolder {
            holder: holder.to_string(),
            renewed: now,
            expires: expiry(now, ttl),
            ours: true,
        })
    }

    async fn release_lease(&self, holder: &str) -> Result<(), SourceError> {
        let mut store = self.store();
        if let Some(lease) = store.lease.as_mut()
            && lease.holder.as_deref() == Some(holder)
        {
            lease.holder = None;
            self.publish_lease(&store, self.inner.clock.now());
        }
        Ok(())
    }

    fn lease_watch(&self) -> Feed<Option<LeaseHolder>> {
        self.inner.lease_tx.subscribe()
    }
}

impl MemoryState {
    fn publish_lease(&self, store: &Store, now: DateTime<Utc>) {
        let holder = store.lease.as_ref().and_then(|l| l.seen_by(""));
        self.inner
            .lease_tx
            .send_replace(Reading::fresh(holder, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use serde_json::json;
    use std::time::Duration;

    const TTL: Duration = Duration::from_secs(15);

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn state() -> (MemoryState, ManualClock) {
        let clock = ManualClock::new(at("2026-11-20T10:00:00Z"));
        (MemoryState::new(Arc::new(clock.clone())), clock)
    }

    #[tokio::test]
    async fn a_write_at_the_held_generation_lands_and_counts_one_more() {
        let (state, clock) = state();
        assert_eq!(state.read("train").await, Ok(None));
        assert_eq!(
            state.write("train", json!({"step": 1}), 0, "ana@a").await,
            Ok(1)
        );
        clock.advance(TimeDelta::seconds(5));
        assert_eq!(
            state.write("train", json!({"step": 2}), 1, "bo@b").await,
            Ok(2)
        );
        let doc = state.read("train").await.unwrap().unwrap();
        assert_eq!(doc.generation, 2);
        assert_eq!(doc.body, json!({"step": 2}));
        assert_eq!(doc.written_by, "bo@b");
        assert_eq!(doc.written_at, at("2026-11-20T10:00:05Z"));
    }

    #[tokio::test]
    async fn a_stale_write_is_a_conflict_carrying_what_the_store_holds_and_changes_nothing() {
        let (state, _) = state();
        state
            .write("train", json!("first"), 0, "ana@a")
            .await
            .unwrap();
        let lost = state.write("train", json!("mine"), 0, "bo@b").await;
        let Err(WriteError::Conflict(Some(held))) = lost else {
            panic!("{lost:?}");
        };
        assert_eq!((held.generation, &held.body), (1, &json!("first")));
        assert_eq!(state.read("train").await.unwrap().unwrap().body, "first");
        assert_eq!(
            state.write("plan", json!({}), 3, "bo@b").await,
            Err(WriteError::Conflict(None)),
            "a document that does not exist is at generation 0"
        );
    }

    #[tokio::test]
    async fn two_handles_racing_from_one_generation_land_exactly_one_write() {
        let (a, _) = state();
        let b = a.clone();
        a.write("train", json!(0), 0, "setup").await.unwrap();
        for round in 1..=20u64 {
            let (ra, rb) = tokio::join!(
                tokio::spawn({
                    let a = a.clone();
                    async move { a.write("train", json!("a"), round, "a").await }
                }),
                tokio::spawn({
                    let b = b.clone();
                    async move { b.write("train", json!("b"), round, "b").await }
                }),
            );
            let results = [ra.unwrap(), rb.unwrap()];
            let won = results.iter().filter(|r| **r == Ok(round + 1)).count();
            assert_eq!(won, 1, "round {round}: {results:?}");
            let lost = results.iter().find(|r| r.is_err()).unwrap();
            let Err(WriteError::Conflict(Some(held))) = lost else {
                panic!("round {round}: {lost:?}");
            };
            assert_eq!(held.generation, round + 1, "the winner's write");
        }
    }

    #[tokio::test]
    async fn every_handle_sees_each_write_on_its_feed() {
        let (a, _) = state();
        let b = a.clone();
        let mut feed = b.docs();
        assert_eq!(
            feed.borrow_and_update().value.as_deref(),
            Some(&SharedDocs::new())
        );
        a.write("train", json!({"step": 1}), 0, "ana@a")
            .await
            .unwrap();
        a.write("plan", json!({"phase": "canary"}), 0, "ana@a")
            .await
            .unwrap();
        assert!(feed.has_changed().unwrap());
        let docs = feed.borrow_and_update().value.clone().unwrap();
        assert_eq!(docs.keys().collect::<Vec<_>>(), ["plan", "train"]);
        assert_eq!(docs["train"].body, json!({"step": 1}));
    }

    #[tokio::test]
    async fn the_lease_goes_to_the_first_and_the_second_is_told_who_has_it() {
        let (state, clock) = state();
        let first = state.lease("ana@a", TTL).await.unwrap();
        assert!(first.ours);
        assert_eq!(first.holder, "ana@a");
        assert_eq!(first.expires, at("2026-11-20T10:00:15Z"));

        clock.advance(TimeDelta::seconds(10));
        let refused = state.lease("bo@b", TTL).await.unwrap();
        assert!(!refused.ours);
        assert_eq!(refused.holder, "ana@a");

        let renewed = state.lease("ana@a", TTL).await.unwrap();
        assert!(renewed.ours);
        assert_eq!(renewed.renewed, at("2026-11-20T10:00:10Z"));
        assert_eq!(renewed.expires, at("2026-11-20T10:00:25Z"));
    }

    #[tokio::test]
    async fn an_expired_lease_is_taken_over_and_its_last_instant_still_belongs_to_the_holder() {
        let (state, clock) = state();
        state.lease("ana@a", TTL).await.unwrap();
        clock.advance(TimeDelta::seconds(15));
        assert_eq!(state.lease("bo@b", TTL).await.unwrap().holder, "ana@a");
        clock.advance(TimeDelta::milliseconds(1));
        let taken = state.lease("bo@b", TTL).await.unwrap();
        assert!(taken.ours);
        assert_eq!(taken.holder, "bo@b");
        assert!(!state.lease("ana@a", TTL).await.unwrap().ours);
    }

    #[tokio::test]
    async fn a_released_lease_is_free_at_once_and_only_its_holder_can_release_it() {
        let (state, _) = state();
        state.lease("ana@a", TTL).await.unwrap();
        state.release_lease("bo@b").await.unwrap();
        assert_eq!(state.lease("bo@b", TTL).await.unwrap().holder, "ana@a");
        state.release_lease("ana@a").await.unwrap();
        let taken = state.lease("bo@b", TTL).await.unwrap();
        assert!(taken.ours, "{taken:?}");
    }
}
