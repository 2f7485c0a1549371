//! One reading of `main`'s health from GitHub: its HEAD, the checks branch protection and
//! rulesets require with their state on HEAD, the `frozen/rollback` tag, and the open PRs
//! that matter (labelled `freeze/main-red`, or from Renovate). Requests are sequential,
//! conditional where GitHub allows, and skipped where an earlier answer makes them useless.
//!
//! Never touches UI state: it returns a [`MainHealth`] or the first [`SourceError`].
//!
//! The readers of what branch protection and rulesets require ([`protection_checks`],
//! [`ruleset_checks`]) take any branch: governance checks ask them about others.

use chrono::{DateTime, Utc};

use super::checks;
use super::client::{GithubClient, Reply};
use super::tags::{self, FreezeMemo};
use super::wire::BRANCH;
use super::wire::{
    Branch, BranchRule, CheckRuns, CombinedStatus, PullRequest, RequiredStatusChecks,
    RequiredStatusChecksRule, segment,
};
use crate::engine::main_health::{Commit, MainHealth, OpenPull, PrRef};
use crate::sources::SourceError;

pub use crate::engine::main_health::FREEZE_LABEL;
pub const RENOVATE: &str = "renovate[bot]";

/// What a poll remembers for the next one, to skip requests that would cost budget.
#[derive(Debug, Default)]
pub struct PollMemory {
    /// The protection endpoint answered 404 or 403 while the branch read as it does now.
    /// Those answers carry no ETag, so each would cost budget; while the branch is
    /// unchanged (a 304) the answer cannot have changed either.
    protection_unavailable: bool,
}

pub async fn read(
    client: &GithubClient,
    memory: &mut PollMemory,
    freeze: &FreezeMemo,
    now: DateTime<Utc>,
) -> Result<MainHealth, SourceError> {
    let repo = client.repo();
    let branch_url = format!("{repo}/branches/{BRANCH}");
    let (branch, branch_fresh): (Branch, bool) = client
        .get_json(&branch_url)
        .await?
        .ok_or_else(|| client.refusal("GET", &branch_url, 404, "Branch not found"))?;
    let head = head_commit(&branch, now);

    let from_protection = protection_contexts(client, memory, &branch, branch_fresh).await?;
    let from_rulesets: Vec<String> = ruleset_checks(client, BRANCH)
        .await?
        .into_iter()
        .map(|c| c.context)
        .collect();
    let required = checks::union(
        from_protection
            .iter()
            .chain(&from_rulesets)
            .map(String::as_str),
    );
    let checks = if required.is_empty() {
        Vec::new()
    } else {
        let sha = &head.sha;
        let runs: Vec<CheckRuns> = client
            .get_pages(&format!("{repo}/commits/{sha}/check-runs?per_page=100"))
            .await?
            .unwrap_or_default();
        let statuses: Vec<CombinedStatus> = client
            .get_pages(&format!("{repo}/commits/{sha}/status?per_page=100"))
            .await?
            .unwrap_or_default();
        let runs: Vec<_> = runs.into_iter().flat_map(|p| p.check_runs).collect();
        let statuses: Vec<_> = statuses.into_iter().flat_map(|p| p.statuses).collect();
        checks::resolve(&required, &runs, &statuses)
    };

    let frozen = tags::read(client, freeze, now).await?;

    let pulls: Vec<Vec<PullRequest>> = client
        .get_pages(&format!("{repo}/pulls?state=open&per_page=100"))
        .await?
        .unwrap_or_default();
    let pulls: Vec<PullRequest> = pulls.into_iter().flatten().collect();
    let pick = |keep: &dyn Fn(&PullRequest) -> bool| {
        let mut prs: Vec<PrRef> = pulls
            .iter()
            .filter(|p| keep(p))
            .map(|p| PrRef {
                number: p.number,
                title: p.title.clone(),
            })
            .collect();
        prs.sort_by_key(|p| p.number);
        prs
    };
    let freeze_prs = pick(&|p| p.labels.iter().any(|l| l.name == FREEZE_LABEL));
    let renovate_prs = pick(&|p| p.user.as_ref().is_some_and(|u| u.login == RENOVATE));

    let mut open_prs: Vec<OpenPull> = pulls.into_iter().map(super::labels::open_pull).collect();
    open_prs.sort_by_key(|p| p.number);

    Ok(MainHealth {
        head,
        checks,
        frozen,
        freeze_prs,
        renovate_prs,
        open_prs,
        rate_limit: client.budget(),
    })
}

/// HEAD of `main`: the GitHub login of its author when GitHub knows it (else the git
/// name), the subject line, and the committer date (when it landed, for a rebase or squash).
fn head_commit(branch: &Branch, now: DateTime<Utc>) -> Commit {
    let c = &branch.commit;
    let author = c
        .author
        .as_ref()
        .map(|a| a.login.clone())
        .or_else(|| c.commit.author.as_ref().and_then(|s| s.name.clone()))
        .unwrap_or_else(|| "unknown".into());
    let at = [&c.commit.committer, &c.commit.author]
        .into_iter()
        .find_map(|s| s.as_ref().and_then(|s| s.date))
        .unwrap_or(now);
    Commit {
        sha: c.sha.clone(),
        author,
        message: c.commit.message.lines().next().unwrap_or("").to_string(),
        at,
    }
}

/// Required checks from classic branch protection. The protection endpoint needs more than
/// read access; when it answers 404 (not protected, or not visible) or 403, the summary the
/// branch itself carries is used. A branch GitHub reports as unprotected is not asked about.
async fn protection_contexts(
    client: &GithubClient,
    memory: &mut PollMemory,
    branch: &Branch,
    branch_fresh: bool,
) -> Result<Vec<String>, SourceError> {
    let summary = || protection_summary(branch);
    if branch.protected == Some(false) {
        memory.protection_unavailable = false;
        return Ok(Vec::new());
    }
    if memory.protection_unavailable && !branch_fresh {
        return Ok(summary());
    }
    match protection_checks(client, BRANCH).await? {
        Protection::Requires(names) => {
            memory.protection_unavailable = false;
            Ok(names)
        }
        Protection::Unreadable { .. } => {
            memory.protection_unavailable = true;
            Ok(summary())
        }
    }
}

/// The status checks branch protection requires, from the summary a branch carries (which
/// anyone who can read the repository sees, where the protection endpoint needs more).
pub fn protection_summary(branch: &Branch) -> Vec<String> {
    let Some(rsc) = branch
        .protection
        .as_ref()
        .and_then(|p| p.required_status_checks.as_ref())
    else {
        return Vec::new();
    };
    if rsc.enforcement_level.as_deref() == Some("off") {
        return Vec::new();
    }
    checks::union(
        rsc.contexts
            .iter()
            .map(String::as_str)
            .chain(rsc.checks.iter().map(|c| c.context.as_str())),
    )
}

/// What classic branch protection says a branch requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protection {
    /// The status checks it requires.
    Requires(Vec<String>),
    /// GitHub would not say: 404 (not protected, no required checks, or not visible to the
    /// token; its message tells which) or 403 (the token may not read protection).
    Unreadable { status: u16, message: String },
}

/// The status checks classic branch protection requires on `branch`.
pub async fn protection_checks(
    client: &GithubClient,
    branch: &str,
) -> Result<Protection, SourceError> {
    let url = format!(
        "{}/branches/{}/protection/required_status_checks",
        client.repo(),
        segment(branch)
    );
    match client.get(&url).await? {
        Reply::Found(page) => {
            let rsc: RequiredStatusChecks = client.parse(&url, &page.body)?;
            Ok(Protection::Requires(checks::union(
                rsc.contexts
                    .iter()
                    .map(String::as_str)
                    .chain(rsc.checks.iter().map(|c| c.context.as_str())),
            )))
        }
        Reply::Refused {
            status: status @ (403 | 404),
            message,
        } => Ok(Protection::Unreadable { status, message }),
        Reply::Refused { status, message } => Err(client.refusal("GET", &url, status, &message)),
    }
}

/// A status check a ruleset requires, and which ruleset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesetCheck {
    pub context: String,
    pub ruleset_id: Option<u64>,
    /// The repository or organization the ruleset belongs to.
    pub source: Option<String>,
}

/// The status checks every active ruleset that targets `branch` requires. A GitHub without
/// rulesets (an older Enterprise Server) answers 404: none from there.
pub async fn ruleset_checks(
    client: &GithubClient,
    branch: &str,
) -> Result<Vec<RulesetCheck>, SourceError> {
    let url = format!(
        "{}/rules/branches/{}?per_page=100",
        client.repo(),
        segment(branch)
    );
    let pages: Vec<Vec<BranchRule>> = client.get_pages(&url).await?.unwrap_or_default();
    let mut required = Vec::new();
    for rule in pages.into_iter().flatten() {
        if rule.kind != "required_status_checks" {
            continue;
        }
        let Some(parameters) = rule.parameters else {
            continue;
        };
        let parameters: RequiredStatusChecksRule =
            serde_json::from_value(parameters).map_err(|e| {
                SourceError::Rejected(format!(
                    "a required_status_checks rule from GET {url} is not in the shape captain reads: {e}"
                ))
            })?;
        required.extend(
            parameters
                .required_status_checks
                .into_iter()
                .map(|c| RulesetCheck {
                    context: c.context,
                    ruleset_id: rule.ruleset_id,
                    source: rule.ruleset_source.clone(),
                }),
        );
    }
    Ok(required)
}
