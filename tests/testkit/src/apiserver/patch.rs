//! The patch formats the server accepts, applied to an object's JSON: JSON merge patch
//! (RFC 7386; strategic merge patch is treated as one, which is exact for the kinds served
//! here: none has a list merged by key that a client of captain patches) and JSON patch
//! (RFC 6902: add, remove, replace, move, copy, test).

use serde_json::Value;

use super::status::ApiError;

/// How a PATCH body is to be read, from its Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Merge,
    StrategicMerge,
    Json,
    /// Server-side apply, approximated as a merge that creates a missing object.
    Apply,
}

impl PatchType {
    pub fn from_content_type(content_type: &str) -> Result<Self, ApiError> {
        let media = content_type.split(';').next().unwrap_or("").trim();
        match media {
            "application/merge-patch+json" => Ok(Self::Merge),
            "application/strategic-merge-patch+json" => Ok(Self::StrategicMerge),
            "application/json-patch+json" => Ok(Self::Json),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Ok(Self::Apply),
            _ => Err(ApiError::unsupported_media_type(content_type)),
        }
    }
}

/// Apply `patch` (the request body) to `target`.
pub fn apply(kind: PatchType, target: &mut Value, patch: &[u8]) -> Result<(), ApiError> {
    let patch: Value = serde_json::from_slice(patch)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    match kind {
        PatchType::Merge | PatchType::StrategicMerge | PatchType::Apply => {
            if !patch.is_object() {
                return Err(ApiError::bad_request(
                    "json: cannot unmarshal into Go value of type map[string]interface {}",
                ));
            }
            merge(target, &patch);
            Ok(())
        }
        PatchType::Json => {
            let Value::Array(operations) = patch else {
                return Err(ApiError::bad_request(
                    "json: cannot unmarshal object into Go value of type jsonpatch.Patch",
                ));
            };
            for operation in &operations {
                json_operation(target, operation)
                    .map_err(|why| ApiError::patch_not_applicable(&why))?;
            }
            Ok(())
        }
    }
}

/// RFC 7386: objects merge key by key, `null` removes, anything else replaces.
pub fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let Value::Object(target) = target else {
        return;
    };
    for (key, value) in patch {
        if value.is_null() {
            target.remove(key);
        } else {
            merge(target.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// A JSON pointer's reference tokens, unescaped (`~1` is `/`, `~0` is `~`).
fn tokens(pointer: &str) -> Result<Vec<String>, String> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(format!("invalid JSON pointer {pointer:?}"));
    };
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn field<'a>(operation: &'a Value, name: &str) -> Result<&'a Value, String> {
    operation
        .get(name)
        .ok_or_else(|| format!("operation {operation} is missing {name:?}"))
}

fn pointer_field(operation: &Value, name: &str) -> Result<Vec<String>, String> {
    let pointer = field(operation, name)?
        .as_str()
        .ok_or_else(|| format!("{name} of {operation} is not a string"))?;
    tokens(pointer)
}

fn json_operation(target: &mut Value, operation: &Value) -> Result<(), String> {
    let op = field(operation, "op")?.as_str().unwrap_or_default();
    let path = pointer_field(operation, "path")?;
    match op {
        "add" => add(target, &path, field(operation, "value")?.clone()),
        "remove" => remove(target, &path).map(drop),
        "replace" => {
            let slot = resolve(target, &path)?;
            *slot = field(operation, "value")?.clone();
            Ok(())
        }
        "test" => {
            let expected = field(operation, "value")?;
            let actual = resolve(target, &path)?;
            if actual == expected {
                Ok(())
            } else {
                Err(format!(
                    "testing value {} failed: {actual} is not {expected}",
                    operation["path"]
                ))
            }
        }
        "move" => {
            let from = pointer_field(operation, "from")?;
            let value = remove(target, &from)?;
            add(target, &path, value)
        }
        "copy" => {
            let from = pointer_field(operation, "from")?;
            let value = resolve(target, &from)?.clone();
            add(target, &path, value)
        }
        other => Err(format!("unexpected kind of operation: {other:?}")),
    }
}

fn resolve<'a>(target: &'a mut Value, path: &[String]) -> Result<&'a mut Value, String> {
    let mut here = target;
    for token in path {
        here = match here {
            Value::Object(map) => map.get_mut(token),
            Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| format!("missing value at /{}", path.join("/")))?;
    }
    Ok(here)
}

fn add(target: &mut Value, path: &[String], value: Value) -> Result<(), String> {
    let Some((last, parent)) = path.split_last() else {
        *target = value;
        return Ok(());
    };
    match resolve(target, parent)? {
        Value::Object(map) => {
            map.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(items) => {
            let index = if last == "-" {
                items.len()
            } else {
                last.parse::<usize>()
                    .ok()
                    .filter(|i| *i <= items.len())
                    .ok_or_else(|| format!("index {last} is out of bounds"))?
            };
            items.insert(index, value);
            Ok(())
        }
        _ => Err(format!(
            "cannot add at /{}: parent is not a container",
            path.join("/")
        )),
    }
}

fn remove(target: &mut Value, path: &[String]) -> Result<Value, String> {
    let Some((last, parent)) = path.split_last() else {
        return Err("cannot remove the whole document".into());
    };
    let missing = || format!("unable to remove nonexistent key: /{}", path.join("/"));
    match resolve(target, parent)? {
        Value::Object(map) => map.remove(last).ok_or_else(missing),
        Value::Array(items) => match last.parse::<usize>() {
            Ok(i) if i < items.len() => Ok(items.remove(i)),
            _ => Err(missing()),
        },
        _ => Err(missing()),
    }
}
