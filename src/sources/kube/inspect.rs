//! What a validation probe asks of the live cluster: does a namespace exist (and is it not
//! being deleted), has a Deployment rolled out, is a Helm release's latest revision in the
//! expected status. Each answer is a [`Finding`] with what was seen; a missing object is a
//! failed finding, and only a request that could not be answered is an error.
//!
//! Reads only: one GET, or one paged list of a release's Secrets.

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::{Api, Client};

use super::client::source_error;
use super::helm_history::{is_pending, read_history};
use super::previews::timestamp;
use crate::config::duration::format_span;
use crate::sources::{Finding, Inspection, SourceError};

/// Check `what` in the cluster `client` reaches, ages measured from `now`.
pub async fn inspect(
    client: &Client,
    what: &Inspection,
    now: DateTime<Utc>,
) -> Result<Finding, SourceError> {
    match what {
        Inspection::NamespaceExists { namespace } => namespace_exists(client, namespace, now).await,
        Inspection::DeploymentReady { namespace, name } => {
            deployment_ready(client, namespace, name, now).await
        }
        Inspection::HelmReleaseStatus {
            release,
            namespace,
            status,
        } => helm_release_status(client, release, namespace, status, now).await,
    }
}

async fn namespace_exists(
    client: &Client,
    namespace: &str,
    now: DateTime<Utc>,
) -> Result<Finding, SourceError> {
    let found = Api::<Namespace>::all(client.clone())
        .get_opt(namespace)
        .await
        .map_err(|e| source_error(&e, &format!("get namespace {namespace}"), now))?;
    Ok(match found {
        Some(ns) => namespace_finding(&ns, namespace, now),
        None => Finding::fail(format!("no namespace {namespace}")),
    })
}

/// A namespace passes while it is not being deleted: a Terminating one is about to take
/// everything in it away.
fn namespace_finding(ns: &Namespace, name: &str, now: DateTime<Utc>) -> Finding {
    let phase = ns
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Active");
    let age = ns
        .metadata
        .creation_timestamp
        .as_ref()
        .and_then(|t| timestamp(&t.0))
        .map(|created| format_span((now - created).to_std().unwrap_or_default()));
    let seen = match age {
        Some(age) => format!("namespace {name}: {phase}, {age} old"),
        None => format!("namespace {name}: {phase}"),
    };
    if ns.metadata.deletion_timestamp.is_some() || phase == "Terminating" {
        Finding::fail(format!("{seen}, being deleted"))
    } else {
        Finding::pass(seen)
    }
}

async fn deployment_ready(
    client: &Client,
    namespace: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Finding, SourceError> {
    let found = Api::<Deployment>::namespaced(client.clone(), namespace)
        .get_opt(name)
        .await
        .map_err(|e| source_error(&e, &format!("get deployment {namespace}/{name}"), now))?;
    Ok(match found {
        Some(deployment) => rollout_finding(&deployment, namespace, name),
        None => Finding::fail(format!("no deployment {namespace}/{name}")),
    })
}

/// Whether the Deployment has rolled out, judged as `kubectl rollout status` judges it:
/// the controller has seen the latest spec, the progress deadline has not passed, every
/// desired replica runs the new template, no old replica is still terminating, and every
/// updated replica is available.
fn rollout_finding(deployment: &Deployment, namespace: &str, name: &str) -> Finding {
    // The API server defaults `spec.replicas` to 1; an object without it was written by
    // something that skipped defaulting, and means the same.
    let desired = deployment
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1);
    let status = deployment.status.clone().unwrap_or_default();
    let generation = deployment.metadata.generation.unwrap_or(0);
    let observed = status.observed_generation.unwrap_or(0);
    let updated = status.updated_replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    let total = status.replicas.unwrap_or(0);
    let counts = format!(
        "deployment {namespace}/{name}: {updated}/{desired} updated, {available}/{desired} available"
    );
    // Until the controller has observed the latest generation, the counts describe an
    // older spec and prove nothing about this one.
    if observed < generation {
        return Finding::fail(format!(
            "{counts}, generation {generation} not yet observed (controller at {observed})"
        ));
    }
    let seen = format!("{counts}, generation {generation} observed");
    let deadline_exceeded = status.conditions.iter().flatten().any(|c| {
        c.type_ == "Progressing" && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
    });
    if deadline_exceeded {
        return Finding::fail(format!("{seen}; progress deadline exceeded"));
    }
    if updated < desired || available < updated {
        return Finding::fail(format!("{seen}; still rolling out"));
    }
    if total > updated {
        let old = total - updated;
        let noun = if old == 1 { "replica" } else { "replicas" };
        return Finding::fail(format!("{seen}; {old} old {noun} pending termination"));
    }
    Finding::pass(seen)
}

async fn helm_release_status(
    client: &Client,
    release: &str,
    namespace: &str,
    expected: &str,
    now: DateTime<Utc>,
) -> Result<Finding, SourceError> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let history = read_history(&secrets, release, now).await?;
    let Some(latest) = history.last() else {
        return Ok(Finding::fail(format!("no release {namespace}/{release}")));
    };
    let seen = format!(
        "revision {}: {}, chart {}, app {}",
        latest.revision, latest.status, latest.chart, latest.app_version
    );
    Ok(if latest.status == expected {
        Finding::pass(seen)
    } else if is_pending(&latest.status) {
        Finding::fail(format!(
            "{seen} (expected {expected}; Helm refuses another upgrade or rollback while it is \
             pending)"
        ))
    } else {
        Finding::fail(format!("{seen} (expected {expected})"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{DeploymentCondition, DeploymentSpec, DeploymentStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn deployment(desired: Option<i32>, generation: i64, status: DeploymentStatus) -> Deployment {
        Deployment {
            metadata: ObjectMeta {
                generation: Some(generation),
                ..ObjectMeta::default()
            },
            spec: Some(DeploymentSpec {
                replicas: desired,
                ..DeploymentSpec::default()
            }),
            status: Some(status),
        }
    }

    fn counts(observed: i64, total: i32, updated: i32, available: i32) -> DeploymentStatus {
        DeploymentStatus {
            observed_generation: Some(observed),
            replicas: Some(total),
            updated_replicas: Some(updated),
            ready_replicas: Some(available),
            available_replicas: Some(available),
            ..DeploymentStatus::default()
        }
    }

    #[test]
    fn old_replicas_still_terminating_hold_the_rollout_as_kubectl_does() {
        let f = rollout_finding(&deployment(Some(3), 4, counts(4, 4, 3, 3)), "prod", "app");
        assert_eq!(
            f,
            Finding::fail(
                "deployment prod/app: 3/3 updated, 3/3 available, generation 4 observed; \
                 1 old replica pending termination"
            )
        );
    }

    #[test]
    fn an_unset_replica_count_means_one() {
        let rolled = rollout_finding(&deployment(None, 1, counts(1, 1, 1, 1)), "prod", "app");
        assert!(rolled.passed, "{rolled:?}");
        let empty = rollout_finding(&deployment(None, 1, counts(1, 0, 0, 0)), "prod", "app");
        assert!(!empty.passed, "{empty:?}");
        assert!(empty.evidence.contains("0/1 updated"), "{empty:?}");
    }

    #[test]
    fn a_passed_progress_deadline_fails_even_when_the_counts_look_done() {
        let mut status = counts(2, 2, 2, 2);
        status.conditions = Some(vec![DeploymentCondition {
            type_: "Progressing".into(),
            status: "False".into(),
            reason: Some("ProgressDeadlineExceeded".into()),
            ..DeploymentCondition::default()
        }]);
        let f = rollout_finding(&deployment(Some(2), 2, status), "prod", "app");
        assert!(!f.passed);
        assert!(f.evidence.ends_with("progress deadline exceeded"), "{f:?}");
    }
}
