//! The probes that look at what happened on the forge (runs, checks, pull requests), and
//! the newest pull request's preview, which asks the forge, the cluster and the preview's
//! own URL.

use chrono::{DateTime, Utc};
use regex::Regex;

use super::{ProbeContext, unavailable};
use crate::config::probe::Probe;
use crate::engine::phases::ProbeStatus;
use crate::sources::activity::{Activity, Observation, Target, Verdict};
use crate::sources::{Finding, Inspection, SourceError};

/// The activity a probe asks the forge about, `None` for a probe of another kind.
pub(super) fn activity(p: &Probe, now: DateTime<Utc>) -> Option<Activity> {
    let target = |branch: &Option<String>, pull: &Option<u32>| match (branch, pull) {
        (Some(b), _) => Target::Branch(b.clone()),
        (None, Some(n)) => Target::Pull(*n),
        (None, None) => Target::NewestPull,
    };
    Some(match p {
        Probe::GithubWorkflowRun {
            workflow,
            branch,
            pull,
            jobs,
        } => Activity::WorkflowRun {
            workflow: workflow.clone(),
            target: target(branch, pull),
            jobs: jobs.clone(),
        },
        Probe::GithubArtifacts {
            workflow,
            branch,
            pull,
            names,
        } => Activity::Artifacts {
            workflow: workflow.clone(),
            target: target(branch, pull),
            names: names.clone(),
        },
        Probe::GithubCheckRun {
            name,
            branch,
            pull,
            conclusion,
        } => Activity::CheckRun {
            name: name.clone(),
            target: target(branch, pull),
            conclusion: conclusion.clone(),
        },
        Probe::GithubPrBlocked {
            paths,
            checks,
            pull,
        } => Activity::PullBlocked {
            paths: paths.clone(),
            checks: checks.clone(),
            pull: *pull,
        },
        Probe::GithubPrsBy {
            author,
            within,
            min,
        } => Activity::PullsBy {
            author: author.clone(),
            since: now - within.chrono(),
            min: *min,
        },
        Probe::GithubLabelledWhenRed {
            label,
            branch,
            within,
        } => Activity::LabelledWhenRed {
            label: label.clone(),
            branch: branch.clone(),
            within_secs: within.chrono().num_seconds(),
        },
        _ => return None,
    })
}

pub(super) async fn observe(ctx: &ProbeContext, what: &Activity) -> (ProbeStatus, String) {
    match &ctx.forge {
        Some(forge) => observed(forge.observe(what).await),
        None => unavailable("the GitHub source"),
    }
}

/// A forge that could not answer fails the probe, as for governance checks.
fn observed(r: Result<Observation, SourceError>) -> (ProbeStatus, String) {
    match r {
        Ok(o) => (
            match o.verdict {
                Verdict::Pass => ProbeStatus::Pass,
                Verdict::Fail => ProbeStatus::Fail,
                Verdict::Unavailable => ProbeStatus::Unavailable,
            },
            o.evidence,
        ),
        Err(SourceError::Unconfigured(why)) => (ProbeStatus::Unavailable, why),
        Err(e) => (ProbeStatus::Fail, format!("could not check: {e}")),
    }
}

fn compiled(pattern: &str) -> Result<Regex, (ProbeStatus, String)> {
    // The plan is checked at load; a plan built in code may still hold a bad pattern.
    Regex::new(pattern).map_err(|e| (ProbeStatus::Fail, format!("pattern {pattern:?}: {e}")))
}

pub(super) async fn pr_comment(
    ctx: &ProbeContext,
    pattern: &str,
    pull: Option<u32>,
) -> (ProbeStatus, String) {
    let Some(forge) = &ctx.forge else {
        return unavailable("the GitHub source");
    };
    let re = match compiled(pattern) {
        Ok(re) => re,
        Err(why) => return why,
    };
    match forge.pull_comment(pull, &re).await {
        Err(e) => observed(Err(e)),
        Ok(None) => match pull {
            Some(n) => (ProbeStatus::Fail, format!("no pull request #{n}")),
            None => (
                ProbeStatus::Unavailable,
                "no open pull request to look at".into(),
            ),
        },
        Ok(Some(p)) => match p.comment {
            Some(c) => (
                ProbeStatus::Pass,
                format!(
                    "#{}: {} commented {} ({})",
                    p.number,
                    by(&c.by),
                    c.text,
                    c.url
                ),
            ),
            None => (
                ProbeStatus::Fail,
                format!("#{}: no comment matches {pattern}", p.number),
            ),
        },
    }
}

fn by(login: &str) -> &str {
    if login.is_empty() { "someone" } else { login }
}

/// The newest open pull request's comment gives its preview's URL; its namespace must exist
/// and the URL answer 2xx. Each step's finding is evidence, up to the first that fails.
pub(super) async fn preview_healthy(
    ctx: &ProbeContext,
    url_pattern: &str,
    prefix: &str,
) -> (ProbeStatus, String) {
    let (Some(forge), Some(cluster)) = (&ctx.forge, &ctx.cluster) else {
        return unavailable(if ctx.forge.is_none() {
            "the GitHub source"
        } else {
            "the Kubernetes source"
        });
    };
    let re = match compiled(url_pattern) {
        Ok(re) => re,
        Err(why) => return why,
    };
    let pull = match forge.pull_comment(None, &re).await {
        Err(e) => return observed(Err(e)),
        Ok(None) => {
            return (
                ProbeStatus::Unavailable,
                "no open pull request: no preview to look at".into(),
            );
        }
        Ok(Some(p)) => p,
    };
    let n = pull.number;
    let Some(comment) = pull.comment else {
        return (
            ProbeStatus::Fail,
            format!("#{n}: no comment gives a preview URL (none matches {url_pattern})"),
        );
    };
    let url = comment.text;
    let mut seen = vec![format!("#{n}: preview {url} (comment {})", comment.url)];
    let namespace = format!("{prefix}{n}");
    match cluster
        .inspect(&Inspection::NamespaceExists {
            namespace: namespace.clone(),
        })
        .await
    {
        Ok(Finding {
            passed: true,
            evidence,
        }) => seen.push(evidence),
        Ok(Finding { evidence, .. }) => {
            seen.push(evidence);
            return (ProbeStatus::Fail, seen.join("; "));
        }
        Err(e) => {
            let (status, why) = observed(Err(e));
            seen.push(format!("namespace {namespace}: {why}"));
            return (status, seen.join("; "));
        }
    }
    match cluster.preview_status(&url).await {
        Ok(status) if (200..300).contains(&status) => {
            seen.push(format!("GET {url}: {status}"));
            (ProbeStatus::Pass, seen.join("; "))
        }
        Ok(status) => {
            seen.push(format!("GET {url}: {status}, expected 2xx"));
            (ProbeStatus::Fail, seen.join("; "))
        }
        Err(e) => {
            seen.push(format!("GET {url}: {e}"));
            (ProbeStatus::Fail, seen.join("; "))
        }
    }
}
