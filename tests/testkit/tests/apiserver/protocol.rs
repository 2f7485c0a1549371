//! Reads and writes over plain HTTP: 404s with Status bodies, optimistic concurrency
//! (409 on a stale resourceVersion), merge and JSON patches, no-op writes, selectors,
//! list shapes, and `limit`/`continue` pagination that is consistent and expires with
//! compaction.

use std::collections::HashSet;

use chrono::Utc;
use serde_json::{Value, json};

use crate::{Http, rv_of};
use captain_testkit::apiserver::ApiServer;

#[tokio::test]
async fn merge_patch_with_a_stale_resource_version_is_409_conflict() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], Utc::now());
    let first = server.put_configmap("prod", "train", &[], &[("step", "1")]);
    let held = first["metadata"]["resourceVersion"].clone();
    server.put_configmap("prod", "train", &[], &[("step", "2")]);
    let http = Http::new(&server);
    let path = "/api/v1/namespaces/prod/configmaps/train";
    let stale = json!({"metadata": {"resourceVersion": held}, "data": {"step": "9"}});
    let (code, status) = http
        .patch(path, "application/merge-patch+json", stale)
        .await;
    assert_eq!(code, 409);
    assert_eq!(
        status,
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "Operation cannot be fulfilled on configmaps \"train\": the object has been modified; please apply your changes to the latest version and try again",
            "reason": "Conflict", "details": {"name": "train", "kind": "configmaps"}, "code": 409,
        })
    );
    let current = server
        .object("configmaps", Some("prod"), "train")
        .expect("there");
    assert_eq!(current["data"]["step"], "2");

    let fresh = json!({"metadata": {"resourceVersion": current["metadata"]["resourceVersion"]}, "data": {"step": "3"}});
    let (code, patched) = http
        .patch(path, "application/merge-patch+json", fresh)
        .await;
    assert_eq!(code, 200);
    assert_eq!(patched["data"]["step"], "3");
    assert!(rv_of(&patched) > rv_of(&current));

    // The same through PUT.
    let mut replaced = current.clone();
    replaced["data"]["step"] = json!("4");
    let (code, status) = http
        .send(
            reqwest::Method::PUT,
            path,
            "application/json",
            Some(replaced),
        )
        .await;
    assert_eq!((code, &status["reason"]), (409, &json!("Conflict")));
}
#[tokio::test]
async fn json_patch_adds_removes_replaces_and_tests() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], Utc::now());
    let cm = server.put_configmap(
        "prod",
        "train",
        &[("owner", "captain")],
        &[("step", "1"), ("paused", "false")],
    );
    let http = Http::new(&server);
    let path = "/api/v1/namespaces/prod/configmaps/train";
    let ops = json!([
        {"op": "test", "path": "/metadata/resourceVersion", "value": cm["metadata"]["resourceVersion"]},
        {"op": "replace", "path": "/data/step", "value": "2"},
        {"op": "remove", "path": "/data/paused"},
        {"op": "add", "path": "/metadata/labels/captain~1train", "value": "shop"},
    ]);
    let (code, patched) = http.patch(path, "application/json-patch+json", ops).await;
    assert_eq!(code, 200, "{patched}");
    assert_eq!(patched["data"], json!({"step": "2"}));
    assert_eq!(
        patched["metadata"]["labels"],
        json!({"owner": "captain", "captain/train": "shop"})
    );

    let failing = json!([{"op": "test", "path": "/data/step", "value": "1"}, {"op": "replace", "path": "/data/step", "value": "9"}]);
    let (code, status) = http
        .patch(path, "application/json-patch+json", failing)
        .await;
    assert_eq!((code, &status["reason"]), (422, &json!("Invalid")));
    let (code, status) = http.patch(path, "text/plain", json!({})).await;
    assert_eq!(
        (code, &status["reason"]),
        (415, &json!("UnsupportedMediaType"))
    );
    assert_eq!(
        server
            .object("configmaps", Some("prod"), "train")
            .expect("there")["data"]["step"],
        "2"
    );
}
#[tokio::test]
async fn a_write_that_changes_nothing_keeps_the_resource_version() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], Utc::now());
    let cm = server.put_configmap("prod", "train", &[], &[("step", "1")]);
    let http = Http::new(&server);
    let (code, patched) = http
        .patch(
            "/api/v1/namespaces/prod/configmaps/train",
            "application/merge-patch+json",
            json!({"data": {"step": "1"}}),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(
        patched["metadata"]["resourceVersion"],
        cm["metadata"]["resourceVersion"]
    );
}
#[tokio::test]
async fn get_of_a_missing_object_is_404_with_a_status_body() {
    let server = ApiServer::start().await;
    let http = Http::new(&server);
    let (code, status) = http.get("/api/v1/namespaces/x").await;
    assert_eq!(code, 404);
    assert_eq!(
        status,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "namespaces \"x\" not found", "reason": "NotFound",
               "details": {"name": "x", "kind": "namespaces"}, "code": 404})
    );
    let (code, status) = http
        .get("/apis/coordination.k8s.io/v1/namespaces/prod/leases/driver")
        .await;
    assert_eq!(code, 404);
    assert_eq!(
        status["message"],
        "leases.coordination.k8s.io \"driver\" not found"
    );
    assert_eq!(
        status["details"],
        json!({"name": "driver", "group": "coordination.k8s.io", "kind": "leases"})
    );
    let (code, _) = http.delete("/api/v1/namespaces/x").await;
    assert_eq!(code, 404);
}
#[tokio::test]
async fn pagination_of_10000_namespaces_with_limit_500_returns_each_exactly_once() {
    let server = ApiServer::start().await;
    for n in 0..10_000 {
        server.put_namespace(&format!("ns-{n:05}"), &[], Utc::now());
    }
    let http = Http::new(&server);
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    let mut list_rv = None;
    loop {
        let path = match &token {
            None => "/api/v1/namespaces?limit=500".to_string(),
            Some(t) => format!("/api/v1/namespaces?limit=500&continue={t}"),
        };
        let (code, page) = http.get(&path).await;
        assert_eq!(code, 200, "{page}");
        pages += 1;
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 500);
        seen.extend(items.iter().map(|i| {
            i["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }));
        // Every page is read at the first page's revision.
        assert_eq!(*list_rv.get_or_insert_with(|| rv_of(&page)), rv_of(&page));
        if pages == 1 {
            assert_eq!(page["metadata"]["remainingItemCount"], 9_500);
            // Written while paging: a consistent list does not show it.
            server.put_namespace("ns-00000a", &[], Utc::now());
            server.remove_object("namespaces", None, "ns-09999");
        }
        token = page["metadata"]["continue"].as_str().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 20);
    assert_eq!(seen.len(), 10_000);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 10_000);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "in key order");
    assert!(seen.contains(&"ns-09999".to_string()) && !seen.contains(&"ns-00000a".to_string()));
}
#[tokio::test]
async fn a_continue_token_from_before_compaction_is_410_expired() {
    let server = ApiServer::start().await;
    for n in 1..=5 {
        server.put_namespace(&format!("pr-{n}"), &[], Utc::now());
    }
    let http = Http::new(&server);
    let (_, first) = http.get("/api/v1/namespaces?limit=2").await;
    let token = first["metadata"]["continue"]
        .as_str()
        .expect("a continue token")
        .to_string();
    server.expire_watch_history();
    let (code, status) = http
        .get(&format!("/api/v1/namespaces?limit=2&continue={token}"))
        .await;
    assert_eq!(
        (code, &status["reason"], &status["code"]),
        (410, &json!("Expired"), &json!(410))
    );
    assert!(
        status["message"]
            .as_str()
            .unwrap_or_default()
            .contains("continue parameter is too old")
    );
    // The offered inconsistent continuation picks up after the first page.
    let inconsistent = status["metadata"]["continue"]
        .as_str()
        .expect("an inconsistent token");
    let (code, rest) = http
        .get(&format!(
            "/api/v1/namespaces?limit=10&continue={inconsistent}"
        ))
        .await;
    assert_eq!(code, 200);
    let names: Vec<&str> = rest["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names, ["pr-3", "pr-4", "pr-5"]);
}
#[tokio::test]
async fn label_and_field_selectors_filter_as_the_api_server_does() {
    let server = ApiServer::start().await;
    server.put_namespace(
        "pr-1",
        &[("captain/preview", "true"), ("tier", "web")],
        Utc::now(),
    );
    server.put_namespace(
        "pr-2",
        &[("captain/preview", "true"), ("tier", "api")],
        Utc::now(),
    );
    server.put_namespace("prod", &[("tier", "web")], Utc::now());
    let http = Http::new(&server);
    let names = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| {
                i["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    };
    for (selector, expected) in [
        ("labelSelector=captain/preview", vec!["pr-1", "pr-2"]),
        ("labelSelector=!captain/preview", vec!["prod"]),
        ("labelSelector=tier=web", vec!["pr-1", "prod"]),
        ("labelSelector=tier==web,captain/preview", vec!["pr-1"]),
        ("labelSelector=tier!=web", vec!["pr-2"]),
        ("labelSelector=tier%20in%20(api,db)", vec!["pr-2"]),
        ("labelSelector=tier%20notin%20(api)", vec!["pr-1", "prod"]),
        ("fieldSelector=metadata.name=pr-2", vec!["pr-2"]),
        ("fieldSelector=metadata.name!=pr-2", vec!["pr-1", "prod"]),
        (
            "labelSelector=kubernetes.io/metadata.name=prod",
            vec!["prod"],
        ),
    ] {
        let (code, list) = http.get(&format!("/api/v1/namespaces?{selector}")).await;
        assert_eq!(code, 200, "{selector}: {list}");
        assert_eq!(names(&list), expected, "{selector}");
    }
    let (code, status) = http
        .get("/api/v1/namespaces?fieldSelector=spec.owner=me")
        .await;
    assert_eq!((code, &status["reason"]), (400, &json!("BadRequest")));
}
#[tokio::test]
async fn list_items_of_built_in_kinds_carry_no_kind_but_custom_resources_do() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], Utc::now());
    server.put_object(json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "shop", "namespace": "prod"},
        "spec": {"hostnames": ["shop.example.com"], "rules": [{"backendRefs": [{"name": "shop-stable", "port": 80, "weight": 90}, {"name": "shop-canary", "port": 80, "weight": 10}]}]},
    }));
    let http = Http::new(&server);
    let (_, namespaces) = http.get("/api/v1/namespaces").await;
    assert_eq!(
        (&namespaces["kind"], &namespaces["apiVersion"]),
        (&json!("NamespaceList"), &json!("v1"))
    );
    assert!(
        namespaces["items"][0].get("kind").is_none()
            && namespaces["items"][0].get("apiVersion").is_none()
    );
    let (_, routes) = http
        .get("/apis/gateway.networking.k8s.io/v1/namespaces/prod/httproutes")
        .await;
    assert_eq!(routes["kind"], "HTTPRouteList");
    assert_eq!(routes["items"][0]["kind"], "HTTPRoute");
    assert_eq!(routes["items"][0]["metadata"]["generation"], 1);
    assert_eq!(
        routes["items"][0]["spec"]["rules"][0]["backendRefs"][1]["weight"],
        10
    );
}
