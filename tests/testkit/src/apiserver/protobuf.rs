//! Request bodies in Kubernetes' protobuf encoding, read into the JSON the rest of the
//! server works on. kubectl's typed clients send built-in kinds this way
//! (`Content-Type: application/vnd.kubernetes.protobuf`: `create configmap`, `auth can-i`)
//! and do not fall back to JSON on a 415, so a faithful server must read them. Answers stay
//! JSON, which those clients also accept. Covers the envelope (`k8s\0` + runtime.Unknown)
//! and the kinds kubectl writes here, field numbers as in the API's generated.proto;
//! unknown fields are skipped, unknown kinds are a 415.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::DateTime;
use serde_json::{Map, Value, json};

use super::status::ApiError;

#[derive(Clone, Copy)]
enum Field {
    Str,
    Int,
    Bool,
    Time,
    MicroTime,
    StringMap,
    /// `map<string, bytes>`, base64 in JSON.
    BytesMap,
    Strings,
    Message(&'static [(u32, &'static str, Field)]),
}

use Field::*;

const OBJECT_META: &[(u32, &str, Field)] = &[
    (1, "name", Str),
    (2, "generateName", Str),
    (3, "namespace", Str),
    (5, "uid", Str),
    (6, "resourceVersion", Str),
    (7, "generation", Int),
    (8, "creationTimestamp", Time),
    (9, "deletionTimestamp", Time),
    (10, "deletionGracePeriodSeconds", Int),
    (11, "labels", StringMap),
    (12, "annotations", StringMap),
    (14, "finalizers", Strings),
];

const CONFIG_MAP: &[(u32, &str, Field)] = &[
    (1, "metadata", Message(OBJECT_META)),
    (2, "data", StringMap),
    (3, "binaryData", BytesMap),
    (4, "immutable", Bool),
];

const SECRET: &[(u32, &str, Field)] = &[
    (1, "metadata", Message(OBJECT_META)),
    (2, "data", BytesMap),
    (3, "type", Str),
    (4, "stringData", StringMap),
    (5, "immutable", Bool),
];

const NAMESPACE: &[(u32, &str, Field)] = &[
    (1, "metadata", Message(OBJECT_META)),
    (2, "spec", Message(&[(1, "finalizers", Strings)])),
    (3, "status", Message(&[(1, "phase", Str)])),
];

const LEASE: &[(u32, &str, Field)] = &[
    (1, "metadata", Message(OBJECT_META)),
    (
        2,
        "spec",
        Message(&[
            (1, "holderIdentity", Str),
            (2, "leaseDurationSeconds", Int),
            (3, "acquireTime", MicroTime),
            (4, "renewTime", MicroTime),
            (5, "leaseTransitions", Int),
            (6, "strategy", Str),
            (7, "preferredHolder", Str),
        ]),
    ),
];

const RESOURCE_ATTRIBUTES: &[(u32, &str, Field)] = &[
    (1, "namespace", Str),
    (2, "verb", Str),
    (3, "group", Str),
    (4, "version", Str),
    (5, "resource", Str),
    (6, "subresource", Str),
    (7, "name", Str),
];

const SELF_SUBJECT_ACCESS_REVIEW: &[(u32, &str, Field)] = &[
    (1, "metadata", Message(OBJECT_META)),
    (
        2,
        "spec",
        Message(&[
            (1, "resourceAttributes", Message(RESOURCE_ATTRIBUTES)),
            (
                2,
                "nonResourceAttributes",
                Message(&[(1, "path", Str), (2, "verb", Str)]),
            ),
        ]),
    ),
];

const DELETE_OPTIONS: &[(u32, &str, Field)] = &[
    (1, "gracePeriodSeconds", Int),
    (
        2,
        "preconditions",
        Message(&[(1, "uid", Str), (2, "resourceVersion", Str)]),
    ),
    (3, "orphanDependents", Bool),
    (4, "propagationPolicy", Str),
    (5, "dryRun", Strings),
];

fn schema(kind: &str) -> Option<&'static [(u32, &'static str, Field)]> {
    Some(match kind {
        "ConfigMap" => CONFIG_MAP,
        "Secret" => SECRET,
        "Namespace" => NAMESPACE,
        "Lease" => LEASE,
        "SelfSubjectAccessReview" => SELF_SUBJECT_ACCESS_REVIEW,
        "DeleteOptions" => DELETE_OPTIONS,
        _ => return None,
    })
}

/// One protobuf field as read off the wire.
enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

struct Reader<'a> {
    bytes: &'a [u8],
}

fn malformed() -> ApiError {
    ApiError::bad_request("the protobuf body of the request is malformed")
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, ApiError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.bytes.split_first().ok_or_else(malformed)?;
            self.bytes = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(malformed())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ApiError> {
        if self.bytes.len() < n {
            return Err(malformed());
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn next(&mut self) -> Result<Option<(u32, Wire<'a>)>, ApiError> {
        if self.bytes.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number = u32::try_from(key >> 3).map_err(|_| malformed())?;
        let wire = match key & 7 {
            0 => Wire::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Wire::Fixed
            }
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| malformed())?;
                Wire::Bytes(self.take(len)?)
            }
            5 => {
                self.take(4)?;
                Wire::Fixed
            }
            _ => return Err(malformed()),
        };
        Ok(Some((number, wire)))
    }
}

fn text(bytes: &[u8]) -> Result<String, ApiError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| malformed())
}

/// `map<string, V>` entries are messages {1: key, 2: value}.
fn map_entry(bytes: &[u8]) -> Result<(String, &[u8]), ApiError> {
    let mut reader = Reader { bytes };
    let (mut key, mut value) = (String::new(), &[][..]);
    while let Some((number, wire)) = reader.next()? {
        match (number, wire) {
            (1, Wire::Bytes(b)) => key = text(b)?,
            (2, Wire::Bytes(b)) => value = b,
            _ => {}
        }
    }
    Ok((key, value))
}

/// A `Time` ({1: seconds, 2: nanos}) as RFC 3339, to seconds or microseconds.
fn time(bytes: &[u8], micro: bool) -> Result<Value, ApiError> {
    let mut reader = Reader { bytes };
    let (mut seconds, mut nanos) = (0i64, 0u32);
    while let Some((number, wire)) = reader.next()? {
        match (number, wire) {
            (1, Wire::Varint(v)) => seconds = v as i64,
            (2, Wire::Varint(v)) => nanos = v as u32,
            _ => {}
        }
    }
    let at = DateTime::from_timestamp(seconds, nanos).ok_or_else(malformed)?;
    Ok(json!(if micro {
        at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    } else {
        at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }))
}

fn message(bytes: &[u8], schema: &[(u32, &str, Field)]) -> Result<Value, ApiError> {
    let mut object = Map::new();
    let mut reader = Reader { bytes };
    while let Some((number, wire)) = reader.next()? {
        let Some((_, name, field)) = schema.iter().find(|(n, _, _)| *n == number) else {
            continue;
        };
        let name = name.to_string();
        match (field, wire) {
            // Go's encoder writes every non-pointer field; JSON omits the empty ones.
            (Str, Wire::Bytes([])) => {}
            (Str, Wire::Bytes(b)) => {
                object.insert(name, json!(text(b)?));
            }
            (Int, Wire::Varint(v)) => {
                object.insert(name, json!(v as i64));
            }
            (Bool, Wire::Varint(v)) => {
                object.insert(name, json!(v != 0));
            }
            (Time | MicroTime, Wire::Bytes([])) => {}
            (Time | MicroTime, Wire::Bytes(b)) => {
                object.insert(name, time(b, matches!(field, MicroTime))?);
            }
            (StringMap | BytesMap, Wire::Bytes(b)) => {
                let (key, value) = map_entry(b)?;
                let value = match field {
                    BytesMap => json!(STANDARD.encode(value)),
                    _ => json!(text(value)?),
                };
                let entry = object.entry(name).or_insert_with(|| json!({}));
                entry[key] = value;
            }
            (Strings, Wire::Bytes(b)) => {
                let entry = object.entry(name).or_insert_with(|| json!([]));
                if let Some(items) = entry.as_array_mut() {
                    items.push(json!(text(b)?));
                }
            }
            (Message(inner), Wire::Bytes(b)) => {
                object.insert(name, message(b, inner)?);
            }
            _ => return Err(malformed()),
        }
    }
    Ok(Value::Object(object))
}

/// Read a protobuf request body into JSON (with apiVersion and kind from its envelope).
pub fn decode(body: &[u8], content_type: &str) -> Result<Value, ApiError> {
    let unsupported = || ApiError::unsupported_media_type(content_type);
    let envelope = body.strip_prefix(b"k8s\x00").ok_or_else(malformed)?;
    let mut reader = Reader { bytes: envelope };
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    while let Some((number, wire)) = reader.next()? {
        match (number, wire) {
            (1, Wire::Bytes(type_meta)) => {
                let meta = message(type_meta, &[(1, "apiVersion", Str), (2, "kind", Str)])?;
                api_version = meta["apiVersion"].as_str().unwrap_or_default().to_string();
                kind = meta["kind"].as_str().unwrap_or_default().to_string();
            }
            (2, Wire::Bytes(b)) => raw = b,
            _ => {}
        }
    }
    let schema = schema(&kind).ok_or_else(unsupported)?;
    let mut object = message(raw, schema)?;
    object["apiVersion"] = json!(api_version);
    object["kind"] = json!(kind);
    Ok(object)
}
