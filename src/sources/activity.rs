//! What validation probes ask the forge about what happened, where [`super::Governance`]
//! asks how the repository is set up: the latest run of a workflow and its jobs, its
//! artifacts, a check's conclusion, a pull request held back by its checks, pull requests
//! by an author, labels put on when `main` went red, and a comment on a pull request.
//!
//! An answer is an [`Observation`]: pass, fail, or unavailable when there is nothing yet to
//! judge (no open pull request, a run still going, main never red). Never a pass on what
//! could not be seen.

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::SourceError;

/// Which commit a run or a check is looked for on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The head of a branch.
    Branch(String),
    /// The head of pull request #n.
    Pull(u32),
    /// The head of the newest open pull request (by when it was opened).
    NewestPull,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Activity {
    /// The latest run of `workflow` (its file name) for the target concluded `success`, and
    /// so did each named job (a matrix job `build (node)` answers for `build`).
    WorkflowRun {
        workflow: String,
        target: Target,
        jobs: Vec<String>,
    },
    /// That run uploaded an unexpired artifact for each name (its name, or one starting
    /// with it).
    Artifacts {
        workflow: String,
        target: Target,
        names: Vec<String>,
    },
    /// The latest check run named `name` on the target concluded `conclusion`.
    CheckRun {
        name: String,
        target: Target,
        conclusion: String,
    },
    /// A pull request touching `paths` (globs) is blocked from merging while any of
    /// `checks` has not passed: pull request `pull`, or the newest open one that touches
    /// them.
    PullBlocked {
        paths: Vec<String>,
        checks: Vec<String>,
        pull: Option<u32>,
    },
    /// At least `min` pull requests opened by `author` since `since`.
    PullsBy {
        author: String,
        since: DateTime<Utc>,
        min: u32,
    },
    /// The last time a workflow run on `branch` failed, a pull request open then got
    /// `label` within `within_secs` of it.
    LabelledWhenRed {
        label: String,
        branch: String,
        within_secs: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    /// Nothing to judge yet; never a pass.
    Unavailable,
}

/// What the forge saw, and whether it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    pub verdict: Verdict,
    pub evidence: String,
}

impl Observation {
    pub fn pass(evidence: impl Into<String>) -> Self {
        Self::new(Verdict::Pass, evidence)
    }

    pub fn fail(evidence: impl Into<String>) -> Self {
        Self::new(Verdict::Fail, evidence)
    }

    pub fn unavailable(evidence: impl Into<String>) -> Self {
        Self::new(Verdict::Unavailable, evidence)
    }

    fn new(verdict: Verdict, evidence: impl Into<String>) -> Self {
        Observation {
            verdict,
            evidence: evidence.into(),
        }
    }
}

/// A pull request, and the newest of its comments that matched a pattern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullComment {
    pub number: u32,
    pub comment: Option<CommentMatch>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentMatch {
    /// What matched: the pattern's first group when it has one, else the whole match.
    pub text: String,
    /// The comment's own address.
    pub url: String,
    pub by: String,
}

/// The first group of `pattern` in `body`, or its whole match, with the punctuation that
/// ends a sentence or a Markdown link taken off.
pub fn matched(pattern: &Regex, body: &str) -> Option<String> {
    let c = pattern.captures(body)?;
    let m = c.get(1).or_else(|| c.get(0))?.as_str();
    Some(
        m.trim_end_matches(['.', ',', ')', '>', '"', '\'', ']'])
            .to_string(),
    )
}

/// A job answers for `want` by its name, or as one of its matrix (`build (node)`).
pub fn job_is(name: &str, want: &str) -> bool {
    name == want
        || name
            .strip_prefix(want)
            .is_some_and(|rest| rest.starts_with(" ("))
}

/// A path glob as a regular expression: `**` any run of characters (across `/`), `*` any
/// within one path segment, `?` one character of a segment; the rest literal.
pub fn path_glob(glob: &str) -> Regex {
    let mut re = String::from("^");
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                re.push_str(".*");
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    Regex::new(&re).unwrap_or_else(|e| unreachable!("an escaped glob is a regex: {e}"))
}

/// The first of `files` one of `globs` matches.
pub fn first_touched<'a>(files: &'a [String], globs: &[String]) -> Option<&'a str> {
    let globs: Vec<Regex> = globs.iter().map(|g| path_glob(g)).collect();
    files
        .iter()
        .find(|f| globs.iter().any(|g| g.is_match(f)))
        .map(String::as_str)
}

/// The HTTP status a GET of `url` answers, within ten seconds, redirects followed.
pub async fn http_status(url: &str) -> Result<u16, SourceError> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| SourceError::Unreachable(format!("http client: {e}")))?;
    match client.get(url).send().await {
        Ok(r) => Ok(r.status().as_u16()),
        Err(e) => Err(SourceError::Unreachable(format!("GET {url}: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_glob_matches_as_in_a_workflow_paths_filter() {
        let files = |fs: &[&str]| fs.iter().map(|f| f.to_string()).collect::<Vec<_>>();
        let globs = vec!["db/migrations/**".to_string()];
        assert_eq!(
            first_touched(
                &files(&["README.md", "db/migrations/2026/0042.sql"]),
                &globs
            ),
            Some("db/migrations/2026/0042.sql")
        );
        assert_eq!(first_touched(&files(&["db/seed.sql"]), &globs), None);
        assert!(path_glob("db/*.sql").is_match("db/seed.sql"));
        assert!(!path_glob("db/*.sql").is_match("db/migrations/1.sql"));
        assert!(!path_glob("a.b").is_match("axb"), "a dot is literal");
    }

    #[test]
    fn a_matrix_job_answers_for_its_name() {
        assert!(job_is("build", "build"));
        assert!(job_is("build (node)", "build"));
        assert!(!job_is("build-docs", "build"));
        assert!(!job_is("test", "build"));
    }

    #[test]
    fn a_match_is_its_first_group_without_trailing_punctuation() {
        let with_group = Regex::new(r"Preview: (https://\S+)").unwrap();
        assert_eq!(
            matched(&with_group, "Preview: https://pr-7.example.com)."),
            Some("https://pr-7.example.com".into())
        );
        let whole = Regex::new(r"https://pr-[0-9]+\S*").unwrap();
        assert_eq!(
            matched(&whole, "see [it](https://pr-7.example.com)"),
            Some("https://pr-7.example.com".into())
        );
        assert_eq!(matched(&whole, "no link"), None);
    }
}
