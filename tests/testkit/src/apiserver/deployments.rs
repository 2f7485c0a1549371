//! Seeding apps/v1 Deployments mid-rollout: a [`Rollout`] says what the Deployment
//! controller last reported (the test server runs no controllers, so nothing moves unless
//! the test moves it), and [`ApiServer::put_deployment`] writes the Deployment with that
//! status and the conditions the controller would have set.

use serde_json::{Value, json};

use super::ApiServer;

/// A Deployment's spec and status counts, as its controller reports them.
///
/// ```text
/// server.put_deployment("prod", "summit", Rollout::complete(3, 4));
/// server.put_deployment("prod", "summit", Rollout::rolling(3, 1, 5));
/// server.put_deployment("prod", "summit", Rollout { observed_generation: 3, ..Rollout::complete(3, 4) });
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rollout {
    /// `spec.replicas`.
    pub replicas: i64,
    /// `metadata.generation`: the spec's version.
    pub generation: i64,
    /// `status.observedGeneration`: the spec's version the controller last acted on.
    pub observed_generation: i64,
    /// `status.replicas`: pods of the old and the new template.
    pub current: i64,
    /// `status.updatedReplicas`: pods of the new template.
    pub updated: i64,
    /// `status.readyReplicas`: pods passing their readiness probe.
    pub ready: i64,
    /// `status.availableReplicas`: pods ready for `minReadySeconds`.
    pub available: i64,
    /// The controller gave up waiting: Progressing is False, ProgressDeadlineExceeded.
    pub deadline_exceeded: bool,
}

impl Rollout {
    /// Done: every replica on the new template, ready and available, `generation` observed.
    pub fn complete(replicas: i64, generation: i64) -> Self {
        Self {
            replicas,
            generation,
            observed_generation: generation,
            current: replicas,
            updated: replicas,
            ready: replicas,
            available: replicas,
            deadline_exceeded: false,
        }
    }

    /// Midway through a rolling update at the default 25 % surge: `updated` new pods, one
    /// of them surged above `replicas` and not ready yet, the old pods still serving.
    pub fn rolling(replicas: i64, updated: i64, generation: i64) -> Self {
        Self {
            replicas,
            generation,
            observed_generation: generation,
            current: replicas + 1,
            updated,
            ready: replicas,
            available: replicas,
            deadline_exceeded: false,
        }
    }

    fn conditions(&self, replica_set: &str) -> Value {
        let at = "2026-11-20T10:00:00Z";
        let available = if self.available >= self.replicas {
            (
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            )
        } else {
            (
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            )
        };
        let done = self.updated >= self.replicas
            && self.current <= self.updated
            && self.available >= self.updated;
        let progressing = if self.deadline_exceeded {
            (
                "False",
                "ProgressDeadlineExceeded",
                format!("ReplicaSet \"{replica_set}\" has timed out progressing."),
            )
        } else if done {
            (
                "True",
                "NewReplicaSetAvailable",
                format!("ReplicaSet \"{replica_set}\" has successfully progressed."),
            )
        } else {
            (
                "True",
                "ReplicaSetUpdated",
                format!("ReplicaSet \"{replica_set}\" is progressing."),
            )
        };
        json!([
            {
                "type": "Available",
                "status": available.0,
                "reason": available.1,
                "message": available.2,
                "lastUpdateTime": at,
                "lastTransitionTime": at,
            },
            {
                "type": "Progressing",
                "status": progressing.0,
                "reason": progressing.1,
                "message": progressing.2,
                "lastUpdateTime": at,
                "lastTransitionTime": at,
            },
        ])
    }
}

impl ApiServer {
    /// Create or replace the Deployment `name` (one container `name`, image
    /// `registry.example.com/<name>:<generation>`, selecting `app=<name>`) in the state
    /// `rollout` describes.
    pub fn put_deployment(&self, namespace: &str, name: &str, rollout: Rollout) -> Value {
        let replica_set = format!("{name}-7d4b9c8f{}", rollout.generation);
        let mut status = json!({"conditions": rollout.conditions(&replica_set)});
        // Every count is `omitempty`: the controller never writes a zero.
        for (field, count) in [
            ("observedGeneration", rollout.observed_generation),
            ("replicas", rollout.current),
            ("updatedReplicas", rollout.updated),
            ("readyReplicas", rollout.ready),
            ("availableReplicas", rollout.available),
            ("unavailableReplicas", rollout.current - rollout.available),
        ] {
            if count > 0 {
                status[field] = json!(count);
            }
        }
        self.put_object(json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "generation": rollout.generation,
                "labels": {"app": name},
                "annotations": {"deployment.kubernetes.io/revision": rollout.generation.to_string()},
            },
            "spec": {
                "replicas": rollout.replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{
                        "name": name,
                        "image": format!("registry.example.com/{name}:{}", rollout.generation),
                    }]},
                },
            },
            "status": status,
        }))
    }
}
