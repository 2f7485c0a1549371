//! The train and the plan's progress as every console of a release shares them: each is a
//! document in the shared state, written only from the generation this console last saw,
//! so a write computed from a stale view loses and is reported instead of overwriting; and
//! the driver's lease, so exactly one console drives the train while the others follow.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::sources::{
    Feed, LeaseHolder, SharedDoc, SharedDocs, SharedState, SourceError, WriteError,
};

/// The train's document.
pub const TRAIN: &str = "train";
/// The plan's progress.
pub const PLAN: &str = "plan";

/// Someone else wrote the document first.
#[derive(Debug, Clone, PartialEq)]
pub enum Lost {
    /// What it holds now (`None`: it was deleted).
    Race(Option<Box<SharedDoc>>),
    /// The store could not be written at all.
    Store(SourceError),
}

impl std::fmt::Display for Lost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lost::Race(Some(doc)) => write!(
                f,
                "lost a race: {} changed it first (at {}); nothing was done, look again and retry",
                doc.written_by,
                doc.written_at.format("%H:%M:%S")
            ),
            Lost::Race(None) => f.write_str("lost a race: the shared state was deleted meanwhile"),
            Lost::Store(e) => write!(f, "the shared state cannot be written: {e}"),
        }
    }
}

/// How the driver's lease is timed, as leader election times it: `duration` (how long the
/// lease outlives a holder that stopped renewing it), `renew_every` (how often the holder
/// renews it) and `retry` (how often a console that does not hold it looks whether it is
/// free). See `docs/configuration.md`, `[lease]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseTimings {
    pub duration: Duration,
    pub renew_every: Duration,
    pub retry: Duration,
}

impl LeaseTimings {
    /// `[lease]` of captain.toml, with what it leaves out derived from the measurement
    /// `interval`: a duration of three measurements (at least 15 s, client-go's), so a
    /// driver that stopped is replaced after three missed measurements; renewed at a third
    /// of it, as client-go's leader election does with its defaults (two renewals may fail
    /// before the lease runs out, and a standing train costs one write per renewal, not one
    /// per measurement); looked at by the others as often as it is renewed.
    pub fn resolve(
        config: &crate::config::app::LeaseConfig,
        interval: Duration,
    ) -> Result<Self, String> {
        let duration = config
            .duration
            .map_or_else(|| Self::derived(interval).duration, |d| d.0);
        let renew_every = config.renew_every.map_or(duration / 3, |r| r.0);
        if renew_every >= duration {
            return Err(format!(
                "[lease] renew_every ({}) must be shorter than the lease's duration ({}, three \
                 measurement intervals of slo.yml when [lease] duration is not set)",
                crate::config::Span(renew_every),
                crate::config::Span(duration),
            ));
        }
        Ok(LeaseTimings {
            duration,
            renew_every,
            retry: config.retry.map_or(renew_every, |r| r.0),
        })
    }

    /// The timings when captain.toml sets none.
    pub fn derived(interval: Duration) -> Self {
        let duration = (interval * 3).max(Duration::from_secs(15));
        LeaseTimings {
            duration,
            renew_every: duration / 3,
            retry: duration / 3,
        }
    }

    /// How often a console must look at the lease to keep to these timings.
    pub fn period(&self) -> Duration {
        self.renew_every.min(self.retry)
    }
}

pub struct Coordination {
    store: Arc<dyn SharedState>,
    docs: Feed<SharedDocs>,
    /// Who this console is, to the lease and in what it writes: `user@host#pid`.
    pub holder: String,
    timings: LeaseTimings,
    /// When this console last asked for the lease without holding it.
    tried: Option<chrono::DateTime<chrono::Utc>>,
    seen: BTreeMap<String, u64>,
    /// Who drives the train, as of the last look at the lease.
    pub driver: Option<LeaseHolder>,
    /// Why the last look at the lease failed: nobody may be driving.
    pub lease_error: Option<String>,
    /// Documents this console does not share (they do not fit what it runs): never
    /// followed, never written over.
    apart: std::collections::BTreeSet<String>,
    /// When a read-only console last looked at the lease.
    peeked: Option<chrono::DateTime<chrono::Utc>>,
    /// The driver's lease as watched, from the first look at it on.
    lease_seen: Option<Feed<Option<LeaseHolder>>>,
    /// The shared documents this console found gone and wrote anew from its own: the
    /// other consoles lost what they followed, and the screen says so.
    pub rewritten: std::collections::BTreeSet<String>,
}

impl Coordination {
    pub fn new(store: Arc<dyn SharedState>, holder: String, timings: LeaseTimings) -> Self {
        Coordination {
            docs: store.docs(),
            store,
            holder,
            timings,
            tried: None,
            seen: BTreeMap::new(),
            driver: None,
            lease_error: None,
            apart: Default::default(),
            peeked: None,
            lease_seen: None,
            rewritten: Default::default(),
        }
    }

    pub fn timings(&self) -> LeaseTimings {
        self.timings
    }

    /// This console as the lease and the documents name it.
    pub fn identity(user: &str) -> String {
        format!(
            "{user}@{}#{}",
            crate::paths::host_name(),
            std::process::id()
        )
    }

    /// The document as the store has it now (read, not from the watch), noted as seen.
    pub async fn read(&mut self, key: &str) -> Result<Option<SharedDoc>, SourceError> {
        let doc = self.store.read(key).await?;
        self.seen
            .insert(key.to_string(), doc.as_ref().map_or(0, |d| d.generation));
        Ok(doc)
    }

    /// Stop sharing `key`: what others keep there is left as it is.
    pub fn keep_apart(&mut self, key: &str) {
        self.apart.insert(key.to_string());
    }

    /// The document, if the watch has a newer one than this console last saw.
    pub fn newer(&mut self, key: &str) -> Option<SharedDoc> {
        if self.apart.contains(key) {
            return None;
        }
        let doc = {
            let r = self.docs.borrow();
            r.value.as_ref()?.get(key).cloned()?
        };
        let seen = self.seen.get(key).copied().unwrap_or(0);
        (doc.generation > seen).then(|| {
            self.seen.insert(key.to_string(), doc.generation);
            doc
        })
    }

    /// Write `body` over the version this console last saw; a write in between wins.
    pub async fn commit(&mut self, key: &str, body: Value) -> Result<(), Lost> {
        if self.apart.contains(key) {
            return Ok(());
        }
        let expected = self.seen.get(key).copied().unwrap_or(0);
        let written = match self
            .store
            .write(key, body.clone(), expected, &self.holder)
            .await
        {
            // Gone since this console last saw it (the ConfigMap deleted by hand, or an API
            // server that lost it): nobody else's state is there to lose, and a train that
            // is not recorded cannot be shared, so it is written anew.
            Err(WriteError::Conflict(None)) if expected > 0 => {
                log::warn!(
                    "the shared {key} was gone (its ConfigMap deleted?); writing it anew from this console's"
                );
                self.rewritten.insert(key.to_string());
                self.store.recreate(key, body, expected, &self.holder).await
            }
            other => other,
        };
        match written {
            Ok(generation) => {
                self.seen.insert(key.to_string(), generation);
                Ok(())
            }
            Err(WriteError::Conflict(now)) => {
                if let Some(doc) = &now {
                    self.seen.insert(key.to_string(), doc.generation);
                }
                Err(Lost::Race(now))
            }
            Err(WriteError::Source(e)) => Err(Lost::Store(e)),
        }
    }

    /// Take or renew the lease; whether this console drives. Not knowing means not
    /// driving: two drivers are worse than a pause.
    /// At a measurement, a console that does not hold the lease always asks: the next
    /// console to measure takes a lease given up.
    pub async fn drive(&mut self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.look(now, false).await
    }

    /// Between measurements: renew when due, or ask for the lease at most every `retry`.
    pub async fn keep(&mut self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.look(now, true).await
    }

    async fn look(&mut self, now: chrono::DateTime<chrono::Utc>, between: bool) -> bool {
        // The holder renews every `renew_every` (docs/architecture.md, "Shared train
        // state"); between measurements the others ask every `retry`, and meanwhile keep
        // what they last saw.
        let delta = |d: Duration| chrono::TimeDelta::from_std(d).unwrap_or(chrono::TimeDelta::MAX);
        let ours = self.driver.as_ref().filter(|d| d.ours);
        if let Some(d) = ours {
            if now - d.renewed < delta(self.timings.renew_every) {
                return true;
            }
        } else if let Some(h) = self.watched_holder(now) {
            // Another console holds it and renews it: asking could change nothing.
            self.follow(h);
            return false;
        } else if between
            && self
                .tried
                .is_some_and(|at| now - at < delta(self.timings.retry))
        {
            return false;
        }
        self.tried = Some(now);
        match self.store.lease(&self.holder, self.timings.duration).await {
            Ok(h) => {
                let ours = h.ours;
                self.follow(h);
                ours
            }
            Err(e) => {
                if self.lease_error.is_none() {
                    log::warn!("the driver's lease: {e}; not driving until it answers");
                }
                self.driver = None;
                self.lease_error = Some(e.to_string());
                false
            }
        }
    }

    /// Take `h` as who drives now, saying so when it changed.
    fn follow(&mut self, h: LeaseHolder) {
        let was = self.driver.as_ref().map(|d| d.holder.clone());
        if was.as_deref() != Some(h.holder.as_str()) {
            if h.ours {
                log::info!("this console now drives the train");
            } else {
                log::info!("{} drives the train; this console follows", h.holder);
            }
        }
        self.driver = Some(h);
        self.lease_error = None;
    }

    /// Another console's lease, unexpired, as the Lease's watch last saw it; `None` when
    /// the watch has nothing sure to say (not yet listed, failing, free, expired, ours).
    fn watched_holder(&mut self, now: chrono::DateTime<chrono::Utc>) -> Option<LeaseHolder> {
        let store = self.store.clone();
        let feed = self.lease_seen.get_or_insert_with(|| store.lease_watch());
        let r = feed.borrow();
        if r.fault.is_some() {
            return None;
        }
        let h = r.value.as_deref()?.as_ref()?;
        (h.holder != self.holder && h.expires >= now).then(|| LeaseHolder {
            ours: false,
            ..h.clone()
        })
    }

    /// Who drives, looked at without taking the lease (a read-only console): from the
    /// Lease's watch; when the watch has nothing to say, read at most once every `retry`,
    /// so looking costs one read per few measurements.
    pub async fn peek(&mut self, now: chrono::DateTime<chrono::Utc>) -> Option<&LeaseHolder> {
        let store = self.store.clone();
        let feed = self.lease_seen.get_or_insert_with(|| store.lease_watch());
        let watched = {
            let r = feed.borrow();
            match (&r.value, &r.fault) {
                (Some(holder), None) => Some(
                    holder
                        .as_ref()
                        .as_ref()
                        .filter(|h| h.expires >= now)
                        .cloned(),
                ),
                _ => None,
            }
        };
        if let Some(holder) = watched {
            self.driver = holder;
            self.lease_error = None;
            return self.driver.as_ref();
        }
        let retry =
            chrono::TimeDelta::from_std(self.timings.retry).unwrap_or(chrono::TimeDelta::MAX);
        let due = self.peeked.is_none_or(|at| now - at >= retry);
        if due {
            self.peeked = Some(now);
            match self.store.lease_holder().await {
                Ok(h) => {
                    self.driver = h;
                    self.lease_error = None;
                }
                Err(e) => {
                    self.driver = None;
                    self.lease_error = Some(e.to_string());
                }
            }
        }
        self.driver.as_ref()
    }

    /// Give the lease up, so another console drives at once rather than after it expires.
    pub async fn release(&mut self) {
        if let Err(e) = self.store.release_lease(&self.holder).await {
            log::debug!("releasing the driver's lease: {e}");
        }
        // Not the holder any more, whatever was last seen: the next look asks the store.
        self.driver = None;
        self.tried = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::config::Span;
    use crate::config::app::LeaseConfig;
    use crate::sources::memory_state::MemoryState;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn lease_timings_follow_client_go_unless_set() {
        let derived = LeaseTimings::resolve(&LeaseConfig::default(), 30 * SECOND).unwrap();
        assert_eq!(
            (derived.duration, derived.renew_every, derived.retry),
            (90 * SECOND, 30 * SECOND, 30 * SECOND)
        );
        let short = LeaseTimings::resolve(&LeaseConfig::default(), 2 * SECOND).unwrap();
        assert_eq!(
            (short.duration, short.renew_every, short.retry),
            (15 * SECOND, 5 * SECOND, 5 * SECOND)
        );
        let set = LeaseConfig {
            duration: Some(Span::secs(21)),
            renew_every: None,
            retry: Some(Span::secs(2)),
        };
        let set = LeaseTimings::resolve(&set, 30 * SECOND).unwrap();
        assert_eq!(
            (set.duration, set.renew_every, set.retry, set.period()),
            (21 * SECOND, 7 * SECOND, 2 * SECOND, 2 * SECOND)
        );
        // Three intervals of 10 s: a renewal every 40 s would let the lease run out.
        let late = LeaseConfig {
            renew_every: Some(Span::secs(40)),
            ..LeaseConfig::default()
        };
        let e = LeaseTimings::resolve(&late, 10 * SECOND).unwrap_err();
        assert!(
            e.contains("renew_every (40s) must be shorter than the lease's duration (30s"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn the_holder_renews_and_the_others_take_a_lease_the_watch_shows_free() {
        let clock = ManualClock::new("2026-11-20T10:00:00Z".parse().unwrap());
        let store = MemoryState::new(Arc::new(clock.clone()));
        let timings = LeaseTimings {
            duration: 30 * SECOND,
            renew_every: 10 * SECOND,
            retry: 4 * SECOND,
        };
        let mut ana = Coordination::new(Arc::new(store.clone()), "ana@a".into(), timings);
        let mut bo = Coordination::new(Arc::new(store.clone()), "bo@b".into(), timings);
        let renewed = || async { store.lease_holder().await.unwrap().map(|h| h.renewed) };
        let start = clock.now();

        assert!(ana.drive(clock.now()).await);
        clock.advance(chrono::Duration::seconds(1));
        assert!(!bo.drive(clock.now()).await, "ana holds it");
        assert_eq!(bo.driver.as_ref().map(|d| d.holder.as_str()), Some("ana@a"));

        clock.advance(chrono::Duration::seconds(8));
        assert!(ana.drive(clock.now()).await);
        assert_eq!(
            renewed().await,
            Some(start),
            "not renewed before its period"
        );
        clock.advance(chrono::Duration::seconds(1));
        assert!(ana.drive(clock.now()).await);
        assert_eq!(renewed().await, Some(clock.now()), "renewed at its period");

        assert!(
            !bo.keep(clock.now()).await,
            "asked at its retry: ana still holds it"
        );

        // Ana gives the lease up behind Bo's back: the Lease's watch shows it free at once,
        // and Bo takes it at his next look, between measurements too (his last ask was
        // long enough ago: the retry spaces asks, and a follower asks nothing while the
        // watch shows the lease held).
        store.release_lease("ana@a").await.unwrap();
        clock.advance(chrono::Duration::seconds(1));
        assert!(
            bo.keep(clock.now()).await,
            "took it as soon as the watch showed it free"
        );

        let mut cy = Coordination::new(Arc::new(store.clone()), "cy@c".into(), timings);
        assert!(!cy.drive(clock.now()).await, "bo holds it");
        bo.release().await;
        assert!(cy.drive(clock.now()).await, "a measurement asks at once");
    }
}
