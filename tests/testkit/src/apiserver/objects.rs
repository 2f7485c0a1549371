//! The server's verbs as the HTTP routes and the in-process test methods call them: each
//! runs under the store's lock (the semantics are in `writes`) and wakes the watches after;
//! patches are applied here, a deleted namespace's removal is scheduled here, and the
//! seeding path (`upsert`) writes objects as given.

use std::sync::Arc;

use chrono::Utc;
use serde_json::{Value, json};

use super::defaults::{meta_str, normalize, same_content, timestamp};
use super::patch::{self, PatchType};
use super::resources::{NAMESPACES, ResourceType};
use super::shared::{Shared, lock};
use super::status::ApiError;
use super::store::{Store, key};
use super::writes::{Deletion, create, delete, update};

impl Shared {
    /// Run `write` under the store's lock, then wake the watches.
    fn write<T>(&self, write: impl FnOnce(&mut Store) -> T) -> T {
        let mut store = lock(&self.store);
        let before = store.resource_version();
        let result = write(&mut store);
        let rv = store.resource_version();
        drop(store);
        if rv != before {
            self.notify(rv);
        }
        result
    }

    /// POST: create `body` in `namespace`.
    pub fn create(
        &self,
        t: &'static ResourceType,
        namespace: Option<&str>,
        body: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        self.write(|store| create(store, t, namespace, body, dry_run))
    }

    /// PUT: replace the object (or only its status, for `subresource` "status").
    pub fn update(
        &self,
        t: &'static ResourceType,
        namespace: Option<&str>,
        name: &str,
        body: Value,
        subresource: Option<&str>,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        self.write(|store| update(store, t, namespace, name, body, subresource, dry_run))
    }

    /// PATCH: apply the patch to the stored object, then update with it, all under one lock
    /// (a real server retries a conflict for a patch that names no resourceVersion; holding
    /// the lock makes that moot). A patch that carries a `metadata.resourceVersion` is a
    /// precondition like a PUT's. The flag says whether an apply created the object.
    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &self,
        t: &'static ResourceType,
        namespace: Option<&str>,
        name: &str,
        kind: PatchType,
        body: &[u8],
        subresource: Option<&str>,
        dry_run: bool,
    ) -> Result<(Value, bool), ApiError> {
        self.write(|store| {
            let Some(current) = store.get(&key(t, namespace, name)).cloned() else {
                if kind == PatchType::Apply && subresource.is_none() {
                    let mut object: Value = serde_json::from_slice(body)
                        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
                    object["metadata"]["name"] = json!(name);
                    return create(store, t, namespace, object, dry_run).map(|o| (o, true));
                }
                return Err(ApiError::not_found(t, name));
            };
            let mut patched = current;
            patch::apply(kind, &mut patched, body)?;
            update(store, t, namespace, name, patched, subresource, dry_run).map(|o| (o, false))
        })
    }

    /// DELETE, with the `DeleteOptions` body's preconditions.
    pub fn delete(
        self: &Arc<Self>,
        t: &'static ResourceType,
        namespace: Option<&str>,
        name: &str,
        options: &Value,
        dry_run: bool,
    ) -> Result<Deletion, ApiError> {
        let deletion = self.write(|store| delete(store, t, namespace, name, options, dry_run))?;
        if let (Deletion::Pending(namespace), "Namespace", false) = (&deletion, t.kind, dry_run) {
            self.schedule_namespace_removal(name, meta_str(namespace, "uid").unwrap_or(""));
        }
        Ok(deletion)
    }

    fn schedule_namespace_removal(self: &Arc<Self>, name: &str, uid: &str) {
        let Some(delay) = self.settings().namespace_finalize_delay else {
            return;
        };
        let (shared, name, uid) = (Arc::clone(self), name.to_string(), uid.to_string());
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            // The same namespace, not one re-created under its name meanwhile.
            let current_uid = shared
                .object(&NAMESPACES, None, &name)
                .and_then(|n| meta_str(&n, "uid").map(str::to_string));
            if current_uid.as_deref() == Some(uid.as_str()) {
                shared.remove_namespace(&name);
            }
        });
    }

    /// Remove a namespace and everything in it at once (DELETED events for all).
    pub fn remove_namespace(&self, name: &str) -> bool {
        self.write(|store| {
            for content in store.keys_in_namespace(name) {
                store.remove(&content);
            }
            store.remove(&key(&NAMESPACES, None, name)).is_some()
        })
    }

    pub fn object(
        &self,
        t: &'static ResourceType,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        lock(&self.store).get(&key(t, namespace, name)).cloned()
    }

    /// Store `object` as given (status and timestamps included), creating or replacing:
    /// the in-process seeding path, with no namespace or precondition checks.
    pub fn upsert(&self, t: &'static ResourceType, mut object: Value) -> Value {
        let name = meta_str(&object, "name").unwrap_or_default().to_string();
        let namespace = t.namespaced.then(|| {
            meta_str(&object, "namespace")
                .unwrap_or("default")
                .to_string()
        });
        self.write(|store| {
            let key = key(t, namespace.as_deref(), &name);
            let current = store.get(&key).cloned();
            let kept = |field: &str| {
                current
                    .as_ref()
                    .and_then(|c| meta_str(c, field))
                    .map(str::to_string)
            };
            if meta_str(&object, "uid").is_none() {
                let uid = kept("uid").unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                object["metadata"]["uid"] = json!(uid);
            }
            if meta_str(&object, "creationTimestamp").is_none() {
                let created = kept("creationTimestamp").unwrap_or_else(|| timestamp(Utc::now()));
                object["metadata"]["creationTimestamp"] = json!(created);
            }
            if t.generation && object["metadata"]["generation"].is_null() {
                object["metadata"]["generation"] = json!(1);
            }
            // As given: a test may seed the managed fields a real server would have kept.
            let managed = object["metadata"].get("managedFields").cloned();
            normalize(t, &mut object, namespace.as_deref(), &name);
            if let Some(managed) = managed {
                object["metadata"]["managedFields"] = managed;
            }
            match current {
                Some(current) if same_content(&current, &object) => current,
                _ => store.write(key, object),
            }
        })
    }

    /// Remove one object at once (DELETED event); `None` when it was not there.
    pub fn remove(
        &self,
        t: &'static ResourceType,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        self.write(|store| store.remove(&key(t, namespace, name)))
    }
}
