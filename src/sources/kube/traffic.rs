//! Shifting traffic between the stable and canary tracks: a [`TrafficShifter`] for the
//! Gateway API (`HTTPRoute` backend weights) and one for ingress-nginx (the canary
//! Ingress's `canary-weight` annotation).
//!
//! Every write is a JSON merge patch that carries the `metadata.resourceVersion` it was
//! computed from, so the API server applies it only to the object as read, and answers
//! `409 Conflict` if anyone changed it since. On a conflict the object is read again and the
//! patch recomputed, up to [`ATTEMPTS`] times. The weight returned is the one read back from
//! the cluster afterwards, never the one asked for.
//!
//! Gateway API convention: in the route's first rule, the canary backend is named
//! `<route>-canary` and the stable one `<route>-stable`; failing that, a rule with exactly
//! two backends, one of them named `*-canary`, is read as canary and stable. Any other
//! shape is refused rather than guessed at. A backend without a weight weighs 1, as the
//! Gateway API specifies.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::client::{source_error, status_code};
use crate::clock::Clock;
use crate::sources::{Feed, SourceError};
use tokio::task::JoinHandle;

/// Tries at a patch before giving up on an object that keeps changing under us.
pub const ATTEMPTS: u32 = 5;

pub const CANARY_ANNOTATION: &str = "nginx.ingress.kubernetes.io/canary";
pub const WEIGHT_ANNOTATION: &str = "nginx.ingress.kubernetes.io/canary-weight";
pub const WEIGHT_TOTAL_ANNOTATION: &str = "nginx.ingress.kubernetes.io/canary-weight-total";

/// Moves the canary's share of traffic.
#[async_trait]
pub trait TrafficShifter: Send + Sync {
    /// The canary's share of traffic, in percent, as the cluster has it now.
    async fn weight(&self) -> Result<u8, SourceError>;
    /// Give the canary `weight` percent (stable the rest); returns the share read back.
    async fn set_weight(&self, weight: u8) -> Result<u8, SourceError>;
    /// Watch the canary's share as the cluster changes it (one list, then one watch).
    /// Must be called within a Tokio runtime; aborting the handle stops the watch.
    fn watch(&self) -> (Feed<u8>, JoinHandle<()>);
}

/// The Gateway API `HTTPRoute` resource (`gateway.networking.k8s.io/v1`).
pub fn http_route_resource() -> ApiResource {
    ApiResource {
        group: "gateway.networking.k8s.io".into(),
        version: "v1".into(),
        api_version: "gateway.networking.k8s.io/v1".into(),
        kind: "HTTPRoute".into(),
        plural: "httproutes".into(),
    }
}

/// Weights on an `HTTPRoute`'s first rule.
pub struct GatewayRoute {
    api: Api<DynamicObject>,
    route: String,
    clock: Arc<dyn Clock>,
}

impl GatewayRoute {
    pub fn new(client: Client, namespace: &str, route: &str, clock: Arc<dyn Clock>) -> Self {
        Self {
            api: Api::namespaced_with(client, namespace, &http_route_resource()),
            route: route.to_string(),
            clock,
        }
    }
}

#[async_trait]
impl TrafficShifter for GatewayRoute {
    async fn weight(&self) -> Result<u8, SourceError> {
        let route = read(&self.api, &self.route, "HTTPRoute", &*self.clock).await?;
        route_weight(&route.data, &self.route)
    }

    fn watch(&self) -> (Feed<u8>, JoinHandle<()>) {
        let name = self.route.clone();
        super::traffic_watch::spawn(
            self.api.clone(),
            format!("watch HTTPRoute {name}"),
            &self.route,
            move |route: &DynamicObject| route_weight(&route.data, &name),
            self.clock.clone(),
        )
    }

    async fn set_weight(&self, weight: u8) -> Result<u8, SourceError> {
        let name = self.route.clone();
        settle(
            &self.api,
            &self.route,
            "HTTPRoute",
            &*self.clock,
            |route: &DynamicObject| route_patch(route, &name, weight),
            |route: &DynamicObject| route_weight(&route.data, &name),
        )
        .await
    }
}

/// The canary Ingress's `canary-weight` annotation.
pub struct NginxCanary {
    api: Api<Ingress>,
    name: String,
    clock: Arc<dyn Clock>,
}

impl NginxCanary {
    pub fn new(client: Client, namespace: &str, ingress: &str, clock: Arc<dyn Clock>) -> Self {
        Self {
            api: Api::namespaced(client, namespace),
            name: ingress.to_string(),
            clock,
        }
    }
}

#[async_trait]
impl TrafficShifter for NginxCanary {
    async fn weight(&self) -> Result<u8, SourceError> {
        let ingress = read(&self.api, &self.name, "Ingress", &*self.clock).await?;
        ingress_weight(&ingress)
    }

    fn watch(&self) -> (Feed<u8>, JoinHandle<()>) {
        super::traffic_watch::spawn(
            self.api.clone(),
            format!("watch Ingress {}", self.name),
            &self.name,
            ingress_weight,
            self.clock.clone(),
        )
    }

    async fn set_weight(&self, weight: u8) -> Result<u8, SourceError> {
        settle(
            &self.api,
            &self.name,
            "Ingress",
            &*self.clock,
            |ingress: &Ingress| ingress_patch(ingress, weight),
            ingress_weight,
        )
        .await
    }
}

async fn read<K>(api: &Api<K>, name: &str, kind: &str, clock: &dyn Clock) -> Result<K, SourceError>
where
    K: Clone + DeserializeOwned + Debug,
{
    api.get(name)
        .await
        .map_err(|e| source_error(&e, &format!("read {kind} {name}"), clock.now()))
}

/// Read, patch with the read resourceVersion as a precondition, retry on a conflict, and
/// read back.
async fn settle<K>(
    api: &Api<K>,
    name: &str,
    kind: &str,
    clock: &dyn Clock,
    patch_for: impl Fn(&K) -> Result<Value, SourceError>,
    weight_of: impl Fn(&K) -> Result<u8, SourceError>,
) -> Result<u8, SourceError>
where
    K: Clone + DeserializeOwned + Debug + Resource,
{
    for attempt in 1..=ATTEMPTS {
        let current = read(api, name, kind, clock).await?;
        let body = patch_for(&current)?;
        match api
            .patch(name, &PatchParams::default(), &Patch::Merge(&body))
            .await
        {
            Ok(_) => {
                let back = read(api, name, kind, clock).await?;
                return weight_of(&back);
            }
            Err(e) if status_code(&e) == Some(409) => {
                log::info!(
                    "kube: {kind} {name} changed while setting its weight (attempt {attempt} of {ATTEMPTS}), re-reading"
                );
            }
            Err(e) => {
                return Err(source_error(
                    &e,
                    &format!("patch {kind} {name}"),
                    clock.now(),
                ));
            }
        }
    }
    Err(SourceError::Rejected(format!(
        "patch {kind} {name}: it changed under every one of {ATTEMPTS} attempts"
    )))
}

fn check_weight(weight: u8) -> Result<(), SourceError> {
    if weight > 100 {
        return Err(SourceError::Rejected(format!(
            "canary weight {weight} is over 100 %"
        )));
    }
    Ok(())
}

fn resource_version<K: Resource>(object: &K, kind: &str) -> Result<String, SourceError> {
    object
        .meta()
        .resource_version
        .clone()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| SourceError::Rejected(format!("{kind} has no resourceVersion")))
}

/// Where the canary and stable backends are in the first rule's `backendRefs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Backends {
    canary: usize,
    stable: usize,
}

fn backends(refs: &[Value], route: &str) -> Result<Backends, SourceError> {
    let names: Vec<&str> = refs
        .iter()
        .map(|r| r.get("name").and_then(Value::as_str).unwrap_or(""))
        .collect();
    let position = |wanted: &str| names.iter().position(|n| *n == wanted);
    let by_name = (
        position(&format!("{route}-canary")),
        position(&format!("{route}-stable")),
    );
    let found = match by_name {
        (Some(canary), Some(stable)) if names.len() == 2 => Some(Backends { canary, stable }),
        _ if names.len() == 2 => {
            let canaries: Vec<usize> = (0..2).filter(|i| names[*i].ends_with("-canary")).collect();
            match canaries[..] {
                [canary] => Some(Backends {
                    canary,
                    stable: 1 - canary,
                }),
                _ => None,
            }
        }
        _ => None,
    };
    found.ok_or_else(|| {
        SourceError::Rejected(format!(
            "HTTPRoute {route}: rule 0 should have two backends, {route}-stable and \
             {route}-canary (or one named *-canary and one other); it has [{}]",
            names.join(", ")
        ))
    })
}

fn first_rule_refs<'a>(data: &'a Value, route: &str) -> Result<&'a Vec<Value>, SourceError> {
    data.pointer("/spec/rules/0/backendRefs")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            SourceError::Rejected(format!("HTTPRoute {route} has no rules[0].backendRefs"))
        })
}

fn ref_weight(r: &Value) -> u64 {
    r.get("weight").and_then(Value::as_u64).unwrap_or(1)
}

/// The canary's share of the route's first rule, in percent.
pub fn route_weight(data: &Value, route: &str) -> Result<u8, SourceError> {
    let refs = first_rule_refs(data, route)?;
    let b = backends(refs, route)?;
    let (canary, stable) = (ref_weight(&refs[b.canary]), ref_weight(&refs[b.stable]));
    Ok(share(canary, canary + stable))
}

fn share(part: u64, total: u64) -> u8 {
    if total == 0 {
        return 0;
    }
    ((part * 100 + total / 2) / total).min(100) as u8
}

/// The merge patch that gives the canary `weight` percent on `route`'s first rule: the
/// rules as read with two weights changed, and the resourceVersion they were read at.
pub fn route_patch(route: &DynamicObject, name: &str, weight: u8) -> Result<Value, SourceError> {
    check_weight(weight)?;
    let version = resource_version(route, "HTTPRoute")?;
    let b = backends(first_rule_refs(&route.data, name)?, name)?;
    let mut rules = route
        .data
        .pointer("/spec/rules")
        .cloned()
        .unwrap_or(Value::Null);
    if let Some(refs) = rules
        .pointer_mut("/0/backendRefs")
        .and_then(Value::as_array_mut)
    {
        refs[b.canary]["weight"] = json!(weight);
        refs[b.stable]["weight"] = json!(100 - weight);
    }
    Ok(json!({
        "metadata": {"resourceVersion": version},
        "spec": {"rules": rules},
    }))
}

fn annotation<'a>(ingress: &'a Ingress, key: &str) -> Option<&'a str> {
    ingress
        .metadata
        .annotations
        .as_ref()?
        .get(key)
        .map(String::as_str)
}

fn weight_total(ingress: &Ingress) -> Result<u64, SourceError> {
    match annotation(ingress, WEIGHT_TOTAL_ANNOTATION) {
        None => Ok(100),
        Some(v) => v.trim().parse().ok().filter(|t| *t > 0).ok_or_else(|| {
            SourceError::Rejected(format!("{WEIGHT_TOTAL_ANNOTATION} is {v:?}, not a number"))
        }),
    }
}

fn check_canary(ingress: &Ingress) -> Result<(), SourceError> {
    if annotation(ingress, CANARY_ANNOTATION) != Some("true") {
        return Err(SourceError::Rejected(format!(
            "Ingress {} is not an ingress-nginx canary ({CANARY_ANNOTATION} is not \"true\")",
            ingress.metadata.name.as_deref().unwrap_or("?")
        )));
    }
    Ok(())
}

/// The canary's share from the canary Ingress's annotations, in percent.
pub fn ingress_weight(ingress: &Ingress) -> Result<u8, SourceError> {
    check_canary(ingress)?;
    let total = weight_total(ingress)?;
    let weight = match annotation(ingress, WEIGHT_ANNOTATION) {
        None => 0,
        Some(v) => v.trim().parse::<u64>().map_err(|_| {
            SourceError::Rejected(format!("{WEIGHT_ANNOTATION} is {v:?}, not a number"))
        })?,
    };
    Ok(share(weight, total))
}

/// The merge patch that gives the canary `weight` percent (scaled to a custom
/// `canary-weight-total`), with the resourceVersion it was computed from.
pub fn ingress_patch(ingress: &Ingress, weight: u8) -> Result<Value, SourceError> {
    check_weight(weight)?;
    check_canary(ingress)?;
    let version = resource_version(ingress, "Ingress")?;
    let scaled = u64::from(weight) * weight_total(ingress)? / 100;
    Ok(json!({
        "metadata": {
            "resourceVersion": version,
            "annotations": {WEIGHT_ANNOTATION: scaled.to_string()},
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn route(refs: Value) -> DynamicObject {
        let mut r = DynamicObject::new("summit", &http_route_resource()).within("prod");
        r.metadata.resource_version = Some("41".into());
        r.data = json!({"spec": {
            "parentRefs": [{"name": "public"}],
            "rules": [
                {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}], "backendRefs": refs},
                {"backendRefs": [{"name": "docs", "port": 80}]},
            ]
        }});
        r
    }

    #[test]
    fn the_route_patch_sets_both_weights_and_carries_the_resource_version() {
        let r = route(json!([
            {"name": "summit-stable", "port": 8080, "weight": 100},
            {"name": "summit-canary", "port": 8080, "weight": 0},
        ]));
        let patch = route_patch(&r, "summit", 25).unwrap();
        assert_eq!(
            patch,
            json!({
                "metadata": {"resourceVersion": "41"},
                "spec": {"rules": [
                    {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}], "backendRefs": [
                        {"name": "summit-stable", "port": 8080, "weight": 75},
                        {"name": "summit-canary", "port": 8080, "weight": 25},
                    ]},
                    {"backendRefs": [{"name": "docs", "port": 80}]},
                ]},
            })
        );
    }

    #[test]
    fn a_canary_named_by_suffix_is_found_and_unset_weights_weigh_one() {
        let r = route(json!([{"name": "summit-v2-canary"}, {"name": "summit"}]));
        assert_eq!(route_weight(&r.data, "summit").unwrap(), 50);
        let patch = route_patch(&r, "summit", 5).unwrap();
        let refs = patch.pointer("/spec/rules/0/backendRefs").unwrap();
        assert_eq!(refs[0]["weight"], 5);
        assert_eq!(refs[1]["weight"], 95);
    }

    #[test]
    fn a_route_whose_backends_cannot_be_told_apart_is_refused() {
        let r = route(json!([{"name": "a"}, {"name": "b"}]));
        let err = route_patch(&r, "summit", 5).unwrap_err();
        assert!(err.to_string().contains("summit-canary"), "{err}");
        let r = route(json!([
            {"name": "summit-stable"}, {"name": "summit-canary"}, {"name": "summit-shadow"}
        ]));
        assert!(route_weight(&r.data, "summit").is_err());
        let r = route(json!([{"name": "summit-stable"}, {"name": "summit-canary"}]));
        assert!(route_patch(&r, "summit", 101).is_err());
    }

    fn ingress(annotations: &[(&str, &str)]) -> Ingress {
        Ingress {
            metadata: ObjectMeta {
                name: Some("summit-canary".into()),
                resource_version: Some("7".into()),
                annotations: Some(
                    annotations
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..ObjectMeta::default()
            },
            ..Ingress::default()
        }
    }

    #[test]
    fn the_ingress_patch_sets_the_annotation_with_the_resource_version() {
        let i = ingress(&[(CANARY_ANNOTATION, "true"), (WEIGHT_ANNOTATION, "5")]);
        assert_eq!(ingress_weight(&i).unwrap(), 5);
        assert_eq!(
            ingress_patch(&i, 50).unwrap(),
            json!({"metadata": {
                "resourceVersion": "7",
                "annotations": {"nginx.ingress.kubernetes.io/canary-weight": "50"},
            }})
        );
    }

    #[test]
    fn a_custom_weight_total_is_honoured_both_ways() {
        let i = ingress(&[
            (CANARY_ANNOTATION, "true"),
            (WEIGHT_ANNOTATION, "250"),
            (WEIGHT_TOTAL_ANNOTATION, "1000"),
        ]);
        assert_eq!(ingress_weight(&i).unwrap(), 25);
        let patch = ingress_patch(&i, 50).unwrap();
        assert_eq!(patch["metadata"]["annotations"][WEIGHT_ANNOTATION], "500");
    }

    #[test]
    fn an_ingress_that_is_not_a_canary_is_refused() {
        let i = ingress(&[(WEIGHT_ANNOTATION, "5")]);
        assert!(ingress_patch(&i, 50).is_err());
        assert!(ingress_weight(&i).is_err());
    }
}
