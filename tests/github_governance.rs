//! The GitHub forge's governance checks, open pull requests and labels, against a wiremock
//! double of GitHub's REST API serving bodies in the real API's shapes from
//! `fixtures/github/governance/` and `fixtures/github/labels/`.

mod github_support;

use std::time::Duration;

use captain::sources::github::GithubForge;
use captain::sources::{Finding, Forge, Governance, LabelChange, OpenPull, SourceError};
use captain_testkit::github::*;
use github_support::connect;
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

const WAIT: Duration = Duration::from_secs(10);

/// What the forge found, which must not be an error nor carry the token.
async fn check(forge: &GithubForge, what: Governance) -> Finding {
    let finding = forge
        .check(&what)
        .await
        .unwrap_or_else(|e| panic!("{what:?}: {e}"));
    assert!(
        !finding.evidence.contains(TOKEN),
        "the token in evidence: {}",
        finding.evidence
    );
    finding
}

fn environment(name: &str) -> Governance {
    Governance::EnvironmentProtected {
        environment: name.into(),
    }
}

fn requires(branch: &str, check: &str) -> Governance {
    Governance::BranchRequiresCheck {
        branch: branch.into(),
        check: check.into(),
    }
}

fn ruleset(name: Option<&str>) -> Governance {
    Governance::RulesetActive {
        name: name.map(str::to_string),
    }
}

fn secret(name: &str) -> Governance {
    Governance::SecretPresent { name: name.into() }
}

fn file(path: &str, branch: &str) -> Governance {
    Governance::FileExists {
        path: path.into(),
        branch: branch.into(),
    }
}

// --- environments

#[tokio::test]
async fn an_environment_with_protection_rules_passes_and_names_them() {
    let github = Github::start().await;
    github
        .get(
            &github.repo("/environments/prod"),
            None,
            "governance/environment_prod.json",
            Some(r#"W/"env-prod""#),
        )
        .await;
    let forge = connect(&github).await;
    assert_eq!(
        check(&forge, environment("prod")).await,
        Finding::pass("environment prod: 2 protection rules (required_reviewers, wait_timer)")
    );
}

#[tokio::test]
async fn an_environment_without_protection_rules_fails() {
    let github = Github::start().await;
    github
        .get(
            &github.repo("/environments/preview"),
            None,
            "governance/environment_preview.json",
            None,
        )
        .await;
    let forge = connect(&github).await;
    assert_eq!(
        check(&forge, environment("preview")).await,
        Finding::fail("environment preview has no protection rules")
    );
}

#[tokio::test]
async fn a_missing_environment_fails_as_missing() {
    let github = Github::start().await;
    github
        .not_found(
            &github.repo("/environments/canary"),
            "governance/error_environment_not_found.json",
        )
        .await;
    let forge = connect(&github).await;
    assert_eq!(
        check(&forge, environment("canary")).await,
        Finding::fail("no environment canary")
    );
}

// --- required checks

async fn main_protection_and_rules(github: &Github) {
    github
        .get(
            &github.repo("/branches/main/protection/required_status_checks"),
            None,
            "protection_required_status_checks.json",
            Some(r#"W/"protection-1""#),
        )
        .await;
    github.rules().await;
}

#[tokio::test]
async fn a_check_branch_protection_requires_passes_and_says_so() {
    let github = Github::start().await;
    main_protection_and_rules(&github).await;
    let forge = connect(&github).await;
    assert_eq!(
        check(&forge, requires("main", "ci-pr")).await,
        Finding::pass("main requires ci-pr (branch protection)")
    );

    // Asked again, both answers are revalidated with their ETags: free.
    let counted = forge.requests().counted();
    assert_eq!(
        check(&forge, requires("main", "build")).await,
        Finding::pass("main requires build (branch protection; ruleset 7 of acme)")
    );
    assert_eq!(forge.requests().counted(), counted);
    assert_eq!(forge.requests().not_modified(), 2);
}

#[tokio::test]
async fn a_check_only_a_ruleset_requires_passes_on_an_unprotected_branch() {
    let github = Github::start().await;
    // The slash in the branch name stays inside one path segment.
    github
        .not_found(
            &github.repo("/branches/release%2F2026.11/protection/required_status_checks"),
            "error_branch_not_protected.json",
        )
        .await;
    github
        .get(
            &github.repo("/rules/branches/release%2F2026.11"),
            None,
            "governance/rules_branch_release.json",
            None,
        )
        .await;
    let forge = connect(&github).await;
    assert_eq!(
        check(&forge, requires("release/2026.11", "release-smoke")).await,
        Finding::pass("release/2026.11 requires release-smoke (ruleset 51 of acme/summit)")
    );
    // "Branch not protected" is GitHub's final word: the branch itself is not asked.
    let branch = github.repo("/branches/release%2F2026.11");
    assert!(
        github
            .requests()
            .await
            .iter()
            .all(|r| r.url.path() != branch)
    );
}

#[tokio::test]
async fn a_check_nothing_requires_fails_and_says_what_is_required() {
    let github = Github::start().await;
    main_protection_and_rules(&github).await;
    let forge = connect(&github).await;
    assert_eq!(
        check(&forge, requires("main", "deploy-gate")).await,
        Finding::fail(
            "main does not require deploy-gate: branch protection requires ci-pr, build; \
             rulesets require test, scan, build"
        )
    );
}

#[tokio::test]
async fn protection_hidden_from_the_token_is_read_from_the_branch_summary() {
    let github = Github::start().await;
    github
        .not_found(
            &github.repo("/branches/main/protection/required_status_checks"),
            "governance/error_protection_not_found.json",
        )
        .await;
    github
        .get(
            &github.repo("/branches/main"),
            None,
            "branch_main.json",
            None,
        )
        .await;
    github.rules().await;
    let forge = connect(&github).await;
    assert_eq!(
        check(&forge, requires("main", "ci-pr")).await,
        Finding::pass("main requires ci-pr (branch protection, from the branch's summary)")
    );
}

// --- rulesets

#[tokio::test]
async fn only_an_active_ruleset_passes_and_evidence_lists_every_enforcement() {
    let github = Github::start().await;
    github
        .get(
            &github.repo("/rulesets"),
            None,
            "governance/rulesets.json",
            Some(r#"W/"rulesets""#),
        )
        .await;
    let forge = connect(&github).await;
    let listed = "rulesets: org-required-checks active, protect-main active, \
                  release-branches evaluate, linear-history disabled";
    assert_eq!(
        check(&forge, ruleset(Some("protect-main"))).await,
        Finding::pass(format!("ruleset protect-main is active ({listed})"))
    );
    assert_eq!(
        check(&forge, ruleset(Some("release-branches"))).await,
        Finding::fail(format!(
            "ruleset release-branches is evaluate, not active ({listed})"
        ))
    );
    assert_eq!(
        check(&forge, ruleset(Some("linear-history"))).await,
        Finding::fail(format!(
            "ruleset linear-history is disabled, not active ({listed})"
        ))
    );
    assert_eq!(
        check(&forge, ruleset(Some("signed-commits"))).await,
        Finding::fail(format!("no ruleset named signed-commits ({listed})"))
    );
    assert_eq!(
        check(&forge, ruleset(None)).await,
        Finding::pass(format!("2 active rulesets ({listed})"))
    );
}

#[tokio::test]
async fn any_ruleset_fails_when_none_is_active() {
    let github = Github::start().await;
    github
        .get(
            &github.repo("/rulesets"),
            None,
            "governance/rulesets_none_active.json",
            None,
        )
        .await;
    let forge = connect(&github).await;
    assert_eq!(
        check(&forge, ruleset(None)).await,
        Finding::fail(
            "no active ruleset (rulesets: release-branches evaluate, linear-history disabled)"
        )
    );
}

// --- secrets

#[tokio::test]
async fn a_secret_on_the_second_page_is_present_and_one_on_neither_is_not() {
    let github = Github::start().await;
    github
        .two_pages(
            "/actions/secrets",
            "per_page=100",
            "governance/secrets_page1.json",
            "governance/secrets_page2.json",
        )
        .await;
    let forge = connect(&github).await;
    assert_eq!(
        check(&forge, secret("REGISTRY_TOKEN")).await,
        Finding::pass("secret REGISTRY_TOKEN present (updated 2026-11-02)")
    );
    // GitHub matches secret names without regard to case.
    assert!(check(&forge, secret("registry_token")).await.passed);
    assert_eq!(
        check(&forge, secret("NPM_TOKEN")).await,
        Finding::fail("no repository secret NPM_TOKEN among 5 Actions secrets")
    );
    let page2 = github
        .requests_to(&format!("{REPO_BY_ID}/actions/secrets"))
        .await;
    assert_eq!(page2.len(), 3);
    assert_eq!(page2[0].url.query(), Some("per_page=100&page=2"));
}

// --- files

#[tokio::test]
async fn a_file_on_the_branch_passes_with_its_size_and_sha_and_its_content_goes_nowhere() {
    let github = Github::start().await;
    Mock::given(method("GET"))
        .and(path(github.repo("/contents/docs/runbooks/rollback.md")))
        .and(query_param("ref", "main"))
        .respond_with(json(200, fixture("governance/contents_runbook.json")))
        .expect(1)
        .mount(&github.server)
        .await;
    let forge = connect(&github).await;
    let found = check(&forge, file("docs/runbooks/rollback.md", "main")).await;
    assert_eq!(
        found,
        Finding::pass("docs/runbooks/rollback.md on main: 397 bytes, sha 3d21ec53a331")
    );
    let body: serde_json::Value =
        serde_json::from_str(&fixture("governance/contents_runbook.json")).unwrap();
    let content = body["content"].as_str().unwrap().lines().next().unwrap();
    for (target, line) in captured_logs() {
        if !target.starts_with("wiremock") {
            assert!(!line.contains(content), "file content in a log: {line}");
            assert!(!line.contains("Rolling back summit"), "{target}: {line}");
        }
    }
    github.server.verify().await;
}

#[tokio::test]
async fn a_file_github_does_not_have_fails() {
    let github = Github::start().await;
    Mock::given(method("GET"))
        .and(path(github.repo("/contents/deploy/values-prod.yaml")))
        .and(query_param("ref", "release/2026.11"))
        .respond_with(json(
            404,
            fixture("governance/error_contents_not_found.json"),
        ))
        .mount(&github.server)
        .await;
    let forge = connect(&github).await;
    assert_eq!(
        check(&forge, file("deploy/values-prod.yaml", "release/2026.11")).await,
        Finding::fail("no deploy/values-prod.yaml on release/2026.11 (Not Found)")
    );
    let sent = github
        .requests_to("/contents/deploy/values-prod.yaml")
        .await;
    assert_eq!(sent[0].url.query(), Some("ref=release%2F2026.11"));
}

// --- code scanning

async fn alerts(github: &Github, status: u16, body: &str) {
    Mock::given(method("GET"))
        .and(path(github.repo("/code-scanning/alerts")))
        .and(query_param("state", "open"))
        .and(query_param("severity", "critical"))
        .and(query_param("per_page", "100"))
        .respond_with(json(status, fixture(body)))
        .mount(&github.server)
        .await;
}

#[tokio::test]
async fn an_open_critical_alert_fails_and_is_named() {
    let github = Github::start().await;
    alerts(
        &github,
        200,
        "governance/code_scanning_alerts_critical.json",
    )
    .await;
    let forge = connect(&github).await;
    assert_eq!(
        check(&forge, Governance::NoCriticalAlerts).await,
        Finding::fail("1 critical open alert: #12 rule rust/sql-injection")
    );
}

#[tokio::test]
async fn no_critical_alert_passes_even_where_github_ignores_the_severity_filter() {
    let github = Github::start().await;
    alerts(&github, 200, "governance/code_scanning_alerts_none.json").await;
    let forge = connect(&github).await;
    assert_eq!(
        check(&forge, Governance::NoCriticalAlerts).await,
        Finding::pass("no open critical code-scanning alerts")
    );

    // An older GitHub Enterprise Server lists high, medium and note alerts too.
    let github = Github::start().await;
    alerts(
        &github,
        200,
        "governance/code_scanning_alerts_unfiltered.json",
    )
    .await;
    let forge = connect(&github).await;
    assert_eq!(
        check(&forge, Governance::NoCriticalAlerts).await,
        Finding::pass("3 open code-scanning alerts, none critical")
    );
}

#[tokio::test]
async fn code_scanning_that_is_off_or_never_ran_fails_and_says_why() {
    let github = Github::start().await;
    alerts(
        &github,
        403,
        "governance/error_code_scanning_not_enabled.json",
    )
    .await;
    let forge = connect(&github).await;
    assert_eq!(
        check(&forge, Governance::NoCriticalAlerts).await,
        Finding::fail(
            "code scanning: Code scanning is not enabled for this repository. \
             Please enable code scanning in the repository settings."
        )
    );

    let github = Github::start().await;
    alerts(
        &github,
        404,
        "governance/error_code_scanning_no_analysis.json",
    )
    .await;
    let forge = connect(&github).await;
    assert_eq!(
        check(&forge, Governance::NoCriticalAlerts).await,
        Finding::fail("code scanning: no analysis found")
    );
}

// --- secret scanning

#[tokio::test]
async fn secret_scanning_passes_only_when_github_shows_it_enabled() {
    for (body, expected) in [
        (
            "governance/repository_secret_scanning_enabled.json",
            Finding::pass("secret scanning enabled on acme/summit"),
        ),
        (
            "governance/repository_secret_scanning_disabled.json",
            Finding::fail("secret scanning is disabled on acme/summit"),
        ),
        (
            "governance/repository_not_admin.json",
            Finding::fail(
                "could not read secret scanning on acme/summit: GitHub shows \
                 security_and_analysis only to a token with admin rights",
            ),
        ),
    ] {
        let github = Github::start().await;
        github.get(&github.repo(""), None, body, None).await;
        let forge = connect(&github).await;
        assert_eq!(
            check(&forge, Governance::SecretScanningEnabled).await,
            expected,
            "{body}"
        );
    }
}

// --- pull requests and labels

#[tokio::test]
async fn open_pulls_are_read_across_pages_lowest_number_first() {
    let github = Github::start().await;
    github.pulls().await;
    let forge = connect(&github).await;
    let pulls = forge.open_pulls().await.expect("open pulls");
    let numbers: Vec<u32> = pulls.iter().map(|p| p.number).collect();
    assert_eq!(numbers, vec![417, 421, 423, 431, 433]);
    assert_eq!(
        pulls[2],
        OpenPull {
            number: 423,
            title: "Tighten CSP headers".into(),
            author: "mira".into(),
            labels: vec!["freeze/main-red".into(), "bug".into()],
        }
    );
    assert_eq!(pulls[3].author, "renovate[bot]");
    let page2 = github.requests_to(&format!("{REPO_BY_ID}/pulls")).await;
    assert_eq!(page2.len(), 1);
    assert_eq!(page2[0].url.query(), Some("state=open&per_page=100&page=2"));
}

#[tokio::test]
async fn adding_a_label_posts_it_and_refreshes_the_feed() {
    let github = Github::start().await;
    github
        .get(
            &github.repo("/issues/433/labels"),
            None,
            "labels/issue_433_labels.json",
            None,
        )
        .await;
    Mock::given(method("POST"))
        .and(path(github.repo("/issues/433/labels")))
        .and(body_json(
            serde_json::json!({"labels": ["freeze/main-red"]}),
        ))
        .respond_with(json(200, fixture("labels/issue_433_labels_added.json")))
        .expect(1)
        .mount(&github.server)
        .await;
    let forge = connect(&github).await;
    let polls = github.requests_to("/branches/main").await.len();
    assert_eq!(
        forge.add_label(433, "freeze/main-red").await,
        Ok(LabelChange::Added)
    );
    tokio::time::timeout(WAIT, async {
        while github.requests_to("/branches/main").await.len() == polls {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a refresh after labelling");
    github.server.verify().await;
}

#[tokio::test]
async fn adding_a_label_the_pull_already_has_writes_nothing() {
    let github = Github::start().await;
    github
        .get(
            &github.repo("/issues/423/labels"),
            None,
            "labels/issue_423_labels.json",
            Some(r#"W/"labels-423""#),
        )
        .await;
    Mock::given(method("POST"))
        .respond_with(json(200, fixture("labels/issue_423_labels.json")))
        .expect(0)
        .mount(&github.server)
        .await;
    let forge = connect(&github).await;
    assert_eq!(
        forge.add_label(423, "freeze/main-red").await,
        Ok(LabelChange::AlreadyThere)
    );
    // GitHub's label names are the same label in any case.
    assert_eq!(
        forge.add_label(423, "Freeze/Main-Red").await,
        Ok(LabelChange::AlreadyThere)
    );
    github.server.verify().await;
}

#[tokio::test]
async fn removing_a_label_deletes_it_by_its_percent_encoded_name() {
    let github = Github::start().await;
    Mock::given(method("DELETE"))
        .and(path(github.repo("/issues/423/labels/freeze%2Fmain-red")))
        .respond_with(json(200, fixture("labels/issue_423_labels_removed.json")))
        .expect(1)
        .mount(&github.server)
        .await;
    let forge = connect(&github).await;
    assert_eq!(
        forge.remove_label(423, "freeze/main-red").await,
        Ok(LabelChange::Removed)
    );
    github.server.verify().await;
}

#[tokio::test]
async fn removing_a_label_the_pull_does_not_have_is_already_gone_but_a_missing_pull_is_an_error() {
    let github = Github::start().await;
    Mock::given(method("DELETE"))
        .and(path(github.repo("/issues/433/labels/freeze%2Fmain-red")))
        .respond_with(json(404, fixture("labels/error_label_does_not_exist.json")))
        .mount(&github.server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(github.repo("/issues/9999/labels/freeze%2Fmain-red")))
        .respond_with(json(404, fixture("labels/error_issue_not_found.json")))
        .mount(&github.server)
        .await;
    let forge = connect(&github).await;
    assert_eq!(
        forge.remove_label(433, "freeze/main-red").await,
        Ok(LabelChange::AlreadyGone)
    );
    match forge.remove_label(9999, "freeze/main-red").await {
        Err(SourceError::Rejected(m)) => assert!(m.contains("404") && m.contains("9999"), "{m}"),
        other => panic!("expected Rejected, got {other:?}"),
    }
}

// --- failures

#[tokio::test]
async fn a_server_error_is_an_error_not_a_finding() {
    let github = Github::start().await;
    let forge = connect(&github).await;
    Mock::given(wiremock::matchers::any())
        .respond_with(json(502, fixture("error_server.json")))
        .mount(&github.server)
        .await;
    for what in [
        environment("prod"),
        requires("main", "ci-pr"),
        ruleset(None),
        secret("REGISTRY_TOKEN"),
        file("README.md", "main"),
        Governance::NoCriticalAlerts,
        Governance::SecretScanningEnabled,
    ] {
        match forge.check(&what).await {
            Err(SourceError::Unreachable(m)) => assert!(m.contains("502"), "{what:?}: {m}"),
            other => panic!("{what:?}: expected Unreachable, got {other:?}"),
        }
    }
    assert!(matches!(
        forge.open_pulls().await,
        Err(SourceError::Unreachable(_))
    ));
    assert!(matches!(
        forge.add_label(433, "freeze/main-red").await,
        Err(SourceError::Unreachable(_))
    ));
    assert!(matches!(
        forge.remove_label(423, "freeze/main-red").await,
        Err(SourceError::Unreachable(_))
    ));
}

#[tokio::test]
async fn a_garbage_body_is_an_error_not_a_finding() {
    let github = Github::start().await;
    let forge = connect(&github).await;
    // A proxy's login page instead of JSON.
    Mock::given(method("GET"))
        .and(path(github.repo("/environments/prod")))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "<html><body>Sign in to the corporate proxy</body></html>",
            "text/html",
        ))
        .mount(&github.server)
        .await;
    // JSON, but not a list of secrets.
    Mock::given(method("GET"))
        .and(path(github.repo("/actions/secrets")))
        .respond_with(json(200, r#"{"total_count": 1}"#.into()))
        .mount(&github.server)
        .await;
    match forge.check(&environment("prod")).await {
        Err(SourceError::Unreachable(m)) => assert!(m.contains("not JSON"), "{m}"),
        other => panic!("expected Unreachable, got {other:?}"),
    }
    match forge.check(&secret("REGISTRY_TOKEN")).await {
        Err(SourceError::Rejected(m)) => {
            assert!(m.contains("shape") && m.contains("missing field"), "{m}")
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn a_rate_limit_stops_the_checks_until_the_reset() {
    let github = Github::start().await;
    let forge = connect(&github).await;
    let reset = t0() + chrono::Duration::minutes(30);
    Mock::given(wiremock::matchers::any())
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_raw(fixture("error_rate_limited.json"), "application/json")
                .insert_header("x-ratelimit-limit", "5000")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.timestamp().to_string().as_str()),
        )
        .mount(&github.server)
        .await;
    let sent = github.requests().await.len();
    assert_eq!(
        forge.check(&Governance::NoCriticalAlerts).await,
        Err(SourceError::RateLimited(reset))
    );
    assert_eq!(
        forge.check(&environment("prod")).await,
        Err(SourceError::RateLimited(reset))
    );
    assert_eq!(
        forge.remove_label(423, "freeze/main-red").await,
        Err(SourceError::RateLimited(reset))
    );
    assert_eq!(
        github.requests().await.len(),
        sent + 1,
        "one request, then none"
    );
}

#[tokio::test]
async fn a_refusal_that_quotes_the_token_reaches_evidence_scrubbed() {
    let github = Github::start().await;
    Mock::given(method("GET"))
        .and(path(github.repo("/environments/prod")))
        .respond_with(json(
            403,
            format!(
                r#"{{"message":"Resource not accessible by personal access token {TOKEN}","documentation_url":"https://docs.github.com/rest/deployments/environments#get-an-environment","status":"403"}}"#
            ),
        ))
        .mount(&github.server)
        .await;
    let forge = connect(&github).await;
    let finding = check(&forge, environment("prod")).await;
    assert_eq!(
        finding,
        Finding::fail(
            "cannot read environment prod: Resource not accessible by personal access token ***"
        )
    );
}
