//! Runs validation probes, with bounded concurrency and a timeout each: a hung command is
//! killed at its timeout. A probe whose source is not configured says so; it never passes.
//! The probes that look at what happened on the forge, and at a preview: [`activity`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;

use super::audit;
use crate::config::probe::{Check, Probe};
use crate::config::slo::SloConfig;
use crate::engine::analysis::analyse;
use crate::engine::phases::{ProbeResult, ProbeStatus};
use crate::sources::host::{Host, RunError};
use crate::sources::{
    Cluster, Finding, Forge, Governance, Inspection, Metrics, Queries, SourceError,
};

/// How many probes run at once.
pub const CONCURRENCY: usize = 4;

/// Evidence is kept short: enough to read on a panel and in an export.
const EVIDENCE_LIMIT: usize = 2000;

/// What the probes may look at. A source that is `None` is not configured: its probes
/// say so, and never pass.
#[derive(Clone)]
pub struct ProbeContext {
    pub audit_path: PathBuf,
    pub metrics: Option<(Arc<dyn Metrics>, SloConfig)>,
    pub forge: Option<Arc<dyn Forge>>,
    pub cluster: Option<Arc<dyn Cluster>>,
    /// Where `command` and `http.get` probes run: this machine, or the demo world.
    pub host: Arc<dyn Host>,
    /// The image registry and Grafana.
    pub published: Option<Arc<dyn crate::sources::published::Published>>,
    pub now: DateTime<Utc>,
}

/// Run every check of a phase; results come back in the checks' order.
pub async fn run_all(checks: &[Check], ctx: &ProbeContext) -> Vec<ProbeResult> {
    // Each job owns what it needs, so the whole run can move to a task of its own.
    let jobs: Vec<_> = checks
        .iter()
        .map(|c| {
            let (probe, ctx) = (c.probe.clone(), ctx.clone());
            async move { run(&probe, &ctx).await }
        })
        .collect();
    futures::stream::iter(jobs)
        .buffered(CONCURRENCY)
        .collect()
        .await
}

pub async fn run(probe: &Probe, ctx: &ProbeContext) -> ProbeResult {
    let (status, evidence) = match probe {
        Probe::Manual => (
            ProbeStatus::Manual,
            "needs a person to confirm it".to_string(),
        ),
        Probe::Command {
            argv,
            timeout,
            expect_exit,
        } => command(&*ctx.host, argv, timeout.0, *expect_exit).await,
        Probe::HttpGet {
            url,
            status,
            body_contains,
        } => http_get(&*ctx.host, url, *status, body_contains.as_deref()).await,
        Probe::SloCheck => slo_check(ctx).await,
        Probe::CanaryDrillPassed => drill_passed(ctx),
        Probe::PrometheusQuery { query, op, value } => {
            prometheus_query(ctx, query, *op, *value).await
        }
        Probe::PrometheusRules { group } => prometheus_rules(ctx, group).await,
        Probe::PrometheusAlert { alert, labels } => prometheus_alert(ctx, alert, labels).await,
        Probe::GithubPrComment { pattern, pull } => activity::pr_comment(ctx, pattern, *pull).await,
        Probe::PreviewHealthy {
            url_pattern,
            prefix,
        } => activity::preview_healthy(ctx, url_pattern, prefix).await,
        Probe::OciImage { image } => published::image(ctx, image).await,
        Probe::CosignVerified {
            image,
            key,
            certificate_identity,
            certificate_identity_regexp,
            certificate_oidc_issuer,
        } => {
            let expected = published::expected(
                key.as_deref(),
                certificate_identity.as_deref(),
                certificate_identity_regexp.as_deref(),
                certificate_oidc_issuer.as_deref(),
            );
            published::signed(ctx, image, &expected).await
        }
        Probe::GrafanaDashboard { uid, panel, within } => {
            published::dashboard(ctx, uid, panel, *within).await
        }
        other if let Some(a) = activity::activity(other, ctx.now) => {
            activity::observe(ctx, &a).await
        }
        other => match (governance(other), inspection(other)) {
            (Some(g), _) => match &ctx.forge {
                Some(forge) => found(forge.check(&g).await),
                None => unavailable("the GitHub source"),
            },
            (_, Some(i)) => match &ctx.cluster {
                Some(cluster) => found(cluster.inspect(&i).await),
                None => unavailable("the Kubernetes source"),
            },
            _ => (
                ProbeStatus::Fail,
                format!("no source runs {} probes", other.kind()),
            ),
        },
    };
    ProbeResult {
        status,
        evidence: clip(evidence),
        at: ctx.now,
    }
}

fn unavailable(what: &str) -> (ProbeStatus, String) {
    (
        ProbeStatus::Unavailable,
        format!("{what} is not configured"),
    )
}

/// A source that could not answer fails the probe: not knowing is never a pass.
fn found(r: Result<Finding, SourceError>) -> (ProbeStatus, String) {
    match r {
        Ok(f) if f.passed => (ProbeStatus::Pass, f.evidence),
        Ok(f) => (ProbeStatus::Fail, f.evidence),
        Err(SourceError::Unconfigured(why)) => (ProbeStatus::Unavailable, why),
        Err(e) => (ProbeStatus::Fail, format!("could not check: {e}")),
    }
}

fn governance(p: &Probe) -> Option<Governance> {
    Some(match p {
        Probe::GithubEnvironmentProtected { environment } => Governance::EnvironmentProtected {
            environment: environment.clone(),
        },
        Probe::GithubBranchRequiresCheck { branch, check } => Governance::BranchRequiresCheck {
            branch: branch.clone(),
            check: check.clone(),
        },
        Probe::GithubRulesetActive { name } => Governance::RulesetActive { name: name.clone() },
        Probe::GithubSecretPresent { name } => Governance::SecretPresent { name: name.clone() },
        Probe::GithubFileExists { path, branch } => Governance::FileExists {
            path: path.clone(),
            branch: branch.clone(),
        },
        Probe::GithubNoCriticalAlerts => Governance::NoCriticalAlerts,
        Probe::GithubSecretScanningEnabled => Governance::SecretScanningEnabled,
        _ => return None,
    })
}

fn inspection(p: &Probe) -> Option<Inspection> {
    Some(match p {
        Probe::KubeNamespaceExists { namespace } => Inspection::NamespaceExists {
            namespace: namespace.clone(),
        },
        Probe::KubeDeploymentReady { namespace, name } => Inspection::DeploymentReady {
            namespace: namespace.clone(),
            name: name.clone(),
        },
        Probe::HelmReleaseStatus {
            release,
            namespace,
            status,
        } => Inspection::HelmReleaseStatus {
            release: release.clone(),
            namespace: namespace.clone(),
            status: status.clone(),
        },
        _ => return None,
    })
}

async fn prometheus_query(
    ctx: &ProbeContext,
    query: &str,
    op: crate::config::probe::Comparison,
    want: f64,
) -> (ProbeStatus, String) {
    let Some((metrics, _)) = &ctx.metrics else {
        return unavailable("a metrics source");
    };
    match metrics.value(query, ctx.now).await {
        Err(e) => (
            ProbeStatus::Fail,
            format!("could not evaluate {query}: {e}"),
        ),
        Ok(None) => (
            ProbeStatus::Fail,
            format!("{query} returned no series: nothing to compare"),
        ),
        Ok(Some(v)) => {
            let holds = op.holds(v, want);
            (
                if holds {
                    ProbeStatus::Pass
                } else {
                    ProbeStatus::Fail
                },
                format!(
                    "{query} = {v}; {} {v} {} {want}",
                    if holds { "holds:" } else { "does not hold:" },
                    op.symbol()
                ),
            )
        }
    }
}

/// The group is loaded and healthy; the group `slo rules` writes must also hold every
/// rule slo.yml makes now.
async fn prometheus_rules(ctx: &ProbeContext, group: &str) -> (ProbeStatus, String) {
    let Some((metrics, slo)) = &ctx.metrics else {
        return unavailable("a metrics source");
    };
    let expected = if group == crate::slo_rules::GROUP {
        alerting::Expected::of(slo)
    } else {
        alerting::Expected::default()
    };
    found(
        metrics
            .rule_groups(ctx.now)
            .await
            .map(|groups| alerting::group_loaded(&groups, group, &expected)),
    )
}

async fn prometheus_alert(
    ctx: &ProbeContext,
    alert: &str,
    labels: &std::collections::BTreeMap<String, String>,
) -> (ProbeStatus, String) {
    let Some((metrics, _)) = &ctx.metrics else {
        return unavailable("a metrics source");
    };
    found(
        metrics
            .rule_groups(ctx.now)
            .await
            .map(|groups| alerting::alert_firing(&groups, alert, labels)),
    )
}

fn clip(mut s: String) -> String {
    if s.len() > EVIDENCE_LIMIT {
        let mut cut = EVIDENCE_LIMIT;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// The program, its arguments (never a shell), a timeout after which it is killed, run on
/// `host`.
pub(crate) async fn command(
    host: &dyn Host,
    argv: &[String],
    timeout: Duration,
    expect: i32,
) -> (ProbeStatus, String) {
    let Some(program) = argv.first() else {
        return (ProbeStatus::Fail, "empty argv".into());
    };
    match host.run(argv, timeout).await {
        Err(RunError::Start(e)) => (ProbeStatus::Fail, format!("cannot run {program}: {e}")),
        Err(RunError::TimedOut) => (
            ProbeStatus::Fail,
            format!(
                "{} timed out after {}s and was killed",
                argv.join(" "),
                timeout.as_secs()
            ),
        ),
        Err(RunError::Wait(e)) => (ProbeStatus::Fail, format!("{program}: {e}")),
        Ok(out) => {
            let text = format!(
                "exit {}; stdout: {}; stderr: {}",
                out.code.map_or("by signal".to_string(), |c| c.to_string()),
                out.stdout,
                out.stderr
            );
            if out.code == Some(expect) {
                (ProbeStatus::Pass, text)
            } else {
                (ProbeStatus::Fail, format!("expected exit {expect}; {text}"))
            }
        }
    }
}

async fn http_get(
    host: &dyn Host,
    url: &str,
    want: u16,
    contains: Option<&str>,
) -> (ProbeStatus, String) {
    let resp = match host.get(url, Duration::from_secs(10)).await {
        Ok(r) => r,
        Err(e) => return (ProbeStatus::Fail, format!("GET {url}: {e}")),
    };
    let status = resp.status;
    if status != want {
        return (
            ProbeStatus::Fail,
            format!("GET {url}: status {status}, expected {want}"),
        );
    }
    match contains {
        Some(needle) if !resp.body.contains(needle) => (
            ProbeStatus::Fail,
            format!("GET {url}: {status}, but the body does not contain {needle:?}"),
        ),
        _ => (ProbeStatus::Pass, format!("GET {url}: {status}")),
    }
}

async fn slo_check(ctx: &ProbeContext) -> (ProbeStatus, String) {
    let Some((metrics, slo)) = &ctx.metrics else {
        return unavailable("a metrics source");
    };
    let queries = Queries::resolve(slo);
    match metrics.measure(&queries, ctx.now).await {
        Err(e) => (ProbeStatus::Fail, format!("could not evaluate: {e}")),
        Ok(m) => {
            let a = analyse(slo, &m, &queries.evidence());
            let status = if a.verdict.is_passing() {
                ProbeStatus::Pass
            } else {
                ProbeStatus::Fail
            };
            (
                status,
                format!("verdict {}: {}", a.verdict.label(), a.reason),
            )
        }
    }
}

/// The audit journal (checked whole) shows a train promoted to 100 % and an automatic
/// rollback: the seed's phase 8 drill.
fn drill_passed(ctx: &ProbeContext) -> (ProbeStatus, String) {
    let records = match audit::verify(&ctx.audit_path) {
        Ok(r) => r,
        // A journal nobody has written to yet is not a fault: there is no drill in it.
        Err(audit::AuditError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            return (
                ProbeStatus::Fail,
                "not yet: no drill in the journal (nothing journalled yet)".into(),
            );
        }
        Err(e) => return (ProbeStatus::Fail, format!("audit journal: {e}")),
    };
    let outcome_ok = |r: &&audit::Record| {
        r.entry.phase == audit::Phase::Outcome
            && r.entry
                .result
                .as_deref()
                .is_some_and(|x| x.starts_with("ok"))
    };
    let promoted = records
        .iter()
        .filter(outcome_ok)
        .find(|r| r.entry.action == "promote" && r.entry.to.contains("100 %"));
    let rolled_back = records
        .iter()
        .filter(outcome_ok)
        .find(|r| r.entry.action == "rollback" && r.entry.confirmation == "automatic");
    match (promoted, rolled_back) {
        (None, None) => (
            ProbeStatus::Fail,
            "not yet: no drill in the journal (no train promoted to 100 %, no automatic \
             rollback drill)"
                .into(),
        ),
        (Some(p), Some(r)) => (
            ProbeStatus::Pass,
            format!(
                "promoted to 100 % (record {} at {}); automatic rollback (record {} at {})",
                p.seq, p.time, r.seq, r.time
            ),
        ),
        (p, r) => (
            ProbeStatus::Fail,
            format!(
                "{}; {}",
                if p.is_some() {
                    "promoted to 100 %"
                } else {
                    "no train promoted to 100 % in the journal"
                },
                if r.is_some() {
                    "an automatic rollback"
                } else {
                    "no automatic rollback drill in the journal"
                }
            ),
        ),
    }
}

mod activity;
pub mod alerting;
mod published;

#[cfg(test)]
mod tests;
