//! What each action needs the cluster to allow, asked once at start as
//! SelfSubjectAccessReviews, so an action the user may not take shows as unavailable with
//! the reason instead of failing half-way at 3 a.m.

use std::collections::BTreeMap;

use crate::config::app::{ReleaseConfig, TrafficConfig, TrafficKind};
use crate::sources::{Access, AccessCheck, Cluster};

/// Actions that move the canary's traffic.
const TRAIN_ACTIONS: [&str; 6] = [
    "promote",
    "promote-full",
    "pause",
    "resume",
    "rollback",
    "abort",
];

/// Actions that change the plan's progress.
const PHASE_ACTIONS: [&str; 5] = [
    "phase-start",
    "phase-force-start",
    "phase-validate",
    "phase-confirm",
    "phase-rollback",
];

/// Every (action, permission) pair the console's actions depend on.
pub fn requirements(
    release: &ReleaseConfig,
    traffic: &TrafficConfig,
) -> Vec<(String, AccessCheck)> {
    let ns = release.namespace.as_str();
    let route = match traffic.kind {
        TrafficKind::GatewayApi => {
            AccessCheck::new("patch", "gateway.networking.k8s.io", "httproutes")
        }
        TrafficKind::IngressNginx => AccessCheck::new("patch", "networking.k8s.io", "ingresses"),
    }
    .in_namespace(ns)
    .named(&traffic.route);
    let mut needs: Vec<(String, AccessCheck)> = TRAIN_ACTIONS
        .iter()
        .map(|a| (a.to_string(), route.clone()))
        .collect();
    // The train and the plan are recorded in the shared ConfigMap before anything moves.
    let shared = AccessCheck::new("patch", "", "configmaps")
        .in_namespace(ns)
        .named(&crate::sources::kube::shared::object_name(&release.name));
    for action in TRAIN_ACTIONS.iter().chain(PHASE_ACTIONS.iter()) {
        needs.push((action.to_string(), shared.clone()));
    }
    // helm rollback writes a new release Secret and supersedes the deployed one.
    for verb in ["create", "update"] {
        needs.push((
            "rollback".into(),
            AccessCheck::new(verb, "", "secrets").in_namespace(ns),
        ));
    }
    for action in ["delete-preview", "clean-stale"] {
        needs.push((action.into(), AccessCheck::new("delete", "", "namespaces")));
    }
    needs
}

/// Ask the cluster about each requirement; the actions denied, each with why. A review
/// the cluster cannot answer denies nothing: the API server still has the last word.
pub async fn review(
    cluster: &dyn Cluster,
    needs: &[(String, AccessCheck)],
) -> BTreeMap<String, String> {
    let mut denied: BTreeMap<String, String> = BTreeMap::new();
    for (action, check) in needs {
        if denied.contains_key(action) {
            continue;
        }
        match cluster.access(check).await {
            Ok(Access::Allowed) => {}
            Ok(Access::Denied { reason }) => {
                denied.insert(action.clone(), format!("you may not {check} ({reason})"));
            }
            Err(e) => log::debug!("access review of {check}: {e}"),
        }
    }
    denied
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_train_action_needs_the_route_and_rollback_needs_helms_secrets_too() {
        let needs = requirements(&ReleaseConfig::default(), &TrafficConfig::default());
        let of = |a: &str| -> Vec<String> {
            needs
                .iter()
                .filter(|(x, _)| x == a)
                .map(|(_, c)| c.to_string())
                .collect()
        };
        assert_eq!(
            of("promote"),
            vec![
                "patch httproutes.gateway.networking.k8s.io/summit in prod",
                "patch configmaps/captain-summit in prod",
            ]
        );
        assert_eq!(
            of("rollback"),
            vec![
                "patch httproutes.gateway.networking.k8s.io/summit in prod",
                "patch configmaps/captain-summit in prod",
                "create secrets in prod",
                "update secrets in prod",
            ]
        );
        assert_eq!(
            of("phase-start"),
            vec!["patch configmaps/captain-summit in prod"]
        );
        assert_eq!(of("clean-stale"), vec!["delete namespaces"]);
        let nginx = TrafficConfig {
            kind: TrafficKind::IngressNginx,
            route: "summit-canary".into(),
        };
        let needs = requirements(&ReleaseConfig::default(), &nginx);
        assert_eq!(
            needs[0].1.to_string(),
            "patch ingresses.networking.k8s.io/summit-canary in prod"
        );
    }
}
