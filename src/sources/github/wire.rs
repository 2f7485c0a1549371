//! The parts of GitHub's REST answers this source reads, in the API's own field names.
//! Everything else in those bodies is ignored, so GitHub adding fields breaks nothing; a
//! field marked required here is one GitHub documents as always present.

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// `GET /repos/{owner}/{repo}/branches/{branch}`.
#[derive(Debug, Deserialize)]
pub struct Branch {
    pub commit: BranchCommit,
    /// Whether classic branch protection applies (absent: not said, so ask).
    #[serde(default)]
    pub protected: Option<bool>,
    /// A summary of the branch protection, visible to anyone who can read the repository
    /// (the protection endpoint itself needs more).
    #[serde(default)]
    pub protection: Option<BranchProtectionSummary>,
}

#[derive(Debug, Deserialize)]
pub struct BranchCommit {
    pub sha: String,
    pub commit: GitCommit,
    /// The GitHub account of the author, when GitHub could match one.
    #[serde(default)]
    pub author: Option<Account>,
}

/// A git commit, as embedded in a branch and as `GET /repos/{o}/{r}/git/commits/{sha}`.
#[derive(Debug, Deserialize)]
pub struct GitCommit {
    pub author: Option<Signature>,
    pub committer: Option<Signature>,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Deserialize)]
pub struct Signature {
    #[serde(default)]
    pub name: Option<String>,
    pub date: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
pub struct Account {
    pub login: String,
}

#[derive(Debug, Deserialize)]
pub struct BranchProtectionSummary {
    #[serde(default)]
    pub required_status_checks: Option<ProtectionSummaryChecks>,
}

#[derive(Debug, Deserialize)]
pub struct ProtectionSummaryChecks {
    /// `off`, `non_admins` or `everyone`.
    #[serde(default)]
    pub enforcement_level: Option<String>,
    #[serde(default)]
    pub contexts: Vec<String>,
    #[serde(default)]
    pub checks: Vec<CheckContext>,
}

/// `GET /repos/{o}/{r}/branches/{branch}/protection/required_status_checks`.
#[derive(Debug, Deserialize)]
pub struct RequiredStatusChecks {
    /// Deprecated by GitHub in favour of `checks`, still sent; read both.
    #[serde(default)]
    pub contexts: Vec<String>,
    #[serde(default)]
    pub checks: Vec<CheckContext>,
}

#[derive(Debug, Deserialize)]
pub struct CheckContext {
    pub context: String,
}

/// One item of `GET /repos/{o}/{r}/rules/branches/{branch}`: every rule that applies to the
/// branch, from every active ruleset.
#[derive(Debug, Deserialize)]
pub struct BranchRule {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub parameters: Option<serde_json::Value>,
}

/// `parameters` of a `required_status_checks` rule.
#[derive(Debug, Deserialize)]
pub struct RequiredStatusChecksRule {
    #[serde(default)]
    pub required_status_checks: Vec<CheckContext>,
}

/// `GET /repos/{o}/{r}/commits/{ref}/check-runs`.
#[derive(Debug, Deserialize)]
pub struct CheckRuns {
    pub check_runs: Vec<CheckRun>,
}

#[derive(Debug, Deserialize)]
pub struct CheckRun {
    pub id: u64,
    pub name: String,
    /// `queued`, `in_progress`, `completed`, `waiting`, `requested` or `pending`.
    pub status: String,
    /// Set once completed: `success`, `failure`, `neutral`, `cancelled`, `skipped`,
    /// `timed_out`, `action_required`, `stale`, `startup_failure`.
    pub conclusion: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// `GET /repos/{o}/{r}/commits/{ref}/status`: the latest status of each context.
#[derive(Debug, Deserialize)]
pub struct CombinedStatus {
    pub statuses: Vec<CommitStatus>,
}

#[derive(Debug, Deserialize)]
pub struct CommitStatus {
    pub context: String,
    /// `error`, `failure`, `pending` or `success`.
    pub state: String,
    pub updated_at: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
}

/// One item of `GET /repos/{o}/{r}/git/matching-refs/{ref}`.
#[derive(Debug, Deserialize)]
pub struct GitRef {
    #[serde(rename = "ref")]
    pub name: String,
    pub object: GitObject,
}

#[derive(Debug, Deserialize)]
pub struct GitObject {
    pub sha: String,
    /// `commit` for a lightweight tag, `tag` for an annotated one.
    #[serde(rename = "type")]
    pub kind: String,
}

/// `GET /repos/{o}/{r}/git/tags/{sha}`: an annotated tag.
#[derive(Debug, Deserialize)]
pub struct AnnotatedTag {
    pub tagger: Option<Signature>,
    pub object: GitObject,
}

/// One item of `GET /repos/{o}/{r}/pulls`.
#[derive(Debug, Deserialize)]
pub struct PullRequest {
    pub number: u32,
    pub title: String,
    pub user: Option<Account>,
    #[serde(default)]
    pub labels: Vec<Label>,
}

#[derive(Debug, Deserialize)]
pub struct Label {
    pub name: String,
}

/// GitHub's error body: `{"message": "...", "documentation_url": "..."}`.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    pub message: Option<String>,
}
