//! Server-side printing: the `meta.k8s.io/v1 Table` kubectl asks for
//! (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`) with the columns the real
//! server prints per kind (`NAME STATUS AGE` for namespaces; the `-o wide` ones at
//! priority 1), ages worded as the server words them, and each row's object as
//! PartialObjectMetadata unless asked otherwise.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::resources::ResourceType;

/// What each row carries (`includeObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    pub fn parse(param: Option<&str>) -> Self {
        match param {
            Some("None") => Self::None,
            Some("Object") => Self::Object,
            _ => Self::Metadata,
        }
    }
}

/// Does this Accept header ask for a Table?
pub fn wants_table(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=Table") && first.contains("g=meta.k8s.io"))
}

/// An age as the API server prints it (`k8s.io/apimachinery/pkg/util/duration.HumanDuration`).
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return match seconds % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        return match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return match hours % 24 {
            0 => format!("{}d", hours / 24),
            h => format!("{}d{h}h", hours / 24),
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let years = hours / 24 / 365;
        return match (hours / 24) % 365 {
            0 => format!("{years}y"),
            d => format!("{years}y{d}d"),
        };
    }
    format!("{}y", hours / 24 / 365)
}

fn age(object: &Value, now: DateTime<Utc>) -> String {
    object["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(
            || "<unknown>".to_string(),
            |created| human_duration((now - created.with_timezone(&Utc)).num_seconds()),
        )
}

fn column(name: &str, kind: &str, format: &str, description: &str) -> Value {
    json!({"name": name, "type": kind, "format": format, "description": description, "priority": 0})
}

/// A column kubectl shows only with `-o wide`.
fn wide_column(name: &str, description: &str) -> Value {
    let mut c = column(name, "string", "", description);
    c["priority"] = json!(1);
    c
}

fn columns(t: &ResourceType) -> Vec<Value> {
    let name = column(
        "Name",
        "string",
        "name",
        "Name must be unique within a namespace. Is required when creating resources.",
    );
    let age = column(
        "Age",
        "string",
        "",
        "CreationTimestamp is a timestamp representing the server time when this object was \
         created.",
    );
    let middle = match t.kind {
        "Namespace" => vec![column(
            "Status",
            "string",
            "",
            "The status of the namespace",
        )],
        "Secret" => vec![
            column("Type", "string", "", "The type of the secret"),
            column("Data", "integer", "", "The number of entries in the secret"),
        ],
        "ConfigMap" => vec![column(
            "Data",
            "integer",
            "",
            "The number of entries in the config map",
        )],
        "Lease" => vec![column("Holder", "string", "", "The holder of the lease")],
        "Ingress" => vec![
            column(
                "Class",
                "string",
                "",
                "The name of the IngressClass resource.",
            ),
            column(
                "Hosts",
                "string",
                "",
                "Hosts that incoming requests are matched against.",
            ),
            column(
                "Address",
                "string",
                "",
                "Address is a list containing ingress points.",
            ),
            column(
                "Ports",
                "string",
                "",
                "Ports of TLS configurations that open",
            ),
        ],
        "HTTPRoute" => vec![column("Hostnames", "string", "", "")],
        "Deployment" => vec![
            column("Ready", "string", "", "Number of the pod with ready state"),
            column(
                "Up-to-date",
                "string",
                "",
                "Total number of non-terminated pods targeted by this deployment that have the \
                 desired template spec.",
            ),
            column(
                "Available",
                "string",
                "",
                "Total number of available pods (ready for at least minReadySeconds) targeted \
                 by this deployment.",
            ),
        ],
        _ => vec![],
    };
    let wide = match t.kind {
        "Deployment" => vec![
            wide_column("Containers", "Names of each container in the template."),
            wide_column(
                "Images",
                "Images referenced by each container in the template.",
            ),
            wide_column(
                "Selector",
                "Label selector for pods. Existing ReplicaSets whose pods are selected by this \
                 will be the ones affected by this deployment.",
            ),
        ],
        _ => vec![],
    };
    std::iter::once(name)
        .chain(middle)
        .chain(std::iter::once(age))
        .chain(wide)
        .collect()
}

/// A label selector as `metav1.FormatLabelSelector` prints it.
fn format_selector(selector: &Value) -> String {
    let mut parts: Vec<String> = selector["matchLabels"]
        .as_object()
        .map(|labels| {
            labels
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    for e in selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let key = e["key"].as_str().unwrap_or_default();
        let values: Vec<&str> = e["values"]
            .as_array()
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        parts.push(match e["operator"].as_str().unwrap_or_default() {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_string(),
            _ => format!("!{key}"),
        });
    }
    if parts.is_empty() {
        "<none>".into()
    } else {
        parts.join(",")
    }
}

fn joined(values: impl Iterator<Item = String>, empty: &str) -> String {
    let values: Vec<String> = values.collect();
    if values.is_empty() {
        empty.to_string()
    } else {
        values.join(",")
    }
}

fn cells(t: &ResourceType, o: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let count = |v: &Value| v.as_object().map_or(0, |m| m.len());
    let middle = match t.kind {
        "Namespace" => vec![json!(text(&o["status"]["phase"]))],
        "Secret" => vec![json!(text(&o["type"])), json!(count(&o["data"]))],
        "ConfigMap" => vec![json!(count(&o["data"]) + count(&o["binaryData"]))],
        "Lease" => vec![json!(text(&o["spec"]["holderIdentity"]))],
        "Ingress" => {
            let rules = o["spec"]["rules"].as_array().cloned().unwrap_or_default();
            let hosts = rules
                .iter()
                .map(|r| text(&r["host"]))
                .filter(|h| !h.is_empty());
            let lb = o["status"]["loadBalancer"]["ingress"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let addresses = lb.iter().map(|i| {
                let ip = text(&i["ip"]);
                if ip.is_empty() {
                    text(&i["hostname"])
                } else {
                    ip
                }
            });
            let tls = o["spec"]["tls"].as_array().is_some_and(|t| !t.is_empty());
            let class = o["spec"]["ingressClassName"].as_str().unwrap_or("<none>");
            vec![
                json!(class),
                json!(joined(hosts, "*")),
                json!(joined(addresses, "")),
                json!(if tls { "80, 443" } else { "80" }),
            ]
        }
        "HTTPRoute" => {
            let hostnames = o["spec"]["hostnames"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            vec![json!(format!(
                "[{}]",
                joined(hostnames.iter().map(|h| format!("{h}")), "")
            ))]
        }
        "Deployment" => {
            let int = |v: &Value| v.as_i64().unwrap_or(0);
            vec![
                json!(format!(
                    "{}/{}",
                    int(&o["status"]["readyReplicas"]),
                    int(&o["spec"]["replicas"])
                )),
                json!(int(&o["status"]["updatedReplicas"])),
                json!(int(&o["status"]["availableReplicas"])),
            ]
        }
        _ => vec![],
    };
    let wide = match t.kind {
        "Deployment" => {
            let containers = o["spec"]["template"]["spec"]["containers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            vec![
                json!(joined(containers.iter().map(|c| text(&c["name"])), "")),
                json!(joined(containers.iter().map(|c| text(&c["image"])), "")),
                json!(format_selector(&o["spec"]["selector"])),
            ]
        }
        _ => vec![],
    };
    std::iter::once(json!(text(&o["metadata"]["name"])))
        .chain(middle)
        .chain(std::iter::once(json!(age(o, now))))
        .chain(wide)
        .collect()
}

fn row(t: &ResourceType, object: &Value, include: IncludeObject, now: DateTime<Utc>) -> Value {
    let mut row = json!({"cells": cells(t, object, now)});
    match include {
        IncludeObject::None => {}
        IncludeObject::Metadata => {
            row["object"] = json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": object["metadata"],
            });
        }
        IncludeObject::Object => row["object"] = object.clone(),
    }
    row
}

/// A Table of `objects`; `metadata` is the list's (resourceVersion, continue).
pub fn table(
    t: &ResourceType,
    objects: &[Value],
    metadata: Value,
    include: IncludeObject,
    now: DateTime<Utc>,
) -> Value {
    let rows: Vec<Value> = objects.iter().map(|o| row(t, o, include, now)).collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": columns(t),
        "rows": rows,
    })
}
