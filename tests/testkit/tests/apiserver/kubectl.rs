//! The real kubectl reading from the test API server: discovery (aggregated asked,
//! legacy served), server-side printed Tables with ages, `-o json`, label selectors,
//! chunked lists, NotFound, and a Table watch.

use std::time::Duration;

use chrono::{Duration as Age, Utc};
use serde_json::Value;

use crate::{kubectl, rows, stderr, succeeded};
use captain_testkit::apiserver::ApiServer;

#[tokio::test]
async fn kubectl_get_ns_lists_seeded_namespaces_with_status_and_age() {
    let server = ApiServer::start().await;
    let now = Utc::now();
    server.put_namespace("pr-1", &[], now - Age::days(3));
    server.put_namespace("pr-2", &[], now - Age::hours(5));
    server.put_namespace("prod", &[], now - Age::days(400));
    let Some(output) = kubectl(&server, &["get", "ns"]).await else {
        return;
    };
    let table = rows(&succeeded(&output));
    assert_eq!(
        table,
        vec![
            vec!["NAME", "STATUS", "AGE"],
            vec!["pr-1", "Active", "3d"],
            vec!["pr-2", "Active", "5h"],
            vec!["prod", "Active", "400d"],
        ]
    );
}
#[tokio::test]
async fn kubectl_get_ns_json_returns_the_object() {
    let server = ApiServer::start().await;
    let created = Utc::now() - Age::days(2);
    let seeded = server.put_namespace("pr-1", &[("captain/preview", "true")], created);
    let Some(output) = kubectl(&server, &["get", "ns", "pr-1", "-o", "json"]).await else {
        return;
    };
    let object: Value = serde_json::from_str(&succeeded(&output)).expect("kubectl printed JSON");
    assert_eq!(object["apiVersion"], "v1");
    assert_eq!(object["kind"], "Namespace");
    assert_eq!(object["metadata"]["name"], "pr-1");
    assert_eq!(object["metadata"]["uid"], seeded["metadata"]["uid"]);
    assert_eq!(
        object["metadata"]["resourceVersion"],
        seeded["metadata"]["resourceVersion"]
    );
    assert_eq!(object["metadata"]["labels"]["captain/preview"], "true");
    assert_eq!(
        object["metadata"]["labels"]["kubernetes.io/metadata.name"],
        "pr-1"
    );
    assert_eq!(
        object["metadata"]["creationTimestamp"],
        created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    assert_eq!(object["status"]["phase"], "Active");
    assert_eq!(
        object["spec"]["finalizers"],
        serde_json::json!(["kubernetes"])
    );
}
#[tokio::test]
async fn kubectl_get_secrets_by_label_lists_only_helm_labelled_secrets() {
    let server = ApiServer::start().await;
    let release = b"H4sIAAAAAAAA/6uuBQBDv6ajAgAAAA==".as_slice();
    server.put_namespace("prod", &[], Utc::now());
    server.put_namespace("staging", &[], Utc::now());
    for (ns, name, owner) in [
        ("prod", "sh.helm.release.v1.shop.v6", "helm"),
        ("prod", "sh.helm.release.v1.shop.v7", "helm"),
        ("prod", "captain-token", "captain"),
        ("staging", "sh.helm.release.v1.shop.v9", "helm"),
    ] {
        server.put_secret(
            ns,
            name,
            &[("owner", owner), ("name", "shop")],
            "helm.sh/release.v1",
            &[("release", release)],
        );
    }
    server.put_secret(
        "prod",
        "unlabelled",
        &[],
        "Opaque",
        &[("a", b"1"), ("b", b"2")],
    );
    let Some(output) = kubectl(
        &server,
        &["get", "secrets", "-n", "prod", "-l", "owner=helm"],
    )
    .await
    else {
        return;
    };
    let table = rows(&succeeded(&output));
    assert_eq!(table[0], ["NAME", "TYPE", "DATA", "AGE"]);
    let listed: Vec<&[String]> = table[1..].iter().map(|r| &r[..3]).collect();
    assert_eq!(
        listed,
        [
            ["sh.helm.release.v1.shop.v6", "helm.sh/release.v1", "1"],
            ["sh.helm.release.v1.shop.v7", "helm.sh/release.v1", "1"],
        ]
    );
}
#[tokio::test]
async fn kubectl_get_missing_ns_exits_non_zero_with_not_found() {
    let server = ApiServer::start().await;
    server.put_namespace("pr-1", &[], Utc::now());
    let Some(output) = kubectl(&server, &["get", "ns", "pr-404"]).await else {
        return;
    };
    assert!(!output.status.success());
    assert_eq!(
        stderr(&output).trim(),
        "Error from server (NotFound): namespaces \"pr-404\" not found"
    );
}
#[tokio::test]
async fn kubectl_get_ns_with_chunk_size_pages_through_all_namespaces() {
    let server = ApiServer::start().await;
    for n in 1..=5 {
        server.put_namespace(&format!("pr-{n}"), &[], Utc::now() - Age::minutes(n));
    }
    let Some(output) = kubectl(&server, &["get", "ns", "--chunk-size=2"]).await else {
        return;
    };
    let names: Vec<String> = rows(&succeeded(&output))
        .into_iter()
        .skip(1)
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(names, ["pr-1", "pr-2", "pr-3", "pr-4", "pr-5"]);
    let pages: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == "/api/v1/namespaces")
        .collect();
    assert_eq!(pages.len(), 3, "{pages:#?}");
    assert!(
        pages
            .iter()
            .all(|p| p.param("limit").as_deref() == Some("2"))
    );
    assert_eq!(pages[0].param("continue"), None);
    assert!(pages[1].param("continue").is_some() && pages[2].param("continue").is_some());
}
#[tokio::test]
async fn kubectl_api_resources_lists_the_served_types_through_legacy_discovery() {
    let server = ApiServer::start().await;
    let Some(output) = kubectl(&server, &["api-resources", "--no-headers"]).await else {
        return;
    };
    let mut listed: Vec<String> = rows(&succeeded(&output))
        .into_iter()
        .map(|r| r.join(" "))
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            "configmaps cm v1 true ConfigMap",
            "deployments deploy apps/v1 true Deployment",
            "httproutes gateway.networking.k8s.io/v1 true HTTPRoute",
            "ingresses ing networking.k8s.io/v1 true Ingress",
            "leases coordination.k8s.io/v1 true Lease",
            "namespaces ns v1 false Namespace",
            "secrets v1 true Secret",
            "selfsubjectaccessreviews authorization.k8s.io/v1 false SelfSubjectAccessReview",
        ]
    );
    // kubectl asked for aggregated discovery, got the plain documents, and fell back to
    // reading each group-version.
    let requests = server.requests();
    let apis = requests
        .iter()
        .find(|r| r.path == "/apis")
        .expect("/apis asked");
    assert!(
        apis.accept.contains("as=APIGroupDiscoveryList"),
        "{}",
        apis.accept
    );
    assert!(
        requests
            .iter()
            .any(|r| r.path == "/apis/gateway.networking.k8s.io/v1")
    );
}
#[tokio::test]
async fn kubectl_get_ns_watch_prints_rows_as_namespaces_change() {
    let server = ApiServer::start().await;
    server.put_namespace("pr-1", &[], Utc::now() - Age::minutes(20));
    let Some(mut command) = server.kubectl() else {
        return;
    };
    command.args(["get", "ns", "--watch", "--request-timeout=3s"]);
    let watching = tokio::task::spawn_blocking(move || command.output());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.put_namespace("pr-2", &[], Utc::now());
    let output = watching
        .await
        .expect("the kubectl task")
        .expect("running kubectl");
    let table = rows(&succeeded(&output));
    let shown: Vec<&[String]> = table.iter().map(|r| &r[..2]).collect();
    assert_eq!(
        shown,
        [["NAME", "STATUS"], ["pr-1", "Active"], ["pr-2", "Active"]]
    );
    assert_eq!(table[1][2], "20m");
    let watch = server
        .requests()
        .into_iter()
        .find(|r| r.param("watch").as_deref() == Some("true"))
        .expect("kubectl watched");
    assert!(
        watch.accept.starts_with("application/json;as=Table;"),
        "{}",
        watch.accept
    );
}
