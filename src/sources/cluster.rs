//! [`Cluster`]: the preview namespaces, the canary's weight, access reviews and the
//! cluster's validation probes, as Kubernetes (or the demo world) answers them.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Feed, SourceError, activity};
use crate::engine::previews::Preview;

/// What a backend found when a validation probe asked it to check something: whether it
/// holds, and what was seen (never a secret's value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub passed: bool,
    pub evidence: String,
}

impl Finding {
    pub fn pass(evidence: impl Into<String>) -> Self {
        Finding {
            passed: true,
            evidence: evidence.into(),
        }
    }

    pub fn fail(evidence: impl Into<String>) -> Self {
        Finding {
            passed: false,
            evidence: evidence.into(),
        }
    }
}

/// Something in the cluster a validation probe checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Inspection {
    /// The namespace exists and is not being deleted.
    NamespaceExists { namespace: String },
    /// The Deployment has rolled out: its observed generation is current and every
    /// desired replica is updated and available.
    DeploymentReady { namespace: String, name: String },
    /// The Helm release's latest revision has this status (`deployed`, `failed`, …).
    HelmReleaseStatus {
        release: String,
        namespace: String,
        status: String,
    },
}

/// An action someone may or may not be allowed to take in the cluster, asked of the API
/// server as a SelfSubjectAccessReview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessCheck {
    pub verb: String,
    /// `""` for the core group.
    pub group: String,
    pub resource: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl AccessCheck {
    pub fn new(verb: &str, group: &str, resource: &str) -> Self {
        AccessCheck {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            namespace: None,
            name: None,
        }
    }

    pub fn in_namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.into());
        self
    }
}

impl std::fmt::Display for AccessCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let resource = if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        };
        write!(f, "{} {resource}", self.verb)?;
        if let Some(n) = &self.name {
            write!(f, "/{n}")?;
        }
        if let Some(ns) = &self.namespace {
            write!(f, " in {ns}")?;
        }
        Ok(())
    }
}

/// The API server's answer to an [`AccessCheck`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "allowed", rename_all = "snake_case")]
pub enum Access {
    Allowed,
    /// Denied, with the authorizer's reason when it gave one.
    Denied {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deletion {
    Deleted,
    AlreadyGone,
    /// Not deleted, and why: not a preview by its name, a namespace that is never deleted,
    /// one that holds a Helm release or captain's state, or one that could not be checked.
    Kept(String),
}

#[async_trait]
pub trait Cluster: Send + Sync {
    /// Preview namespaces, kept current by a watch.
    fn previews(&self) -> Feed<Vec<Preview>>;
    /// Delete a preview namespace. Implementations check the name again, and what the
    /// namespace holds, just before deleting (see `engine::previews::Protected`).
    async fn delete_namespace(&self, name: &str) -> Result<Deletion, SourceError>;
    /// Why `name` would be kept rather than deleted as a preview, asked before proposing a
    /// deletion (the same check `delete_namespace` makes); `None` when it may go.
    async fn keeps(&self, _name: &str) -> Result<Option<String>, SourceError> {
        Ok(None)
    }
    /// Set the canary's traffic weight; returns the weight read back from the cluster.
    async fn set_canary_weight(&self, weight: u8) -> Result<u8, SourceError>;
    /// The canary's traffic weight as the cluster has it now.
    async fn canary_weight(&self) -> Result<u8, SourceError>;
    /// The canary's traffic weight as the cluster changes it, by a watch started on the
    /// first call: what drift during a run is found by (docs/architecture.md, "Drift").
    fn canary_weight_feed(&self) -> Feed<u8>;
    /// Check something for a validation probe.
    async fn inspect(&self, what: &Inspection) -> Result<Finding, SourceError> {
        let _ = what;
        Err(SourceError::Rejected(
            "this cluster source cannot inspect resources".into(),
        ))
    }
    /// The HTTP status a GET of a preview's URL answers (the preview is served from the
    /// cluster; the demo's cluster answers for its own previews).
    async fn preview_status(&self, url: &str) -> Result<u16, SourceError> {
        activity::http_status(url).await
    }
    /// May the user captain runs as do this? A cluster that cannot say allows it, and the
    /// API server still has the last word.
    async fn access(&self, check: &AccessCheck) -> Result<Access, SourceError> {
        let _ = check;
        Ok(Access::Allowed)
    }
}
