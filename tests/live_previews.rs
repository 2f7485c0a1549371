//! Live previews as complete as the demo's: the real binary against the test API server
//! (the `pr-<n>` namespaces) and the GitHub mock (pull requests of every state, in the
//! API's own shape). Each preview shows its pull request's title, author and state as
//! GitHub has them, merged and closed ones are orphaned, and the preview URL (from the
//! description, else the template) is checked for health.

mod kube_tests_support;

use chrono::{Duration, Utc};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use captain_testkit::apiserver::ApiServer;
use captain_testkit::github::{Github, TOKEN, fixture};
use kube_tests_support::captain_command_with_github;

fn by_namespace<'a>(rows: &'a [Value], name: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["namespace"] == name)
        .unwrap_or_else(|| panic!("{name} is not listed: {rows:#?}"))
}

/// The test API server with `pr-<n>` namespaces and `prod`, the GitHub mock with pull
/// requests of every state (#433's preview answers, #440's is down), and the
/// `[previews]` settings that find their URLs.
struct Previews {
    server: ApiServer,
    github: Github,
    /// #433's preview URL, from its description.
    preview: String,
    dir: tempfile::TempDir,
    extra: String,
}

async fn previews_world() -> Previews {
    let server = ApiServer::start().await;
    let now = Utc::now();
    for (name, days) in [
        ("pr-433", 1),
        ("pr-440", 1),
        ("pr-421", 5),
        ("pr-412", 9),
        ("pr-999", 2),
        ("prod", 90),
    ] {
        server.put_namespace(name, &[], now - Duration::days(days));
    }
    let github = Github::start().await;
    Mock::given(method("GET"))
        .and(path("/preview/pr-433/"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&github.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/preview/pr-440/"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&github.server)
        .await;
    let preview = format!("{}/preview/pr-433/", github.server.uri());
    github
        .pulls_of_every_state(
            fixture("pulls_all_page1.json")
                .replace("https://pr-433.preview.summit.example/", &preview),
        )
        .await;
    let extra = format!(
        "[previews]\nurl_pattern = 'Preview: (https?://\\S+)'\nurl_template = \"{}/preview/pr-{{number}}/\"\n",
        github.server.uri()
    );
    Previews {
        server,
        github,
        preview,
        dir: tempfile::tempdir().unwrap(),
        extra,
    }
}

/// The real binary with `args` against `w`.
async fn captain(w: &Previews, args: &[&str]) -> std::process::Output {
    let mut cmd = captain_command_with_github(
        &w.server.kubeconfig(),
        w.dir.path(),
        &w.github.api_url(),
        &w.extra,
        args,
        Some(TOKEN),
    );
    tokio::task::spawn_blocking(move || cmd.output().expect("captain runs"))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previews_list_joins_each_namespace_to_its_pull_request_as_github_has_it() {
    let w = previews_world().await;
    let (github, preview) = (&w.github, &w.preview);
    let out = captain(&w, &["previews", "list", "--json"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{out:?}");
    let rows: Vec<Value> = serde_json::from_str(&stdout).expect("a JSON list");
    let names: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["namespace"].as_str())
        .collect();
    assert_eq!(names, ["pr-412", "pr-421", "pr-999", "pr-433", "pr-440"]);

    let open = by_namespace(&rows, "pr-433");
    assert_eq!(open["pr"]["title"], "Retry flaky smoke test");
    assert_eq!(open["pr"]["author"], "sam-k");
    assert_eq!(open["pr"]["state"], "open");
    assert_eq!(open["orphaned"], false);
    assert_eq!(
        open["url"],
        preview.as_str(),
        "the URL from the description"
    );
    assert_eq!(open["health"], "up");

    let down = by_namespace(&rows, "pr-440");
    assert_eq!(down["pr"]["title"], "Show the canary's step in the header");
    assert_eq!(
        down["url"],
        format!("{}/preview/pr-440/", github.server.uri()),
        "no URL in the description: the template's"
    );
    assert_eq!(down["health"], "down");

    let merged = by_namespace(&rows, "pr-421");
    assert_eq!(merged["pr"]["state"], "merged");
    assert_eq!(merged["orphaned"], true);
    assert_eq!(merged["stale"], true);
    assert_eq!(
        merged["health"], "unknown",
        "an orphan's URL is not checked"
    );

    let closed = by_namespace(&rows, "pr-412");
    assert_eq!(closed["pr"]["title"], "Try a second cache layer");
    assert_eq!(closed["pr"]["author"], "lee-o");
    assert_eq!(closed["pr"]["state"], "closed");
    assert_eq!(closed["orphaned"], true);

    let unknown = by_namespace(&rows, "pr-999");
    assert_eq!(
        unknown["pr"],
        Value::Null,
        "#999 is not among the pull requests"
    );
    assert_eq!(unknown["orphaned"], false);

    let lists: Vec<_> = github
        .requests()
        .await
        .into_iter()
        .filter(|r| {
            r.url.path().ends_with("/pulls")
                && r.url.query().is_some_and(|q| q.contains("state=all"))
        })
        .collect();
    assert_eq!(lists.len(), 1, "one list of pull requests for the previews");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previews_clean_orphaned_takes_the_merged_and_closed_pull_requests_previews_whatever_their_age()
 {
    let w = previews_world().await;
    let plan = |out: &std::process::Output| -> Value {
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).expect("a JSON plan")
    };
    let by_age = captain(
        &w,
        &[
            "previews",
            "clean",
            "--older-than",
            "30d",
            "--dry-run",
            "-o",
            "json",
        ],
    )
    .await;
    assert_eq!(
        plan(&by_age)["stale"],
        serde_json::json!([]),
        "none is 30 days old"
    );
    let orphans = captain(
        &w,
        &[
            "previews",
            "clean",
            "--older-than",
            "30d",
            "--orphaned",
            "--dry-run",
            "-o",
            "json",
        ],
    )
    .await;
    // #412 closed, #421 merged; #433 and #440 are open, #999 is not among the pull requests.
    assert_eq!(
        plan(&orphans)["stale"],
        serde_json::json!(["pr-412", "pr-421"]),
        "{}",
        String::from_utf8_lossy(&orphans.stderr)
    );
}
