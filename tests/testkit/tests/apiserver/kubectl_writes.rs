//! The real kubectl writing to the test API server: delete (a namespace Terminating, then
//! gone), merge patch, create and AlreadyExists (kubectl sends these as protobuf), and
//! access reviews and 403s per the test's policy.

use std::time::{Duration, Instant};

use chrono::{Duration as Age, Utc};

use crate::{kubectl, rows, stderr, stdout, succeeded};
use captain_testkit::apiserver::{AccessPolicy, ApiServer};

#[tokio::test]
async fn kubectl_delete_ns_puts_it_terminating_then_it_disappears() {
    let server = ApiServer::start().await;
    server.set_namespace_finalize_delay(None);
    server.put_namespace("pr-1", &[], Utc::now() - Age::days(1));
    server.put_namespace("pr-2", &[], Utc::now() - Age::days(1));
    let Some(output) = kubectl(&server, &["delete", "ns", "pr-1", "--wait=false"]).await else {
        return;
    };
    assert_eq!(succeeded(&output).trim(), "namespace \"pr-1\" deleted");

    let output = kubectl(&server, &["get", "ns"]).await.expect("kubectl");
    let table = rows(&succeeded(&output));
    assert_eq!(table[1][..2], ["pr-1", "Terminating"]);
    assert_eq!(table[2][..2], ["pr-2", "Active"]);

    assert!(server.delete_namespace_now("pr-1"));
    let output = kubectl(&server, &["get", "ns"]).await.expect("kubectl");
    let names: Vec<String> = rows(&succeeded(&output))
        .into_iter()
        .skip(1)
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(names, ["pr-2"]);
}
#[tokio::test]
async fn kubectl_deleted_ns_disappears_after_the_finalize_delay() {
    let server = ApiServer::start().await;
    server.set_namespace_finalize_delay(Some(Duration::from_millis(1500)));
    server.put_namespace("pr-1", &[], Utc::now());
    let Some(output) = kubectl(&server, &["delete", "ns", "pr-1", "--wait=false"]).await else {
        return;
    };
    succeeded(&output);
    let started = Instant::now();
    loop {
        let output = kubectl(&server, &["get", "ns", "pr-1"])
            .await
            .expect("kubectl");
        if !output.status.success() {
            assert!(
                stderr(&output).contains("namespaces \"pr-1\" not found"),
                "{}",
                stderr(&output)
            );
            break;
        }
        assert!(
            stdout(&output).contains("Terminating"),
            "{}",
            stdout(&output)
        );
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "pr-1 never went away"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
#[tokio::test]
async fn kubectl_patch_configmap_merge_changes_data_and_bumps_resource_version() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], Utc::now());
    let before = server.put_configmap("prod", "train", &[], &[("step", "2"), ("paused", "false")]);
    let Some(output) = kubectl(
        &server,
        &[
            "patch",
            "configmap",
            "train",
            "-n",
            "prod",
            "--type",
            "merge",
            "-p",
            r#"{"data":{"step":"3"}}"#,
        ],
    )
    .await
    else {
        return;
    };
    assert_eq!(succeeded(&output).trim(), "configmap/train patched");
    let after = server
        .object("configmaps", Some("prod"), "train")
        .expect("still there");
    assert_eq!(
        after["data"],
        serde_json::json!({"step": "3", "paused": "false"})
    );
    assert!(crate::rv_of(&after) > crate::rv_of(&before));
    let patches: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert_eq!(patches.len(), 1);
    assert_eq!(patches[0].content_type, "application/merge-patch+json");
}
#[tokio::test]
async fn kubectl_create_configmap_twice_is_already_exists() {
    let server = ApiServer::start().await;
    server.put_namespace("default", &[], Utc::now());
    let Some(output) = kubectl(&server, &["create", "configmap", "x", "--from-literal=a=1"]).await
    else {
        return;
    };
    assert_eq!(succeeded(&output).trim(), "configmap/x created");
    let stored = server
        .object("configmaps", Some("default"), "x")
        .expect("created");
    assert_eq!(stored["data"]["a"], "1");
    let output = kubectl(&server, &["create", "configmap", "x"])
        .await
        .expect("kubectl");
    assert!(!output.status.success());
    assert_eq!(
        stderr(&output).trim(),
        "error: failed to create configmap: configmaps \"x\" already exists"
    );
}
#[tokio::test]
async fn kubectl_auth_can_i_answers_per_the_policy() {
    let server = ApiServer::start().await;
    server.set_access(
        AccessPolicy::allow_all()
            .deny("delete", "namespaces")
            .deny_in("prod", "update", "leases.coordination.k8s.io"),
    );
    let Some(output) = kubectl(&server, &["auth", "can-i", "delete", "namespaces"]).await else {
        return;
    };
    assert_eq!(
        (stdout(&output).trim(), output.status.code()),
        ("no", Some(1))
    );
    let output = kubectl(&server, &["auth", "can-i", "list", "namespaces"])
        .await
        .expect("kubectl");
    assert_eq!(
        (stdout(&output).trim(), output.status.code()),
        ("yes", Some(0))
    );
    let output = kubectl(
        &server,
        &["auth", "can-i", "update", "leases", "-n", "prod"],
    )
    .await
    .expect("kubectl");
    assert_eq!(stdout(&output).trim(), "no");
    let output = kubectl(
        &server,
        &["auth", "can-i", "update", "leases", "-n", "staging"],
    )
    .await
    .expect("kubectl");
    assert_eq!(stdout(&output).trim(), "yes");
}
#[tokio::test]
async fn kubectl_is_forbidden_a_verb_the_policy_denies() {
    let server = ApiServer::start().await;
    server.put_namespace("pr-1", &[], Utc::now());
    server.set_access(AccessPolicy::allow_all().deny("delete", "namespaces"));
    let Some(output) = kubectl(&server, &["delete", "ns", "pr-1", "--wait=false"]).await else {
        return;
    };
    assert!(!output.status.success());
    assert_eq!(
        stderr(&output).trim(),
        "Error from server (Forbidden): namespaces \"pr-1\" is forbidden: User \"test-user\" \
         cannot delete resource \"namespaces\" in API group \"\" at the cluster scope"
    );
    assert_eq!(
        server.object("namespaces", None, "pr-1").expect("kept")["status"]["phase"],
        "Active"
    );
}
