//! Asking for less: metadata-only lists, gets and watches (`PartialObjectMetadata`) as
//! kube-rs asks for them and the API server answers them, field selectors on a name as
//! kubectl and kube-rs send them, and the count of requests by verb and resource.

use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams};
use kube::core::PartialObjectMeta;
use kube::runtime::watcher::{self, Event};
use serde_json::{Value, json};

use crate::{kubectl, succeeded};
use captain_testkit::apiserver::{ApiServer, TOKEN};

const LIST: &str = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
const ONE: &str = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";

/// A namespace as `kubectl apply` leaves it: labels, the last-applied annotation and the
/// managed fields of its two writers.
fn applied_namespace(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {"app.kubernetes.io/part-of": "previews"},
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration":
                    format!("{{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{{\"name\":\"{name}\"}}}}\n"),
            },
            "managedFields": [{
                "manager": "kubectl-client-side-apply",
                "operation": "Update",
                "apiVersion": "v1",
                "time": "2026-11-20T10:00:00Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}, "f:labels": {".": {}, "f:app.kubernetes.io/part-of": {}}}},
            }],
        },
    })
}

async fn get_as(server: &ApiServer, path: &str, accept: &str) -> Value {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", server.url()))
        .bearer_auth(TOKEN)
        .header("Accept", accept)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 200, "{path}");
    response.json().await.expect("JSON")
}

#[tokio::test]
async fn a_metadata_list_and_get_carry_partial_object_metadata_with_the_whole_metadata() {
    let server = ApiServer::start().await;
    let stored = server.put_object(applied_namespace("pr-1"));
    server.put_namespace("prod", &[], Utc::now());

    let list = get_as(&server, "/api/v1/namespaces?limit=1", LIST).await;
    assert_eq!(list["kind"], "PartialObjectMetadataList");
    assert_eq!(list["apiVersion"], "meta.k8s.io/v1");
    assert!(list["metadata"]["continue"].is_string(), "paged as asked");
    let item = &list["items"][0];
    assert_eq!(item["kind"], "PartialObjectMetadata");
    assert_eq!(item["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(item["metadata"], stored["metadata"], "all of the metadata");
    assert!(item["metadata"]["managedFields"].is_array());
    assert!(item.get("spec").is_none() && item.get("status").is_none());

    let one = get_as(&server, "/api/v1/namespaces/pr-1", ONE).await;
    assert_eq!(one["kind"], "PartialObjectMetadata");
    assert_eq!(one["metadata"]["uid"], stored["metadata"]["uid"]);
    assert!(one.get("status").is_none());

    let full = get_as(&server, "/api/v1/namespaces/pr-1", "application/json").await;
    assert_eq!(full["kind"], "Namespace", "asked for nothing less");
    assert_eq!(full["status"]["phase"], "Active");
}

#[tokio::test]
async fn kube_rs_metadata_watcher_lists_then_watches_metadata_only() {
    let server = ApiServer::start().await;
    server.put_object(applied_namespace("pr-1"));
    let client = server.client().await;
    let api: Api<PartialObjectMeta<Namespace>> = Api::all(client);

    let listed = api
        .list_metadata(&ListParams::default())
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 1);
    let managers: Vec<_> = listed.items[0]
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|f| f.manager.clone())
        .collect();
    assert_eq!(managers, ["kubectl-client-side-apply"]);

    let config = watcher::Config::default().page_size(500);
    let mut events = std::pin::pin!(watcher::watcher(api, config));
    let mut seen = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .expect("an event")
            .expect("the stream goes on")
            .expect("no watch error");
        match event {
            Event::InitApply(ns) => seen.push(ns.metadata.name.unwrap_or_default()),
            Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(seen, ["pr-1"]);
    server.put_object(applied_namespace("pr-2"));
    let event = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("an event")
        .expect("the stream goes on")
        .expect("no watch error");
    let Event::Apply(ns) = event else {
        panic!("expected pr-2 applied, got {event:?}")
    };
    assert_eq!(ns.metadata.name.as_deref(), Some("pr-2"));
    assert_eq!(
        ns.types.as_ref().map(|t| t.kind.as_str()),
        Some("PartialObjectMetadata")
    );

    let requests = server.requests();
    let namespaces: Vec<_> = requests
        .iter()
        .filter(|r| r.path == "/api/v1/namespaces")
        .collect();
    assert!(namespaces.len() >= 3, "{namespaces:#?}");
    for r in &namespaces {
        let watch = r.param("watch").is_some();
        assert_eq!(r.accept, if watch { ONE } else { LIST }, "{r:?}");
    }
}

#[tokio::test]
async fn a_metadata_watch_sends_partial_object_metadata_events_and_bookmarks() {
    let server = ApiServer::start().await;
    let list = get_as(&server, "/api/v1/namespaces", LIST).await;
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!(
        "{}/api/v1/namespaces?watch=1&allowWatchBookmarks=true&resourceVersion={rv}",
        server.url()
    );
    let mut response = reqwest::Client::new()
        .get(path)
        .bearer_auth(TOKEN)
        .header("Accept", ONE)
        .send()
        .await
        .expect("the watch");
    server.put_object(applied_namespace("pr-3"));
    let mut text = String::new();
    let mut events: Vec<Value> = Vec::new();
    while events.len() < 2 {
        let chunk = tokio::time::timeout(Duration::from_secs(5), response.chunk())
            .await
            .expect("a chunk within 5 s")
            .expect("reading")
            .expect("the stream goes on");
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find('\n') {
            let line: String = text.drain(..=end).collect();
            events.push(serde_json::from_str(&line).expect("one JSON event a line"));
        }
    }
    let added = events.iter().find(|e| e["type"] == "ADDED").expect("ADDED");
    assert_eq!(added["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(added["object"]["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(added["object"]["metadata"]["name"], "pr-3");
    assert!(added["object"].get("spec").is_none());
    let bookmark = events
        .iter()
        .find(|e| e["type"] == "BOOKMARK")
        .expect("a BOOKMARK within the interval");
    assert_eq!(bookmark["object"]["kind"], "PartialObjectMetadata");
}

#[tokio::test]
async fn kubectl_selects_one_object_by_name_with_a_field_selector() {
    let server = ApiServer::start().await;
    for name in ["pr-1", "pr-2", "prod"] {
        server.put_namespace(name, &[], Utc::now());
    }
    server.put_configmap("prod", "captain-summit", &[], &[("train.json", "{}")]);
    server.put_configmap("prod", "other", &[], &[]);
    let Some(output) = kubectl(
        &server,
        &[
            "get",
            "ns",
            "--field-selector",
            "metadata.name=pr-2",
            "-o",
            "name",
        ],
    )
    .await
    else {
        return;
    };
    assert_eq!(succeeded(&output), "namespace/pr-2\n");
    let Some(output) = kubectl(
        &server,
        &[
            "get",
            "configmaps",
            "-n",
            "prod",
            "--field-selector",
            "metadata.name=captain-summit",
            "-o",
            "name",
        ],
    )
    .await
    else {
        return;
    };
    assert_eq!(succeeded(&output), "configmap/captain-summit\n");
    let selected: Vec<_> = server
        .requests()
        .into_iter()
        .filter_map(|r| r.param("fieldSelector"))
        .collect();
    assert_eq!(
        selected,
        ["metadata.name=pr-2", "metadata.name=captain-summit"]
    );
}

#[tokio::test]
async fn kube_rs_watches_one_configmap_by_name_and_the_requests_are_counted_by_verb() {
    let server = ApiServer::start().await;
    server.put_configmap("prod", "captain-summit", &[], &[("train.json", "{}")]);
    server.put_configmap("prod", "other", &[], &[]);
    let client = server.client().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "prod");
    let config = watcher::Config::default().fields("metadata.name=captain-summit");
    let mut events = std::pin::pin!(watcher::watcher(api, config));
    let mut seen = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .expect("an event")
            .expect("the stream goes on")
            .expect("no watch error");
        match event {
            Event::InitApply(cm) => seen.push(cm.metadata.name.unwrap_or_default()),
            Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(seen, ["captain-summit"]);
    server.put_configmap("prod", "other", &[], &[("touched", "yes")]);
    server.put_configmap(
        "prod",
        "captain-summit",
        &[],
        &[("train.json", "{\"a\":1}")],
    );
    let event = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("an event")
        .expect("the stream goes on")
        .expect("no watch error");
    let Event::Apply(cm) = event else {
        panic!("expected captain-summit applied, got {event:?}")
    };
    assert_eq!(
        cm.metadata.name.as_deref(),
        Some("captain-summit"),
        "never `other`"
    );

    let counts = server.request_counts();
    let count = |verb: &str, resource: &str| {
        counts
            .get(&(verb.to_string(), resource.to_string()))
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(count("list", "configmaps"), 1, "{counts:?}");
    assert_eq!(count("watch", "configmaps"), 1, "{counts:?}");
    assert_eq!(counts.values().sum::<usize>(), server.requests().len());
}
