//! The plan's probes of what happened on GitHub (workflow runs and their jobs, artifacts,
//! check runs, a pull request held back by its checks, a comment, pull requests by an
//! author, the freeze label put on when main went red), run as `v` and `plan validate` run
//! them, against the wiremock double of GitHub's REST API; and `preview.healthy` through
//! the real binary against the test API server, the GitHub double and a local HTTP server.
//!
//! The bodies in `fixtures/github/activity/` are in the shapes GitHub documents:
//! - workflow runs: <https://docs.github.com/en/rest/actions/workflow-runs#list-workflow-runs-for-a-workflow>
//!   and <https://docs.github.com/en/rest/actions/workflow-runs#list-workflow-runs-for-a-repository>
//! - jobs of a run: <https://docs.github.com/en/rest/actions/workflow-jobs#list-jobs-for-a-workflow-run>
//! - artifacts of a run: <https://docs.github.com/en/rest/actions/artifacts#list-workflow-run-artifacts>
//! - check runs of a ref: <https://docs.github.com/en/rest/checks/runs#list-check-runs-for-a-git-reference>
//! - pull requests: <https://docs.github.com/en/rest/pulls/pulls#list-pull-requests>,
//!   <https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request> (`mergeable_state`),
//!   <https://docs.github.com/en/rest/pulls/pulls#list-pull-requests-files>
//! - comments: <https://docs.github.com/en/rest/issues/comments#list-issue-comments>
//! - timeline: <https://docs.github.com/en/rest/issues/timeline#list-timeline-events-for-an-issue>
//! - search: <https://docs.github.com/en/rest/search/search#search-issues-and-pull-requests>

mod github_support;
mod kube_tests_support;

use std::sync::Arc;

use captain::config::Span;
use captain::config::probe::Probe;
use captain::engine::phases::{ProbeResult, ProbeStatus};
use captain::ops::probes::{ProbeContext, run};
use captain::sources::Forge;
use captain_testkit::apiserver::ApiServer;
use captain_testkit::github::*;
use chrono::{Duration, Utc};
use github_support::connect;
use kube_tests_support::captain_command_with_github;
use serde_json::Value;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

const SHA424: &str = "4241a9b2d4e6f708192a3b4c5d6e7f8012345678";
const RUN: &str = "7712345678";

/// `GET rest` in the repository, asked with each of `query`, answered with `body`.
async fn answer(github: &Github, rest: &str, query: &[(&str, &str)], body: &str) {
    answer_at(
        github,
        &github.repo(rest),
        query,
        fixture(&format!("activity/{body}")),
    )
    .await;
}

async fn answer_at(github: &Github, at: &str, query: &[(&str, &str)], body: String) {
    let mut m = Mock::given(method("GET")).and(path(at));
    for (k, v) in query {
        m = m.and(query_param(*k, *v));
    }
    m.respond_with(json(200, body)).mount(&github.server).await;
}

/// The newest open pull requests, newest first, as every probe asks for them.
async fn newest_open(github: &Github, body: &str) {
    answer(
        github,
        "/pulls",
        &[
            ("state", "open"),
            ("sort", "created"),
            ("direction", "desc"),
        ],
        body,
    )
    .await;
}

/// The probe's result, as `v` and `plan validate` get it; its evidence never has the token.
async fn probe(github: &Github, p: Probe) -> ProbeResult {
    let forge: Arc<dyn Forge> = Arc::new(connect(github).await);
    let dir = tempfile::tempdir().unwrap();
    let r = run(
        &p,
        &ProbeContext {
            audit_path: dir.path().join("audit.jsonl"),
            metrics: None,
            forge: Some(forge),
            cluster: None,
            host: std::sync::Arc::new(captain::sources::host::LocalHost),
            published: None,
            now: t0(),
        },
    )
    .await;
    assert!(!r.evidence.contains(TOKEN), "{r:?}");
    r
}

fn workflow_run(branch: Option<&str>, pull: Option<u32>, jobs: &[&str]) -> Probe {
    Probe::GithubWorkflowRun {
        workflow: "pr.yml".into(),
        branch: branch.map(str::to_string),
        pull,
        jobs: jobs.iter().map(|j| j.to_string()).collect(),
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// --- github.workflow_run

#[tokio::test]
async fn the_newest_pull_requests_run_passes_when_it_and_every_named_job_succeeded() {
    let github = Github::start().await;
    newest_open(&github, "pulls_newest_open_424.json").await;
    answer(
        &github,
        "/actions/workflows/pr.yml/runs",
        &[("head_sha", SHA424), ("per_page", "1")],
        "runs_pr_success.json",
    )
    .await;
    answer(
        &github,
        &format!("/actions/runs/{RUN}/jobs"),
        &[],
        "jobs_success.json",
    )
    .await;
    let r = probe(
        &github,
        workflow_run(None, None, &["build", "test", "scan"]),
    )
    .await;
    assert_eq!(r.status, ProbeStatus::Pass, "{r:?}");
    assert_eq!(
        r.evidence,
        "run 7712345678 of pr.yml for #424 (head 4241a9b2d4e6): success; build (node) success, \
         build (python) success, test success, scan success \
         (https://github.com/acme/summit/actions/runs/7712345678)"
    );
}

#[tokio::test]
async fn a_run_fails_on_a_failed_job_of_a_matrix_and_on_a_job_it_does_not_have() {
    let github = Github::start().await;
    answer(&github, "/pulls/424", &[], "pull_424_blocked.json").await;
    answer(
        &github,
        "/actions/workflows/pr.yml/runs",
        &[("head_sha", SHA424)],
        "runs_pr_success.json",
    )
    .await;
    answer(
        &github,
        &format!("/actions/runs/{RUN}/jobs"),
        &[],
        "jobs_python_failed.json",
    )
    .await;
    let r = probe(&github, workflow_run(None, Some(424), &["build", "lint"])).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(
        r.evidence.starts_with(
            "run 7712345678 of pr.yml for #424 (head 4241a9b2d4e6): build (python) failure, no job lint;"
        ),
        "{r:?}"
    );
}

#[tokio::test]
async fn a_run_still_going_is_unavailable_and_no_run_at_all_fails() {
    let github = Github::start().await;
    answer(
        &github,
        "/actions/workflows/pr.yml/runs",
        &[("branch", "main")],
        "runs_pr_in_progress.json",
    )
    .await;
    let r = probe(&github, workflow_run(Some("main"), None, &["build"])).await;
    assert_eq!(r.status, ProbeStatus::Unavailable, "{r:?}");
    assert!(r.evidence.contains("is in_progress, not finished"), "{r:?}");

    let github = Github::start().await;
    answer(
        &github,
        "/actions/workflows/pr.yml/runs",
        &[("branch", "release")],
        "runs_none.json",
    )
    .await;
    let r = probe(&github, workflow_run(Some("release"), None, &[])).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert_eq!(r.evidence, "no run of pr.yml for release");
}

#[tokio::test]
async fn without_an_open_pull_request_there_is_nothing_to_judge() {
    let github = Github::start().await;
    newest_open(&github, "pulls_newest_open_none.json").await;
    let r = probe(&github, workflow_run(None, None, &["build"])).await;
    assert_eq!(r.status, ProbeStatus::Unavailable, "{r:?}");
    assert_eq!(r.evidence, "no open pull request to look at");
}

#[tokio::test]
async fn a_second_look_costs_only_not_modified_answers() {
    let github = Github::start().await;
    github
        .get(
            &github.repo("/actions/workflows/pr.yml/runs"),
            None,
            "activity/runs_pr_success.json",
            Some(r#"W/"runs-1""#),
        )
        .await;
    github
        .get(
            &github.repo(&format!("/actions/runs/{RUN}/jobs")),
            None,
            "activity/jobs_success.json",
            Some(r#"W/"jobs-1""#),
        )
        .await;
    let forge = Arc::new(connect(&github).await);
    let ctx = ProbeContext {
        audit_path: std::path::PathBuf::from("unused"),
        metrics: None,
        forge: Some(forge.clone()),
        cluster: None,
        host: std::sync::Arc::new(captain::sources::host::LocalHost),
        published: None,
        now: t0(),
    };
    let p = workflow_run(Some("main"), None, &["test"]);
    let counted = forge.requests().counted();
    assert_eq!(run(&p, &ctx).await.status, ProbeStatus::Pass);
    assert_eq!(
        forge.requests().counted() - counted,
        2,
        "a run and its jobs"
    );
    let free = forge.requests().not_modified();
    assert_eq!(run(&p, &ctx).await.status, ProbeStatus::Pass);
    assert_eq!(
        forge.requests().counted() - counted,
        2,
        "nothing more counted"
    );
    assert_eq!(forge.requests().not_modified() - free, 2);
}

// --- github.artifacts

#[tokio::test]
async fn artifacts_pass_by_name_prefix_and_an_expired_one_fails() {
    let artifacts = Probe::GithubArtifacts {
        workflow: "pr.yml".into(),
        branch: Some("main".into()),
        pull: None,
        names: strings(&["junit", "sbom"]),
    };
    let github = Github::start().await;
    answer(
        &github,
        "/actions/workflows/pr.yml/runs",
        &[("branch", "main")],
        "runs_pr_success.json",
    )
    .await;
    answer(
        &github,
        &format!("/actions/runs/{RUN}/artifacts"),
        &[],
        "artifacts_junit_sbom.json",
    )
    .await;
    let r = probe(&github, artifacts.clone()).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{r:?}");
    assert_eq!(
        r.evidence,
        "run 7712345678 of pr.yml for main: junit-node (18344 bytes), sbom.spdx.json (88211 bytes) \
         (https://github.com/acme/summit/actions/runs/7712345678)"
    );

    let github = Github::start().await;
    answer(
        &github,
        "/actions/workflows/pr.yml/runs",
        &[("branch", "main")],
        "runs_pr_success.json",
    )
    .await;
    answer(
        &github,
        &format!("/actions/runs/{RUN}/artifacts"),
        &[],
        "artifacts_sbom_expired.json",
    )
    .await;
    let r = probe(&github, artifacts).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(
        r.evidence
            .contains("no sbom (expired) (artifacts: junit-node, sbom.spdx.json;"),
        "{r:?}"
    );
}

// --- github.check_run

fn conftest(conclusion: &str) -> Probe {
    Probe::GithubCheckRun {
        name: "conftest".into(),
        branch: None,
        pull: Some(424),
        conclusion: conclusion.into(),
    }
}

#[tokio::test]
async fn a_check_passes_on_the_conclusion_expected_and_fails_on_another() {
    let github = Github::start().await;
    answer(&github, "/pulls/424", &[], "pull_424_blocked.json").await;
    answer(
        &github,
        &format!("/commits/{SHA424}/check-runs"),
        &[("check_name", "conftest")],
        "check_runs_conftest_failure.json",
    )
    .await;
    let r = probe(&github, conftest("failure")).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{r:?}");
    assert_eq!(
        r.evidence,
        "check conftest on #424 (head 4241a9b2d4e6): failure, as expected \
         (https://github.com/acme/summit/actions/runs/7712345678/job/34100000005)"
    );
    let r = probe(&github, conftest("success")).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(r.evidence.contains(": failure, expected success"), "{r:?}");
}

#[tokio::test]
async fn a_check_that_never_ran_fails() {
    let github = Github::start().await;
    answer(&github, "/pulls/424", &[], "pull_424_blocked.json").await;
    answer(
        &github,
        &format!("/commits/{SHA424}/check-runs"),
        &[("check_name", "conftest")],
        "check_runs_none.json",
    )
    .await;
    let r = probe(&github, conftest("success")).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert_eq!(
        r.evidence,
        "no check run conftest on #424 (head 4241a9b2d4e6)"
    );
}

// --- github.pr_blocked

fn migration_gate() -> Probe {
    Probe::GithubPrBlocked {
        paths: strings(&["db/migrations/**"]),
        checks: strings(&["migration-gate"]),
        pull: None,
    }
}

/// The three newest open pull requests and their files (#424 touches a migration), #424
/// as `pull`, and its check runs as `runs`.
async fn migrations(github: &Github, pull: &str, runs: &str) {
    newest_open(github, "pulls_newest_open.json").await;
    for n in [426, 424, 423] {
        answer(
            github,
            &format!("/pulls/{n}/files"),
            &[],
            &format!("pull_files_{n}.json"),
        )
        .await;
    }
    answer(github, "/pulls/424", &[], pull).await;
    answer(github, &format!("/commits/{SHA424}/check-runs"), &[], runs).await;
}

#[tokio::test]
async fn a_migration_held_back_by_its_failing_gate_passes() {
    let github = Github::start().await;
    migrations(&github, "pull_424_blocked.json", "check_runs_424.json").await;
    let r = probe(&github, migration_gate()).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{r:?}");
    assert_eq!(
        r.evidence,
        "#424 touches db/migrations/20261128_sessions_uuid.sql; blocked while migration-gate \
         failure (https://github.com/acme/summit/pull/424)"
    );
    assert!(
        github.requests_to("/pulls/423/files").await.is_empty(),
        "the search stops at the first pull request that touches the paths"
    );
}

#[tokio::test]
async fn a_migration_mergeable_before_its_gate_passed_fails() {
    let github = Github::start().await;
    migrations(&github, "pull_424_clean.json", "check_runs_424.json").await;
    let r = probe(&github, migration_gate()).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(
        r.evidence
            .contains("mergeable (clean) although migration-gate failure"),
        "{r:?}"
    );
}

#[tokio::test]
async fn a_migration_whose_gate_passed_shows_no_block() {
    let github = Github::start().await;
    migrations(&github, "pull_424_clean.json", "check_runs_424_passed.json").await;
    let r = probe(&github, migration_gate()).await;
    assert_eq!(r.status, ProbeStatus::Unavailable, "{r:?}");
    assert!(
        r.evidence
            .contains("every named check passed (migration-gate success)"),
        "{r:?}"
    );
}

// --- github.pr_comment

#[tokio::test]
async fn a_comment_matching_the_pattern_passes_with_its_address_and_none_fails() {
    let comment = Probe::GithubPrComment {
        pattern: r"Preview deployed to namespace `pr-\d+`: (\S+)".into(),
        pull: None,
    };
    let body = fixture("activity/comments_424.json")
        .replace("PREVIEW_URL", "https://pr-424.preview.summit.example");
    let github = Github::start().await;
    newest_open(&github, "pulls_newest_open_424.json").await;
    answer_at(&github, &github.repo("/issues/424/comments"), &[], body).await;
    let r = probe(&github, comment.clone()).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{r:?}");
    assert_eq!(
        r.evidence,
        "#424: github-actions[bot] commented https://pr-424.preview.summit.example \
         (https://github.com/acme/summit/pull/424#issuecomment-2480000002)"
    );

    let github = Github::start().await;
    newest_open(&github, "pulls_newest_open_424.json").await;
    answer(
        &github,
        "/issues/424/comments",
        &[],
        "comments_424_none.json",
    )
    .await;
    let r = probe(&github, comment).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(r.evidence.starts_with("#424: no comment matches"), "{r:?}");
}

// --- github.prs_by

fn renovate(min: u32) -> Probe {
    Probe::GithubPrsBy {
        author: "renovate[bot]".into(),
        within: Span::secs(7 * 86_400),
        min,
    }
}

async fn search(github: &Github, body: &str) {
    let q = "repo:acme/summit is:pr author:app/renovate created:>=2026-11-22";
    let found = json(200, fixture(&format!("activity/{body}")))
        .insert_header("x-ratelimit-resource", "search")
        .insert_header("x-ratelimit-limit", "30")
        .insert_header("x-ratelimit-remaining", "29");
    Mock::given(method("GET"))
        .and(path(format!("{}/search/issues", github.prefix)))
        .and(query_param("q", q))
        .respond_with(found)
        .mount(&github.server)
        .await;
}

#[tokio::test]
async fn pull_requests_by_a_bot_are_searched_for_as_its_app_within_the_period() {
    let github = Github::start().await;
    search(&github, "search_renovate.json").await;
    let r = probe(&github, renovate(1)).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{r:?}");
    assert_eq!(
        r.evidence,
        "2 pull requests by renovate[bot] opened since 2026-11-22: #415 Update helm/kind-action \
         action to v1.12 (2026-11-27), #409 Update rust Docker tag to v1.95 (2026-11-24)"
    );
    let r = probe(&github, renovate(3)).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(r.evidence.contains(", fewer than 3:"), "{r:?}");

    let github = Github::start().await;
    search(&github, "search_none.json").await;
    let r = probe(&github, renovate(1)).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert_eq!(
        r.evidence,
        "0 pull requests by renovate[bot] opened since 2026-11-22, fewer than 1"
    );
}

#[tokio::test]
async fn searchs_own_rate_limit_fails_the_search_and_leaves_every_other_request_free() {
    let github = Github::start().await;
    let reset = (t0() + Duration::minutes(1)).timestamp().to_string();
    let limited = ResponseTemplate::new(403)
        .set_body_raw(fixture("error_rate_limited.json"), "application/json")
        .insert_header("x-ratelimit-resource", "search")
        .insert_header("x-ratelimit-limit", "30")
        .insert_header("x-ratelimit-remaining", "0")
        .insert_header("x-ratelimit-reset", reset.as_str());
    Mock::given(method("GET"))
        .and(path("/search/issues"))
        .respond_with(limited)
        .mount(&github.server)
        .await;
    answer(
        &github,
        "/actions/workflows/pr.yml/runs",
        &[("branch", "main")],
        "runs_pr_success.json",
    )
    .await;
    answer(
        &github,
        &format!("/actions/runs/{RUN}/jobs"),
        &[],
        "jobs_success.json",
    )
    .await;
    let forge: Arc<dyn Forge> = Arc::new(connect(&github).await);
    let ctx = ProbeContext {
        audit_path: std::path::PathBuf::from("unused"),
        metrics: None,
        forge: Some(forge),
        cluster: None,
        host: std::sync::Arc::new(captain::sources::host::LocalHost),
        published: None,
        now: t0(),
    };
    let r = run(&renovate(1), &ctx).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(
        r.evidence
            .starts_with("could not check: rate limited until"),
        "{r:?}"
    );
    let r = run(&workflow_run(Some("main"), None, &["test"]), &ctx).await;
    assert_eq!(
        r.status,
        ProbeStatus::Pass,
        "the core budget is untouched: {r:?}"
    );
}

// --- github.labelled_when_red

fn sentinel() -> Probe {
    Probe::GithubLabelledWhenRed {
        label: "freeze/main-red".into(),
        branch: "main".into(),
        within: Span::secs(15 * 60),
    }
}

/// Main's last failed run, the recent pull requests of every state, and #424's timeline;
/// #423's and #421's have no freeze label.
async fn red_main(github: &Github, timeline_424: &str) {
    answer(
        github,
        "/actions/runs",
        &[("branch", "main"), ("status", "failure")],
        "runs_main_failure.json",
    )
    .await;
    answer(
        github,
        "/pulls",
        &[("state", "all")],
        "pulls_all_recent.json",
    )
    .await;
    answer(github, "/issues/424/timeline", &[], timeline_424).await;
    for n in [423, 421] {
        answer(
            github,
            &format!("/issues/{n}/timeline"),
            &[],
            "timeline_unlabelled.json",
        )
        .await;
    }
}

#[tokio::test]
async fn the_sentinel_passes_when_it_labelled_a_pull_request_open_when_main_went_red() {
    let github = Github::start().await;
    red_main(&github, "timeline_424_labelled.json").await;
    let r = probe(&github, sentinel()).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{r:?}");
    assert_eq!(
        r.evidence,
        "main went red at 2026-11-29 01:30 UTC (run 7712000001 of CI failed: \
         https://github.com/acme/summit/actions/runs/7712000001); #424 labelled freeze/main-red \
         at 01:43 UTC by github-actions[bot]"
    );
    assert!(
        github.requests_to("/issues/426/timeline").await.is_empty(),
        "#426 was opened after main went red"
    );
}

#[tokio::test]
async fn the_sentinel_fails_when_the_label_came_too_late_or_never() {
    let github = Github::start().await;
    red_main(&github, "timeline_424_late.json").await;
    let r = probe(&github, sentinel()).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(
        r.evidence.ends_with(
            "none of #424, #423, #421 was labelled freeze/main-red within 15m of it \
             (later: #424 at 2026-11-29 03:10 UTC)"
        ),
        "{r:?}"
    );
    assert!(
        github.requests_to("/issues/418/timeline").await.is_empty(),
        "#418 was closed before main went red"
    );
}

#[tokio::test]
async fn a_main_never_red_is_nothing_to_judge() {
    let github = Github::start().await;
    answer(
        &github,
        "/actions/runs",
        &[("status", "failure")],
        "runs_none.json",
    )
    .await;
    let r = probe(&github, sentinel()).await;
    assert_eq!(r.status, ProbeStatus::Unavailable, "{r:?}");
    assert_eq!(
        r.evidence,
        "no failed workflow run on main: it has not been red"
    );
}

// --- preview.healthy, end to end

/// `captain plan validate --phase 3 --json` (the built-in plan's preview checks) against
/// the test API server and the GitHub double, whose newest open pull request (#424) has a
/// comment giving its preview's URL on the double's own server, answered with `status`.
async fn validate_preview(namespaces: &[&str], status: u16) -> (Option<i32>, Value) {
    let server = ApiServer::start().await;
    for ns in namespaces {
        server.put_namespace(ns, &[], Utc::now() - Duration::hours(3));
    }
    let github = Github::start().await;
    Mock::given(method("GET"))
        .and(path("/preview/pr-424/"))
        .respond_with(ResponseTemplate::new(status).set_body_string("ok"))
        .mount(&github.server)
        .await;
    newest_open(&github, "pulls_newest_open_424.json").await;
    let url = format!("{}/preview/pr-424/", github.server.uri());
    let comments = fixture("activity/comments_424.json").replace("PREVIEW_URL", &url);
    answer_at(&github, &github.repo("/issues/424/comments"), &[], comments).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = captain_command_with_github(
        &server.kubeconfig(),
        dir.path(),
        &github.api_url(),
        "",
        &["plan", "validate", "--phase", "3", "--json"],
        Some(TOKEN),
    );
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("captain runs"))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    let checks = report[0]["checks"].as_array().unwrap();
    assert_eq!(checks[0]["probe"], "github.pr_comment");
    assert_eq!(
        checks[0]["status"], "pass",
        "the comment is there whatever the preview answers: {}",
        checks[0]
    );
    let check = checks[1].clone();
    assert_eq!(check["probe"], "preview.healthy");
    assert!(!check.to_string().contains(TOKEN));
    (out.status.code(), check)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_passes_when_its_namespace_exists_and_its_url_answers() {
    let (code, check) = validate_preview(&["pr-424", "prod"], 200).await;
    assert_eq!(check["status"], "pass", "{check}");
    let evidence = check["evidence"].as_str().unwrap();
    assert!(
        evidence.starts_with("#424: preview http://127.0.0.1:")
            && evidence.contains("(comment https://github.com/acme/summit/pull/424#issuecomment-2480000002); namespace pr-424: Active")
            && evidence.ends_with("/preview/pr-424/: 200"),
        "{evidence}"
    );
    assert_eq!(code, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_fails_when_its_url_does_not_answer_2xx_or_its_namespace_is_gone() {
    let (code, check) = validate_preview(&["pr-424"], 503).await;
    assert_eq!(check["status"], "fail", "{check}");
    let evidence = check["evidence"].as_str().unwrap();
    assert!(
        evidence.ends_with("/preview/pr-424/: 503, expected 2xx"),
        "{evidence}"
    );
    assert_eq!(code, Some(1));

    let (code, check) = validate_preview(&["pr-423"], 200).await;
    assert_eq!(check["status"], "fail", "{check}");
    let evidence = check["evidence"].as_str().unwrap();
    assert!(evidence.ends_with("no namespace pr-424"), "{evidence}");
    assert_eq!(code, Some(1));
}

// --- the demo

/// Every check of the built-in plan whose probe is one of these kinds, run against the demo
/// world of `scenario` at `after` seconds past its start.
async fn demo_results(scenario: captain::sim::Scenario, after: i64) -> Vec<(String, ProbeResult)> {
    let clock = captain::clock::ManualClock::new(t0());
    let world = captain::sim::World::new(scenario, 7, Arc::new(clock.clone()));
    clock.advance(Duration::seconds(after));
    let b = world.backends();
    let ctx = ProbeContext {
        audit_path: std::path::PathBuf::from("unused"),
        metrics: None,
        forge: Some(b.forge.clone()),
        cluster: Some(b.cluster.clone()),
        host: std::sync::Arc::new(captain::sources::host::LocalHost),
        published: None,
        now: captain::clock::Clock::now(&clock),
    };
    let mut results = Vec::new();
    for phase in captain::config::plan::Plan::builtin().phases {
        for c in phase.validation {
            let kind = c.probe.kind();
            if kind.starts_with("github.") && DEMO_KINDS.contains(&kind)
                || kind == "preview.healthy"
            {
                results.push((kind.to_string(), run(&c.probe, &ctx).await));
            }
        }
    }
    results
}

const DEMO_KINDS: [&str; 7] = [
    "github.workflow_run",
    "github.artifacts",
    "github.pr_comment",
    "github.check_run",
    "github.pr_blocked",
    "github.prs_by",
    "github.labelled_when_red",
];

#[tokio::test]
async fn the_demo_answers_every_new_probe_of_the_built_in_plan_without_leaving_the_process() {
    for scenario in captain::sim::Scenario::ALL {
        let results = demo_results(scenario, 0).await;
        let kinds: Vec<&str> = results.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "github.workflow_run",
                "github.artifacts",
                "github.pr_comment",
                "preview.healthy",
                "github.check_run",
                "github.pr_blocked",
                "github.prs_by",
                "github.labelled_when_red",
            ],
            "the built-in plan's order"
        );
        for (kind, r) in &results {
            assert_eq!(r.status, ProbeStatus::Pass, "{scenario} {kind}: {r:?}");
        }
        // The demo's preview hosts are under .example, which never resolves: a 200 from one
        // is the world's own answer.
        let (_, preview) = &results[3];
        assert!(
            preview.evidence.contains(".preview.summit.example: 200"),
            "{preview:?}"
        );
    }
}

#[tokio::test]
async fn in_the_demo_the_sentinel_is_judged_on_the_drills_red_main_once_it_goes_red() {
    use captain::sim::Scenario;
    let sentinel = |results: Vec<(String, ProbeResult)>| {
        results
            .into_iter()
            .find(|(k, _)| k == "github.labelled_when_red")
            .map(|(_, r)| r)
            .unwrap()
    };
    let main_red = sentinel(demo_results(Scenario::MainRed, 0).await);
    assert!(
        main_red.evidence.contains("#421 labelled freeze/main-red"),
        "{main_red:?}"
    );
    // The drill's `test` goes red 45 s in; nobody has run the sentinel yet.
    let red = sentinel(demo_results(Scenario::Drill, 60).await);
    assert_eq!(red.status, ProbeStatus::Unavailable, "{red:?}");
    let late = sentinel(demo_results(Scenario::Drill, 45 + 16 * 60).await);
    assert_eq!(late.status, ProbeStatus::Fail, "{late:?}");
    assert!(
        late.evidence.contains("no open pull request was labelled"),
        "{late:?}"
    );
}
