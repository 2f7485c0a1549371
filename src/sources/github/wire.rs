//! The parts of GitHub's REST answers this source reads, in the API's own field names.
//! Everything else in those bodies is ignored, so GitHub adding fields breaks nothing; a
//! field marked required here is one GitHub documents as always present. [`segment`] puts a
//! name into a request path.

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The branch whose health captain watches, and whose head a freeze tag falls back to.
pub const BRANCH: &str = "main";

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
    #[serde(default)]
    pub ruleset_id: Option<u64>,
    /// The repository (`acme/summit`) or organization (`acme`) the ruleset belongs to.
    #[serde(default)]
    pub ruleset_source: Option<String>,
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
    /// `open` or `closed` (a merged pull request is closed, with `merged_at` set).
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub merged_at: Option<DateTime<Utc>>,
    /// The description; `null` when it has none.
    #[serde(default)]
    pub body: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Label {
    pub name: String,
}

/// `GET /repos/{o}/{r}/environments/{name}`.
#[derive(Debug, Deserialize)]
pub struct Environment {
    pub name: String,
    #[serde(default)]
    pub protection_rules: Vec<ProtectionRule>,
}

#[derive(Debug, Deserialize)]
pub struct ProtectionRule {
    /// `required_reviewers`, `wait_timer`, `branch_policy`, or a custom rule's.
    #[serde(rename = "type")]
    pub kind: String,
}

/// One item of `GET /repos/{o}/{r}/rulesets`: the repository's own rulesets and those it
/// inherits from its organization.
#[derive(Debug, Deserialize)]
pub struct Ruleset {
    pub name: String,
    /// `active`, `evaluate` (reported, not enforced) or `disabled`.
    pub enforcement: String,
}

/// `GET /repos/{o}/{r}/actions/secrets`. GitHub never sends a secret's value.
#[derive(Debug, Deserialize)]
pub struct Secrets {
    pub secrets: Vec<Secret>,
}

#[derive(Debug, Deserialize)]
pub struct Secret {
    pub name: String,
    pub updated_at: Option<DateTime<Utc>>,
}

/// `GET /repos/{o}/{r}/contents/{path}`: one entry for a file, a list for a directory.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Contents {
    Entry(ContentEntry),
    Directory(Vec<serde::de::IgnoredAny>),
}

/// A file, symlink or submodule. Its `content` is deliberately not read.
#[derive(Debug, Deserialize)]
pub struct ContentEntry {
    #[serde(rename = "type")]
    pub kind: String,
    pub path: String,
    pub size: u64,
    pub sha: String,
}

/// One item of `GET /repos/{o}/{r}/code-scanning/alerts`.
#[derive(Debug, Deserialize)]
pub struct CodeScanningAlert {
    pub number: u64,
    pub rule: AlertRule,
}

#[derive(Debug, Deserialize)]
pub struct AlertRule {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// `critical`, `high`, `medium` or `low`, for security rules only.
    #[serde(default)]
    pub security_severity_level: Option<String>,
}

/// `GET /repos/{o}/{r}`, for its security settings.
#[derive(Debug, Deserialize)]
pub struct Repository {
    pub full_name: String,
    /// Shown only to a token with admin rights on the repository.
    #[serde(default)]
    pub security_and_analysis: Option<SecurityAndAnalysis>,
}

#[derive(Debug, Deserialize)]
pub struct SecurityAndAnalysis {
    #[serde(default)]
    pub secret_scanning: Option<SecurityFeature>,
}

#[derive(Debug, Deserialize)]
pub struct SecurityFeature {
    /// `enabled` or `disabled`.
    pub status: String,
}

/// GitHub's error body: `{"message": "...", "documentation_url": "..."}`.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    pub message: Option<String>,
}

/// `name` as one segment of a request path: everything but RFC 3986's unreserved characters
/// percent-encoded, so `freeze/main-red` stays one segment (`freeze%2Fmain-red`) instead of
/// becoming two.
pub fn segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_keeps_a_slash_from_splitting_the_path() {
        assert_eq!(segment("freeze/main-red"), "freeze%2Fmain-red");
        assert_eq!(segment("main"), "main");
        assert_eq!(segment("good first issue"), "good%20first%20issue");
        assert_eq!(segment("größe?#"), "gr%C3%B6%C3%9Fe%3F%23");
    }
}
