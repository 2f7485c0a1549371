//! [`Forge`]: main's health, tags, labels and governance, as GitHub (or the demo world)
//! answers them.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::{Feed, Finding, Reading, SourceError, activity};
use crate::engine::main_health::MainHealth;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagChange {
    Created,
    AlreadyThere,
    Deleted,
    AlreadyGone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelChange {
    Added,
    AlreadyThere,
    Removed,
    AlreadyGone,
}

pub use crate::engine::main_health::OpenPull;

/// A governance setting on the forge a validation probe checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Governance {
    /// The deployment environment exists and has at least one protection rule.
    EnvironmentProtected { environment: String },
    /// The branch requires this status check, by branch protection or by a ruleset.
    BranchRequiresCheck { branch: String, check: String },
    /// A ruleset is active (`enforcement: active`): the named one, or any.
    RulesetActive { name: Option<String> },
    /// An Actions secret exists by this name (its value is never readable).
    SecretPresent { name: String },
    /// A file exists on the branch.
    FileExists { path: String, branch: String },
    /// No open code-scanning alert of critical severity.
    NoCriticalAlerts,
    /// Secret scanning is enabled on the repository.
    SecretScanningEnabled,
}

#[async_trait]
pub trait Forge: Send + Sync {
    fn main_health(&self) -> Feed<MainHealth>;
    /// Pull requests of every state, most recently updated first, with their descriptions:
    /// what previews are joined to. A forge that lists none gives a feed that never has a
    /// value (its sender is gone).
    fn pulls(&self) -> Feed<Vec<crate::engine::preview_links::ListedPull>> {
        watch::channel(Reading::default()).1
    }
    /// Create `frozen/rollback` at the commit the release's `version` names (its image
    /// tag, `sha-<sha>`, or an app version with a git tag); the forge resolves it and, when
    /// it names none, tags main's head: a pause never fails for want of a SHA.
    async fn freeze(&self, version: &str) -> Result<TagChange, SourceError>;
    /// Delete `frozen/rollback`.
    async fn unfreeze(&self) -> Result<TagChange, SourceError>;
    /// Every open pull request (all pages).
    async fn open_pulls(&self) -> Result<Vec<OpenPull>, SourceError> {
        Err(SourceError::Rejected(
            "this forge cannot list pull requests".into(),
        ))
    }
    /// Put `label` on pull request `number`.
    async fn add_label(&self, number: u32, label: &str) -> Result<LabelChange, SourceError> {
        let _ = (number, label);
        Err(SourceError::Rejected("this forge cannot label".into()))
    }
    /// Take `label` off pull request `number`.
    async fn remove_label(&self, number: u32, label: &str) -> Result<LabelChange, SourceError> {
        let _ = (number, label);
        Err(SourceError::Rejected("this forge cannot label".into()))
    }
    /// Check a governance setting for a validation probe.
    async fn check(&self, what: &Governance) -> Result<Finding, SourceError> {
        let _ = what;
        Err(SourceError::Rejected(
            "this forge cannot check governance settings".into(),
        ))
    }
    /// Look at what happened (runs, checks, pull requests) for a validation probe.
    async fn observe(
        &self,
        what: &activity::Activity,
    ) -> Result<activity::Observation, SourceError> {
        let _ = what;
        Err(SourceError::Rejected(
            "this forge cannot look at runs or pull requests".into(),
        ))
    }
    /// Pull request `pull` (or the newest open one), and the newest of its comments that
    /// `pattern` matches; `None` when there is no such pull request.
    async fn pull_comment(
        &self,
        pull: Option<u32>,
        pattern: &regex::Regex,
    ) -> Result<Option<activity::PullComment>, SourceError> {
        let _ = (pull, pattern);
        Err(SourceError::Rejected(
            "this forge cannot read pull request comments".into(),
        ))
    }
}
