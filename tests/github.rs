//! The GitHub forge against a wiremock double of GitHub's REST API (what octocrab's own
//! tests use), serving bodies in the real API's shapes from `fixtures/github/`.

mod github_support;

use std::sync::Arc;
use std::time::Duration;

use captain::clock::{Clock, ManualClock};
use captain::config::app::GithubConfig;
use captain::engine::main_health::{CheckState, MainHealth, Overall, PrRef};
use captain::sources::github::{BUDGET_PER_HOUR, DEFAULT_POLL, GithubForge};
use captain::sources::{Feed, Forge, Reading, SourceError, TagChange};
use captain_testkit::github::*;
use github_support::reading_where;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, ResponseTemplate};

const WAIT: Duration = Duration::from_secs(10);
/// Long enough that only `refresh()` (or a test's own wait) makes the poller poll.
const NEVER: Duration = Duration::from_secs(3600);

fn forge(github: &Github, clock: &ManualClock) -> GithubForge {
    capture_logs();
    let config = GithubConfig {
        repo: "acme/summit".into(),
        api_url: github.api_url(),
    };
    let clock: Arc<dyn Clock> = Arc::new(clock.clone());
    GithubForge::spawn(&config, TOKEN, NEVER, clock).expect("a valid configuration")
}

/// The first reading the forge publishes (its first poll runs at once).
async fn first(feed: &mut Feed<MainHealth>) -> Reading<MainHealth> {
    reading_where(feed, WAIT, |r| r.updated.is_some() || r.fault.is_some()).await
}

/// Poll now, and the reading that poll publishes.
async fn poll(forge: &GithubForge, feed: &mut Feed<MainHealth>) -> Reading<MainHealth> {
    feed.borrow_and_update();
    forge.refresh();
    tokio::time::timeout(WAIT, feed.changed())
        .await
        .expect("a poll within the wait")
        .expect("the poller stopped");
    feed.borrow_and_update().clone()
}

fn health(r: &Reading<MainHealth>) -> &MainHealth {
    assert!(r.fault.is_none(), "unexpected fault: {:?}", r.fault);
    r.value.as_deref().expect("a value")
}

fn states(h: &MainHealth) -> Vec<(&str, CheckState)> {
    h.checks
        .iter()
        .map(|c| (c.name.as_str(), c.state))
        .collect()
}

fn numbers(prs: &[PrRef]) -> Vec<u32> {
    prs.iter().map(|p| p.number).collect()
}

#[tokio::test]
async fn a_green_main_reads_each_required_check_from_protection_and_rulesets() {
    let github = Github::start().await;
    github.repository(Checks::Green).await;
    let clock = ManualClock::new(t0());
    let forge = forge(&github, &clock);
    let mut feed = forge.main_health();

    let reading = first(&mut feed).await;
    let h = health(&reading);
    assert_eq!(h.head.sha, HEAD);
    assert_eq!(h.head.author, "mira");
    assert_eq!(
        h.head.message,
        "Merge pull request #418 from acme/release-train-steps"
    );
    assert_eq!(h.head.at, at("2026-11-29T02:05:11Z"));
    // Protection's ci-pr (a commit status) and build, then the rulesets' test and scan;
    // lint fails but is not required.
    assert_eq!(
        states(h),
        vec![
            ("ci-pr", CheckState::Success),
            ("build", CheckState::Success),
            ("test", CheckState::Success),
            ("scan", CheckState::Success),
        ]
    );
    assert_eq!(h.checks[0].since, Some(at("2026-11-29T02:07:15Z")));
    assert_eq!(h.checks[2].since, Some(at("2026-11-29T02:14:21Z")));
    assert_eq!(h.overall(), Overall::Green);
    assert_eq!(h.frozen, None);
    // Both pages of open PRs.
    assert_eq!(numbers(&h.freeze_prs), vec![421, 423]);
    assert_eq!(numbers(&h.renovate_prs), vec![417, 431]);
    assert_eq!(h.freeze_prs[0].title, "Add SBOM upload to publish");
    let budget = h.rate_limit.clone().expect("the budget from the headers");
    assert_eq!((budget.remaining, budget.limit), (4990, 5000));
    assert_eq!(budget.reset, t0() + chrono::Duration::minutes(40));
    assert_eq!(reading.updated, Some(t0()));

    let sent = github.requests().await;
    assert!(sent.iter().all(|r| {
        r.headers.get("authorization").and_then(|v| v.to_str().ok())
            == Some(format!("Bearer {TOKEN}").as_str())
    }));
}

#[tokio::test]
async fn a_failed_required_check_makes_main_red_since_it_failed() {
    let github = Github::start().await;
    github.repository(Checks::Red).await;
    let forge = forge(&github, &ManualClock::new(t0()));
    let reading = first(&mut forge.main_health()).await;
    let h = health(&reading);
    let test = &h.checks[2];
    assert_eq!(
        (test.name.as_str(), test.state),
        ("test", CheckState::Failure)
    );
    assert_eq!(test.since, Some(at("2026-11-29T02:31:40Z")));
    assert_eq!(
        h.overall(),
        Overall::Red {
            since: Some(at("2026-11-29T02:31:40Z"))
        }
    );
}

#[tokio::test]
async fn a_running_required_check_is_pending_since_it_started() {
    let github = Github::start().await;
    github.repository(Checks::Pending).await;
    let forge = forge(&github, &ManualClock::new(t0()));
    let reading = first(&mut forge.main_health()).await;
    let h = health(&reading);
    let scan = &h.checks[3];
    assert_eq!(
        (scan.name.as_str(), scan.state),
        ("scan", CheckState::Pending)
    );
    assert_eq!(scan.since, Some(at("2026-11-29T02:40:12Z")));
    assert_eq!(h.overall(), Overall::Pending);
}

#[tokio::test]
async fn a_required_check_that_never_reported_is_missing_and_not_green() {
    let github = Github::start().await;
    github.repository(Checks::Missing).await;
    let forge = forge(&github, &ManualClock::new(t0()));
    let reading = first(&mut forge.main_health()).await;
    let h = health(&reading);
    let scan = &h.checks[3];
    assert_eq!(
        (scan.name.as_str(), scan.state),
        ("scan", CheckState::Missing)
    );
    assert_eq!(scan.since, None);
    assert!(matches!(h.overall(), Overall::Red { .. }));
}

#[tokio::test]
async fn rulesets_alone_require_checks_when_branch_protection_answers_404() {
    let github = Github::start().await;
    github
        .get(
            &github.repo("/branches/main"),
            None,
            "branch_main_rulesets_only.json",
            Some(r#"W/"branch-rulesets""#),
        )
        .await;
    github
        .not_found(
            &github.repo("/branches/main/protection/required_status_checks"),
            "error_branch_not_protected.json",
        )
        .await;
    github.rules().await;
    github.check_runs(Checks::Green).await;
    github
        .get(
            &github.repo(&format!("/commits/{HEAD}/status")),
            None,
            "status_combined.json",
            Some(r#"W/"status-1""#),
        )
        .await;
    github.no_freeze_tag().await;
    github.pulls().await;
    let forge = forge(&github, &ManualClock::new(t0()));
    let mut feed = forge.main_health();

    let reading = first(&mut feed).await;
    assert_eq!(
        states(health(&reading)),
        vec![
            ("test", CheckState::Success),
            ("scan", CheckState::Success),
            ("build", CheckState::Success),
        ]
    );
    // The 404 costs budget and has no ETag; while the branch is unchanged it is not asked again.
    let reading = poll(&forge, &mut feed).await;
    assert_eq!(health(&reading).checks.len(), 3);
    assert_eq!(
        github
            .requests_to("/protection/required_status_checks")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn check_runs_are_read_across_pages() {
    let github = Github::start().await;
    github.repository(Checks::Paged).await;
    let forge = forge(&github, &ManualClock::new(t0()));
    let reading = first(&mut forge.main_health()).await;
    let h = health(&reading);
    // scan is only on the second page.
    assert_eq!(h.checks[3].name, "scan");
    assert_eq!(h.checks[3].state, CheckState::Success);
    let page2 = github
        .requests_to(&format!("{REPO_BY_ID}/commits/{HEAD}/check-runs"))
        .await;
    assert_eq!(page2.len(), 1);
    assert_eq!(page2[0].url.query(), Some("per_page=100&page=2"));
}

#[tokio::test]
async fn an_unchanged_answer_is_revalidated_with_its_etag_and_costs_nothing() {
    let github = Github::start().await;
    github.repository(Checks::Green).await;
    let forge = forge(&github, &ManualClock::new(t0()));
    let mut feed = forge.main_health();
    let before = first(&mut feed).await;
    let sent_first = github.requests().await.len();
    let counted = forge.requests().counted();
    assert_eq!(
        counted as usize, sent_first,
        "a cold poll pays for every request"
    );

    let after = poll(&forge, &mut feed).await;
    assert_eq!(
        health(&after),
        health(&before),
        "the same health from the cache"
    );
    let all = github.requests().await;
    let second = &all[sent_first..];
    assert_eq!(second.len(), sent_first, "the same requests again");
    for r in second {
        assert!(
            r.headers.contains_key("if-none-match"),
            "{} sent without If-None-Match",
            r.url
        );
    }
    let branch = second
        .iter()
        .find(|r| r.url.path().ends_with("/branches/main"))
        .unwrap();
    assert_eq!(branch.headers["if-none-match"], r#"W/"branch-1""#);
    assert_eq!(forge.requests().counted(), counted, "304s are not counted");
    assert_eq!(forge.requests().not_modified(), second.len() as u64);
}

#[tokio::test]
async fn steady_state_polling_stays_within_the_request_budget() {
    const POLLS: u64 = 20;
    let github = Github::start().await;
    github.repository(Checks::Green).await;
    let forge = forge(&github, &ManualClock::new(t0()));
    let mut feed = forge.main_health();
    first(&mut feed).await;

    let per_hour = 3600.0 / DEFAULT_POLL.as_secs_f64();
    let (counted, sent) = (forge.requests().counted(), github.requests().await.len());
    for _ in 0..POLLS {
        health(&poll(&forge, &mut feed).await);
    }
    let counted_per_poll = (forge.requests().counted() - counted) as f64 / POLLS as f64;
    let sent_per_poll = (github.requests().await.len() - sent) as f64 / POLLS as f64;
    let steady = counted_per_poll * per_hour;
    println!(
        "steady state: {sent_per_poll} requests per poll, {counted_per_poll} counted; \
         polling every {DEFAULT_POLL:?} = {steady} counted requests/hour \
         ({} conditional requests/hour, free)",
        sent_per_poll * per_hour
    );
    assert!(steady <= BUDGET_PER_HOUR as f64);

    // While CI runs on HEAD, its check runs and statuses change on every poll.
    github.server.reset().await;
    for fresh in ["/check-runs", "/status"] {
        Mock::given(method("GET"))
            .and(wiremock::matchers::path_regex(format!("{fresh}$")))
            .respond_with(json(
                200,
                fixture(if fresh == "/status" {
                    "status_combined.json"
                } else {
                    "check_runs_pending.json"
                }),
            ))
            .with_priority(1)
            .mount(&github.server)
            .await;
    }
    github.repository(Checks::Green).await;
    let counted = forge.requests().counted();
    for _ in 0..POLLS {
        health(&poll(&forge, &mut feed).await);
    }
    let busy_per_poll = (forge.requests().counted() - counted) as f64 / POLLS as f64;
    let busy = busy_per_poll * per_hour;
    println!("CI running on HEAD: {busy_per_poll} counted per poll = {busy} counted requests/hour");
    assert!(busy <= BUDGET_PER_HOUR as f64);
}

#[tokio::test]
async fn a_rate_limit_keeps_the_value_sets_the_fault_and_stops_asking_until_the_reset() {
    let github = Github::start().await;
    github.repository(Checks::Green).await;
    let clock = ManualClock::new(t0());
    let forge = forge(&github, &clock);
    let mut feed = forge.main_health();
    let good = first(&mut feed).await;

    let reset = t0() + chrono::Duration::seconds(2);
    github.server.reset().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_raw(fixture("error_rate_limited.json"), "application/json")
                .insert_header("x-ratelimit-limit", "5000")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-used", "5000")
                .insert_header("x-ratelimit-reset", reset.timestamp().to_string().as_str()),
        )
        .mount(&github.server)
        .await;

    let limited = poll(&forge, &mut feed).await;
    let (_, fault) = limited.fault.clone().expect("a fault");
    assert_eq!(fault, SourceError::RateLimited(reset));
    assert!(Arc::ptr_eq(
        limited.value.as_ref().unwrap(),
        good.value.as_ref().unwrap()
    ));
    assert_eq!(limited.updated, good.updated, "the value's age is kept");
    assert_eq!(
        github.requests().await.len(),
        1,
        "the poll stopped at the 403"
    );

    // Until the reset, nothing is sent: not a poll, not a refresh, not a freeze.
    forge.refresh();
    assert_eq!(
        forge.freeze(FROZEN).await,
        Err(SourceError::RateLimited(reset))
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(github.requests().await.len(), 1);

    // After the reset it polls again by itself, and the fault clears.
    github.server.reset().await;
    github.repository(Checks::Green).await;
    clock.advance(chrono::Duration::seconds(3));
    let recovered = reading_where(&mut feed, WAIT, |r| {
        r.fault.is_none() && r.updated == Some(t0() + chrono::Duration::seconds(3))
    })
    .await;
    assert_eq!(health(&recovered).head.sha, HEAD);
}

#[tokio::test]
async fn a_server_error_keeps_the_value_and_says_github_is_unreachable() {
    let github = Github::start().await;
    github.repository(Checks::Green).await;
    let forge = forge(&github, &ManualClock::new(t0()));
    let mut feed = forge.main_health();
    let good = first(&mut feed).await;

    github.server.reset().await;
    Mock::given(method("GET"))
        .respond_with(json(502, fixture("error_server.json")))
        .mount(&github.server)
        .await;
    let failed = poll(&forge, &mut feed).await;
    match failed.fault.as_ref().map(|(_, e)| e) {
        Some(SourceError::Unreachable(m)) => {
            assert!(m.contains("502") && m.contains("/branches/main"), "{m}")
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert_eq!(failed.value, good.value);
    assert_eq!(failed.updated, good.updated);
}

#[tokio::test]
async fn a_garbage_body_keeps_the_value_and_says_what_came_back() {
    let github = Github::start().await;
    github.repository(Checks::Green).await;
    let forge = forge(&github, &ManualClock::new(t0()));
    let mut feed = forge.main_health();
    let good = first(&mut feed).await;

    // A proxy's login page instead of JSON.
    github.server.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "<html><body>Sign in to the corporate proxy</body></html>",
            "text/html",
        ))
        .mount(&github.server)
        .await;
    let failed = poll(&forge, &mut feed).await;
    match failed.fault.as_ref().map(|(_, e)| e) {
        Some(SourceError::Unreachable(m)) => assert!(m.contains("not JSON"), "{m}"),
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert_eq!(failed.value, good.value);

    // JSON, but not a branch.
    github.server.reset().await;
    Mock::given(method("GET"))
        .respond_with(json(200, r#"{"name": "main"}"#.into()))
        .mount(&github.server)
        .await;
    let failed = poll(&forge, &mut feed).await;
    match failed.fault.as_ref().map(|(_, e)| e) {
        Some(SourceError::Rejected(m)) => {
            assert!(m.contains("shape") && m.contains("commit"), "{m}")
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert_eq!(failed.value, good.value);
}

#[tokio::test]
async fn freeze_creates_the_tag_and_the_feed_shows_it_at_once() {
    let github = Github::start().await;
    github.repository(Checks::Green).await;
    let clock = ManualClock::new(t0());
    let forge = forge(&github, &clock);
    let mut feed = forge.main_health();
    first(&mut feed).await;

    // From now on GitHub lists the tag.
    github.server.reset().await;
    github.repository_with(Checks::Green, Tag::Frozen).await;
    Mock::given(method("POST"))
        .and(path(github.repo("/git/refs")))
        .and(body_json(
            serde_json::json!({"ref": "refs/tags/frozen/rollback", "sha": FROZEN}),
        ))
        .respond_with(json(201, fixture("ref_created.json")))
        .expect(1)
        .mount(&github.server)
        .await;
    clock.advance(chrono::Duration::seconds(5));
    assert_eq!(forge.freeze(FROZEN).await, Ok(TagChange::Created));
    let frozen = reading_where(&mut feed, WAIT, |r| {
        r.value.as_ref().is_some_and(|h| h.frozen.is_some())
    })
    .await;
    let freeze = health(&frozen).frozen.clone().unwrap();
    assert_eq!(freeze.sha, FROZEN);
    // Created here: frozen since the moment it was created.
    assert_eq!(freeze.since, t0() + chrono::Duration::seconds(5));
    assert!(
        github
            .requests_to(&format!("/git/commits/{FROZEN}"))
            .await
            .is_empty()
    );
    github.server.verify().await;
}

#[tokio::test]
async fn freezing_when_the_tag_exists_is_already_there() {
    let github = Github::start().await;
    github.repository(Checks::Green).await;
    Mock::given(method("POST"))
        .and(path(github.repo("/git/refs")))
        .respond_with(json(422, fixture("error_ref_exists.json")))
        .mount(&github.server)
        .await;
    let forge = forge(&github, &ManualClock::new(t0()));
    first(&mut forge.main_health()).await;
    assert_eq!(forge.freeze(HEAD).await, Ok(TagChange::AlreadyThere));
}

/// Expect exactly one `POST /git/refs` creating the freeze tag at `sha`.
async fn expect_tag_at(github: &Github, sha: &str) {
    Mock::given(method("POST"))
        .and(path(github.repo("/git/refs")))
        .and(body_json(
            serde_json::json!({"ref": "refs/tags/frozen/rollback", "sha": sha}),
        ))
        .respond_with(json(201, fixture("ref_created.json")))
        .expect(1)
        .mount(&github.server)
        .await;
}

/// `GET /commits/{what}` answered as GitHub does: the commit, with its full SHA.
async fn commit_at(github: &Github, what: &str, sha: &str) {
    Mock::given(method("GET"))
        .and(path(github.repo(&format!("/commits/{what}"))))
        .respond_with(json(
            200,
            serde_json::json!({
                "sha": sha,
                "commit": {
                    "author": {"name": "Ana", "email": "ana@example.com", "date": "2026-11-28T22:14:09Z"},
                    "committer": {"name": "Ana", "email": "ana@example.com", "date": "2026-11-28T22:14:09Z"},
                    "message": "Release 1.3.0"
                },
                "author": null
            })
            .to_string(),
        ))
        .mount(&github.server)
        .await;
}

#[tokio::test]
async fn a_freeze_at_a_short_image_sha_tags_the_commit_github_names_for_it() {
    let github = Github::start().await;
    github.repository(Checks::Green).await;
    commit_at(&github, "8f3c1a9", HEAD).await;
    expect_tag_at(&github, HEAD).await;
    let forge = forge(&github, &ManualClock::new(t0()));
    first(&mut forge.main_health()).await;
    assert_eq!(forge.freeze("sha-8f3c1a9").await, Ok(TagChange::Created));
    github.server.verify().await;
}

#[tokio::test]
async fn a_freeze_at_a_version_tags_the_commit_of_its_git_tag_annotated_or_not() {
    let github = Github::start().await;
    github.repository(Checks::Green).await;
    // `1.3.0` is not a tag here; `v1.3.0` is, annotated, pointing at FROZEN.
    github
        .not_found(&github.repo("/git/ref/tags/1.3.0"), "error_not_found.json")
        .await;
    Mock::given(method("GET"))
        .and(path(github.repo("/git/ref/tags/v1.3.0")))
        .respond_with(json(
            200,
            serde_json::json!({
                "ref": "refs/tags/v1.3.0",
                "object": {"sha": "a1b2c3d4e5f60718293a4b5c6d7e8f9011223344", "type": "tag"}
            })
            .to_string(),
        ))
        .mount(&github.server)
        .await;
    Mock::given(method("GET"))
        .and(path(github.repo(
            "/git/tags/a1b2c3d4e5f60718293a4b5c6d7e8f9011223344",
        )))
        .respond_with(json(
            200,
            serde_json::json!({
                "sha": "a1b2c3d4e5f60718293a4b5c6d7e8f9011223344",
                "tag": "v1.3.0",
                "tagger": {"name": "Ana", "email": "ana@example.com", "date": "2026-11-28T22:14:09Z"},
                "object": {"sha": FROZEN, "type": "commit"}
            })
            .to_string(),
        ))
        .mount(&github.server)
        .await;
    expect_tag_at(&github, FROZEN).await;
    let forge = forge(&github, &ManualClock::new(t0()));
    first(&mut forge.main_health()).await;
    assert_eq!(forge.freeze("1.3.0").await, Ok(TagChange::Created));
    github.server.verify().await;
}

#[tokio::test]
async fn a_freeze_at_a_version_with_no_commit_or_tag_tags_mains_head_rather_than_fail() {
    let github = Github::start().await;
    github.repository(Checks::Green).await;
    for name in ["1.3.0", "v1.3.0"] {
        github
            .not_found(
                &github.repo(&format!("/git/ref/tags/{name}")),
                "error_not_found.json",
            )
            .await;
    }
    commit_at(&github, "main", HEAD).await;
    expect_tag_at(&github, HEAD).await;
    let forge = forge(&github, &ManualClock::new(t0()));
    first(&mut forge.main_health()).await;
    assert_eq!(forge.freeze("1.3.0").await, Ok(TagChange::Created));
    github.server.verify().await;
}

#[tokio::test]
async fn a_tag_found_on_github_is_frozen_since_its_commit_and_read_once() {
    let github = Github::start().await;
    github.repository_with(Checks::Green, Tag::Frozen).await;
    let forge = forge(&github, &ManualClock::new(t0()));
    let mut feed = forge.main_health();
    let reading = first(&mut feed).await;
    let freeze = health(&reading).frozen.clone().expect("frozen");
    assert_eq!(freeze.sha, FROZEN);
    // A lightweight tag has no date: the tagged commit's committer date is the lower bound.
    assert_eq!(freeze.since, at("2026-11-28T22:14:09Z"));

    let again = poll(&forge, &mut feed).await;
    assert_eq!(health(&again).frozen, Some(freeze));
    assert_eq!(
        github
            .requests_to(&format!("/git/commits/{FROZEN}"))
            .await
            .len(),
        1,
        "the tag's date is remembered while it points at the same commit"
    );
}

#[tokio::test]
async fn unfreeze_deletes_the_tag() {
    let github = Github::start().await;
    github.repository(Checks::Green).await;
    Mock::given(method("DELETE"))
        .and(path(github.repo("/git/refs/tags/frozen/rollback")))
        .respond_with(with_budget(ResponseTemplate::new(204), 4989))
        .expect(1)
        .mount(&github.server)
        .await;
    let forge = forge(&github, &ManualClock::new(t0()));
    let mut feed = forge.main_health();
    first(&mut feed).await;
    let polls_before = github.requests_to("/branches/main").await.len();
    assert_eq!(forge.unfreeze().await, Ok(TagChange::Deleted));
    // …and the feed is refreshed at once.
    tokio::time::timeout(WAIT, async {
        while github.requests_to("/branches/main").await.len() == polls_before {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a refresh after unfreezing");
    github.server.verify().await;
}

#[tokio::test]
async fn unfreezing_a_missing_tag_is_already_gone_whether_github_says_422_or_404() {
    let github = Github::start().await;
    github.repository(Checks::Green).await;
    Mock::given(method("DELETE"))
        .and(path(github.repo("/git/refs/tags/frozen/rollback")))
        .respond_with(json(422, fixture("error_ref_missing.json")))
        .up_to_n_times(1)
        .mount(&github.server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(github.repo("/git/refs/tags/frozen/rollback")))
        .respond_with(json(404, r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest/git/refs#delete-a-reference","status":"404"}"#.into()))
        .mount(&github.server)
        .await;
    let forge = forge(&github, &ManualClock::new(t0()));
    first(&mut forge.main_health()).await;
    assert_eq!(forge.unfreeze().await, Ok(TagChange::AlreadyGone));
    assert_eq!(forge.unfreeze().await, Ok(TagChange::AlreadyGone));
}

#[tokio::test]
async fn the_token_never_reaches_the_logs_or_an_error() {
    let github = Github::start().await;
    github.repository(Checks::Green).await;
    Mock::given(method("POST"))
        .respond_with(json(401, fixture("error_bad_credentials.json")))
        .mount(&github.server)
        .await;
    let forge = forge(&github, &ManualClock::new(t0()));
    let mut feed = forge.main_health();
    first(&mut feed).await;

    let refused = forge.freeze(HEAD).await.expect_err("refused");
    assert!(matches!(&refused, SourceError::Rejected(m) if m.contains("401")));
    github.server.reset().await;
    Mock::given(method("GET"))
        .respond_with(json(503, String::new()))
        .mount(&github.server)
        .await;
    let failed = poll(&forge, &mut feed).await;
    let fault = failed.fault.expect("a fault").1;

    // A token that cannot go in a header is refused before octocrab sees it.
    let bad = GithubForge::spawn(
        &GithubConfig {
            repo: "acme/summit".into(),
            api_url: github.api_url(),
        },
        &format!("{TOKEN}\nX-Evil: 1"),
        NEVER,
        Arc::new(ManualClock::new(t0())),
    );
    let bad = bad.err().expect("refused");

    for error in [refused, fault, bad] {
        for text in [error.to_string(), format!("{error:?}")] {
            assert!(!text.contains(TOKEN), "token in an error: {text}");
        }
    }
    let logs = captured_logs();
    assert!(
        logs.iter().any(|(target, _)| target.starts_with("captain")),
        "captain logged nothing, so this test proves nothing"
    );
    for (target, line) in logs {
        // wiremock's own records print whole requests, headers included: not ours.
        if !target.starts_with("wiremock") {
            assert!(
                !line.contains(TOKEN),
                "token in a log record: {target}: {line}"
            );
        }
    }
}

#[tokio::test]
async fn github_enterprise_is_reached_under_its_api_v3_path() {
    let github = Github::start_at("/api/v3").await;
    github.repository(Checks::Paged).await;
    let forge = forge(&github, &ManualClock::new(t0()));
    let reading = first(&mut forge.main_health()).await;
    assert_eq!(health(&reading).checks.len(), 4);
    assert_eq!(numbers(&health(&reading).renovate_prs), vec![417, 431]);
    assert!(
        github
            .requests()
            .await
            .iter()
            .all(|r| r.url.path().starts_with("/api/v3/"))
    );
}

#[cfg(unix)]
#[test]
fn the_token_comes_from_gh_run_with_arguments_not_a_shell() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let args = dir.path().join("args");
    let gh = dir.path().join("gh");
    std::fs::write(
        &gh,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\" >> '{}'; done\necho '  ghp_fromGh  '\n",
            args.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();

    let token = captain::sources::github::token::resolve_token(
        None,
        gh.as_os_str(),
        Some("ghe.acme.internal; rm -rf /"),
    );
    assert_eq!(token.as_deref(), Some("ghp_fromGh"));
    // One argument each, the hostname verbatim: no shell ever split or ran it.
    assert_eq!(
        std::fs::read_to_string(&args).unwrap(),
        "auth\ntoken\n--hostname\nghe.acme.internal; rm -rf /\n"
    );
    assert_eq!(
        captain::sources::github::token::resolve_token(
            Some("ghp_env".into()),
            gh.as_os_str(),
            None
        )
        .as_deref(),
        Some("ghp_env")
    );
}

/// `captain main status` against the mock, as CI runs it: the real binary, a config file
/// naming the API, the token from the environment.
async fn main_status(api_url: String, dir: std::path::PathBuf) -> std::process::Output {
    std::fs::write(
        dir.join("captain.toml"),
        format!("[github]\nrepo = \"acme/summit\"\napi_url = \"{api_url}\"\n"),
    )
    .unwrap();
    // The binary runs off the runtime, which keeps serving the mock meanwhile.
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_captain"))
            .arg("--config")
            .arg(dir.join("captain.toml"))
            .args(["main", "status", "--json"])
            .env("GITHUB_TOKEN", TOKEN)
            .env("CAPTAIN_STATE_DIR", &dir)
            .output()
            .expect("the captain binary runs")
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn main_status_exits_0_when_green_and_1_when_red_and_never_prints_the_token() {
    for (checks, code, overall) in [(Checks::Green, 0, "green"), (Checks::Red, 1, "red")] {
        let github = Github::start().await;
        github.repository(checks).await;
        let dir = tempfile::tempdir().unwrap();
        let o = main_status(github.api_url(), dir.path().to_path_buf()).await;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(o.status.code(), Some(code), "{checks:?}: {text}");
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["overall"]["state"], overall, "{text}");
        assert!(!text.contains(TOKEN), "the token leaked: {text}");
    }
}

#[test]
fn main_status_without_a_token_could_not_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("captain.toml"),
        "[github]\nrepo = \"acme/summit\"\napi_url = \"http://127.0.0.1:9\"\n",
    )
    .unwrap();
    // No $GITHUB_TOKEN, and no `gh` on an empty PATH.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_captain"))
        .arg("--config")
        .arg(dir.path().join("captain.toml"))
        .args(["main", "status"])
        .env_remove("GITHUB_TOKEN")
        .env("PATH", dir.path())
        .env("CAPTAIN_STATE_DIR", dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no GitHub token"));
}

/// `captain main sentinel --yes` against the mock, as CI runs it.
async fn sentinel(api_url: String, dir: std::path::PathBuf) -> std::process::Output {
    std::fs::write(
        dir.join("captain.toml"),
        format!("[github]\nrepo = \"acme/summit\"\napi_url = \"{api_url}\"\n"),
    )
    .unwrap();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_captain"))
            .arg("--config")
            .arg(dir.join("captain.toml"))
            .args(["main", "sentinel", "--yes", "--json"])
            .env("GITHUB_TOKEN", TOKEN)
            .env("CAPTAIN_STATE_DIR", &dir)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("the captain binary runs")
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sentinel_labels_the_unlabelled_open_prs_while_main_is_red_and_journals_it() {
    let github = Github::start().await;
    github.repository(Checks::Red).await;
    let labels = || wiremock::matchers::path_regex(r"^/repos/acme/summit/issues/\d+/labels$");
    Mock::given(method("GET"))
        .and(labels())
        .respond_with(json(200, "[]".into()))
        .mount(&github.server)
        .await;
    Mock::given(method("POST"))
        .and(labels())
        .and(body_json(
            serde_json::json!({"labels": ["freeze/main-red"]}),
        ))
        .respond_with(json(
            200,
            r#"[{"id": 1, "name": "freeze/main-red", "color": "b60205"}]"#.into(),
        ))
        .mount(&github.server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let o = sentinel(github.api_url(), dir.path().to_path_buf()).await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(0), "{text}");
    let mut labelled: Vec<String> = github
        .requests()
        .await
        .into_iter()
        .filter(|r| r.method.as_str() == "POST")
        .map(|r| r.url.path().to_string())
        .collect();
    labelled.sort();
    assert_eq!(
        labelled,
        [
            "/repos/acme/summit/issues/417/labels",
            "/repos/acme/summit/issues/431/labels",
            "/repos/acme/summit/issues/433/labels",
        ],
        "only the open PRs not labelled yet (421 and 423 already are)"
    );
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(last["action"], "sentinel");
    assert_eq!(last["confirmation"], "--yes");
    assert!(
        last["result"]
            .as_str()
            .unwrap()
            .starts_with("ok: #417: labelled; #431: labelled; #433: labelled"),
        "{last}"
    );
    assert!(
        !text.contains(TOKEN) && !audit.contains(TOKEN),
        "the token leaked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_main_is_green_the_sentinel_takes_the_label_off_and_a_dry_run_changes_nothing() {
    let github = Github::start().await;
    github.repository(Checks::Green).await;
    Mock::given(method("DELETE"))
        .and(wiremock::matchers::path_regex(
            r"^/repos/acme/summit/issues/\d+/labels/freeze%2Fmain-red$",
        ))
        .respond_with(json(200, "[]".into()))
        .mount(&github.server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("captain.toml"),
        format!(
            "[github]\nrepo = \"acme/summit\"\napi_url = \"{}\"\n",
            github.api_url()
        ),
    )
    .unwrap();
    let config = dir.path().join("captain.toml");
    let state = dir.path().to_path_buf();
    let dry = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_captain"))
            .arg("--config")
            .arg(config)
            .args(["main", "sentinel", "--dry-run"])
            .env("GITHUB_TOKEN", TOKEN)
            .env("CAPTAIN_STATE_DIR", state)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(dry.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&dry.stdout),
        "would take freeze/main-red off #421 (main is green)\nwould take freeze/main-red off #423 (main is green)\n"
    );
    assert!(
        github
            .requests()
            .await
            .iter()
            .all(|r| r.method.as_str() == "GET"),
        "a dry run writes nothing"
    );
    let o = sentinel(github.api_url(), dir.path().to_path_buf()).await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let deleted: Vec<String> = github
        .requests()
        .await
        .into_iter()
        .filter(|r| r.method.as_str() == "DELETE")
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(
        deleted,
        [
            "/repos/acme/summit/issues/421/labels/freeze%2Fmain-red",
            "/repos/acme/summit/issues/423/labels/freeze%2Fmain-red",
        ]
    );
}

/// What a hostile or broken server could put in front of the user: escape sequences that
/// set the terminal's title and clear the screen.
const HOSTILE: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J";

/// Every byte captain wrote in `state` and on its outputs, by name.
fn outputs(o: &std::process::Output, state: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut all = vec![
        ("stdout".to_string(), o.stdout.clone()),
        ("stderr".to_string(), o.stderr.clone()),
    ];
    for entry in std::fs::read_dir(state).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            all.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_sequences_in_github_answers_reach_no_output_raw() {
    let github = Github::start().await;
    github.repository(Checks::Red).await;
    let labels = || wiremock::matchers::path_regex(r"^/repos/acme/summit/issues/\d+/labels$");
    Mock::given(method("GET"))
        .and(labels())
        .respond_with(json(200, "[]".into()))
        .mount(&github.server)
        .await;
    let body = serde_json::json!({
        "message": format!("Validation Failed{HOSTILE}"),
        "documentation_url": "https://docs.github.com/rest/issues/labels",
    });
    Mock::given(method("POST"))
        .and(labels())
        .respond_with(json(422, body.to_string()))
        .mount(&github.server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let o = sentinel(github.api_url(), dir.path().to_path_buf()).await;
    let all = outputs(&o, dir.path());
    let journal = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(
        journal.contains(r"Validation Failed\\x1b]0;pwned\\x07\\x1b[2J"),
        "GitHub's answer reached the journal, escaped: {journal}"
    );
    for (name, bytes) in &all {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains(TOKEN), "the token in {name}: {text}");
        assert!(
            !bytes.iter().any(|b| *b == 0x1b || *b == 0x07),
            "a raw escape in {name}: {text:?}"
        );
    }
    // The journal's JSON would escape a raw ESC as \u001b: it must not hold one either.
    assert!(!journal.contains("\\u001b"), "{journal}");

    // Reading main: the same answer on stderr.
    let github = Github::start().await;
    Mock::given(method("GET"))
        .respond_with(json(422, body.to_string()))
        .mount(&github.server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let o = main_status(github.api_url(), dir.path().to_path_buf()).await;
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains(r"\x1b]0;pwned\x07\x1b[2J"), "{stderr}");
    for (name, bytes) in outputs(&o, dir.path()) {
        assert!(
            !bytes.iter().any(|b| *b == 0x1b || *b == 0x07),
            "a raw escape in {name}: {:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
}
