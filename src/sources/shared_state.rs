//! [`SharedState`]: what every console of a release shares (the train, the plan's progress)
//! and the lease that lets one of them drive.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Feed, SourceError};

/// One document of the state every console of a release shares (the train, the plan's
/// progress), with the generation it was written at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedDoc {
    /// Counts writes of this document: 1 for the first.
    pub generation: u64,
    pub body: serde_json::Value,
    /// Who wrote it (`user@host`), and when.
    pub written_by: String,
    pub written_at: DateTime<Utc>,
}

/// The documents, by key.
pub type SharedDocs = std::collections::BTreeMap<String, SharedDoc>;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WriteError {
    /// Someone else wrote the document first: what it holds now (`None`: deleted).
    #[error("changed by someone else first")]
    Conflict(Option<Box<SharedDoc>>),
    #[error(transparent)]
    Source(#[from] SourceError),
}

/// Who holds the driver's lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseHolder {
    pub holder: String,
    pub renewed: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    /// The caller holds it.
    pub ours: bool,
}

/// State shared by every console of a release, written with optimistic concurrency, and
/// the lease that lets exactly one of them drive the train.
#[async_trait]
pub trait SharedState: Send + Sync {
    /// Every document as the store has it now, kept current by a watch.
    fn docs(&self) -> Feed<SharedDocs>;
    /// One document, read now.
    async fn read(&self, key: &str) -> Result<Option<SharedDoc>, SourceError>;
    /// Write `body` as `key` if the document is still at `expected` (0: it must not exist
    /// yet). Returns the new generation; someone else's write in between is a
    /// [`WriteError::Conflict`], never overwritten.
    async fn write(
        &self,
        key: &str,
        body: serde_json::Value,
        expected: u64,
        by: &str,
    ) -> Result<u64, WriteError>;
    /// Write `body` as `key` only if the document is gone, at generation `after + 1`: a
    /// document deleted under its writers (the ConfigMap removed by hand, an API server
    /// that lost it) is written anew without going back to generation 1, so every console
    /// that saw the old one takes the new one. A document that exists is a
    /// [`WriteError::Conflict`].
    async fn recreate(
        &self,
        key: &str,
        body: serde_json::Value,
        after: u64,
        by: &str,
    ) -> Result<u64, WriteError>;
    /// Who holds the lease now, read without taking it (`None`: nobody, or expired).
    async fn lease_holder(&self) -> Result<Option<LeaseHolder>, SourceError>;
    /// Who holds the lease as it changes (never `ours`; `None`: nobody, or gone), by a
    /// watch started on the first call.
    fn lease_watch(&self) -> Feed<Option<LeaseHolder>>;
    /// Take the lease for `holder` if it is free or expired, or renew it if `holder` has
    /// it; says who holds it after.
    async fn lease(
        &self,
        holder: &str,
        ttl: std::time::Duration,
    ) -> Result<LeaseHolder, SourceError>;
    /// Give the lease up, if `holder` has it.
    async fn release_lease(&self, holder: &str) -> Result<(), SourceError>;
}
