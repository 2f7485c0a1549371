//! Server-side printing: the `meta.k8s.io/v1 Table` kubectl asks for
//! (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`) with the columns the real
//! server prints per kind (`NAME STATUS AGE` for namespaces), ages worded as the server
//! words them, and each row's object as PartialObjectMetadata unless asked otherwise.

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
        _ => vec![],
    };
    std::iter::once(name)
        .chain(middle)
        .chain(std::iter::once(age))
        .collect()
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
        _ => vec![],
    };
    std::iter::once(json!(text(&o["metadata"]["name"])))
        .chain(middle)
        .chain(std::iter::once(json!(age(o, now))))
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
