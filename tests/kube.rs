//! Kubernetes and Helm against the wire-faithful test API server (`captain_testkit::apiserver`):
//! the preview namespaces feed (one watcher, no polling, a 410 survived, 10,000 namespaces
//! in pages), deleting previews, canary weights patched with resourceVersion preconditions
//! and read back, and the Helm release history read from Helm's own Secrets.

// The server's support module exports more than these tests use.
mod kube_tests_support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use captain::clock::{Clock, SystemClock};
use captain::config::app::{PreviewConfig, ReleaseConfig, TrafficConfig, TrafficKind};
use captain::sources::kube::previews;
use captain::sources::kube::traffic::{CANARY_ANNOTATION, WEIGHT_ANNOTATION};
use captain::sources::kube::{
    GatewayRoute, HelmCli, HelmReleases, KubeCluster, KubeTarget, TrafficShifter, connect,
};
use captain::sources::{Cluster, Deletion, Deployer, Reading, SourceError};
use captain_testkit::apiserver::{AccessPolicy, ApiServer};
use captain_testkit::kube::*;
use kube_tests_support::*;

const NAMESPACES: &str = "/api/v1/namespaces";
const ROUTE: &str = "/apis/gateway.networking.k8s.io/v1/namespaces/prod/httproutes/summit";
/// A change must reach the feed within this.
const PROMPTLY: Duration = Duration::from_secs(1);
const STARTUP: Duration = Duration::from_secs(10);

fn clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

async fn target(server: &ApiServer) -> KubeTarget {
    connect(None, Some(&server.kubeconfig()))
        .await
        .expect("connecting through the test kubeconfig")
}

fn release() -> ReleaseConfig {
    ReleaseConfig {
        name: "summit".into(),
        namespace: "prod".into(),
        stage_namespace: "stage".into(),
    }
}

async fn cluster(server: &ApiServer, kind: TrafficKind, route: &str) -> KubeCluster {
    let traffic = TrafficConfig {
        kind,
        route: route.into(),
    };
    KubeCluster::spawn(
        &target(server).await,
        &PreviewConfig::default(),
        &release(),
        &traffic,
        clock(),
    )
}

fn names<T>(r: &Reading<Vec<T>>, name: impl Fn(&T) -> &str) -> Vec<String> {
    r.value
        .as_ref()
        .map(|v| v.iter().map(|p| name(p).to_string()).collect())
        .unwrap_or_default()
}

fn listed(r: &Reading<Vec<captain::engine::previews::Preview>>) -> Vec<String> {
    names(r, |p| p.namespace.as_str())
}

fn ago(days: i64) -> chrono::DateTime<Utc> {
    Utc::now() - chrono::Duration::days(days)
}

// --- previews ------------------------------------------------------------------------------

#[tokio::test]
async fn the_previews_feed_sees_a_namespace_appear_change_and_go_within_a_second_without_polling() {
    let server = ApiServer::start().await;
    server.put_namespace("pr-1", &[], ago(4));
    server.put_namespace("prod", &[], ago(90));
    server.put_namespace("kube-system", &[], ago(90));
    let cluster = cluster(&server, TrafficKind::GatewayApi, "summit").await;
    let mut feed = cluster.previews();

    let first = until(&mut feed, STARTUP, "the first list", |r| r.value.is_some()).await;
    assert_eq!(listed(&first), ["pr-1"]);
    let created = first.value.as_ref().unwrap()[0].created;
    assert!((created - ago(4)).num_seconds().abs() < 5, "{created}");

    server.put_namespace("pr-2", &[], Utc::now());
    let r = until(&mut feed, PROMPTLY, "pr-2 appearing", |r| {
        listed(r).len() == 2
    })
    .await;
    assert_eq!(listed(&r), ["pr-1", "pr-2"], "oldest first");

    let mut pr2 = server.object("namespaces", None, "pr-2").unwrap();
    pr2["metadata"]["deletionTimestamp"] =
        json!(Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true));
    pr2["status"]["phase"] = json!("Terminating");
    server.put_object(pr2);
    until(&mut feed, PROMPTLY, "pr-2 terminating", |r| {
        r.value
            .as_ref()
            .is_some_and(|v| v.iter().any(|p| p.namespace == "pr-2" && p.terminating))
    })
    .await;

    server.remove_object("namespaces", None, "pr-2");
    let r = until(&mut feed, PROMPTLY, "pr-2 gone", |r| listed(r) == ["pr-1"]).await;
    assert!(r.fault.is_none());

    // Quiet for a few bookmark intervals: a poller would list again, a watch does not.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let requests = server.requests();
    assert_eq!(
        lists_of(&requests, NAMESPACES).len(),
        1,
        "one initial list, no polling"
    );
    let watches = watches_of(&requests, NAMESPACES);
    assert_eq!(watches.len(), 1, "one long-running watch: {watches:#?}");
    assert_eq!(
        watches[0].param("allowWatchBookmarks").as_deref(),
        Some("true")
    );
    // Metadata only: a preview needs no namespace's spec or status.
    let lists = lists_of(&requests, NAMESPACES);
    assert!(
        lists[0]
            .accept
            .starts_with("application/json;as=PartialObjectMetadataList;"),
        "{:?}",
        lists[0].accept
    );
    assert!(
        watches[0]
            .accept
            .starts_with("application/json;as=PartialObjectMetadata;"),
        "{:?}",
        watches[0].accept
    );
}

#[tokio::test]
async fn a_mid_stream_410_relists_without_losing_or_duplicating_a_namespace() {
    let server = ApiServer::start().await;
    server.put_namespace("pr-1", &[], ago(5));
    server.put_namespace("pr-2", &[], ago(4));
    let cluster = cluster(&server, TrafficKind::GatewayApi, "summit").await;
    let mut feed = cluster.previews();
    until(&mut feed, STARTUP, "the first list", |r| {
        listed(r) == ["pr-1", "pr-2"]
    })
    .await;

    // The watch drops and cannot come back for a while: a fault, the last list kept.
    server.set_access(AccessPolicy::allow_all().deny("watch", "namespaces"));
    server.close_watches();
    let r = until(&mut feed, STARTUP, "a fault", |r| r.fault.is_some()).await;
    assert_eq!(listed(&r), ["pr-1", "pr-2"], "the last list is kept");
    assert!(
        matches!(&r.fault, Some((_, SourceError::Rejected(m))) if m.contains("403")),
        "{:?}",
        r.fault
    );

    // Meanwhile the cluster changes and compacts its history past the watcher's
    // resourceVersion: the re-watch gets the in-stream 410 and the watcher re-lists.
    server.put_namespace("pr-3", &[], ago(1));
    server.remove_object("namespaces", None, "pr-1");
    server.put_namespace("pr-2", &[("touched", "yes")], ago(4));
    server.expire_watch_history();
    server.set_access(AccessPolicy::allow_all());

    let r = until(&mut feed, STARTUP, "the re-listed previews", |r| {
        r.fault.is_none() && listed(r) == ["pr-2", "pr-3"]
    })
    .await;
    assert_eq!(listed(&r), ["pr-2", "pr-3"], "none lost, none twice");
    assert_eq!(
        lists_of(&server.requests(), NAMESPACES).len(),
        2,
        "re-listed once"
    );

    // And it watches again from the new list.
    server.put_namespace("pr-4", &[], Utc::now());
    until(&mut feed, PROMPTLY, "pr-4 after the re-list", |r| {
        listed(r) == ["pr-2", "pr-3", "pr-4"]
    })
    .await;
}

#[tokio::test]
async fn a_watch_that_comes_back_resumes_where_it_was_and_clears_its_fault() {
    let server = ApiServer::start().await;
    server.put_namespace("pr-1", &[], ago(5));
    let t = target(&server).await;
    let quiet = Duration::from_secs(3);
    let (mut feed, watch) =
        previews::spawn_with_quiet(t.client.clone(), "pr-".into(), clock(), quiet);
    until(&mut feed, STARTUP, "the first list", |r| {
        listed(r) == ["pr-1"]
    })
    .await;

    server.set_access(AccessPolicy::allow_all().deny("watch", "namespaces"));
    server.close_watches();
    until(&mut feed, STARTUP, "a fault", |r| r.fault.is_some()).await;
    server.set_access(AccessPolicy::allow_all());

    // Nothing changed meanwhile: no event will say the watch is back; the quiet does.
    let r = until(&mut feed, quiet * 4, "the fault cleared", |r| {
        r.fault.is_none()
    })
    .await;
    assert_eq!(listed(&r), ["pr-1"]);
    assert_eq!(
        lists_of(&server.requests(), NAMESPACES).len(),
        1,
        "resumed from its resourceVersion, not re-listed"
    );
    server.put_namespace("pr-2", &[], Utc::now());
    until(&mut feed, PROMPTLY, "pr-2 on the resumed watch", |r| {
        listed(r) == ["pr-1", "pr-2"]
    })
    .await;
    watch.abort();
}

#[tokio::test]
async fn ten_thousand_namespaces_reach_the_feed_in_pages_and_all_at_once() {
    let server = ApiServer::start().await;
    // Pull request numbers start at 1: `pr-0` is not a preview.
    for i in 1..=10_000 {
        server.put_namespace(
            &format!("pr-{i}"),
            &[],
            ago(10) + chrono::Duration::seconds(i),
        );
    }
    for i in 0..50 {
        server.put_namespace(&format!("team-{i}"), &[], ago(100));
    }
    let cluster = cluster(&server, TrafficKind::GatewayApi, "summit").await;
    let mut feed = cluster.previews();
    let first = until(&mut feed, Duration::from_secs(60), "the first list", |r| {
        r.value.is_some()
    })
    .await;
    let list = first.value.as_ref().unwrap();
    assert_eq!(
        list.len(),
        10_000,
        "the first reading is the whole list, never a page"
    );
    assert_eq!(list[0].namespace, "pr-1");
    assert_eq!(list[9_999].namespace, "pr-10000");

    let requests = server.requests();
    let pages = lists_of(&requests, NAMESPACES);
    assert_eq!(pages.len(), 21, "10,050 namespaces in pages of 500");
    assert!(
        pages
            .iter()
            .all(|p| p.param("limit").as_deref() == Some("500"))
    );
    assert!(pages[0].param("continue").is_none());
    assert!(pages[1..].iter().all(|p| p.param("continue").is_some()));
}

// --- deleting previews ---------------------------------------------------------------------

#[tokio::test]
async fn deleting_a_preview_is_idempotent_and_nothing_else_is_deleted() {
    let server = ApiServer::start().await;
    server.set_namespace_finalize_delay(None);
    server.put_namespace("pr-7", &[], ago(5));
    server.put_namespace("prod", &[], ago(90));
    let cluster = cluster(&server, TrafficKind::GatewayApi, "summit").await;

    assert_eq!(
        cluster.delete_namespace("pr-7").await,
        Ok(Deletion::Deleted)
    );
    let pr7 = server.object("namespaces", None, "pr-7").unwrap();
    assert_eq!(pr7["status"]["phase"], "Terminating");
    assert_eq!(
        cluster.delete_namespace("pr-7").await,
        Ok(Deletion::AlreadyGone),
        "already terminating"
    );
    server.delete_namespace_now("pr-7");
    assert_eq!(
        cluster.delete_namespace("pr-7").await,
        Ok(Deletion::AlreadyGone)
    );

    let refused = cluster.delete_namespace("prod").await;
    assert!(
        matches!(&refused, Ok(Deletion::Kept(why)) if why.contains("never deleted")),
        "{refused:?}"
    );
    assert!(server.object("namespaces", None, "prod").is_some());
    let deletes: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path)
        .collect();
    assert_eq!(
        deletes,
        ["/api/v1/namespaces/pr-7"],
        "one DELETE, for pr-7 only"
    );

    server.put_namespace("pr-8", &[], ago(5));
    server.set_access(AccessPolicy::allow_all().deny("delete", "namespaces"));
    let forbidden = cluster.delete_namespace("pr-8").await;
    assert!(
        matches!(&forbidden, Err(SourceError::Rejected(m)) if m.contains("403") && m.contains("pr-8")),
        "{forbidden:?}"
    );
}

#[tokio::test]
async fn a_preview_holding_a_helm_release_or_captains_state_is_kept_and_unchecked_is_not_deleted() {
    let server = ApiServer::start().await;
    server.set_namespace_finalize_delay(None);
    for ns in [
        "pr-7",
        "pr-8",
        "pr-9",
        "stage",
        "kube-public",
        "default",
        "pr-010",
    ] {
        server.put_namespace(ns, &[], ago(40));
    }
    server.put_secret(
        "pr-7",
        "sh.helm.release.v1.preview.v1",
        &[("owner", "helm"), ("name", "preview")],
        "helm.sh/release.v1",
        &[("release", b"H4sI")],
    );
    server.put_configmap(
        "pr-8",
        "captain-summit",
        &[("app.kubernetes.io/managed-by", "captain")],
        &[("train.json", "{}")],
    );
    // An opaque Secret labelled like Helm's is not a release.
    server.put_secret("pr-9", "lookalike", &[("owner", "helm")], "Opaque", &[]);
    let cluster = cluster(&server, TrafficKind::GatewayApi, "summit").await;

    let kept = cluster.delete_namespace("pr-7").await;
    assert!(
        matches!(&kept, Ok(Deletion::Kept(why)) if why.contains("Helm release") && why.contains("sh.helm.release.v1.preview.v1")),
        "{kept:?}"
    );
    let kept = cluster.delete_namespace("pr-8").await;
    assert!(
        matches!(&kept, Ok(Deletion::Kept(why)) if why.contains("captain's shared state") && why.contains("captain-summit")),
        "{kept:?}"
    );
    for name in ["stage", "kube-public", "default", "pr-010"] {
        let kept = cluster.delete_namespace(name).await;
        assert!(matches!(&kept, Ok(Deletion::Kept(_))), "{name}: {kept:?}");
    }

    server.set_access(AccessPolicy::allow_all().deny("list", "secrets"));
    let unchecked = cluster.delete_namespace("pr-9").await;
    assert!(
        matches!(&unchecked, Err(SourceError::Rejected(m)) if m.contains("cannot be checked") && m.contains("403")),
        "{unchecked:?}"
    );
    server.set_access(AccessPolicy::allow_all());
    assert_eq!(
        cluster.delete_namespace("pr-9").await,
        Ok(Deletion::Deleted)
    );
    let deletes: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path)
        .collect();
    assert_eq!(
        deletes,
        ["/api/v1/namespaces/pr-9"],
        "only pr-9, once checked"
    );
}

#[tokio::test]
async fn a_kubeconfig_token_with_its_newline_is_trimmed_and_a_bad_one_refused_unshown() {
    let server = ApiServer::start().await;
    server.put_namespace("pr-1", &[], ago(1));
    let path = server.kubeconfig();
    let text = std::fs::read_to_string(&path).unwrap();
    let token_line = format!("token: {}", server.token());
    assert!(text.contains(&token_line), "{text}");

    let pasted = path.with_file_name("pasted");
    let with_newline = format!("token: \"{}\\n\"", server.token());
    std::fs::write(&pasted, text.replace(&token_line, &with_newline)).unwrap();
    let t = connect(None, Some(&pasted)).await.expect("a trimmed token");
    let api: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(t.client);
    let names: Vec<_> = api
        .list(&Default::default())
        .await
        .expect("authenticated with the trimmed token")
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    assert_eq!(names, ["pr-1"]);

    let broken = path.with_file_name("broken");
    let inside = format!("token: \"{}\\u0001x\"", server.token());
    std::fs::write(&broken, text.replace(&token_line, &inside)).unwrap();
    let Err(e) = connect(None, Some(&broken)).await else {
        panic!("a token a header cannot carry is refused");
    };
    let said = e.to_string();
    assert!(
        said.contains("token") && said.contains("not shown"),
        "{said}"
    );
    assert!(
        !said.contains(server.token()),
        "the token is never printed: {said}"
    );
}

// --- traffic -------------------------------------------------------------------------------

#[tokio::test]
async fn the_route_weights_are_patched_with_a_precondition_and_read_back() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], ago(90));
    let before = server.put_object(http_route(100, 0));
    let cluster = cluster(&server, TrafficKind::GatewayApi, "summit").await;

    assert_eq!(cluster.canary_weight().await, Ok(0));
    assert_eq!(cluster.set_canary_weight(25).await, Ok(25));
    assert_eq!(route_weights(&server), (75, 25));
    let after = server
        .object(
            "httproutes.gateway.networking.k8s.io",
            Some("prod"),
            "summit",
        )
        .unwrap();
    assert_eq!(
        after["spec"]["rules"][1], before["spec"]["rules"][1],
        "other rules untouched"
    );
    assert_eq!(after["spec"]["parentRefs"], before["spec"]["parentRefs"]);

    let requests = server.requests();
    let on_route: Vec<_> = requests
        .iter()
        .filter(|r| r.path == ROUTE)
        .map(|r| r.method.as_str())
        .collect();
    assert_eq!(
        on_route,
        ["GET", "GET", "PATCH", "GET"],
        "read, patch, read back"
    );
    let patch = requests.iter().find(|r| r.method == "PATCH").unwrap();
    assert!(
        patch
            .content_type
            .starts_with("application/merge-patch+json")
    );

    assert_eq!(cluster.set_canary_weight(100).await, Ok(100));
    assert_eq!(route_weights(&server), (0, 100));
}

#[tokio::test]
async fn a_route_changed_under_the_writer_is_re_read_and_the_cluster_weight_returned() {
    // Two writers race on the same resourceVersion: one patch lands, the other gets a
    // 409 Conflict, re-reads and patches again.
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], ago(90));
    server.put_object(http_route(100, 0));
    let t = target(&server).await;
    let a = GatewayRoute::new(t.client.clone(), "prod", "summit", clock());
    let b = GatewayRoute::new(t.client.clone(), "prod", "summit", clock());

    let (ra, rb) = tokio::join!(a.set_weight(25), b.set_weight(50));
    let (ra, rb) = (ra.expect("writer a"), rb.expect("writer b"));
    let patches = server
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path == ROUTE)
        .count();
    assert_eq!(
        patches, 3,
        "both patched once at the same resourceVersion, one again"
    );
    let (stable, canary) = route_weights(&server);
    assert!(canary == 25 || canary == 50, "{canary}");
    assert_eq!(stable + canary, 100);
    assert!(
        [25, 50].contains(&ra) && [25, 50].contains(&rb),
        "{ra} {rb}"
    );
    assert_eq!(a.weight().await, Ok(canary as u8), "what the cluster has");
}

#[tokio::test]
async fn the_ingress_nginx_canary_weight_is_set_and_read_back() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], ago(90));
    server.put_object(json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": "summit-canary",
            "namespace": "prod",
            "annotations": {CANARY_ANNOTATION: "true", WEIGHT_ANNOTATION: "5"},
        },
        "spec": {
            "ingressClassName": "nginx",
            "rules": [{"host": "summit.example.com", "http": {"paths": [{
                "path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": "summit-canary", "port": {"number": 8080}}},
            }]}}],
        },
    }));
    let cluster = cluster(&server, TrafficKind::IngressNginx, "summit-canary").await;

    assert_eq!(cluster.canary_weight().await, Ok(5));
    assert_eq!(cluster.set_canary_weight(50).await, Ok(50));
    let ingress = server
        .object("ingresses.networking.k8s.io", Some("prod"), "summit-canary")
        .unwrap();
    assert_eq!(ingress["metadata"]["annotations"][WEIGHT_ANNOTATION], "50");
    assert_eq!(
        ingress["metadata"]["annotations"][CANARY_ANNOTATION],
        "true"
    );
    assert_eq!(cluster.set_canary_weight(0).await, Ok(0));
}

#[tokio::test]
async fn a_missing_route_is_a_rejection_that_names_it() {
    let server = ApiServer::start().await;
    let cluster = cluster(&server, TrafficKind::GatewayApi, "summit").await;
    let err = cluster.set_canary_weight(5).await.unwrap_err();
    assert!(
        matches!(&err, SourceError::Rejected(m) if m.contains("404") && m.contains("HTTPRoute summit")),
        "{err:?}"
    );
}

// --- Helm ----------------------------------------------------------------------------------

fn helm_releases(t: &KubeTarget, helm: HelmCli) -> HelmReleases {
    HelmReleases::new(t, &release(), helm, clock())
}

#[tokio::test]
async fn the_history_is_read_from_helms_secrets_oldest_first_and_a_stuck_upgrade_shows() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], ago(90));
    put_release(&server, "summit", 3, "pending-upgrade", true);
    put_release(&server, "summit", 1, "superseded", true);
    put_release(&server, "summit", 2, "deployed", false);
    put_release(&server, "billing", 9, "deployed", true);
    server.put_secret(
        "prod",
        "db-password",
        &[("app", "summit")],
        "Opaque",
        &[("pw", b"x")],
    );
    let t = target(&server).await;
    let releases = helm_releases(&t, HelmCli::new("/nonexistent/helm"));

    let history = releases.history().await.expect("the history");
    let rows: Vec<_> = history
        .iter()
        .map(|r| {
            (
                r.revision,
                r.status.as_str(),
                r.chart.as_str(),
                r.app_version.as_str(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (1, "superseded", "summit-1.1.0", "sha-1abcdef"),
            (2, "deployed", "summit-1.2.0", "sha-2abcdef"),
            (3, "pending-upgrade", "summit-1.3.0", "sha-3abcdef"),
        ]
    );
    assert_eq!(history[1].description, "Upgrade complete");
    assert_eq!(
        history[1].deployed.to_rfc3339(),
        "2026-11-03T09:00:00+00:00"
    );

    let stuck = releases.stuck().await.unwrap().expect("a stuck release");
    assert_eq!(
        (stuck.revision, stuck.status.as_str()),
        (3, "pending-upgrade")
    );

    let lists: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v1/namespaces/prod/secrets")
        .collect();
    assert!(!lists.is_empty());
    assert!(
        lists
            .iter()
            .all(|r| r.param("labelSelector").as_deref() == Some("owner=helm,name=summit"))
    );
}

#[tokio::test]
async fn a_damaged_release_secret_fails_the_history_by_name() {
    let server = ApiServer::start().await;
    put_release(&server, "summit", 1, "deployed", true);
    server.put_secret(
        "prod",
        "sh.helm.release.v1.summit.v2",
        &[("owner", "helm"), ("name", "summit")],
        "helm.sh/release.v1",
        &[("release", b"H4sI-not-base64")],
    );
    let t = target(&server).await;
    let err = helm_releases(&t, HelmCli::default())
        .history()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("sh.helm.release.v1.summit.v2"),
        "{err}"
    );
}

#[tokio::test]
async fn a_rollback_runs_helm_against_the_context_and_kubeconfig_captain_reads() {
    let server = ApiServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let helm = fake_helm(dir.path(), "v3.15.4+gfa9efb0", "");
    let t = target(&server).await;
    let releases = helm_releases(&t, HelmCli::new(&helm));

    let said = releases.rollback(2, None).await.expect("the rollback");
    assert_eq!(said, "Rollback was a success! Happy Helming!");
    let kubeconfig = server.kubeconfig().display().to_string();
    assert_eq!(
        helm_calls(dir.path()),
        [
            "rollback",
            "summit",
            "2",
            "--namespace",
            "prod",
            "--kube-context",
            "test",
            "--kubeconfig",
            kubeconfig.as_str(),
            "--wait",
            "--timeout",
            "5m",
        ]
    );
}

#[tokio::test]
async fn helm_4_records_the_reason_in_the_release() {
    let server = ApiServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let helm = fake_helm(
        dir.path(),
        "v4.0.0+g1234567",
        "      --description string   add a custom description",
    );
    let t = target(&server).await;
    let releases = helm_releases(&t, HelmCli::new(&helm));
    releases
        .rollback_with_reason(2, Some("error rate 3% > 1% at 25%"))
        .await
        .expect("the rollback");
    let calls = helm_calls(dir.path());
    assert_eq!(
        calls[calls.len() - 2..],
        ["--description", "error rate 3% > 1% at 25%"]
    );
}

/// The real binary against the test API server, as an operator runs it: a kubeconfig,
/// a captain.toml, a release with its Helm Secrets and its HTTPRoute.
async fn captain_live(
    server: &ApiServer,
    dir: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    captain_live_as(server, dir, args, Some("unused-in-these-commands")).await
}

async fn captain_live_as(
    server: &ApiServer,
    dir: &std::path::Path,
    args: &[&str],
    github_token: Option<&str>,
) -> std::process::Output {
    captain_live_configured(server, dir, "", args, github_token).await
}

/// As [`captain_live_as`], with `more` (TOML tables) at the end of captain.toml.
async fn captain_live_configured(
    server: &ApiServer,
    dir: &std::path::Path,
    more: &str,
    args: &[&str],
    github_token: Option<&str>,
) -> std::process::Output {
    let mut cmd = captain_command(&server.kubeconfig(), dir, more, args, github_token);
    tokio::task::spawn_blocking(move || cmd.output().expect("the captain binary runs"))
        .await
        .unwrap()
}

fn live_world(server: &ApiServer) {
    server.put_namespace("prod", &[], Utc::now() - chrono::Duration::days(400));
    server.put_namespace("pr-101", &[], ago(5));
    server.put_namespace("pr-102", &[], ago(4));
    server.put_namespace("pr-103", &[], Utc::now() - chrono::Duration::hours(2));
    server.put_namespace("preview-old", &[], ago(30));
    put_release(server, "summit", 6, "superseded", true);
    put_release(server, "summit", 7, "deployed", true);
    server.put_object(http_route(75, 25));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previews_clean_against_the_cluster_lists_then_deletes_exactly_the_stale_ones() {
    let server = ApiServer::start().await;
    live_world(&server);
    let dir = tempfile::tempdir().unwrap();
    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };

    let dry = captain_live(
        &server,
        dir.path(),
        &[
            "previews",
            "clean",
            "--older-than",
            "3d",
            "--dry-run",
            "--json",
        ],
    )
    .await;
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry));
    let v: Value = serde_json::from_slice(&dry.stdout).unwrap();
    let mut stale: Vec<String> = serde_json::from_value(v["stale"].clone()).unwrap();
    stale.sort();
    assert_eq!(
        stale,
        ["pr-101", "pr-102"],
        "only prefixed previews older than 3 days"
    );
    assert!(
        server.object("namespaces", None, "pr-101").is_some(),
        "a dry run deletes nothing"
    );

    let clean = captain_live(
        &server,
        dir.path(),
        &[
            "previews",
            "clean",
            "--older-than",
            "3d",
            "--yes",
            "--reason",
            "weekly",
        ],
    )
    .await;
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean));
    let gone_or_terminating = |name: &str| {
        server
            .object("namespaces", None, name)
            .is_none_or(|o| o["status"]["phase"] == "Terminating")
    };
    assert!(gone_or_terminating("pr-101") && gone_or_terminating("pr-102"));
    for kept in ["pr-103", "preview-old", "prod"] {
        let o = server
            .object("namespaces", None, kept)
            .expect("still there");
        assert_ne!(o["status"]["phase"], "Terminating", "{kept} was touched");
    }
    // Joining the train changed nothing: the route keeps its weights.
    assert_eq!(route_weights(&server), (75, 25));
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(
        audit.contains("\"clean-stale\"") && audit.contains("weekly"),
        "{audit}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previews_clean_deletes_only_exact_stale_previews_never_prod_nor_one_holding_a_release() {
    let server = ApiServer::start().await;
    live_world(&server);
    for ns in ["pr-old", "pr-12", "pr-7", "default", "kube-system"] {
        server.put_namespace(ns, &[], ago(40));
    }
    server.put_secret(
        "pr-7",
        "sh.helm.release.v1.preview.v3",
        &[("owner", "helm"), ("name", "preview")],
        "helm.sh/release.v1",
        &[("release", b"H4sI")],
    );
    let dir = tempfile::tempdir().unwrap();
    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    let clean = [
        "previews",
        "clean",
        "--older-than",
        "30d",
        "--yes",
        "--reason",
        "x",
    ];

    // `pr` would make `prod` a preview: refused where it is written, before any request.
    let wide = captain_live_configured(
        &server,
        dir.path(),
        "[previews]\nprefix = \"pr\"\n",
        &clean,
        Some("unused"),
    )
    .await;
    assert_eq!(wide.status.code(), Some(3), "{}", text(&wide));
    let said = text(&wide);
    assert!(said.contains("captain.toml:11:10"), "{said}");
    assert!(said.contains("separator"), "{said}");
    assert!(
        !server.requests().iter().any(|r| r.method == "DELETE"),
        "nothing deleted"
    );

    // A preview whose Secrets cannot be listed is not proposed, and the run says why.
    server.set_access(AccessPolicy::allow_all().deny_in("pr-12", "list", "secrets"));
    let blind = captain_live_configured(
        &server,
        dir.path(),
        "[previews]\nprefix = \"pr-\"\n",
        &["previews", "clean", "--older-than", "30d", "--dry-run"],
        Some("unused"),
    )
    .await;
    assert_eq!(blind.status.code(), Some(1), "{}", text(&blind));
    let said = text(&blind);
    assert!(
        said.contains("keep pr-12: whether pr-12 holds a Helm release cannot be checked"),
        "{said}"
    );
    assert!(!said.contains("would delete"), "{said}");
    server.set_access(AccessPolicy::allow_all());

    // A dry run names only what would go, and says why pr-7 stays.
    let dry = captain_live_configured(
        &server,
        dir.path(),
        "[previews]\nprefix = \"pr-\"\n",
        &[
            "previews",
            "clean",
            "--older-than",
            "30d",
            "--dry-run",
            "--json",
        ],
        Some("unused"),
    )
    .await;
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry));
    let v: Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(v["stale"], json!(["pr-12"]), "{v}");
    assert_eq!(v["kept"][0]["namespace"], "pr-7", "{v}");
    assert!(
        v["kept"][0]["why"]
            .as_str()
            .is_some_and(|w| w.contains("Helm release")),
        "{v}"
    );

    let o = captain_live_configured(
        &server,
        dir.path(),
        "[previews]\nprefix = \"pr-\"\n",
        &clean,
        Some("unused"),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let said = text(&o);
    assert!(said.contains("pr-12: deleted"), "{said}");
    assert!(said.contains("pr-7: kept"), "{said}");
    let deletes: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path)
        .collect();
    assert_eq!(deletes, ["/api/v1/namespaces/pr-12"], "{said}");
    for kept in [
        "prod",
        "pr-old",
        "pr-7",
        "preview-old",
        "default",
        "kube-system",
    ] {
        let o = server
            .object("namespaces", None, kept)
            .expect("still there");
        assert_ne!(o["status"]["phase"], "Terminating", "{kept} was touched");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_status_finds_the_train_where_the_cluster_has_it_and_changes_nothing() {
    let server = ApiServer::start().await;
    live_world(&server);
    let dir = tempfile::tempdir().unwrap();
    let status = captain_live(&server, dir.path(), &["canary", "status", "--json"]).await;
    assert_eq!(
        status.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let v: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(
        v["weight"], 25,
        "the train is found where the cluster has it"
    );
    assert_eq!(v["revision"], 7);
    assert_eq!(v["previous"], 6);
    assert_eq!(v["status"]["state"], "progressing");
    assert_eq!(route_weights(&server), (75, 25), "looking changes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_rollback_sends_all_traffic_to_stable_runs_helm_and_is_audited() {
    let server = ApiServer::start().await;
    live_world(&server);
    let dir = tempfile::tempdir().unwrap();
    fake_helm(dir.path(), "v3.16.2+g13654a5", "Usage: helm rollback");
    let o = captain_live(
        &server,
        dir.path(),
        &[
            "canary",
            "rollback",
            "--yes",
            "--reason",
            "p99 regression",
            "--json",
        ],
    )
    .await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert_eq!(
        route_weights(&server),
        (100, 0),
        "the canary gets no traffic"
    );
    let calls = helm_calls(dir.path());
    assert_eq!(
        &calls[..4],
        ["rollback", "summit", "6", "--namespace"],
        "{calls:?}"
    );
    assert!(
        !calls.contains(&"--description".to_string()),
        "helm 3 has no --description"
    );
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let last: Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(last["action"], "rollback");
    assert_eq!(last["reason"], "p99 regression");
    assert!(
        last["result"]
            .as_str()
            .unwrap()
            .contains("helm rolled back to revision 6"),
        "{last}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_github_the_console_still_reads_the_cluster() {
    let server = ApiServer::start().await;
    live_world(&server);
    let dir = tempfile::tempdir().unwrap();
    let o = captain_live_as(&server, dir.path(), &["canary", "status", "--json"], None).await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["weight"], 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_helm_4_the_rollback_reason_is_written_into_the_release() {
    let server = ApiServer::start().await;
    live_world(&server);
    let dir = tempfile::tempdir().unwrap();
    fake_helm(
        dir.path(),
        "v4.0.1+g1234567",
        "      --description string   add a custom description",
    );
    let o = captain_live(
        &server,
        dir.path(),
        &["canary", "rollback", "--yes", "--reason", "p99 regression"],
    )
    .await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let calls = helm_calls(dir.path());
    let at = calls
        .iter()
        .position(|a| a == "--description")
        .expect("--description passed");
    assert_eq!(calls[at + 1], "p99 regression", "{calls:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_rbac_does_not_allow_is_refused_up_front_with_the_reason_and_nothing_changes() {
    let server = ApiServer::start().await;
    live_world(&server);
    server.set_access(
        AccessPolicy::allow_all()
            .deny("patch", "httproutes.gateway.networking.k8s.io")
            .because("RBAC: role release-viewer has no patch on httproutes"),
    );
    let dir = tempfile::tempdir().unwrap();
    let o = captain_live(
        &server,
        dir.path(),
        &["canary", "promote", "--yes", "--json"],
    )
    .await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(
        text.contains("promote is unavailable: you may not patch httproutes.gateway.networking.k8s.io/summit in prod (RBAC: role release-viewer has no patch on httproutes)"),
        "{text}"
    );
    assert_eq!(route_weights(&server), (75, 25), "nothing was patched");
    let patched = server
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.contains("httproutes"))
        .count();
    assert_eq!(patched, 0);
    let reviews = server
        .requests()
        .iter()
        .filter(|r| r.path.contains("selfsubjectaccessreviews"))
        .count();
    assert!(reviews >= 1, "asked the API server first");

    // Deleting previews is still allowed: the refusal is per action.
    let o = captain_live(
        &server,
        dir.path(),
        &[
            "previews",
            "clean",
            "--older-than",
            "3d",
            "--yes",
            "--reason",
            "stale",
            "--json",
        ],
    )
    .await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_stuck_pending_upgrade_blocks_promote_and_says_which_revision() {
    let server = ApiServer::start().await;
    live_world(&server);
    put_release(&server, "summit", 8, "pending-upgrade", true);
    let dir = tempfile::tempdir().unwrap();
    let o = captain_live(&server, dir.path(), &["canary", "promote", "--yes"]).await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(
        text.contains("release summit is stuck pending-upgrade at revision 8"),
        "{text}"
    );
    assert_eq!(route_weights(&server), (75, 25), "nothing was patched");
}

/// A `helm` that records its arguments, says where it is, and then hangs: a rollback that
/// never finishes, for captain to be killed in the middle of.
fn hanging_helm(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("helm");
    let script = format!(
        "#!/bin/sh\n\
         if [ \"$1\" = version ]; then echo 'v3.16.2+g13654a5'; exit 0; fi\n\
         if [ \"$2\" = --help ]; then echo 'Usage: helm rollback'; exit 0; fi\n\
         echo $$ > '{pid}'\n\
         exec sleep 120\n",
        pid = dir.join("helm.pid").display()
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_killed_before_helm_finished_is_found_unfinished_journalled_and_retried() {
    let server = ApiServer::start().await;
    live_world(&server);
    let dir = tempfile::tempdir().unwrap();
    hanging_helm(dir.path());
    // Write the config the helpers write, then run the rollback by hand and kill it mid-way.
    let mut rollback = captain_command(
        &server.kubeconfig(),
        dir.path(),
        "",
        &["canary", "rollback", "--yes", "--reason", "p99 regression"],
        Some("unused"),
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    let pid_file = dir.path().join("helm.pid");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !pid_file.exists() {
        assert!(std::time::Instant::now() < deadline, "helm never ran");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let helm_pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let helm = nix::unistd::Pid::from_raw(helm_pid);
    let captain = nix::unistd::Pid::from_raw(rollback.id() as i32);
    assert_ne!(
        nix::unistd::getpgid(Some(helm)).unwrap(),
        nix::unistd::getpgid(Some(captain)).unwrap(),
        "helm has a process group of its own: a ctrl-c meant for captain does not reach it"
    );
    rollback.kill().unwrap(); // SIGKILL: nothing gets to run after this
    rollback.wait().unwrap();
    // helm dies with captain, and nothing else reaps it here: it is gone or a zombie of init.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::fs::read_to_string(format!("/proc/{helm_pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
    }) {
        assert!(
            std::time::Instant::now() < deadline,
            "helm {helm_pid} outlived the captain that started it"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(route_weights(&server), (100, 0), "the weight was set first");

    // What is left: the shared train says rolled back; revision 7 is still deployed.
    let status = captain_live(&server, dir.path(), &["canary", "status", "--json"]).await;
    let v: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(
        v["status"]["state"], "rolling_back",
        "never shown as rolled back while helm has not: {v}"
    );

    let shown = captain_live(&server, dir.path(), &["audit", "show"]).await;
    let shown = String::from_utf8_lossy(&shown.stdout).to_string();
    let intent = shown
        .lines()
        .find(|l| {
            l.split_whitespace()
                .skip(3)
                .take(2)
                .eq(["Intent", "rollback"])
        })
        .unwrap_or_else(|| panic!("the rollback's intent: {shown}"));
    assert!(intent.contains("INTERRUPTED"), "{intent}");

    // The next run retries it, and this time helm finishes.
    std::fs::remove_file(dir.path().join("helm")).unwrap();
    fake_helm(dir.path(), "v3.16.2+g13654a5", "Usage: helm rollback");
    let run = captain_live(&server, dir.path(), &["canary", "run"]).await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(run.status.code(), Some(1), "rolled back: {text}");
    let calls = helm_calls(dir.path());
    assert_eq!(&calls[..3], ["rollback", "summit", "6"], "{calls:?}");
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let records: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let interrupted = records
        .iter()
        .find(|r| {
            r["phase"] == "outcome"
                && r["result"]
                    .as_str()
                    .is_some_and(|t| t.contains("interrupted: found"))
        })
        .unwrap_or_else(|| panic!("the finding is journalled: {audit}"));
    assert!(
        interrupted["result"]
            .as_str()
            .unwrap()
            .contains("revision 7 is still the release's deployed revision"),
        "{interrupted}"
    );
    let done = records
        .iter()
        .rev()
        .find(|r| r["action"] == "rollback" && r["phase"] == "outcome")
        .unwrap();
    assert!(
        done["result"].as_str().unwrap().starts_with("ok:"),
        "retried and done: {done}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_promote_full_sends_all_traffic_to_the_canary_and_an_abort_takes_it_all_back() {
    for (args, weights, action) in [
        (
            &["canary", "promote", "--full", "--yes", "--json"][..],
            (0, 100),
            "promote-full",
        ),
        (
            &[
                "canary",
                "abort",
                "--yes",
                "--reason",
                "wrong build",
                "--json",
            ][..],
            (100, 0),
            "abort",
        ),
    ] {
        let server = ApiServer::start().await;
        live_world(&server);
        let dir = tempfile::tempdir().unwrap();
        let o = captain_live(&server, dir.path(), args).await;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(o.status.code(), Some(0), "{args:?}: {text}");
        assert_eq!(route_weights(&server), weights, "{args:?}: {text}");
        let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
        let last: Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
        assert_eq!(last["action"], action, "{audit}");
        assert!(
            last["result"].as_str().is_some_and(|r| r.starts_with("ok")),
            "{audit}"
        );
    }
}
