//! The real kubectl reading apps/v1 Deployments from the test API server: discovery by the
//! short name, the server-printed Table (and its wide columns), `rollout status` judging a
//! seeded status and following the watch until it changes, generation counting spec
//! changes only, and `auth can-i` with and without the authorizer's reason.

use std::time::Duration;

use chrono::{Duration as Age, Utc};

use crate::{kubectl, rows, stderr, stdout, succeeded};
use captain_testkit::apiserver::{AccessPolicy, ApiServer, Rollout};

const ROLLOUT_STATUS: [&str; 6] = [
    "rollout",
    "status",
    "deploy/summit",
    "-n",
    "prod",
    "--timeout=5s",
];

#[tokio::test]
async fn kubectl_get_deploy_prints_ready_up_to_date_and_available_per_deployment() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], Utc::now());
    let mut summit = server.put_deployment("prod", "summit", Rollout::complete(3, 4));
    summit["metadata"]["creationTimestamp"] = serde_json::json!(
        (Utc::now() - Age::days(12)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    server.put_object(summit);
    server.put_deployment("prod", "worker", Rollout::rolling(4, 1, 2));
    server.put_deployment("staging", "summit", Rollout::complete(1, 1));
    let Some(output) = kubectl(&server, &["get", "deploy", "-n", "prod"]).await else {
        return;
    };
    let table = rows(&succeeded(&output));
    assert_eq!(
        table[0],
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    );
    assert_eq!(table[1], ["summit", "3/3", "3", "3", "12d"]);
    assert_eq!(table[2][..4], ["worker", "4/4", "1", "4"]);
    assert_eq!(table.len(), 3, "only prod's: {table:?}");

    let output = kubectl(
        &server,
        &["get", "deploy", "summit", "-n", "prod", "-o", "wide"],
    )
    .await
    .expect("kubectl");
    let table = rows(&succeeded(&output));
    assert_eq!(
        table[0],
        [
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR"
        ]
    );
    assert_eq!(
        table[1][5..],
        ["summit", "registry.example.com/summit:4", "app=summit"]
    );
}

#[tokio::test]
async fn kubectl_rollout_status_succeeds_for_a_rolled_out_deployment() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], Utc::now());
    server.put_deployment("prod", "summit", Rollout::complete(3, 4));
    let Some(output) = kubectl(&server, &ROLLOUT_STATUS).await else {
        return;
    };
    assert_eq!(
        succeeded(&output).trim(),
        "deployment \"summit\" successfully rolled out"
    );
    // It found the Deployment by the short name through apps/v1 discovery, and listed it
    // by name to watch it.
    let requests = server.requests();
    assert!(requests.iter().any(|r| r.path == "/apis/apps/v1"));
    assert!(requests.iter().any(|r| {
        r.path == "/apis/apps/v1/namespaces/prod/deployments"
            && r.param("fieldSelector").as_deref() == Some("metadata.name=summit")
    }));
}

#[tokio::test]
async fn kubectl_rollout_status_times_out_on_a_deployment_still_rolling() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], Utc::now());
    server.put_deployment("prod", "summit", Rollout::rolling(3, 1, 5));
    let Some(output) = kubectl(&server, &ROLLOUT_STATUS).await else {
        return;
    };
    assert!(!output.status.success(), "{}", stdout(&output));
    assert_eq!(
        stdout(&output).trim(),
        "Waiting for deployment \"summit\" rollout to finish: 1 out of 3 new replicas have \
         been updated..."
    );
    assert_eq!(
        stderr(&output).trim(),
        "error: timed out waiting for the condition"
    );
}

#[tokio::test]
async fn kubectl_rollout_status_fails_at_once_on_a_passed_progress_deadline() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], Utc::now());
    server.put_deployment(
        "prod",
        "summit",
        Rollout {
            deadline_exceeded: true,
            ..Rollout::rolling(3, 1, 5)
        },
    );
    let Some(output) = kubectl(&server, &ROLLOUT_STATUS).await else {
        return;
    };
    assert!(!output.status.success());
    assert_eq!(
        stderr(&output).trim(),
        "error: deployment \"summit\" exceeded its progress deadline"
    );
}

#[tokio::test]
async fn kubectl_rollout_status_follows_the_watch_until_the_rollout_completes() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], Utc::now());
    server.put_deployment("prod", "summit", Rollout::rolling(3, 2, 5));
    let Some(mut command) = server.kubectl() else {
        return;
    };
    command.args(ROLLOUT_STATUS);
    let waiting = tokio::task::spawn_blocking(move || command.output());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.put_deployment("prod", "summit", Rollout::complete(3, 5));
    let output = waiting
        .await
        .expect("the kubectl task")
        .expect("running kubectl");
    assert_eq!(
        succeeded(&output).lines().collect::<Vec<_>>(),
        [
            "Waiting for deployment \"summit\" rollout to finish: 2 out of 3 new replicas have \
             been updated...",
            "deployment \"summit\" successfully rolled out",
        ]
    );
}

#[tokio::test]
async fn kubectl_scaling_a_deployment_bumps_its_generation_and_rollout_status_waits_to_see_it() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], Utc::now());
    server.put_deployment("prod", "summit", Rollout::complete(3, 4));
    let Some(output) = kubectl(
        &server,
        &[
            "patch",
            "deploy",
            "summit",
            "-n",
            "prod",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"replicas":5}}"#,
        ],
    )
    .await
    else {
        return;
    };
    assert_eq!(succeeded(&output).trim(), "deployment.apps/summit patched");
    let stored = server
        .object("deployments", Some("prod"), "summit")
        .expect("still there");
    assert_eq!(stored["metadata"]["generation"], 5);
    assert_eq!(stored["status"]["observedGeneration"], 4, "status kept");

    // A status-only write is no spec change: the generation stays.
    let output = kubectl(
        &server,
        &[
            "patch",
            "deploy",
            "summit",
            "-n",
            "prod",
            "--subresource=status",
            "--type",
            "merge",
            "-p",
            r#"{"status":{"readyReplicas":2}}"#,
        ],
    )
    .await
    .expect("kubectl");
    succeeded(&output);
    let stored = server
        .object("deployments", Some("prod"), "summit")
        .expect("still there");
    assert_eq!(stored["metadata"]["generation"], 5);
    assert_eq!(stored["status"]["readyReplicas"], 2);

    let output = kubectl(&server, &ROLLOUT_STATUS).await.expect("kubectl");
    assert!(!output.status.success());
    assert_eq!(
        stdout(&output).trim(),
        "Waiting for deployment spec update to be observed..."
    );
}

#[tokio::test]
async fn kubectl_auth_can_i_delete_namespaces_says_yes_or_no_with_the_reason() {
    let server = ApiServer::start().await;
    let Some(output) = kubectl(&server, &["auth", "can-i", "delete", "namespaces"]).await else {
        return;
    };
    assert_eq!(
        (stdout(&output).trim(), output.status.code()),
        ("yes", Some(0))
    );
    server.set_access(
        AccessPolicy::allow_all()
            .deny("delete", "namespaces")
            .because("namespaces are deleted by the preview reaper only"),
    );
    let output = kubectl(&server, &["auth", "can-i", "delete", "namespaces"])
        .await
        .expect("kubectl");
    assert_eq!(
        (stdout(&output).trim(), output.status.code()),
        (
            "no - namespaces are deleted by the preview reaper only",
            Some(1)
        )
    );
    let output = kubectl(&server, &["auth", "can-i", "get", "deploy", "-n", "prod"])
        .await
        .expect("kubectl");
    assert_eq!(stdout(&output).trim(), "yes");
    // kubectl sends reviews as protobuf; the log holds what the server read.
    let reviews: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
        .collect();
    assert_eq!(reviews.len(), 3);
    let attributes = &reviews[2].body.as_ref().expect("a body")["spec"]["resourceAttributes"];
    assert_eq!(attributes["verb"], "get");
    assert_eq!(attributes["group"], "apps");
    assert_eq!(attributes["resource"], "deployments");
    assert_eq!(attributes["namespace"], "prod");
}

#[tokio::test]
async fn kubectl_is_forbidden_with_the_authorizers_reason_appended() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], Utc::now());
    server.put_deployment("prod", "summit", Rollout::complete(3, 1));
    server.set_access(
        AccessPolicy::allow_all()
            .deny_in("prod", "delete", "deployments.apps")
            .because("the release is frozen"),
    );
    let Some(output) = kubectl(&server, &["delete", "deploy", "summit", "-n", "prod"]).await else {
        return;
    };
    assert!(!output.status.success());
    assert_eq!(
        stderr(&output).trim(),
        "Error from server (Forbidden): deployments.apps \"summit\" is forbidden: User \
         \"test-user\" cannot delete resource \"deployments\" in API group \"apps\" in the \
         namespace \"prod\": the release is frozen"
    );
}
