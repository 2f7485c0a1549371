//! [`Deployer`]: the release's history and its rollback, as Helm (or the demo world) does
//! them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::SourceError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseRevision {
    pub revision: u32,
    pub status: String,
    pub chart: String,
    pub app_version: String,
    pub description: String,
    pub deployed: DateTime<Utc>,
}

#[async_trait]
pub trait Deployer: Send + Sync {
    /// The release's revisions, oldest first.
    async fn history(&self) -> Result<Vec<ReleaseRevision>, SourceError>;
    /// Roll the release back to `revision`; returns what the tool said.
    /// The reason goes into the release's own history where the tool can record it.
    async fn rollback(&self, revision: u32, reason: Option<&str>) -> Result<String, SourceError>;
    /// Roll back another release (a plan phase's rollback, e.g. the stage release): to
    /// `revision`, or to the one before its current (`None`).
    async fn rollback_release(
        &self,
        release: &str,
        namespace: &str,
        revision: Option<u32>,
        reason: Option<&str>,
    ) -> Result<String, SourceError> {
        let _ = (release, namespace, revision, reason);
        Err(SourceError::Rejected(
            "this deployer can roll back only its own release".into(),
        ))
    }
}
