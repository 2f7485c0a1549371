//! What the server fills in and checks on every object it stores, whoever wrote it: the
//! fields it owns or defaults (apiVersion/kind, namespace, a namespace's finalizer, phase
//! and name label, a Secret's type and stringData, a Deployment's replicas, strategy and
//! deadlines), valid names, the kind a body claims,
//! and timestamps as the API writes them.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::resources::ResourceType;
use super::status::ApiError;

pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn meta_str<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    object["metadata"][field].as_str().filter(|s| !s.is_empty())
}

/// A DNS-1123 label (namespaces) or subdomain (everything else), as names must be.
pub fn name_problem(t: &ResourceType, name: &str) -> Option<String> {
    let label = t.kind == "Namespace";
    let max = if label { 63 } else { 253 };
    let allowed =
        |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (!label && c == '.');
    let edges = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let ok = !name.is_empty()
        && name.len() <= max
        && name.chars().all(allowed)
        && name.starts_with(edges)
        && name.ends_with(edges);
    (!ok).then(|| {
        let what = if label {
            "RFC 1123 label"
        } else {
            "RFC 1123 subdomain"
        };
        format!(
            "Invalid value: \"{name}\": a lowercase {what} must consist of lower case \
             alphanumeric characters{}, and must start and end with an alphanumeric character",
            if label { " or '-'" } else { ", '-' or '.'" }
        )
    })
}

/// The fields the server owns or defaults, whoever wrote the object.
pub fn normalize(
    t: &'static ResourceType,
    object: &mut Value,
    namespace: Option<&str>,
    name: &str,
) {
    object["apiVersion"] = json!(t.api_version());
    object["kind"] = json!(t.kind);
    let metadata = &mut object["metadata"];
    if !metadata.is_object() {
        *metadata = json!({});
    }
    metadata["name"] = json!(name);
    if let Some(map) = metadata.as_object_mut() {
        map.remove("managedFields");
        map.remove("selfLink");
        if t.namespaced {
            map.insert("namespace".into(), json!(namespace.unwrap_or("default")));
        } else {
            map.remove("namespace");
        }
    }
    match t.kind {
        "Namespace" => {
            // Every namespace carries its name as a label (since Kubernetes 1.21).
            object["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
            if object["spec"]["finalizers"].is_null() {
                object["spec"]["finalizers"] = json!(["kubernetes"]);
            }
            if object["status"]["phase"].is_null() {
                object["status"]["phase"] = json!("Active");
            }
        }
        "Secret" => {
            if let Some(Value::Object(strings)) =
                object.as_object_mut().and_then(|o| o.remove("stringData"))
            {
                use base64::Engine as _;
                for (k, v) in strings {
                    let text = v.as_str().unwrap_or_default();
                    object["data"][k] =
                        json!(base64::engine::general_purpose::STANDARD.encode(text));
                }
            }
            if object["type"].is_null() {
                object["type"] = json!("Opaque");
            }
        }
        "Deployment" => {
            // The Deployment's own defaults; the pod template's are not filled in.
            let spec = &mut object["spec"];
            for (field, default) in [
                ("replicas", json!(1)),
                ("revisionHistoryLimit", json!(10)),
                ("progressDeadlineSeconds", json!(600)),
                (
                    "strategy",
                    json!({
                        "type": "RollingUpdate",
                        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
                    }),
                ),
            ] {
                if spec[field].is_null() {
                    spec[field] = default;
                }
            }
        }
        _ => {}
    }
}

/// Equal but for the revision: such a write changes nothing and bumps nothing.
pub fn same_content(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v["metadata"].as_object_mut() {
            m.remove("resourceVersion");
        }
        v
    };
    strip(a) == strip(b)
}

pub fn check_kind(t: &'static ResourceType, body: &Value) -> Result<(), ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "the request body is not a JSON object",
        ));
    }
    if let Some(api_version) = body["apiVersion"].as_str().filter(|s| !s.is_empty())
        && api_version != t.api_version()
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API \
             version ({})",
            t.api_version()
        )));
    }
    if let Some(kind) = body["kind"].as_str().filter(|s| !s.is_empty())
        && kind != t.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            t.kind
        )));
    }
    Ok(())
}

/// The five characters `generateName` appends, from the alphabet the real server uses.
pub fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let bytes = uuid::Uuid::new_v4().into_bytes();
    bytes[..5]
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}
