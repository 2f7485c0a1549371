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

fn success() -> String {
    "success".into()
}

fn a_week() -> Span {
    Span::secs(7 * 86_400)
}

fn one() -> u32 {
    1
}

fn freeze_label() -> String {
    crate::engine::main_health::FREEZE_LABEL.into()
}

fn quarter_hour() -> Span {
    Span::secs(15 * 60)
}

/// A URL naming a pull request's preview: `https://pr-42.preview.example.com`,
/// `https://preview.example.com/pr-42/`.
pub const PREVIEW_URL: &str = r#"https?://[^\s)>\]"']*pr-[0-9]+[^\s)>\]"']*"#;

fn preview_url() -> String {
    PREVIEW_URL.into()
}

fn preview_prefix() -> String {
    "pr-".into()
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
    /// The latest run of a workflow (on `branch`, for pull request `pull`, or for the
    /// newest open pull request) concluded success, and so did each of `jobs`.
    #[serde(rename = "github.workflow_run")]
    GithubWorkflowRun {
        workflow: String,
        #[serde(default)]
        branch: Option<String>,
        #[serde(default)]
        pull: Option<u32>,
        #[serde(default)]
        jobs: Vec<String>,
    },
    /// That run uploaded an unexpired artifact for each of `names`.
    #[serde(rename = "github.artifacts")]
    GithubArtifacts {
        workflow: String,
        #[serde(default)]
        branch: Option<String>,
        #[serde(default)]
        pull: Option<u32>,
        names: Vec<String>,
    },
    /// The latest check run named `name` concluded as expected.
    #[serde(rename = "github.check_run")]
    GithubCheckRun {
        name: String,
        #[serde(default)]
        branch: Option<String>,
        #[serde(default)]
        pull: Option<u32>,
        #[serde(default = "success")]
        conclusion: String,
    },
    /// A pull request touching `paths` is blocked while any of `checks` has not passed.
    #[serde(rename = "github.pr_blocked")]
    GithubPrBlocked {
        paths: Vec<String>,
        checks: Vec<String>,
        #[serde(default)]
        pull: Option<u32>,
    },
    /// A comment on the pull request matches `pattern`.
    #[serde(rename = "github.pr_comment")]
    GithubPrComment {
        pattern: String,
        #[serde(default)]
        pull: Option<u32>,
    },
    /// At least `min` pull requests opened by `author` within the last `within`.
    #[serde(rename = "github.prs_by")]
    GithubPrsBy {
        author: String,
        #[serde(default = "a_week")]
        within: Span,
        #[serde(default = "one")]
        min: u32,
    },
    /// The last time a workflow run on `branch` failed, a pull request open then was
    /// labelled `label` within `within`.
    #[serde(rename = "github.labelled_when_red")]
    GithubLabelledWhenRed {
        #[serde(default = "freeze_label")]
        label: String,
        #[serde(default = "main_branch")]
        branch: String,
        #[serde(default = "quarter_hour")]
        within: Span,
    },
    /// The newest open pull request has its preview: namespace `<prefix><n>` exists and
    /// the URL a comment gives answers 2xx.
    #[serde(rename = "preview.healthy")]
    PreviewHealthy {
        #[serde(default = "preview_url")]
        url_pattern: String,
        #[serde(default = "preview_prefix")]
        prefix: String,
    },
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
    /// The image's manifest is in its registry (`<org>/<repo>` and `<sha>` resolved).
    #[serde(rename = "oci.image")]
    OciImage { image: String },
    /// The image's cosign signature verifies: with a public key (PEM), `key` or
    /// `[cosign] public_key` of captain.toml; or keyless, signed by the identity and OIDC
    /// issuer given here or in `[cosign]`, against `[cosign]`'s Fulcio roots and Rekor key.
    #[serde(rename = "cosign.verified")]
    CosignVerified {
        image: String,
        #[serde(default)]
        key: Option<std::path::PathBuf>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        certificate_identity: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        certificate_identity_regexp: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        certificate_oidc_issuer: Option<String>,
    },
    /// A Grafana dashboard exists and a panel's queries return data over `within`.
    #[serde(rename = "grafana.dashboard")]
    GrafanaDashboard {
        uid: String,
        panel: String,
        #[serde(default = "quarter_hour")]
        within: Span,
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
            Probe::GithubWorkflowRun { .. } => "github.workflow_run",
            Probe::GithubArtifacts { .. } => "github.artifacts",
            Probe::GithubCheckRun { .. } => "github.check_run",
            Probe::GithubPrBlocked { .. } => "github.pr_blocked",
            Probe::GithubPrComment { .. } => "github.pr_comment",
            Probe::GithubPrsBy { .. } => "github.prs_by",
            Probe::GithubLabelledWhenRed { .. } => "github.labelled_when_red",
            Probe::PreviewHealthy { .. } => "preview.healthy",
            Probe::KubeNamespaceExists { .. } => "kube.namespace_exists",
            Probe::KubeDeploymentReady { .. } => "kube.deployment_ready",
            Probe::HelmReleaseStatus { .. } => "helm.release_status",
            Probe::PrometheusRules { .. } => "prometheus.rules",
            Probe::PrometheusAlert { .. } => "prometheus.alert",
            Probe::OciImage { .. } => "oci.image",
            Probe::CosignVerified { .. } => "cosign.verified",
            Probe::GrafanaDashboard { .. } => "grafana.dashboard",
        }
    }

    pub fn is_manual(&self) -> bool {
        matches!(self, Probe::Manual)
    }

    /// What is wrong with the probe's fields, and under which key, beyond their types.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        let pattern = |p: &str| {
            regex::Regex::new(p).err().map(|e| {
                format!(
                    "expected a regular expression, found {p:?} ({})",
                    last_line(&e)
                )
            })
        };
        let both = |branch: &Option<String>, pull: &Option<u32>| {
            (branch.is_some() && pull.is_some())
                .then(|| "expected `branch` or `pull`, not both".to_string())
        };
        let listed = |items: &[String], what: &str| {
            items
                .iter()
                .all(|i| i.trim().is_empty())
                .then(|| format!("expected at least one {what}"))
        };
        match self {
            Probe::GithubWorkflowRun { branch, pull, .. }
            | Probe::GithubCheckRun { branch, pull, .. } => both(branch, pull).map(|p| ("pull", p)),
            Probe::GithubArtifacts {
                branch,
                pull,
                names,
                ..
            } => both(branch, pull)
                .map(|p| ("pull", p))
                .or_else(|| listed(names, "artifact name").map(|p| ("names", p))),
            Probe::GithubPrBlocked { paths, checks, .. } => listed(paths, "path glob")
                .map(|p| ("paths", p))
                .or_else(|| listed(checks, "check name").map(|p| ("checks", p))),
            Probe::GithubPrComment { pattern: p, .. } => pattern(p).map(|p| ("pattern", p)),
            Probe::PreviewHealthy { url_pattern, .. } => {
                pattern(url_pattern).map(|p| ("url_pattern", p))
            }
            Probe::CosignVerified {
                image,
                key,
                certificate_identity: identity,
                certificate_identity_regexp: regexp,
                certificate_oidc_issuer: issuer,
            } => crate::sources::oci::ImageRef::check_template(image)
                .err()
                .map(|e| ("image", e))
                .or_else(|| {
                    regexp
                        .as_deref()
                        .and_then(pattern)
                        .map(|p| ("certificate_identity_regexp", p))
                })
                .or_else(|| {
                    keyless_problem(
                        key.is_some(),
                        identity.is_some(),
                        regexp.is_some(),
                        issuer.is_some(),
                    )
                }),
            Probe::OciImage { image } => crate::sources::oci::ImageRef::check_template(image)
                .err()
                .map(|e| ("image", e)),
            Probe::GithubPrsBy { within, .. }
            | Probe::GithubLabelledWhenRed { within, .. }
            | Probe::GrafanaDashboard { within, .. }
                if within.0.is_zero() =>
            {
                Some(("within", "expected a period of more than 0s".into()))
            }
            _ => None,
        }
    }
}

/// A `cosign.verified` probe names a key or an identity and its issuer, or leaves both to
/// `[cosign]`.
fn keyless_problem(
    key: bool,
    identity: bool,
    regexp: bool,
    issuer: bool,
) -> Option<(&'static str, String)> {
    if identity && regexp {
        return Some((
            "certificate_identity_regexp",
            "expected certificate_identity or certificate_identity_regexp, not both".into(),
        ));
    }
    if key && (identity || regexp || issuer) {
        return Some((
            "key",
            "expected a key or a keyless identity (certificate_identity and \
             certificate_oidc_issuer), not both"
                .into(),
        ));
    }
    if (identity || regexp) != issuer {
        let (field, missing) = if issuer {
            ("certificate_oidc_issuer", "certificate_identity")
        } else {
            ("certificate_identity", "certificate_oidc_issuer")
        };
        return Some((
            field,
            format!("expected {missing} too: keyless verification checks both"),
        ));
    }
    None
}

/// The regex crate's own words for what is wrong, without its picture of the pattern.
fn last_line(e: &regex::Error) -> String {
    e.to_string()
        .lines()
        .last()
        .unwrap_or("")
        .trim()
        .to_string()
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
            Probe::GithubWorkflowRun { workflow, jobs, .. } if !jobs.is_empty() => {
                write!(f, "github: {workflow} run, jobs {}", jobs.join(", "))
            }
            Probe::GithubWorkflowRun { workflow, .. } => write!(f, "github: {workflow} run"),
            Probe::GithubArtifacts {
                workflow, names, ..
            } => write!(f, "github: {workflow} artifacts {}", names.join(", ")),
            Probe::GithubCheckRun {
                name, conclusion, ..
            } => write!(f, "github: check {name} {conclusion}"),
            Probe::GithubPrBlocked { paths, checks, .. } => write!(
                f,
                "github: PR touching {} blocked until {}",
                paths.join(", "),
                checks.join(", ")
            ),
            Probe::GithubPrComment { pattern, .. } => write!(f, "github: PR comment {pattern}"),
            Probe::GithubPrsBy { author, within, .. } => {
                write!(f, "github: PRs by {author} within {within}")
            }
            Probe::GithubLabelledWhenRed { label, branch, .. } => {
                write!(f, "github: {label} when {branch} is red")
            }
            Probe::PreviewHealthy { prefix, .. } => {
                write!(f, "preview: newest PR's {prefix}<n> healthy")
            }
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
            Probe::OciImage { image } => write!(f, "oci: {image} in its registry"),
            Probe::CosignVerified { image, .. } => write!(f, "cosign: {image} signed"),
            Probe::GrafanaDashboard { uid, panel, .. } => {
                write!(f, "grafana: {uid} panel {panel:?} has data")
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::plan::Plan;

    #[test]
    fn a_keyless_cosign_probe_needs_identity_and_issuer_and_no_key() {
        let image = "image: ghcr.io/acme/summit:sha-1";
        let issuer = "certificate_oidc_issuer: https://token.actions.githubusercontent.com";
        for (fields, key, says) in [
            (
                "certificate_identity: ci@acme.dev".to_string(),
                "certificate_identity",
                "expected certificate_oidc_issuer too",
            ),
            (
                issuer.to_string(),
                "certificate_oidc_issuer",
                "expected certificate_identity too",
            ),
            (
                format!("key: cosign.pub, certificate_identity: ci@acme.dev, {issuer}"),
                "key",
                "not both",
            ),
            (
                format!("certificate_identity_regexp: '^(ci', {issuer}"),
                "certificate_identity_regexp",
                "expected a regular expression",
            ),
            (
                format!("certificate_identity: a, certificate_identity_regexp: b, {issuer}"),
                "certificate_identity_regexp",
                "not both",
            ),
        ] {
            let probe = format!("{{kind: cosign.verified, {image}, {fields}}}");
            let text = format!(
                "version: 1\nphases:\n  - id: 0\n    title: x\n    owner: CI/CD\n    days: [1]\n    \
                 steps: []\n    validation:\n      - check: y\n        probe: {probe}\n    rollback: none\n"
            );
            let err = Plan::parse(Path::new("plan.yml"), &text).unwrap_err();
            assert!(err.message.contains(says), "{fields}: {err}");
            // The error points at the key's value.
            let value = probe.find(&format!(" {key}: ")).unwrap() + key.len() + 3;
            assert_eq!(
                (err.line, err.column),
                (Some(10), Some("        probe: ".len() + value + 1)),
                "{fields}: {err}"
            );
        }
        let text = format!(
            "version: 1\nphases:\n  - id: 0\n    title: x\n    owner: CI/CD\n    days: [1]\n    \
             steps: []\n    validation:\n      - check: y\n        probe: {{kind: cosign.verified, \
             {image}, certificate_identity_regexp: '^https://github\\.com/acme/', {issuer}}}\n    \
             rollback: none\n"
        );
        assert!(Plan::parse(Path::new("plan.yml"), &text).is_ok());
    }
}
