//! Objects' lifecycles over plain HTTP: `/status` written apart from the rest and
//! `generation` counting spec changes, finalizers holding a deletion, a namespace taking its
//! content with it and refusing new content while Terminating, and collection deletes.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;

use crate::{Http, WAIT, event_summary};
use captain_testkit::apiserver::ApiServer;

const ROUTES: &str = "/apis/gateway.networking.k8s.io/v1/namespaces/prod/httproutes";

#[tokio::test]
async fn status_is_written_through_its_subresource_and_generation_counts_spec_changes() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], Utc::now());
    let http = Http::new(&server);
    let route = json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "shop"},
        "spec": {"rules": [{"backendRefs": [{"name": "stable", "port": 80, "weight": 100}]}]},
        "status": {"parents": [{"controllerName": "made/up"}]},
    });
    let (code, created) = http.post(ROUTES, route).await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["metadata"]["generation"], 1);
    assert!(
        created.get("status").is_none(),
        "status is not set on create"
    );

    let merge = "application/merge-patch+json";
    let accepted = json!({"status": {"parents": [{"controllerName": "gateway.example/controller", "conditions": [{"type": "Accepted", "status": "True"}]}]}});
    let (code, with_status) = http
        .patch(&format!("{ROUTES}/shop/status"), merge, accepted)
        .await;
    assert_eq!(code, 200);
    assert_eq!(
        with_status["status"]["parents"][0]["conditions"][0]["type"],
        "Accepted"
    );
    assert_eq!(
        with_status["metadata"]["generation"], 1,
        "a status write is no spec change"
    );

    let ignored = json!({"status": {"parents": []}, "metadata": {"labels": {"team": "shop"}}});
    let (_, labelled) = http.patch(&format!("{ROUTES}/shop"), merge, ignored).await;
    assert_eq!(
        labelled["status"], with_status["status"],
        "the main resource keeps the status"
    );
    assert_eq!(labelled["metadata"]["labels"]["team"], "shop");
    assert_eq!(labelled["metadata"]["generation"], 1);

    let shift = json!({"spec": {"rules": [{"backendRefs": [{"name": "stable", "port": 80, "weight": 90}, {"name": "canary", "port": 80, "weight": 10}]}]}});
    let (_, shifted) = http.patch(&format!("{ROUTES}/shop"), merge, shift).await;
    assert_eq!(shifted["metadata"]["generation"], 2);
}

#[tokio::test]
async fn finalizers_hold_a_deletion_until_the_last_is_removed() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], Utc::now());
    let http = Http::new(&server);
    let path = "/api/v1/namespaces/prod/configmaps";
    let held = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "held", "finalizers": ["captain/keep"]}});
    assert_eq!(http.post(path, held).await.0, 201);
    let mut watch = http
        .watch(&format!(
            "{path}?watch=1&resourceVersion={}",
            server.resource_version()
        ))
        .await;

    let (code, pending) = http.delete(&format!("{path}/held")).await;
    assert_eq!(code, 200);
    assert_eq!(
        pending["kind"], "ConfigMap",
        "a held deletion answers the object"
    );
    assert!(pending["metadata"]["deletionTimestamp"].is_string());
    let release = json!({"metadata": {"finalizers": null}});
    let (code, _) = http
        .patch(
            &format!("{path}/held"),
            "application/merge-patch+json",
            release,
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(http.get(&format!("{path}/held")).await.0, 404);

    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(event_summary(
            &watch.next_change(WAIT).await.expect("an event"),
        ));
    }
    let kinds: Vec<&str> = seen.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(kinds, ["MODIFIED", "MODIFIED", "DELETED"]);
}

#[tokio::test]
async fn a_terminating_namespace_refuses_new_content_and_takes_its_content_away() {
    let server = ApiServer::start().await;
    server.set_namespace_finalize_delay(Some(Duration::from_millis(300)));
    server.put_namespace("pr-1", &[], Utc::now());
    server.put_configmap("pr-1", "train", &[], &[]);
    server.put_secret("pr-1", "token", &[], "Opaque", &[]);
    let http = Http::new(&server);
    let mut watch = http
        .watch(&format!(
            "/api/v1/configmaps?watch=1&resourceVersion={}",
            server.resource_version()
        ))
        .await;
    let (code, namespace) = http.delete("/api/v1/namespaces/pr-1").await;
    assert_eq!(
        (code, &namespace["status"]["phase"]),
        (200, &json!("Terminating"))
    );

    let late = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late"}});
    let (code, status) = http
        .post("/api/v1/namespaces/pr-1/configmaps", late.clone())
        .await;
    assert_eq!((code, &status["reason"]), (403, &json!("Forbidden")));
    assert!(
        status["message"]
            .as_str()
            .unwrap_or_default()
            .contains("because it is being terminated")
    );
    let (code, status) = http
        .post("/api/v1/namespaces/nowhere/configmaps", late)
        .await;
    assert_eq!(
        (code, &status["message"]),
        (404, &json!("namespaces \"nowhere\" not found"))
    );

    let deleted = watch.next_change(WAIT).await.expect("the content goes");
    assert_eq!(
        event_summary(&deleted),
        ("DELETED".to_string(), "train".to_string())
    );
    assert_eq!(
        http.get("/api/v1/namespaces/pr-1/secrets/token").await.0,
        404
    );
    assert_eq!(http.get("/api/v1/namespaces/pr-1").await.0, 404);
}

#[tokio::test]
async fn a_collection_delete_removes_only_what_the_selector_matches() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], Utc::now());
    server.put_configmap("prod", "a", &[("owner", "captain")], &[]);
    server.put_configmap("prod", "b", &[("owner", "captain")], &[]);
    server.put_configmap("prod", "c", &[("owner", "helm")], &[]);
    let http = Http::new(&server);
    let (code, status) = http
        .delete("/api/v1/namespaces/prod/configmaps?labelSelector=owner%3Dcaptain")
        .await;
    assert_eq!((code, &status["status"]), (200, &json!("Success")));
    let (_, left) = http.get("/api/v1/namespaces/prod/configmaps").await;
    let names: Vec<&str> = left["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names, ["c"]);
    let (code, _) = http.delete("/api/v1/configmaps").await;
    assert_eq!(
        code, 405,
        "across all namespaces a namespaced type is only listed and watched"
    );
}
