//! [`KubeShared`]: the [`SharedState`] of a release, kept in the cluster so that every
//! console of the release sees the same train and exactly one drives it.
//!
//! Every document is one key of a single ConfigMap (`data["<key>.json"]`, the JSON of a
//! [`SharedDoc`]), so one watch keeps all of them current and one resourceVersion orders
//! all writes. A write reads the ConfigMap, checks the document is still at the generation
//! the caller computed from, and patches with the read resourceVersion as a precondition:
//! a write that lands in between is a `409 Conflict`, and the ConfigMap is read again.
//! If the document itself moved, the caller is told what it holds now
//! ([`WriteError::Conflict`]); if only another document did, the write is tried again. A
//! lost race is always reported, never overwritten.
//!
//! The lease that lets one console drive is a Lease of its own ([`DriverLease`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;
use tokio::task::JoinHandle;

use super::client::{source_error, status_code};
use super::lease::DriverLease;
use super::shared_docs::{managed_labels, parse_doc};
use super::shared_feed;
use crate::clock::Clock;
use crate::sources::{
    Feed, LeaseHolder, SharedDoc, SharedDocs, SharedState, SourceError, WriteError,
};

/// Tries at a write whose ConfigMap keeps changing (other documents) under it.
pub const ATTEMPTS: u32 = 5;

/// A release's shared state in one ConfigMap, and its driver's Lease. Dropping it stops
/// the watch.
pub struct KubeShared {
    configmaps: Api<ConfigMap>,
    namespace: String,
    name: String,
    lease: DriverLease,
    /// The Lease's client and name, to watch it from the first time it is asked for.
    leases: Api<k8s_openapi::api::coordination::v1::Lease>,
    lease_name: String,
    lease_watch: std::sync::OnceLock<(Feed<Option<LeaseHolder>>, JoinHandle<()>)>,
    feed: Feed<SharedDocs>,
    clock: Arc<dyn Clock>,
    watch: JoinHandle<()>,
}

impl KubeShared {
    /// The documents of ConfigMap `configmap` and the Lease `lease`, both in `namespace`;
    /// starts watching the ConfigMap. Must be called within a Tokio runtime.
    pub fn spawn(
        client: Client,
        namespace: &str,
        configmap: &str,
        lease: &str,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
        let (feed, watch) = shared_feed::spawn(
            configmaps.clone(),
            namespace.to_string(),
            configmap.to_string(),
            clock.clone(),
        );
        Self {
            configmaps,
            namespace: namespace.to_string(),
            name: configmap.to_string(),
            lease: DriverLease::new(client.clone(), namespace, lease, clock.clone()),
            leases: Api::namespaced(client, namespace),
            lease_name: lease.to_string(),
            lease_watch: std::sync::OnceLock::new(),
            feed,
            clock,
            watch,
        }
    }

    fn fail(&self, e: &kube::Error, verb: &str) -> SourceError {
        let what = format!("{verb} ConfigMap {}/{}", self.namespace, self.name);
        source_error(e, &what, self.clock.now())
    }

    async fn get(&self) -> Result<Option<ConfigMap>, SourceError> {
        self.configmaps
            .get_opt(&self.name)
            .await
            .map_err(|e| self.fail(&e, "read"))
    }

    fn doc_in(&self, configmap: &ConfigMap, entry: &str) -> Result<Option<SharedDoc>, SourceError> {
        let Some(text) = configmap.data.as_ref().and_then(|d| d.get(entry)) else {
            return Ok(None);
        };
        parse_doc(text).map(Some).map_err(|why| {
            SourceError::Rejected(format!(
                "ConfigMap {}/{}: {entry} {why}",
                self.namespace, self.name
            ))
        })
    }

    fn new_configmap(&self, entry: &str, text: String) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                namespace: Some(self.namespace.clone()),
                labels: Some(managed_labels()),
                ..ObjectMeta::default()
            },
            data: Some(BTreeMap::from([(entry.to_string(), text)])),
            ..ConfigMap::default()
        }
    }
}

impl Drop for KubeShared {
    fn drop(&mut self) {
        self.watch.abort();
        if let Some((_, task)) = self.lease_watch.get() {
            task.abort();
        }
    }
}

#[async_trait]
impl SharedState for KubeShared {
    fn docs(&self) -> Feed<SharedDocs> {
        self.feed.clone()
    }

    async fn read(&self, key: &str) -> Result<Option<SharedDoc>, SourceError> {
        let entry = entry_for(key)?;
        match self.get().await? {
            Some(configmap) => self.doc_in(&configmap, &entry),
            None => Ok(None),
        }
    }

    async fn write(
        &self,
        key: &str,
        body: serde_json::Value,
        expected: u64,
        by: &str,
    ) -> Result<u64, WriteError> {
        self.put(key, body, expected, by, |held| {
            held.map_or(0, |d| d.generation) == expected
        })
        .await
    }

    async fn recreate(
        &self,
        key: &str,
        body: serde_json::Value,
        after: u64,
        by: &str,
    ) -> Result<u64, WriteError> {
        self.put(key, body, after, by, |held| held.is_none()).await
    }

    async fn lease_holder(&self) -> Result<Option<LeaseHolder>, SourceError> {
        self.lease.holder().await
    }

    fn lease_watch(&self) -> Feed<Option<LeaseHolder>> {
        self.lease_watch
            .get_or_init(|| {
                super::lease_feed::spawn(
                    self.leases.clone(),
                    format!("watch Lease {}/{}", self.namespace, self.lease_name),
                    &self.lease_name,
                    self.clock.clone(),
                )
            })
            .0
            .clone()
    }

    async fn lease(
        &self,
        holder: &str,
        ttl: std::time::Duration,
    ) -> Result<LeaseHolder, SourceError> {
        self.lease.acquire(holder, ttl).await
    }

    async fn release_lease(&self, holder: &str) -> Result<(), SourceError> {
        self.lease.release(holder).await
    }
}

impl KubeShared {
    /// Write `key` at generation `after + 1` if `fits` the document the ConfigMap holds
    /// when read; with the read resourceVersion as a precondition, so a write in between
    /// is read again rather than overwritten.
    async fn put(
        &self,
        key: &str,
        body: serde_json::Value,
        after: u64,
        by: &str,
        fits: impl Fn(Option<&SharedDoc>) -> bool + Send,
    ) -> Result<u64, WriteError> {
        let entry = entry_for(key)?;
        let generation = after.checked_add(1).ok_or_else(|| {
            SourceError::Rejected(format!("{key}: generation {after} is the last there is"))
        })?;
        for attempt in 1..=ATTEMPTS {
            let current = self.get().await?;
            let held = match &current {
                Some(configmap) => self.doc_in(configmap, &entry)?,
                None => None,
            };
            if !fits(held.as_ref()) {
                return Err(WriteError::Conflict(held.map(Box::new)));
            }
            let doc = SharedDoc {
                generation,
                body: body.clone(),
                written_by: by.to_string(),
                written_at: self.clock.now(),
            };
            let text = serde_json::to_string(&doc)
                .map_err(|e| SourceError::Rejected(format!("{key} as JSON: {e}")))?;
            let sent = match &current {
                None => {
                    let configmap = self.new_configmap(&entry, text);
                    self.configmaps
                        .create(&PostParams::default(), &configmap)
                        .await
                        .map(drop)
                }
                Some(configmap) => {
                    let read_at = configmap.metadata.resource_version.as_deref();
                    let Some(read_at) = read_at.filter(|v| !v.is_empty()) else {
                        return Err(SourceError::Rejected(format!(
                            "ConfigMap {}/{} has no resourceVersion",
                            self.namespace, self.name
                        ))
                        .into());
                    };
                    let patch = json!({
                        "metadata": {"resourceVersion": read_at},
                        "data": {entry.as_str(): text},
                    });
                    self.configmaps
                        .patch(&self.name, &PatchParams::default(), &Patch::Merge(&patch))
                        .await
                        .map(drop)
                }
            };
            match sent {
                Ok(()) => return Ok(generation),
                // Someone wrote (or created, or deleted) the ConfigMap since it was read:
                // read it again to see whether it was this document.
                Err(e) if changed_since_read(&e, current.is_some()) => {
                    log::info!(
                        "kube: ConfigMap {}/{} changed while writing {key} (attempt {attempt} of {ATTEMPTS}), re-reading",
                        self.namespace,
                        self.name
                    );
                }
                Err(e) => return Err(self.fail(&e, &format!("write {key} to")).into()),
            }
        }
        Err(SourceError::Rejected(format!(
            "write {key} to ConfigMap {}/{}: it changed under every one of {ATTEMPTS} attempts",
            self.namespace, self.name
        ))
        .into())
    }
}

/// The name of release `release`'s shared ConfigMap and of its driver's Lease.
pub fn object_name(release: &str) -> String {
    format!("captain-{release}")
}

/// Document `key` of ConfigMap `namespace/configmap`, read once without a watch, for a
/// command that only checks (`captain audit verify`).
pub async fn read_once(
    client: Client,
    namespace: &str,
    configmap: &str,
    key: &str,
) -> Result<Option<SharedDoc>, SourceError> {
    let entry = entry_for(key)?;
    let what = format!("ConfigMap {namespace}/{configmap}");
    let found = Api::<ConfigMap>::namespaced(client, namespace)
        .get_opt(configmap)
        .await
        .map_err(|e| source_error(&e, &format!("read {what}"), chrono::Utc::now()))?;
    match found
        .and_then(|c| c.data)
        .and_then(|mut d| d.remove(&entry))
    {
        Some(text) => parse_doc(&text)
            .map(Some)
            .map_err(|why| SourceError::Rejected(format!("{what}: {entry} {why}"))),
        None => Ok(None),
    }
}

/// A `409` (stale resourceVersion, or created meanwhile) means someone else wrote first; a
/// `404` on a patch, that the ConfigMap was deleted meanwhile. (A `404` on a create is the
/// namespace missing, which reading again will not mend.)
fn changed_since_read(e: &kube::Error, patched: bool) -> bool {
    match status_code(e) {
        Some(409) => true,
        Some(404) => patched,
        _ => false,
    }
}

/// The ConfigMap key holding document `key`. ConfigMap keys allow only letters, digits,
/// `-`, `_` and `.`: any other key is refused rather than mangled into a clash.
pub fn entry_for(key: &str) -> Result<String, SourceError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let entry = format!("{key}.json");
    if key.is_empty() || !key.chars().all(allowed) || entry.len() > 253 {
        return Err(SourceError::Rejected(format!(
            "{key:?} cannot name a shared document: use letters, digits, '-', '_' and '.'"
        )));
    }
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_key_is_a_configmap_key_or_refused() {
        assert_eq!(entry_for("train").unwrap(), "train.json");
        assert_eq!(
            entry_for("plan-progress.v2").unwrap(),
            "plan-progress.v2.json"
        );
        for bad in ["", "train/2", "plan progress", "zug\u{fc}"] {
            assert!(entry_for(bad).is_err(), "{bad:?}");
        }
        assert!(entry_for(&"x".repeat(249)).is_err());
    }
}
