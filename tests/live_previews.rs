//! Live previews as complete as the demo's: the real binary against the test API server
//! (the `pr-<n>` namespaces) and the GitHub mock (pull requests of every state, in the
//! API's own shape). Each preview shows its pull request's title, author and state as
//! GitHub has them, merged and closed ones are orphaned, and the preview URL (from the
//! description, else the template) is checked for health.

mod github_support;
#[allow(unused_imports)]
mod kube_support;
mod kube_tests_support;

use chrono::{Duration, Utc};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use github_support::{Github, TOKEN, fixture};
use kube_support::ApiServer;
use kube_tests_support::captain_command_with_github;

fn by_namespace<'a>(rows: &'a [Value], name: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["namespace"] == name)
        .unwrap_or_else(|| panic!("{name} is not listed: {rows:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previews_list_joins_each_namespace_to_its_pull_request_as_github_has_it() {
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
    // The previews' own URLs: #433's answers, #440's is down.
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

    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "[previews]\nurl_pattern = 'Preview: (https?://\\S+)'\nurl_template = \"{}/preview/pr-{{number}}/\"\n",
        github.server.uri()
    );
    let mut cmd = captain_command_with_github(
        &server.kubeconfig(),
        dir.path(),
        &github.api_url(),
        &extra,
        &["previews", "list", "--json"],
        Some(TOKEN),
    );
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("captain runs"))
        .await
        .unwrap();
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
