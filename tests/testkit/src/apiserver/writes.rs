//! The write verbs with the API server's semantics, on the store under its lock: create
//! (defaults, names, AlreadyExists, no content in a missing or terminating namespace),
//! update (optimistic concurrency on `metadata.resourceVersion`, a write that changes
//! nothing is not written, `/status` apart from the rest, generation, finalizers), delete
//! (preconditions, finalizers, a namespace's Terminating phase).

use chrono::Utc;
use serde_json::{Value, json};

use super::defaults::{check_kind, meta_str, name_problem, normalize, random_suffix, timestamp};
use super::resources::{NAMESPACES, ResourceType};
use super::status::{self, ApiError};
use super::store::{Store, key};

/// What a DELETE did.
#[derive(Debug, Clone, PartialEq)]
pub enum Deletion {
    /// Still there, now with a deletionTimestamp (a namespace Terminating, finalizers): the
    /// object is the answer.
    Pending(Value),
    /// Gone: a Success Status is the answer.
    Gone(Value),
}

pub fn create(
    store: &mut Store,
    t: &'static ResourceType,
    namespace: Option<&str>,
    mut body: Value,
    dry_run: bool,
) -> Result<Value, ApiError> {
    check_kind(t, &body)?;
    if let (true, Some(path_ns), Some(body_ns)) =
        (t.namespaced, namespace, meta_str(&body, "namespace"))
        && path_ns != body_ns
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the \
             request",
        ));
    }
    let name = match (meta_str(&body, "name"), meta_str(&body, "generateName")) {
        (Some(name), _) => name.to_string(),
        (None, Some(prefix)) => format!("{prefix}{}", random_suffix()),
        (None, None) => {
            return Err(ApiError::invalid(
                t,
                "",
                "metadata.name",
                "Required value: name or generateName is required",
            ));
        }
    };
    if let Some(problem) = name_problem(t, &name) {
        return Err(ApiError::invalid(t, &name, "metadata.name", &problem));
    }
    if t.namespaced {
        let ns = namespace.unwrap_or("default");
        match store.get(&key(&NAMESPACES, None, ns)) {
            None => return Err(ApiError::not_found(&NAMESPACES, ns)),
            Some(n) if n["metadata"]["deletionTimestamp"].is_string() => {
                return Err(ApiError::forbidden(
                    format!(
                        "{} \"{name}\" is forbidden: unable to create new content in namespace \
                         {ns} because it is being terminated",
                        t.qualified()
                    ),
                    t,
                    &name,
                ));
            }
            Some(_) => {}
        }
    }
    let key = key(t, namespace, &name);
    if store.get(&key).is_some() {
        return Err(ApiError::already_exists(t, &name));
    }
    if t.status_subresource
        && let Some(o) = body.as_object_mut()
    {
        o.remove("status");
    }
    if let Some(m) = body["metadata"].as_object_mut() {
        for server_owned in [
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ] {
            m.remove(server_owned);
        }
    }
    body["metadata"]["uid"] = json!(uuid::Uuid::new_v4().to_string());
    body["metadata"]["creationTimestamp"] = json!(timestamp(Utc::now()));
    if t.generation {
        body["metadata"]["generation"] = json!(1);
    }
    normalize(t, &mut body, namespace, &name);
    if dry_run {
        return Ok(body);
    }
    Ok(store.write(key, body))
}

pub fn update(
    store: &mut Store,
    t: &'static ResourceType,
    namespace: Option<&str>,
    name: &str,
    mut body: Value,
    subresource: Option<&str>,
    dry_run: bool,
) -> Result<Value, ApiError> {
    check_kind(t, &body)?;
    let key = key(t, namespace, name);
    let current = store
        .get(&key)
        .cloned()
        .ok_or_else(|| ApiError::not_found(t, name))?;
    if let Some(body_name) = meta_str(&body, "name")
        && body_name != name
    {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    if let (true, Some(path_ns), Some(body_ns)) =
        (t.namespaced, namespace, meta_str(&body, "namespace"))
        && path_ns != body_ns
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the \
             request",
        ));
    }
    if let Some(asked) = meta_str(&body, "resourceVersion")
        && Some(asked) != meta_str(&current, "resourceVersion")
    {
        return Err(ApiError::stale(t, name));
    }
    let mut updated = if subresource == Some("status") {
        let mut updated = current.clone();
        updated["status"] = body["status"].take();
        updated
    } else {
        if t.status_subresource {
            match current.get("status") {
                Some(status) => body["status"] = status.clone(),
                None => {
                    if let Some(o) = body.as_object_mut() {
                        o.remove("status");
                    }
                }
            }
        }
        if !body["metadata"].is_object() {
            body["metadata"] = json!({});
        }
        for server_owned in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ] {
            match current["metadata"].get(server_owned) {
                Some(v) => body["metadata"][server_owned] = v.clone(),
                None => {
                    if let Some(m) = body["metadata"].as_object_mut() {
                        m.remove(server_owned);
                    }
                }
            }
        }
        body
    };
    normalize(t, &mut updated, namespace, name);
    if t.generation && updated.get("spec") != current.get("spec") {
        let generation = current["metadata"]["generation"].as_i64().unwrap_or(0);
        updated["metadata"]["generation"] = json!(generation + 1);
    }
    // A write that changes nothing is not written: no new resourceVersion, no event.
    updated["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
    if dry_run || updated == current {
        return Ok(if dry_run { updated } else { current });
    }
    // An object whose deletion waited on finalizers goes once the last is removed.
    let finalized = t.kind != "Namespace"
        && updated["metadata"]["deletionTimestamp"].is_string()
        && updated["metadata"]["finalizers"]
            .as_array()
            .is_none_or(|f| f.is_empty());
    if finalized {
        store.write(key.clone(), updated);
        return Ok(store.remove(&key).unwrap_or_default());
    }
    Ok(store.write(key, updated))
}

pub fn delete(
    store: &mut Store,
    t: &'static ResourceType,
    namespace: Option<&str>,
    name: &str,
    options: &Value,
    dry_run: bool,
) -> Result<Deletion, ApiError> {
    let key = key(t, namespace, name);
    let current = store
        .get(&key)
        .cloned()
        .ok_or_else(|| ApiError::not_found(t, name))?;
    let preconditions = &options["preconditions"];
    for (field, label) in [("uid", "UID"), ("resourceVersion", "ResourceVersion")] {
        if let Some(asked) = preconditions[field].as_str()
            && Some(asked) != meta_str(&current, field)
        {
            let actual = meta_str(&current, field).unwrap_or("");
            return Err(ApiError::conflict(
                t,
                name,
                &format!(
                    "Precondition failed: {label} in precondition: {asked}, {label} in object \
                     meta: {actual}"
                ),
            ));
        }
    }
    if current["metadata"]["deletionTimestamp"].is_string() {
        return Ok(Deletion::Pending(current));
    }
    let is_namespace = t.kind == "Namespace";
    let has_finalizers = current["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| !f.is_empty());
    if is_namespace || has_finalizers {
        let mut terminating = current;
        terminating["metadata"]["deletionTimestamp"] = json!(timestamp(Utc::now()));
        if is_namespace {
            terminating["status"]["phase"] = json!("Terminating");
        } else {
            terminating["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        }
        if dry_run {
            return Ok(Deletion::Pending(terminating));
        }
        return Ok(Deletion::Pending(store.write(key, terminating)));
    }
    let uid = meta_str(&current, "uid").unwrap_or("").to_string();
    if !dry_run {
        store.remove(&key);
    }
    Ok(Deletion::Gone(status::deleted(t, name, &uid)))
}
