//! Validation probes: what the plan checks to call a phase validated. Each kind is typed;
//! an unknown kind is an error, never skipped. Running them is `ops::probes`' job.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Span;

/// A comparison for `prometheus.query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    Lt,
    Lte,
    Gt,
    Gte,
    Eq,
}

impl Comparison {
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Comparison::Lt => left < right,
            Comparison::Lte => left <= right,
            Comparison::Gt => left > right,
            Comparison::Gte => left >= right,
            Comparison::Eq => (left - right).abs() < f64::EPSILON,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Lt => "<",
            Comparison::Lte => "<=",
            Comparison::Gt => ">",
            Comparison::Gte => ">=",
            Comparison::Eq => "==",
        }
    }
}

fn default_timeout() -> Span {
    Span::secs(60)
}

fn http_ok() -> u16 {
    200
}

fn main_branch() -> String {
    "main".into()
}

fn deployed() -> String {
    "deployed".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum Probe {
    /// A human confirms it (screenshots, a look at a dashboard).
    #[serde(rename = "manual")]
    Manual,
    /// Run a program (never through a shell) and expect an exit code.
    #[serde(rename = "command")]
    Command {
        argv: Vec<String>,
        #[serde(default = "default_timeout")]
        timeout: Span,
        #[serde(default)]
        expect_exit: i32,
    },
    #[serde(rename = "http.get")]
    HttpGet {
        url: String,
        #[serde(default = "http_ok")]
        status: u16,
        #[serde(default)]
        body_contains: Option<String>,
    },
    #[serde(rename = "prometheus.query")]
    PrometheusQuery {
        query: String,
        op: Comparison,
        value: f64,
    },
    /// The canary's SLOs pass now (`captain slo check`).
    #[serde(rename = "slo.check")]
    SloCheck,
    /// The audit journal shows a train promoted 5 → 25 → 50 → 100 and an automatic
    /// rollback drill.
    #[serde(rename = "canary.drill_passed")]
    CanaryDrillPassed,
    #[serde(rename = "github.environment_protected")]
    GithubEnvironmentProtected { environment: String },
    #[serde(rename = "github.branch_requires_check")]
    GithubBranchRequiresCheck {
        #[serde(default = "main_branch")]
        branch: String,
        check: String,
    },
    #[serde(rename = "github.ruleset_active")]
    GithubRulesetActive {
        #[serde(default)]
        name: Option<String>,
    },
    #[serde(rename = "github.secret_present")]
    GithubSecretPresent { name: String },
    #[serde(rename = "github.file_exists")]
    GithubFileExists {
        path: String,
        #[serde(default = "main_branch")]
        branch: String,
    },
    #[serde(rename = "github.no_critical_alerts")]
    GithubNoCriticalAlerts,
    #[serde(rename = "github.secret_scanning_enabled")]
    GithubSecretScanningEnabled,
    #[serde(rename = "kube.namespace_exists")]
    KubeNamespaceExists { namespace: String },
    #[serde(rename = "kube.deployment_ready")]
    KubeDeploymentReady { namespace: String, name: String },
    #[serde(rename = "helm.release_status")]
    HelmReleaseStatus {
        release: String,
        namespace: String,
        #[serde(default = "deployed")]
        status: String,
    },
    /// A rule group is loaded in Prometheus and every rule in it is healthy; the group
    /// `slo rules` writes must also hold every rule slo.yml makes now.
    #[serde(rename = "prometheus.rules")]
    PrometheusRules {
        #[serde(default = "slo_rule_group")]
        group: String,
    },
    /// An alert is firing in Prometheus (the synthetic burn drill's page).
    #[serde(rename = "prometheus.alert")]
    PrometheusAlert {
        #[serde(default = "burn_alert")]
        alert: String,
        #[serde(default)]
        labels: std::collections::BTreeMap<String, String>,
    },
}

/// The rule group `captain slo rules` writes: what a `prometheus.rules` probe looks for
/// unless it names another.
pub const SLO_RULE_GROUP: &str = "captain-slo";

/// The burn-rate alerts' name: what a `prometheus.alert` probe waits for unless it names
/// another.
pub const BURN_ALERT: &str = "ErrorBudgetBurn";

fn slo_rule_group() -> String {
    SLO_RULE_GROUP.into()
}

fn burn_alert() -> String {
    BURN_ALERT.into()
}

impl Probe {
    pub fn kind(&self) -> &'static str {
        match self {
            Probe::Manual => "manual",
            Probe::Command { .. } => "command",
            Probe::HttpGet { .. } => "http.get",
            Probe::PrometheusQuery { .. } => "prometheus.query",
            Probe::SloCheck => "slo.check",
            Probe::CanaryDrillPassed => "canary.drill_passed",
            Probe::GithubEnvironmentProtected { .. } => "github.environment_protected",
            Probe::GithubBranchRequiresCheck { .. } => "github.branch_requires_check",
            Probe::GithubRulesetActive { .. } => "github.ruleset_active",
            Probe::GithubSecretPresent { .. } => "github.secret_present",
            Probe::GithubFileExists { .. } => "github.file_exists",
            Probe::GithubNoCriticalAlerts => "github.no_critical_alerts",
            Probe::GithubSecretScanningEnabled => "github.secret_scanning_enabled",
            Probe::KubeNamespaceExists { .. } => "kube.namespace_exists",
            Probe::KubeDeploymentReady { .. } => "kube.deployment_ready",
            Probe::HelmReleaseStatus { .. } => "helm.release_status",
            Probe::PrometheusRules { .. } => "prometheus.rules",
            Probe::PrometheusAlert { .. } => "prometheus.alert",
        }
    }

    pub fn is_manual(&self) -> bool {
        matches!(self, Probe::Manual)
    }
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Probe::Command { argv, .. } => write!(f, "command: {}", argv.join(" ")),
            Probe::HttpGet { url, status, .. } => write!(f, "http.get {url} → {status}"),
            Probe::PrometheusQuery { query, op, value } => {
                write!(f, "prometheus: {query} {} {value}", op.symbol())
            }
            Probe::GithubEnvironmentProtected { environment } => {
                write!(f, "github: environment {environment} protected")
            }
            Probe::GithubBranchRequiresCheck { branch, check } => {
                write!(f, "github: {branch} requires {check}")
            }
            Probe::GithubSecretPresent { name } => write!(f, "github: secret {name}"),
            Probe::GithubFileExists { path, branch } => write!(f, "github: {path} on {branch}"),
            Probe::KubeNamespaceExists { namespace } => write!(f, "kube: namespace {namespace}"),
            Probe::KubeDeploymentReady { namespace, name } => {
                write!(f, "kube: deployment {namespace}/{name} ready")
            }
            Probe::HelmReleaseStatus {
                release,
                namespace,
                status,
            } => write!(f, "helm: {namespace}/{release} {status}"),
            Probe::PrometheusRules { group } => write!(f, "prometheus: rule group {group}"),
            Probe::PrometheusAlert { alert, labels } => {
                let labels: Vec<String> =
                    labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
                write!(
                    f,
                    "prometheus: alert {alert}{{{}}} firing",
                    labels.join(", ")
                )
            }
            other => f.write_str(other.kind()),
        }
    }
}

/// One validation item: what a person reads, and the probe that checks it. Written either
/// as a plain string (a manual check) or as `{check, probe}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub check: String,
    pub probe: Probe,
}

impl<'de> Deserialize<'de> for Check {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct CheckVisitor;

        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Full {
            check: String,
            #[serde(default)]
            probe: Option<Probe>,
        }

        impl<'de> serde::de::Visitor<'de> for CheckVisitor {
            type Value = Check;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a check: a string, or a map with `check` and `probe`")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Check, E> {
                Ok(Check {
                    check: v.to_string(),
                    probe: Probe::Manual,
                })
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Check, A::Error> {
                let full = Full::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(Check {
                    check: full.check,
                    probe: full.probe.unwrap_or(Probe::Manual),
                })
            }
        }

        d.deserialize_any(CheckVisitor)
    }
}
