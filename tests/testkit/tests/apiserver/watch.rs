//! Watches over plain HTTP: history replayed from a list's resourceVersion, live changes
//! in order, bookmarks when asked, the in-stream 410 for a compacted resourceVersion,
//! `timeoutSeconds`, and selectors turning objects entering or leaving into ADDED/DELETED.

use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{Value, json};

use crate::{Http, WAIT, event_summary, rv_of};
use captain_testkit::apiserver::ApiServer;

fn configmap(name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
}

fn summary(kind: &str, name: &str) -> (String, String) {
    (kind.to_string(), name.to_string())
}

#[tokio::test]
async fn watch_from_a_list_resource_version_sees_added_modified_deleted_in_order() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], Utc::now());
    server.put_configmap("prod", "before", &[], &[]);
    let http = Http::new(&server);
    let (code, list) = http.get("/api/v1/namespaces/prod/configmaps").await;
    assert_eq!(code, 200);
    assert_eq!(list["kind"], "ConfigMapList");
    let listed = rv_of(&list);

    // Written between the list and the watch: replayed from history.
    let (code, _) = http
        .post(
            "/api/v1/namespaces/prod/configmaps",
            configmap("train", json!({"step": "1"})),
        )
        .await;
    assert_eq!(code, 201);
    let mut watch = http
        .watch(&format!(
            "/api/v1/namespaces/prod/configmaps?watch=1&resourceVersion={listed}"
        ))
        .await;
    let (code, _) = http
        .patch(
            "/api/v1/namespaces/prod/configmaps/train",
            "application/merge-patch+json",
            json!({"data": {"step": "2"}}),
        )
        .await;
    assert_eq!(code, 200);
    let (code, status) = http
        .delete("/api/v1/namespaces/prod/configmaps/train")
        .await;
    assert_eq!((code, &status["status"]), (200, &json!("Success")));
    // Another namespace's configmap is not this watch's business.
    server.put_namespace("staging", &[], Utc::now());
    server.put_configmap("staging", "elsewhere", &[], &[]);

    let mut events = Vec::new();
    for _ in 0..3 {
        events.push(watch.next(WAIT).await.expect("an event"));
    }
    let seen: Vec<_> = events.iter().map(event_summary).collect();
    assert_eq!(
        seen,
        [
            summary("ADDED", "train"),
            summary("MODIFIED", "train"),
            summary("DELETED", "train")
        ]
    );
    let rvs: Vec<u64> = events.iter().map(|e| rv_of(&e["object"])).collect();
    assert!(
        rvs[0] > listed && rvs[0] < rvs[1] && rvs[1] < rvs[2],
        "{rvs:?}"
    );
    assert_eq!(
        events[0]["object"]["kind"], "ConfigMap",
        "watch events carry kind"
    );
    assert_eq!(events[1]["object"]["data"]["step"], "2");
}
#[tokio::test]
async fn watch_sends_bookmarks_only_when_asked() {
    let server = ApiServer::start().await;
    server.set_bookmark_interval(Duration::from_millis(200));
    server.put_namespace("pr-1", &[], Utc::now());
    let http = Http::new(&server);
    let rv = server.resource_version();
    let mut watch = http
        .watch(&format!(
            "/api/v1/namespaces?watch=true&resourceVersion={rv}&allowWatchBookmarks=true"
        ))
        .await;
    let bookmark = watch.next(WAIT).await.expect("a bookmark");
    assert_eq!(
        bookmark,
        json!({"type": "BOOKMARK", "object": {"kind": "Namespace", "apiVersion": "v1", "metadata": {"resourceVersion": rv.to_string()}}})
    );
    server.put_namespace("pr-2", &[], Utc::now());
    let added = watch.next_change(WAIT).await.expect("the new namespace");
    assert_eq!(event_summary(&added), summary("ADDED", "pr-2"));
    let later = watch.next(WAIT).await.expect("another bookmark");
    assert_eq!(later["type"], "BOOKMARK");
    assert_eq!(
        rv_of(&later["object"]),
        rv_of(&added["object"]),
        "a bookmark marks how far the watch has come"
    );

    let mut quiet = http
        .watch(&format!(
            "/api/v1/namespaces?watch=true&resourceVersion={rv}&timeoutSeconds=1"
        ))
        .await;
    let event = quiet.next(WAIT).await.expect("the history");
    assert_eq!(event_summary(&event), summary("ADDED", "pr-2"));
    assert_eq!(
        quiet.next(WAIT).await,
        None,
        "no bookmarks unasked: the stream just ends at its timeout"
    );
}
#[tokio::test]
async fn watch_from_an_expired_resource_version_gets_an_in_stream_410() {
    let server = ApiServer::start().await;
    server.put_namespace("pr-1", &[], Utc::now());
    let http = Http::new(&server);
    let (_, list) = http.get("/api/v1/namespaces").await;
    let held = rv_of(&list);
    server.put_namespace("pr-2", &[], Utc::now());
    server.expire_watch_history();
    let mut watch = http
        .watch(&format!(
            "/api/v1/namespaces?watch=1&resourceVersion={held}"
        ))
        .await;
    let error = watch.next(WAIT).await.expect("the error event");
    assert_eq!(error["type"], "ERROR");
    let status = &error["object"];
    assert_eq!(
        (
            &status["kind"],
            &status["apiVersion"],
            &status["status"],
            &status["reason"],
            &status["code"]
        ),
        (
            &json!("Status"),
            &json!("v1"),
            &json!("Failure"),
            &json!("Expired"),
            &json!(410)
        )
    );
    assert!(
        status["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("too old resource version: ")
    );
    assert_eq!(
        watch.next(WAIT).await,
        None,
        "the stream ends after the 410"
    );

    // A relist gives a resourceVersion that watches again.
    let (_, list) = http.get("/api/v1/namespaces").await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(2));
    let mut watch = http
        .watch(&format!(
            "/api/v1/namespaces?watch=1&resourceVersion={}",
            rv_of(&list)
        ))
        .await;
    server.put_namespace("pr-3", &[], Utc::now());
    let added = watch.next_change(WAIT).await.expect("watching again");
    assert_eq!(event_summary(&added), summary("ADDED", "pr-3"));
}
#[tokio::test]
async fn watch_ends_at_timeout_seconds() {
    let server = ApiServer::start().await;
    let http = Http::new(&server);
    let started = Instant::now();
    let mut watch = http
        .watch("/api/v1/namespaces?watch=1&timeoutSeconds=1")
        .await;
    assert_eq!(watch.next(WAIT).await, None);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
}
#[tokio::test]
async fn watch_with_a_label_selector_sees_objects_enter_and_leave_the_selection() {
    let server = ApiServer::start().await;
    let http = Http::new(&server);
    let mut watch = http
        .watch("/api/v1/namespaces?watch=1&labelSelector=captain%2Fpreview%3Dtrue")
        .await;
    server.put_namespace("prod", &[], Utc::now());
    server.put_namespace("pr-1", &[("captain/preview", "true")], Utc::now());
    server.put_namespace(
        "pr-1",
        &[("captain/preview", "true"), ("pr", "1")],
        Utc::now(),
    );
    server.put_namespace("pr-1", &[], Utc::now());
    server.put_namespace("pr-1", &[("captain/preview", "true")], Utc::now());
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(event_summary(&watch.next(WAIT).await.expect("an event")));
    }
    assert_eq!(
        seen,
        [
            summary("ADDED", "pr-1"),
            summary("MODIFIED", "pr-1"),
            summary("DELETED", "pr-1"),
            summary("ADDED", "pr-1")
        ]
    );
}
