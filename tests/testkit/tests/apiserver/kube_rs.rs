//! kube-rs, the client captain's Kubernetes source is built on, against the test API
//! server: typed lists and gets, errors as Statuses, writes with optimistic concurrency,
//! server-side apply, and the watcher's list-watch, relist-after-410 and streaming list.

use std::time::Duration;

use chrono::Utc;
use futures::{Stream, StreamExt};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::runtime::watcher::{self, Event};
use serde_json::json;

use captain_testkit::apiserver::{AccessPolicy, ApiServer};

fn api_status(result: Result<impl std::fmt::Debug, kube::Error>) -> Box<kube::core::Status> {
    match result {
        Err(kube::Error::Api(status)) => status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn kube_rs_lists_and_gets_typed_objects_and_reads_errors_as_statuses() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], Utc::now());
    server.put_namespace("pr-1", &[("captain/preview", "true")], Utc::now());
    server.put_secret(
        "prod",
        "sh.helm.release.v1.shop.v7",
        &[("owner", "helm")],
        "helm.sh/release.v1",
        &[("release", b"H4sI")],
    );
    server.put_secret("prod", "other", &[], "Opaque", &[]);
    let client = server.client().await;

    let namespaces = Api::<Namespace>::all(client.clone())
        .list(&ListParams::default())
        .await
        .expect("list");
    let names: Vec<_> = namespaces
        .items
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    assert_eq!(names, ["pr-1", "prod"]);
    assert!(namespaces.metadata.resource_version.is_some());

    let secrets = Api::<Secret>::namespaced(client.clone(), "prod");
    let helm = secrets
        .list(&ListParams::default().labels("owner=helm"))
        .await
        .expect("list");
    assert_eq!(helm.items.len(), 1);
    let release = &helm.items[0].data.as_ref().expect("data")["release"];
    assert_eq!(release.0, b"H4sI");
    assert_eq!(helm.items[0].type_.as_deref(), Some("helm.sh/release.v1"));

    let status = api_status(secrets.get("missing").await);
    assert!(status.is_not_found(), "{status:?}");
    assert_eq!(status.message, "secrets \"missing\" not found");

    server.set_access(AccessPolicy::allow_all().deny("list", "secrets"));
    let status = api_status(secrets.list(&ListParams::default()).await);
    assert!(status.is_forbidden(), "{status:?}");
}

#[tokio::test]
async fn kube_rs_writes_with_optimistic_concurrency() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], Utc::now());
    let client = server.client().await;
    let leases = Api::<Lease>::namespaced(client.clone(), "prod");
    let lease = Lease {
        metadata: ObjectMeta {
            name: Some("captain-driver".into()),
            ..Default::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some("alice@laptop".into()),
            lease_duration_seconds: Some(30),
            ..Default::default()
        }),
    };
    let created = leases
        .create(&PostParams::default(), &lease)
        .await
        .expect("create");
    let status = api_status(leases.create(&PostParams::default(), &lease).await);
    assert!(status.is_already_exists(), "{status:?}");

    let mut taken = created.clone();
    taken.spec.as_mut().expect("spec").holder_identity = Some("bob@home".into());
    let taken = leases
        .replace("captain-driver", &PostParams::default(), &taken)
        .await
        .expect("replace");
    assert_eq!(
        taken
            .spec
            .as_ref()
            .and_then(|s| s.holder_identity.as_deref()),
        Some("bob@home")
    );

    // Alice still holds the first version: her write must not silently win.
    let mut late = created.clone();
    late.spec.as_mut().expect("spec").holder_identity = Some("alice@laptop".into());
    late.spec.as_mut().expect("spec").lease_transitions = Some(1);
    let status = api_status(
        leases
            .replace("captain-driver", &PostParams::default(), &late)
            .await,
    );
    assert!(status.is_conflict(), "{status:?}");

    let patch = json!({"metadata": {"resourceVersion": created.metadata.resource_version}, "spec": {"holderIdentity": "alice@laptop"}});
    let status = api_status(
        leases
            .patch(
                "captain-driver",
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await,
    );
    assert!(status.is_conflict(), "{status:?}");
    let stored = server
        .object("leases", Some("prod"), "captain-driver")
        .expect("stored");
    assert_eq!(stored["spec"]["holderIdentity"], "bob@home");
}

#[tokio::test]
async fn kube_rs_applies_server_side_and_deletes() {
    let server = ApiServer::start().await;
    server.set_namespace_finalize_delay(None);
    server.put_namespace("prod", &[], Utc::now());
    server.put_namespace("pr-1", &[], Utc::now());
    let client = server.client().await;
    let maps = Api::<ConfigMap>::namespaced(client.clone(), "prod");
    let apply = PatchParams::apply("captain");
    let state = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "train"}, "data": {"step": "1"}});
    let created = maps
        .patch("train", &apply, &Patch::Apply(&state))
        .await
        .expect("apply creates");
    let state = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "train"}, "data": {"step": "2"}});
    let updated = maps
        .patch("train", &apply, &Patch::Apply(&state))
        .await
        .expect("apply updates");
    assert_eq!(updated.data.as_ref().map(|d| d["step"].as_str()), Some("2"));
    assert_eq!(updated.metadata.uid, created.metadata.uid);

    let gone = maps
        .delete("train", &DeleteParams::default())
        .await
        .expect("delete");
    let status = gone.right().expect("an immediate delete answers a Status");
    assert!(status.is_success());
    let namespaces = Api::<Namespace>::all(client);
    let terminating = namespaces
        .delete("pr-1", &DeleteParams::default())
        .await
        .expect("delete");
    let namespace = terminating
        .left()
        .expect("a namespace delete answers the namespace");
    assert_eq!(
        namespace.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    assert!(namespace.metadata.deletion_timestamp.is_some());
}

async fn next_event<S>(stream: &mut S) -> Result<Event<Namespace>, watcher::Error>
where
    S: Stream<Item = Result<Event<Namespace>, watcher::Error>> + Unpin,
{
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("a watcher event within 10 s")
        .expect("the watcher stream does not end")
}

/// `Init`, `InitApply(name)`..., `InitDone`, `Apply(name)`, `Delete(name)` as text.
fn describe(event: &Event<Namespace>) -> String {
    let name = |n: &Namespace| n.metadata.name.clone().unwrap_or_default();
    match event {
        Event::Init => "Init".into(),
        Event::InitApply(n) => format!("InitApply({})", name(n)),
        Event::InitDone => "InitDone".into(),
        Event::Apply(n) => format!("Apply({})", name(n)),
        Event::Delete(n) => format!("Delete({})", name(n)),
    }
}

#[tokio::test]
async fn kube_rs_watcher_follows_changes_and_relists_after_a_410() {
    let server = ApiServer::start().await;
    server.put_namespace("pr-1", &[], Utc::now());
    let api = Api::<Namespace>::all(server.client().await);
    let mut stream = watcher::watcher(api, watcher::Config::default()).boxed();
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(describe(&next_event(&mut stream).await.expect("an event")));
    }
    assert_eq!(seen, ["Init", "InitApply(pr-1)", "InitDone"]);

    server.put_namespace("pr-2", &[], Utc::now());
    assert_eq!(
        describe(&next_event(&mut stream).await.expect("an event")),
        "Apply(pr-2)"
    );
    server.remove_object("namespaces", None, "pr-1");
    assert_eq!(
        describe(&next_event(&mut stream).await.expect("an event")),
        "Delete(pr-1)"
    );

    // History gone and the watch cut: the watcher re-watches from its resourceVersion,
    // gets the in-stream 410, reports it, and relists.
    server.expire_watch_history();
    server.close_watches();
    let error = next_event(&mut stream).await.expect_err("the 410");
    assert!(
        matches!(&error, watcher::Error::WatchError(status) if status.code == 410),
        "{error:?}"
    );
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(describe(&next_event(&mut stream).await.expect("an event")));
    }
    assert_eq!(seen, ["Init", "InitApply(pr-2)", "InitDone"]);
}

#[tokio::test]
async fn kube_rs_streaming_list_watcher_gets_initial_events_then_changes() {
    let server = ApiServer::start().await;
    server.put_namespace("pr-1", &[("captain/preview", "true")], Utc::now());
    server.put_namespace("prod", &[], Utc::now());
    let api = Api::<Namespace>::all(server.client().await);
    let config = watcher::Config::default()
        .streaming_lists()
        .labels("captain/preview=true");
    let mut stream = watcher::watcher(api, config).boxed();
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(describe(&next_event(&mut stream).await.expect("an event")));
    }
    assert_eq!(seen, ["Init", "InitApply(pr-1)", "InitDone"]);
    server.put_namespace("pr-2", &[("captain/preview", "true")], Utc::now());
    assert_eq!(
        describe(&next_event(&mut stream).await.expect("an event")),
        "Apply(pr-2)"
    );
    let watch = server
        .requests()
        .into_iter()
        .find(|r| r.param("watch").is_some())
        .expect("a watch request");
    assert_eq!(watch.param("sendInitialEvents").as_deref(), Some("true"));
}
