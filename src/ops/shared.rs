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

pub struct Coordination {
    store: Arc<dyn SharedState>,
    docs: Feed<SharedDocs>,
    /// Who this console is, to the lease and in what it writes: `user@host#pid`.
    pub holder: String,
    ttl: Duration,
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
}

impl Coordination {
    /// `ttl`: how long the lease outlives a console that stopped renewing it.
    pub fn new(store: Arc<dyn SharedState>, holder: String, ttl: Duration) -> Self {
        Coordination {
            docs: store.docs(),
            store,
            holder,
            ttl,
            seen: BTreeMap::new(),
            driver: None,
            lease_error: None,
            apart: Default::default(),
            peeked: None,
        }
    }

    /// This console as the lease and the documents name it.
    pub fn identity(user: &str) -> String {
        let host = std::fs::read_to_string("/etc/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| "localhost".into());
        format!("{user}@{host}#{}", std::process::id())
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
    pub async fn drive(&mut self, now: chrono::DateTime<chrono::Utc>) -> bool {
        // The holder renews at a third of the lease's term, as client-go's leader election
        // does with its defaults: two renewals may fail before the lease runs out, and a
        // standing train costs the API server one write per renewal, not one per measurement
        // (docs/architecture.md, "Shared train state").
        let third = chrono::TimeDelta::from_std(self.ttl / 3).unwrap_or(chrono::TimeDelta::MAX);
        if self
            .driver
            .as_ref()
            .is_some_and(|d| d.ours && now - d.renewed < third)
        {
            return true;
        }
        match self.store.lease(&self.holder, self.ttl).await {
            Ok(h) => {
                let was = self.driver.as_ref().map(|d| d.holder.clone());
                if was.as_deref() != Some(h.holder.as_str()) {
                    if h.ours {
                        log::info!("this console now drives the train");
                    } else {
                        log::info!("{} drives the train; this console follows", h.holder);
                    }
                }
                let ours = h.ours;
                self.driver = Some(h);
                self.lease_error = None;
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

    /// Who drives, looked at without taking the lease (a read-only console); at most once
    /// a third of the lease's term, so looking costs one read per few measurements.
    pub async fn peek(&mut self, now: chrono::DateTime<chrono::Utc>) -> Option<&LeaseHolder> {
        let third = chrono::TimeDelta::from_std(self.ttl / 3).unwrap_or(chrono::TimeDelta::MAX);
        let due = self.peeked.is_none_or(|at| now - at >= third);
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
    }
}
