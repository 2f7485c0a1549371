//! A GitHub REST API double for the GitHub forge's tests: wiremock serving the bodies in
//! `fixtures/github/` (the real API's shapes) with ETags, 304s for a matching
//! `If-None-Match`, rate-limit headers and `Link` pagination as GitHub sends them; plus a
//! logger that captures every record (to prove a token never reaches the log).

use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, TimeZone, Utc};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The token the forge sends; shaped like a real one so that a test can prove it never
/// reaches a log or an error.
pub const TOKEN: &str = "ghp_c4pt41nT3stT0k3nN0tF0rL0gs0123456789";
/// The repository every fixture is taken from, as its API paths start.
pub const REPO: &str = "/repos/acme/summit";
/// What GitHub's `Link` headers use for the same repository.
pub const REPO_BY_ID: &str = "/repositories/700123456";
/// `main`'s head in the fixtures: the commit whose check runs are asked for.
pub const HEAD: &str = "8f3c1a9b2d4e6f708192a3b4c5d6e7f801234567";
/// The commit `frozen/rollback` points at in `matching_refs_frozen.json`.
pub const FROZEN: &str = "c0ffee00d15ea5e5ba5eba11deadbeef0badf00d";

/// The fixtures' "now": their timestamps and the rate-limit reset are relative to it.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 2, 47, 0).unwrap()
}

/// An RFC 3339 time, as GitHub writes them (tests compare against the fixtures' own).
pub fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// The body of `fixtures/github/<name>`, a response in the real API's shape.
pub fn fixture(name: &str) -> String {
    let file = format!(
        "{}/../../fixtures/github/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The rate-limit headers GitHub sends on every answer, 304s included.
pub fn with_budget(t: ResponseTemplate, remaining: u32) -> ResponseTemplate {
    t.insert_header("x-ratelimit-limit", "5000")
        .insert_header("x-ratelimit-remaining", remaining.to_string().as_str())
        .insert_header("x-ratelimit-used", (5000 - remaining).to_string().as_str())
        .insert_header("x-ratelimit-resource", "core")
        .insert_header(
            "x-ratelimit-reset",
            (t0() + chrono::Duration::minutes(40))
                .timestamp()
                .to_string()
                .as_str(),
        )
}

/// A JSON answer with the headers GitHub sends with one (media type, rate-limit budget).
pub fn json(status: u16, body: String) -> ResponseTemplate {
    with_budget(
        ResponseTemplate::new(status)
            .set_body_raw(body, "application/json; charset=utf-8")
            .insert_header("x-github-media-type", "github.v3; format=json"),
        4990,
    )
}

/// The required checks as each scenario leaves them.
#[derive(Clone, Copy, Debug)]
pub enum Checks {
    /// Every required check passed.
    Green,
    /// A required check failed.
    Red,
    /// A required check is still running.
    Pending,
    /// A required check has not reported.
    Missing,
    /// Green, over two pages of check runs.
    Paged,
}

/// Whether `frozen/rollback` exists.
#[derive(Clone, Copy, Debug)]
pub enum Tag {
    /// No freeze: rollbacks may go ahead.
    Absent,
    /// The tag points at [`FROZEN`]: rollbacks are frozen.
    Frozen,
}

/// The mock GitHub API: one wiremock server per test, answering only what the test mounted
/// (anything else is a 404, as for a repository the token cannot see).
pub struct Github {
    /// The server, for mounting answers of the test's own.
    pub server: MockServer,
    /// `""` for github.com, `"/api/v3"` for GitHub Enterprise Server.
    pub prefix: String,
}

impl Github {
    /// A server answering as github.com does, at the root.
    pub async fn start() -> Self {
        Self::start_at("").await
    }

    /// A server answering under `prefix`, as GitHub Enterprise Server does (`/api/v3`).
    pub async fn start_at(prefix: &str) -> Self {
        Github {
            server: MockServer::start().await,
            prefix: prefix.to_string(),
        }
    }

    /// What captain's `[github] api_url` is set to.
    pub fn api_url(&self) -> String {
        format!("{}{}", self.server.uri(), self.prefix)
    }

    /// A path in the repository, as the server sees it.
    pub fn repo(&self, rest: &str) -> String {
        format!("{}{REPO}{rest}", self.prefix)
    }

    /// A path in the repository by id, as `Link` headers name it.
    pub fn repo_by_id(&self, rest: &str) -> String {
        format!("{}{REPO_BY_ID}{rest}", self.prefix)
    }

    /// `GET path` answered with `fixture` and `etag`, or `304 Not Modified` when the
    /// request carries `If-None-Match: etag`. `page`: which `?page=` this answers (None: the
    /// first, without `page`); `next`: the page its `Link` header points to.
    pub async fn get(&self, path_: &str, page: Option<u32>, body: &str, etag: Option<&str>) {
        self.get_linked(path_, page, body, etag, None).await;
    }

    /// As [`Github::get`], with a `Link` header pointing to `next` (the next page).
    pub async fn get_linked(
        &self,
        path_: &str,
        page: Option<u32>,
        body: &str,
        etag: Option<&str>,
        next: Option<String>,
    ) {
        let on_page = |m: wiremock::MockBuilder| match page {
            Some(n) => m.and(query_param("page", n.to_string())),
            None => m.and(query_param_is_missing("page")),
        };
        let mut ok = json(200, fixture(body));
        if let Some(next) = &next {
            ok = ok.insert_header(
                "link",
                format!(r#"<{next}>; rel="next", <{next}>; rel="last""#).as_str(),
            );
        }
        if let Some(etag) = etag {
            ok = ok.insert_header("etag", etag);
            let not_modified = with_budget(ResponseTemplate::new(304), 4990)
                .insert_header("etag", etag)
                .insert_header("cache-control", "private, max-age=60, s-maxage=60");
            on_page(Mock::given(method("GET")).and(path(path_)))
                .and(header("if-none-match", etag))
                .respond_with(not_modified)
                .with_priority(1)
                .mount(&self.server)
                .await;
        }
        on_page(Mock::given(method("GET")).and(path(path_)))
            .respond_with(ok)
            .with_priority(3)
            .mount(&self.server)
            .await;
    }

    /// A GET answered 404 with GitHub's error body.
    pub async fn not_found(&self, path_: &str, body: &str) {
        self.refused(path_, 404, body).await;
    }

    /// A GET refused with `status` and GitHub's error body (not a rate limit: the budget
    /// headers say there is plenty left).
    pub async fn refused(&self, path_: &str, status: u16, body: &str) {
        Mock::given(method("GET"))
            .and(path(path_))
            .respond_with(json(status, fixture(body)))
            .mount(&self.server)
            .await;
    }

    /// `GET first` answered with `page1`, whose `Link` leads to `?page=2` of the same list
    /// by repository id (as GitHub links it), answered with `page2`. `query` is what the
    /// first request asked, repeated in the link.
    pub async fn two_pages(&self, rest: &str, query: &str, page1: &str, page2: &str) {
        let second = self.repo_by_id(rest);
        let next = format!("{}{second}?{query}&page=2", self.server.uri());
        self.get_linked(&self.repo(rest), None, page1, Some(r#"W/"p1""#), Some(next))
            .await;
        self.get(&second, Some(2), page2, Some(r#"W/"p2""#)).await;
    }

    /// Everything a poll reads, for a protected `main` with rulesets, no freeze tag, and
    /// two pages of open PRs; the check runs as `checks` says.
    pub async fn repository(&self, checks: Checks) {
        self.repository_with(checks, Tag::Absent).await;
    }

    /// The same, with `frozen/rollback` as `tag` says.
    pub async fn repository_with(&self, checks: Checks, tag: Tag) {
        self.get(
            &self.repo("/branches/main"),
            None,
            "branch_main.json",
            Some(r#"W/"branch-1""#),
        )
        .await;
        self.get(
            &self.repo("/branches/main/protection/required_status_checks"),
            None,
            "protection_required_status_checks.json",
            Some(r#"W/"protection-1""#),
        )
        .await;
        self.rules().await;
        self.check_runs(checks).await;
        self.get(
            &self.repo(&format!("/commits/{HEAD}/status")),
            None,
            "status_combined.json",
            Some(r#"W/"status-1""#),
        )
        .await;
        match tag {
            Tag::Absent => self.no_freeze_tag().await,
            Tag::Frozen => self.freeze_tag().await,
        }
        self.pulls().await;
    }

    /// The rules of `main` (which checks are required).
    pub async fn rules(&self) {
        self.get(
            &self.repo("/rules/branches/main"),
            None,
            "rules_branch_main.json",
            Some(r#"W/"rules-1""#),
        )
        .await;
    }

    /// The check runs of [`HEAD`], as `checks` leaves them.
    pub async fn check_runs(&self, checks: Checks) {
        let runs = self.repo(&format!("/commits/{HEAD}/check-runs"));
        let body = match checks {
            Checks::Green => "check_runs_green.json",
            Checks::Red => "check_runs_red.json",
            Checks::Pending => "check_runs_pending.json",
            Checks::Missing => "check_runs_missing.json",
            Checks::Paged => {
                let page2 = self.repo_by_id(&format!("/commits/{HEAD}/check-runs"));
                let next = format!("{}{page2}?per_page=100&page=2", self.server.uri());
                self.get_linked(
                    &runs,
                    None,
                    "check_runs_page1.json",
                    Some(r#"W/"runs-p1""#),
                    Some(next),
                )
                .await;
                self.get(
                    &page2,
                    Some(2),
                    "check_runs_page2.json",
                    Some(r#"W/"runs-p2""#),
                )
                .await;
                return;
            }
        };
        self.get(&runs, None, body, Some(r#"W/"runs-1""#)).await;
    }

    /// No `frozen/rollback` tag.
    pub async fn no_freeze_tag(&self) {
        self.get(
            &self.repo("/git/matching-refs/tags/frozen/rollback"),
            None,
            "matching_refs_empty.json",
            Some(r#""refs-empty""#),
        )
        .await;
    }

    /// `frozen/rollback` on the commit `FROZEN`, and that commit.
    pub async fn freeze_tag(&self) {
        self.get(
            &self.repo("/git/matching-refs/tags/frozen/rollback"),
            None,
            "matching_refs_frozen.json",
            Some(r#""refs-frozen""#),
        )
        .await;
        self.get(
            &self.repo(&format!("/git/commits/{FROZEN}")),
            None,
            "git_commit_frozen.json",
            Some(r#""commit-frozen""#),
        )
        .await;
    }

    /// The open pull requests, over two pages.
    pub async fn pulls(&self) {
        let page2 = self.repo_by_id("/pulls");
        let next = format!(
            "{}{page2}?state=open&per_page=100&page=2",
            self.server.uri()
        );
        self.get_linked(
            &self.repo("/pulls"),
            None,
            "pulls_page1.json",
            Some(r#"W/"pulls-p1""#),
            Some(next),
        )
        .await;
        self.get(&page2, Some(2), "pulls_page2.json", Some(r#"W/"pulls-p2""#))
            .await;
        self.pulls_of_every_state(fixture("pulls_all_page1.json"))
            .await;
    }

    /// The pull requests of every state, most recently updated first, that previews are
    /// joined to: one page, `body`, with an ETag (a `304` to its `If-None-Match`).
    pub async fn pulls_of_every_state(&self, body: String) {
        const ETAG: &str = r#"W/"pulls-all-1""#;
        let list = || {
            Mock::given(method("GET"))
                .and(path(self.repo("/pulls")))
                .and(query_param("state", "all"))
                .and(query_param("sort", "updated"))
                .and(query_param("direction", "desc"))
        };
        list()
            .and(header("if-none-match", ETAG))
            .respond_with(with_budget(ResponseTemplate::new(304), 4990).insert_header("etag", ETAG))
            .with_priority(1)
            .mount(&self.server)
            .await;
        list()
            .respond_with(json(200, body).insert_header("etag", ETAG))
            .with_priority(2)
            .mount(&self.server)
            .await;
    }

    /// Every request received so far, in order.
    pub async fn requests(&self) -> Vec<Request> {
        self.server.received_requests().await.unwrap_or_default()
    }

    /// The requests received so far whose path ends with `suffix`.
    pub async fn requests_to(&self, suffix: &str) -> Vec<Request> {
        self.requests()
            .await
            .into_iter()
            .filter(|r| r.url.path().ends_with(suffix))
            .collect()
    }
}

/// Every log record, formatted, from every test in this binary.
pub fn captured_logs() -> Vec<(String, String)> {
    logs().lock().unwrap().clone()
}

fn logs() -> &'static Mutex<Vec<(String, String)>> {
    static LOGS: OnceLock<Mutex<Vec<(String, String)>>> = OnceLock::new();
    LOGS.get_or_init(|| Mutex::new(Vec::new()))
}

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }

    fn log(&self, record: &log::Record) {
        let line = format!("{} {}", record.level(), record.args());
        logs()
            .lock()
            .unwrap()
            .push((record.target().to_string(), line));
    }

    fn flush(&self) {}
}

/// Install the capturing logger (once per test binary), at every level.
pub fn capture_logs() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        log::set_logger(&Capture).expect("another logger is installed");
        log::set_max_level(log::LevelFilter::Trace);
    });
}
