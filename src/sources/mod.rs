//! Backends behind traits: the cluster (Kubernetes), the forge (GitHub), metrics
//! (Prometheus) and the deployer (Helm). Live and simulated implementations plug in behind
//! the same traits; nothing here touches UI state.
//!
//! Continuous data arrives as a [`Feed`]: a watch channel that always holds the latest
//! reading, so a slow consumer never sees a queue pile up, and a newer reading replaces an
//! unread one.

pub mod activity;
pub mod alerting;
pub mod cosign;
pub mod deadline;
pub mod github;
pub mod grafana;
pub mod host;
pub mod kube;
pub mod memory_state;
pub mod oci;
pub mod previews_joined;
pub mod prometheus;
pub mod published;
pub mod unavailable;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::config::Span;
use crate::config::slo::{SloConfig, resolve_query};
use crate::engine::analysis::Measurement;
use crate::engine::main_health::MainHealth;
use crate::engine::previews::Preview;
use crate::engine::signals::GoldenSample;

/// A backend that could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum SourceError {
    /// Down, unreachable, timing out: try again later.
    #[error("unreachable: {}", crate::text::sanitize(.0))]
    Unreachable(String),
    /// Rate limited until the given time (a limit resets within the hour: the time says it).
    #[error("rate limited until {}", .0.format("%H:%M:%S UTC"))]
    RateLimited(DateTime<Utc>),
    /// The backend answered, and said no.
    #[error("{}", crate::text::sanitize(.0))]
    Rejected(String),
    /// No such backend is set up (no token, no context): why.
    #[error("not configured: {}", crate::text::sanitize(.0))]
    Unconfigured(String),
}

/// The latest value from a source, when it came, and the latest failure if the source is
/// failing now (the value is then stale, and kept).
#[derive(Debug, Clone)]
pub struct Reading<T> {
    pub value: Option<Arc<T>>,
    pub updated: Option<DateTime<Utc>>,
    pub fault: Option<(DateTime<Utc>, SourceError)>,
}

impl<T> Default for Reading<T> {
    fn default() -> Self {
        Self {
            value: None,
            updated: None,
            fault: None,
        }
    }
}

impl<T> Reading<T> {
    pub fn fresh(value: T, at: DateTime<Utc>) -> Self {
        Self {
            value: Some(Arc::new(value)),
            updated: Some(at),
            fault: None,
        }
    }
}

pub type Feed<T> = watch::Receiver<Reading<T>>;

/// Wait for a feed's first value (or its first fault), for one-shot headless reads.
pub async fn first_reading<T>(
    mut feed: Feed<T>,
    timeout: std::time::Duration,
) -> Result<Arc<T>, SourceError> {
    let wait = async {
        loop {
            {
                let r = feed.borrow_and_update();
                if let Some(v) = &r.value {
                    return Ok(v.clone());
                }
                if let Some((_, e)) = &r.fault {
                    return Err(e.clone());
                }
            }
            if feed.changed().await.is_err() {
                return Err(SourceError::Unreachable("the source stopped".into()));
            }
        }
    };
    tokio::time::timeout(timeout, wait)
        .await
        .unwrap_or_else(|_| {
            Err(SourceError::Unreachable(format!(
                "timed out after {} waiting for the first answer",
                deadline::secs(timeout)
            )))
        })
}

/// One SLI with its queries resolved for each track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliQuery {
    pub name: String,
    pub canary: String,
    pub stable: String,
}

impl SliQuery {
    pub fn resolve(name: &str, query: &str, slo: &SloConfig) -> Self {
        let window = slo.query_window();
        SliQuery {
            name: name.to_string(),
            canary: resolve_query(query, &slo.selectors.canary, window),
            stable: resolve_query(query, &slo.selectors.stable, window),
        }
    }
}

/// Every query one measurement runs: each SLI, and the request count; and the canary's
/// error ratio over each burn-rate window (when `slo.yml` has `burn_rate` and an
/// `error_rate` SLI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queries {
    pub slis: Vec<SliQuery>,
    pub requests: SliQuery,
    pub burn: Vec<(Span, String)>,
}

impl Queries {
    /// The resolved canary query per SLI: the evidence a verdict cites.
    pub fn evidence(&self) -> std::collections::BTreeMap<String, String> {
        self.slis
            .iter()
            .map(|q| (q.name.clone(), q.canary.clone()))
            .collect()
    }

    /// The burn-rate alerts from the values `Metrics::ratios` read for `self.burn`.
    pub fn burn_alerts(
        &self,
        cfg: &crate::config::slo::BurnRate,
        values: Vec<Option<f64>>,
    ) -> Vec<crate::engine::burn::AlertState> {
        let by_window: Vec<(Span, Option<f64>)> =
            self.burn.iter().map(|(w, _)| *w).zip(values).collect();
        crate::engine::burn::evaluate(cfg, |w| {
            by_window
                .iter()
                .find(|(x, _)| *x == w)
                .and_then(|(_, v)| *v)
        })
    }

    pub fn resolve(slo: &SloConfig) -> Self {
        Queries {
            slis: slo
                .slis
                .iter()
                .map(|(name, sli)| SliQuery::resolve(name, &sli.query, slo))
                .collect(),
            requests: SliQuery::resolve("requests", &slo.requests_query(), slo),
            burn: match (&slo.burn_rate, slo.slis.get("error_rate")) {
                (Some(b), Some(sli)) => crate::engine::burn::windows(b)
                    .into_iter()
                    .map(|w| (w, resolve_query(&sli.query, &slo.selectors.canary, w)))
                    .collect(),
                _ => Vec::new(),
            },
        }
    }
}

#[async_trait]
pub trait Metrics: Send + Sync {
    /// Every SLI on both tracks, and each track's request count over the window.
    async fn measure(&self, q: &Queries, now: DateTime<Utc>) -> Result<Measurement, SourceError>;
    /// The golden signals now, for the charts.
    async fn golden(&self, now: DateTime<Utc>) -> Result<GoldenSample, SourceError>;
    /// The golden signals between `start` and `end`, one sample per `step`, so the charts
    /// open with the history the metrics store already has. A source without history
    /// returns none.
    async fn history(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step: std::time::Duration,
    ) -> Result<Vec<GoldenSample>, SourceError> {
        let _ = (start, end, step);
        Ok(Vec::new())
    }

    /// The value of each of `queries` (error ratios over burn-rate windows), in order.
    async fn ratios(
        &self,
        queries: &[(Span, String)],
        now: DateTime<Utc>,
    ) -> Result<Vec<Option<f64>>, SourceError> {
        let _ = (queries, now);
        Err(SourceError::Rejected(
            "this metrics source cannot evaluate burn rates".into(),
        ))
    }

    /// The value of one instant query, for a `prometheus.query` probe: `None` when the
    /// query returns no series.
    async fn value(&self, query: &str, now: DateTime<Utc>) -> Result<Option<f64>, SourceError> {
        let _ = (query, now);
        Err(SourceError::Rejected(
            "this metrics source cannot evaluate queries".into(),
        ))
    }

    /// The rule groups the metrics store has loaded, each rule's health and its alerts
    /// now: for the `prometheus.rules` and `prometheus.alert` probes.
    async fn rule_groups(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<alerting::LoadedGroup>, SourceError> {
        let _ = now;
        Err(SourceError::Rejected(
            "this metrics source has no rules".into(),
        ))
    }
}

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

/// The backends a console runs against.
#[derive(Clone)]
pub struct Backends {
    pub metrics: Arc<dyn Metrics>,
    pub cluster: Arc<dyn Cluster>,
    pub forge: Arc<dyn Forge>,
    pub deployer: Arc<dyn Deployer>,
    /// Where `command` and `http.get` probes run.
    pub host: Arc<dyn host::Host>,
    pub published: Arc<dyn published::Published>,
}
