//! What each action needs the cluster to allow, asked once at start as
//! SelfSubjectAccessReviews, so an action the user may not take shows as unavailable with
//! the reason instead of failing half-way at 3 a.m.

use std::collections::BTreeMap;

use super::action::{ActionKind, Touches};
use crate::config::app::{ReleaseConfig, TrafficConfig, TrafficKind};
use crate::sources::{Access, AccessCheck, Cluster};

/// Every (action, permission) pair the console's actions depend on, in
/// [`ActionKind::ALL`]'s order.
pub fn requirements(
    release: &ReleaseConfig,
    traffic: &TrafficConfig,
) -> Vec<(ActionKind, AccessCheck)> {
    let ns = release.namespace.as_str();
    let route = match traffic.kind {
        TrafficKind::GatewayApi => {
            AccessCheck::new("patch", "gateway.networking.k8s.io", "httproutes")
        }
        TrafficKind::IngressNginx => AccessCheck::new("patch", "networking.k8s.io", "ingresses"),
    }
    .in_namespace(ns)
    .named(&traffic.route);
    // The train and the plan are recorded in the shared ConfigMap before anything moves.
    let shared = AccessCheck::new("patch", "", "configmaps")
        .in_namespace(ns)
        .named(&crate::sources::kube::shared::object_name(&release.name));
    let mut needs = Vec::new();
    for action in ActionKind::ALL {
        match action.touches() {
            Touches::Train => {
                needs.push((action, route.clone()));
                needs.push((action, shared.clone()));
            }
            Touches::Plan => needs.push((action, shared.clone())),
            Touches::Previews => {
                needs.push((action, AccessCheck::new("delete", "", "namespaces")));
            }
            Touches::Forge => {}
        }
        // helm rollback writes a new release Secret and supersedes the deployed one.
        if action == ActionKind::Rollback {
            for verb in ["create", "update"] {
                needs.push((
                    action,
                    AccessCheck::new(verb, "", "secrets").in_namespace(ns),
                ));
            }
        }
    }
    needs
}

/// Ask the cluster about each requirement; the actions denied, each with why. A review
/// the cluster cannot answer denies nothing: the API server still has the last word.
pub async fn review(
    cluster: &dyn Cluster,
    needs: &[(ActionKind, AccessCheck)],
) -> BTreeMap<ActionKind, String> {
    let mut denied: BTreeMap<ActionKind, String> = BTreeMap::new();
    // Actions share permissions: each is asked once.
    let mut asked: BTreeMap<String, Option<String>> = BTreeMap::new();
    for (action, check) in needs {
        if denied.contains_key(action) {
            continue;
        }
        let key = check.to_string();
        let why = match asked.get(&key) {
            Some(why) => why.clone(),
            None => {
                let why = match cluster.access(check).await {
                    Ok(Access::Allowed) => None,
                    Ok(Access::Denied { reason }) => {
                        Some(format!("you may not {check} ({reason})"))
                    }
                    Err(e) => {
                        log::debug!("access review of {check}: {e}");
                        None
                    }
                };
                asked.insert(key, why.clone());
                why
            }
        };
        if let Some(why) = why {
            denied.insert(*action, why);
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
                .filter(|(x, _)| x.name() == a)
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
