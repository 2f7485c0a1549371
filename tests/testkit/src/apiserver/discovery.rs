//! Discovery as the real API server answers it: `/version`, `/api`, `/api/v1`, `/apis`,
//! `/apis/<group>`, `/apis/<group>/<version>`, built from the served types, with each
//! type's subresources listed. Aggregated discovery (kubectl's first choice) is answered
//! with the plain documents as `application/json`, on which clients fall back to reading
//! each group-version.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::resources::TYPES;
use super::status::{ApiError, json_response};

/// The discovery documents, `None` for any other path.
pub fn answer(address: &str, method: &Method, path: &str) -> Option<Response> {
    let path = path.trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let document = match segments.as_slice() {
        ["version"] => Some(version()),
        ["api"] => Some(core_versions(address)),
        ["api", "v1"] => resource_list("", "v1"),
        ["apis"] => Some(group_list()),
        ["apis", name] => group(name),
        ["apis", group, version] => resource_list(group, version),
        // No OpenAPI (a 404): kubectl leaves field validation to the server
        // (`fieldValidation=Strict`, which this one does not enforce).
        _ => return None,
    };
    if method != Method::GET {
        return Some(ApiError::method_not_allowed().into_response());
    }
    // Aggregated discovery (Accept: ...;as=APIGroupDiscoveryList) is answered with the
    // plain documents as application/json: clients fall back to per-group discovery.
    Some(match document {
        Some(document) => json_response(StatusCode::OK, &document),
        None => ApiError::no_route().into_response(),
    })
}

fn groups() -> Vec<&'static str> {
    let mut groups: Vec<&str> = Vec::new();
    for t in TYPES {
        if !t.group.is_empty() && !groups.contains(&t.group) {
            groups.push(t.group);
        }
    }
    groups
}

fn group_document(group: &str) -> Value {
    let group_version = json!({"groupVersion": format!("{group}/v1"), "version": "v1"});
    json!({
        "name": group,
        "versions": [group_version],
        "preferredVersion": group_version,
    })
}

/// `/api`: the legacy core group's versions.
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

/// `/apis`: every named group.
pub fn group_list() -> Value {
    let groups: Vec<Value> = groups().into_iter().map(group_document).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/<group>`: one group, `None` when it is not served.
pub fn group(name: &str) -> Option<Value> {
    groups().contains(&name).then(|| {
        let mut document = group_document(name);
        document["kind"] = json!("APIGroup");
        document["apiVersion"] = json!("v1");
        document
    })
}

/// `/api/v1` or `/apis/<group>/<version>`: the group-version's resources and their
/// subresources, `None` when it is not served.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for t in TYPES
        .iter()
        .filter(|t| t.group == group && t.version == version)
    {
        let mut entry = json!({
            "name": t.plural,
            "singularName": t.singular,
            "namespaced": t.namespaced,
            "kind": t.kind,
            "verbs": t.verbs,
        });
        if !t.short_names.is_empty() {
            entry["shortNames"] = json!(t.short_names);
        }
        if !t.categories.is_empty() {
            entry["categories"] = json!(t.categories);
        }
        resources.push(entry);
        if t.status_subresource {
            resources.push(json!({
                "name": format!("{}/status", t.plural),
                "singularName": "",
                "namespaced": t.namespaced,
                "kind": t.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
    }
    if resources.is_empty() {
        return None;
    }
    // The core group's list carries no apiVersion; the named groups' lists do.
    Some(if group.is_empty() {
        json!({"kind": "APIResourceList", "groupVersion": version, "resources": resources})
    } else {
        json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": format!("{group}/{version}"),
            "resources": resources,
        })
    })
}

/// `/version`: what `kubectl version` and kube-rs's `apiserver_version` read.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": "v1.33.0",
        "gitCommit": "60a317eadfcb839692a68eab88b2096f4d708f4f",
        "gitTreeState": "clean",
        "buildDate": "2025-04-23T13:07:08Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}
