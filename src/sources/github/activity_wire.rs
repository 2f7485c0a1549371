//! The parts of GitHub's REST answers the activity probes read (workflow runs, their jobs
//! and artifacts, check runs with their pages, pull requests, their files, comments and
//! timelines, and issue search), in the API's own field names. Everything else is ignored.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::wire::{Account, Label};

/// `GET /repos/{o}/{r}/actions/workflows/{file}/runs` and `GET /repos/{o}/{r}/actions/runs`.
#[derive(Debug, Deserialize)]
pub struct WorkflowRuns {
    pub total_count: u64,
    pub workflow_runs: Vec<WorkflowRun>,
}

#[derive(Debug, Deserialize)]
pub struct WorkflowRun {
    pub id: u64,
    pub html_url: String,
    /// `queued`, `in_progress`, `completed`, …
    #[serde(default)]
    pub status: Option<String>,
    /// Set once completed: `success`, `failure`, `cancelled`, …
    #[serde(default)]
    pub conclusion: Option<String>,
    pub head_sha: String,
    #[serde(default)]
    pub head_branch: Option<String>,
    /// The workflow's name, as the Actions tab shows it.
    #[serde(default)]
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `GET /repos/{o}/{r}/actions/runs/{id}/jobs`.
#[derive(Debug, Deserialize)]
pub struct Jobs {
    pub jobs: Vec<Job>,
}

#[derive(Debug, Deserialize)]
pub struct Job {
    pub name: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
}

/// `GET /repos/{o}/{r}/actions/runs/{id}/artifacts`.
#[derive(Debug, Deserialize)]
pub struct Artifacts {
    pub artifacts: Vec<Artifact>,
}

#[derive(Debug, Deserialize)]
pub struct Artifact {
    pub name: String,
    pub expired: bool,
    #[serde(default)]
    pub size_in_bytes: Option<u64>,
}

/// `GET /repos/{o}/{r}/commits/{ref}/check-runs`, as far as a named check needs it.
#[derive(Debug, Deserialize)]
pub struct CheckRuns {
    pub check_runs: Vec<CheckRun>,
}

#[derive(Debug, Deserialize)]
pub struct CheckRun {
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
}

/// `GET /repos/{o}/{r}/pulls/{n}`, and one item of `GET /repos/{o}/{r}/pulls`.
#[derive(Debug, Deserialize)]
pub struct Pull {
    pub number: u32,
    pub title: String,
    pub html_url: String,
    pub head: PullHead,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
    /// Only on a single pull request: `blocked`, `clean`, `unstable`, `dirty`, `behind`,
    /// `draft`, `has_hooks` or `unknown` (still being computed).
    #[serde(default)]
    pub mergeable_state: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PullHead {
    pub sha: String,
    #[serde(rename = "ref")]
    pub branch: String,
}

/// One item of `GET /repos/{o}/{r}/pulls/{n}/files`.
#[derive(Debug, Deserialize)]
pub struct PullFile {
    pub filename: String,
}

/// One item of `GET /repos/{o}/{r}/issues/{n}/comments`.
#[derive(Debug, Deserialize)]
pub struct IssueComment {
    pub html_url: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub user: Option<Account>,
}

/// One item of `GET /repos/{o}/{r}/issues/{n}/timeline`: events of many kinds, of which
/// only `labeled` is read; other kinds may lack every field but `event`.
#[derive(Debug, Deserialize)]
pub struct TimelineEvent {
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub label: Option<Label>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub actor: Option<Account>,
}

/// `GET /search/issues`.
#[derive(Debug, Deserialize)]
pub struct IssueSearch {
    pub total_count: u64,
    #[serde(default)]
    pub incomplete_results: bool,
    pub items: Vec<FoundIssue>,
}

#[derive(Debug, Deserialize)]
pub struct FoundIssue {
    pub number: u32,
    pub title: String,
    pub created_at: DateTime<Utc>,
}
