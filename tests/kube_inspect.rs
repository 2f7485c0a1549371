//! The live cluster answering validation probes, against the wire-faithful test API server
//! (`captain_testkit::apiserver`): namespaces that exist, are missing or are being deleted;
//! Deployments rolled out, rolling, behind their spec or missing; Helm releases read from
//! Helm's own Secrets; and SelfSubjectAccessReviews, with the review captain sends read
//! back from the server's request log.

// The server's support module exports more than these tests use.

use std::sync::Arc;

use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use captain::clock::{Clock, SystemClock};
use captain::config::app::{PreviewConfig, ReleaseConfig, TrafficConfig, TrafficKind};
use captain::sources::kube::{KubeCluster, KubeTarget, connect};
use captain::sources::{Access, AccessCheck, Cluster, Finding, Inspection, SourceError};
use captain_testkit::apiserver::{AccessPolicy, ApiServer, Rollout};
use captain_testkit::kube::put_release;

const REVIEWS: &str = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

async fn cluster_at(target: &KubeTarget) -> KubeCluster {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    KubeCluster::spawn(
        target,
        &PreviewConfig::default(),
        &ReleaseConfig {
            name: "summit".into(),
            namespace: "prod".into(),
            stage_namespace: "stage".into(),
        },
        &TrafficConfig {
            kind: TrafficKind::GatewayApi,
            route: "summit".into(),
        },
        clock,
    )
}

async fn cluster(server: &ApiServer) -> KubeCluster {
    let target = connect(None, Some(&server.kubeconfig()))
        .await
        .expect("connecting through the test kubeconfig");
    cluster_at(&target).await
}

async fn inspect(server: &ApiServer, what: Inspection) -> Finding {
    cluster(server)
        .await
        .inspect(&what)
        .await
        .unwrap_or_else(|e| panic!("inspecting {what:?}: {e}"))
}

fn namespace_exists(namespace: &str) -> Inspection {
    Inspection::NamespaceExists {
        namespace: namespace.into(),
    }
}

fn deployment_ready(name: &str) -> Inspection {
    Inspection::DeploymentReady {
        namespace: "prod".into(),
        name: name.into(),
    }
}

fn release_status(status: &str) -> Inspection {
    Inspection::HelmReleaseStatus {
        release: "summit".into(),
        namespace: "prod".into(),
        status: status.into(),
    }
}

// --- namespaces ----------------------------------------------------------------------------

#[tokio::test]
async fn an_active_namespace_passes_with_its_phase_and_age() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], Utc::now() - Duration::days(90));
    assert_eq!(
        inspect(&server, namespace_exists("prod")).await,
        Finding::pass("namespace prod: Active, 90d old")
    );
}

#[tokio::test]
async fn a_missing_namespace_fails_by_name() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], Utc::now());
    assert_eq!(
        inspect(&server, namespace_exists("pr-404")).await,
        Finding::fail("no namespace pr-404")
    );
}

#[tokio::test]
async fn a_terminating_namespace_fails_as_being_deleted() {
    let server = ApiServer::start().await;
    let mut ns = server.put_namespace("pr-7", &[], Utc::now() - Duration::days(3));
    ns["metadata"]["deletionTimestamp"] =
        json!(Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true));
    ns["status"]["phase"] = json!("Terminating");
    server.put_object(ns);
    assert_eq!(
        inspect(&server, namespace_exists("pr-7")).await,
        Finding::fail("namespace pr-7: Terminating, 3d old, being deleted")
    );
}

#[tokio::test]
async fn a_namespace_read_the_api_forbids_is_an_error_not_a_finding() {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], Utc::now());
    server.set_access(AccessPolicy::allow_all().deny("get", "namespaces"));
    let err = cluster(&server)
        .await
        .inspect(&namespace_exists("prod"))
        .await
        .expect_err("a 403 proves nothing about the namespace");
    let SourceError::Rejected(message) = err else {
        panic!("a 403 is a rejection: {err:?}");
    };
    assert!(message.starts_with("get namespace prod: 403 "), "{message}");
}

// --- deployments ---------------------------------------------------------------------------

#[tokio::test]
async fn a_rolled_out_deployment_is_ready_with_its_counts_and_observed_generation() {
    let server = ApiServer::start().await;
    server.put_deployment("prod", "summit", Rollout::complete(3, 4));
    assert_eq!(
        inspect(&server, deployment_ready("summit")).await,
        Finding::pass("deployment prod/summit: 3/3 updated, 3/3 available, generation 4 observed")
    );
}

#[tokio::test]
async fn a_deployment_with_fewer_updated_than_desired_replicas_is_still_rolling() {
    let server = ApiServer::start().await;
    server.put_deployment("prod", "summit", Rollout::rolling(3, 1, 5));
    assert_eq!(
        inspect(&server, deployment_ready("summit")).await,
        Finding::fail(
            "deployment prod/summit: 1/3 updated, 3/3 available, generation 5 observed; \
             still rolling out"
        )
    );
}

#[tokio::test]
async fn a_deployment_whose_latest_generation_is_not_observed_is_not_ready_whatever_its_counts() {
    let server = ApiServer::start().await;
    server.put_deployment(
        "prod",
        "summit",
        Rollout {
            observed_generation: 3,
            ..Rollout::complete(3, 4)
        },
    );
    assert_eq!(
        inspect(&server, deployment_ready("summit")).await,
        Finding::fail(
            "deployment prod/summit: 3/3 updated, 3/3 available, generation 4 not yet observed \
             (controller at 3)"
        )
    );
}

#[tokio::test]
async fn a_deployment_past_its_progress_deadline_is_not_ready() {
    let server = ApiServer::start().await;
    server.put_deployment(
        "prod",
        "summit",
        Rollout {
            deadline_exceeded: true,
            ..Rollout::rolling(3, 1, 5)
        },
    );
    let finding = inspect(&server, deployment_ready("summit")).await;
    assert_eq!(
        finding,
        Finding::fail(
            "deployment prod/summit: 1/3 updated, 3/3 available, generation 5 observed; \
             progress deadline exceeded"
        )
    );
}

#[tokio::test]
async fn a_missing_deployment_fails_by_name() {
    let server = ApiServer::start().await;
    server.put_deployment("prod", "summit", Rollout::complete(3, 1));
    assert_eq!(
        inspect(&server, deployment_ready("summit-canary")).await,
        Finding::fail("no deployment prod/summit-canary")
    );
    assert!(
        server.requests().iter().any(|r| r.method == "GET"
            && r.path == "/apis/apps/v1/namespaces/prod/deployments/summit-canary"),
        "read with a GET of the Deployment"
    );
}

// --- helm releases -------------------------------------------------------------------------

#[tokio::test]
async fn a_deployed_release_passes_with_its_latest_revision_chart_and_app() {
    let server = ApiServer::start().await;
    put_release(&server, "summit", 1, "superseded", true);
    put_release(&server, "summit", 2, "deployed", true);
    // Another release in the namespace is not this one's history.
    put_release(&server, "docs", 9, "failed", true);
    assert_eq!(
        inspect(&server, release_status("deployed")).await,
        Finding::pass("revision 2: deployed, chart summit-1.2.0, app sha-2abcdef")
    );
}

#[tokio::test]
async fn a_release_stuck_in_pending_upgrade_fails_and_says_it_blocks_the_next_operation() {
    let server = ApiServer::start().await;
    put_release(&server, "summit", 1, "superseded", true);
    put_release(&server, "summit", 2, "deployed", false);
    put_release(&server, "summit", 3, "pending-upgrade", true);
    assert_eq!(
        inspect(&server, release_status("deployed")).await,
        Finding::fail(
            "revision 3: pending-upgrade, chart summit-1.3.0, app sha-3abcdef (expected \
             deployed; Helm refuses another upgrade or rollback while it is pending)"
        )
    );
}

#[tokio::test]
async fn a_release_with_no_secrets_fails_as_missing() {
    let server = ApiServer::start().await;
    put_release(&server, "docs", 1, "deployed", true);
    assert_eq!(
        inspect(&server, release_status("deployed")).await,
        Finding::fail("no release prod/summit")
    );
}

// --- access reviews ------------------------------------------------------------------------

/// The SelfSubjectAccessReviews the server was sent, as it read them.
fn reviews_sent(server: &ApiServer) -> Vec<Value> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == REVIEWS)
        .map(|r| r.body.expect("a review has a body"))
        .collect()
}

#[tokio::test]
async fn an_allowed_action_is_allowed_and_the_review_names_exactly_it() {
    let server = ApiServer::start().await;
    server.set_access(AccessPolicy::deny_all().allow_in(
        "prod",
        "patch",
        "httproutes.gateway.networking.k8s.io",
    ));
    let check = AccessCheck::new("patch", "gateway.networking.k8s.io", "httproutes")
        .in_namespace("prod")
        .named("summit");
    let access = cluster(&server).await.access(&check).await;
    assert_eq!(access, Ok(Access::Allowed));
    let sent = reviews_sent(&server);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0]["apiVersion"], "authorization.k8s.io/v1");
    assert_eq!(sent[0]["kind"], "SelfSubjectAccessReview");
    assert_eq!(
        sent[0]["spec"],
        json!({"resourceAttributes": {
            "verb": "patch",
            "group": "gateway.networking.k8s.io",
            "resource": "httproutes",
            "namespace": "prod",
            "name": "summit",
        }})
    );
}

#[tokio::test]
async fn a_denied_action_carries_the_authorizers_reason_or_says_rbac_denied_it() {
    let server = ApiServer::start().await;
    server.set_access(
        AccessPolicy::allow_all()
            .deny("delete", "namespaces")
            .because("namespaces are deleted by the preview reaper only")
            .deny_in("prod", "update", "leases.coordination.k8s.io"),
    );
    let cluster = cluster(&server).await;
    assert_eq!(
        cluster
            .access(&AccessCheck::new("delete", "", "namespaces"))
            .await,
        Ok(Access::Denied {
            reason: "namespaces are deleted by the preview reaper only".into()
        })
    );
    let lease = AccessCheck::new("update", "coordination.k8s.io", "leases").in_namespace("prod");
    assert_eq!(
        cluster.access(&lease).await,
        Ok(Access::Denied {
            reason: "denied by RBAC".into()
        })
    );
    let sent = reviews_sent(&server);
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert_eq!(
        sent[0]["spec"],
        json!({"resourceAttributes": {"verb": "delete", "group": "", "resource": "namespaces"}}),
        "cluster-scoped: no namespace, no name"
    );
    assert_eq!(
        sent[1]["spec"]["resourceAttributes"]["namespace"], "prod",
        "{:#}",
        sent[1]
    );
}

#[tokio::test]
async fn an_access_review_no_server_answers_is_an_error_not_a_denial() {
    let dir = tempfile::tempdir().expect("a temp dir");
    // A port that was free a moment ago: nothing listens there now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: gone\nclusters:\n- name: gone\n  \
             cluster: {{server: 'http://127.0.0.1:{port}'}}\nusers:\n- name: gone\n  user: {{}}\n\
             contexts:\n- name: gone\n  context: {{cluster: gone, user: gone}}\n"
        ),
    )
    .expect("writing a kubeconfig");
    let target = connect(None, Some(&kubeconfig))
        .await
        .expect("a client; the server's absence shows on the first request");
    let err = cluster_at(&target)
        .await
        .access(&AccessCheck::new("delete", "", "namespaces"))
        .await
        .expect_err("no answer is not a denial");
    assert!(
        matches!(&err, SourceError::Unreachable(m) if m.starts_with("review access to delete namespaces: ")),
        "{err:?}"
    );
}
