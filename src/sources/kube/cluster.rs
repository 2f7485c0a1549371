//! [`KubeCluster`]: the live [`Cluster`]. It owns the preview namespaces watch, deletes
//! preview namespaces (and nothing else), moves the canary's traffic through the
//! configured [`TrafficShifter`], and answers validation probes ([`super::inspect`],
//! [`super::access`]).

use std::sync::Arc;

use async_trait::async_trait;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::api::{DeleteParams, ListParams};
use kube::{Api, Client};
use tokio::task::JoinHandle;

use super::client::{KubeTarget, source_error, status_code};
use super::traffic::{GatewayRoute, NginxCanary, TrafficShifter};
use super::{access, inspect, previews};
use crate::clock::Clock;
use crate::config::app::{PreviewConfig, ReleaseConfig, TrafficConfig, TrafficKind};
use crate::engine::previews::{Preview, Protected};
use crate::sources::{
    Access, AccessCheck, Cluster, Deletion, Feed, Finding, Inspection, SourceError,
};

/// The cluster: preview namespaces watched into a feed, and the canary's traffic.
/// Dropping it stops the watches.
pub struct KubeCluster {
    client: Client,
    namespaces: Api<Namespace>,
    /// What is never deleted by its name alone; what a namespace holds is asked at delete.
    protected: Protected,
    prefix: String,
    /// The preview namespaces watched, once something asks for them: `drive` and the
    /// `canary` commands never start that watch.
    previews: std::sync::OnceLock<(Feed<Vec<Preview>>, JoinHandle<()>)>,
    traffic: Box<dyn TrafficShifter>,
    /// The route's weight watched, once something asks for it: a one-shot command never
    /// starts that watch.
    traffic_watch: std::sync::OnceLock<(Feed<u8>, JoinHandle<()>)>,
    clock: Arc<dyn Clock>,
}

impl KubeCluster {
    /// The cluster of `target`; traffic goes through the shifter `traffic` configures, in
    /// the release's namespace. Its watches start when first asked for (within a Tokio
    /// runtime).
    pub fn spawn(
        target: &KubeTarget,
        previews: &PreviewConfig,
        release: &ReleaseConfig,
        traffic: &TrafficConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let client = target.client.clone();
        let shifter: Box<dyn TrafficShifter> = match traffic.kind {
            TrafficKind::GatewayApi => Box::new(GatewayRoute::new(
                client.clone(),
                &release.namespace,
                &traffic.route,
                clock.clone(),
            )),
            TrafficKind::IngressNginx => Box::new(NginxCanary::new(
                client.clone(),
                &release.namespace,
                &traffic.route,
                clock.clone(),
            )),
        };
        Self::with_shifter(target, previews, release, shifter, clock)
    }

    /// As [`KubeCluster::spawn`], with a shifter of the caller's.
    pub fn with_shifter(
        target: &KubeTarget,
        previews: &PreviewConfig,
        release: &ReleaseConfig,
        traffic: Box<dyn TrafficShifter>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let prefix = previews.prefix.as_str();
        Self {
            client: target.client.clone(),
            namespaces: Api::all(target.client.clone()),
            protected: Protected::new(prefix, &[&release.namespace, &release.stage_namespace]),
            prefix: prefix.to_string(),
            previews: std::sync::OnceLock::new(),
            traffic,
            traffic_watch: std::sync::OnceLock::new(),
            clock,
        }
    }

    /// The canary's share of traffic as the cluster has it now.
    pub async fn canary_weight(&self) -> Result<u8, SourceError> {
        self.traffic.weight().await
    }
}

/// The labels and type Helm's Secret driver gives every release Secret.
const HELM_RELEASE: (&str, &str) = ("owner=helm", "type=helm.sh/release.v1");
/// The label on captain's shared ConfigMap (`captain-<release>`).
const CAPTAIN_STATE: &str = "app.kubernetes.io/managed-by=captain";

impl KubeCluster {
    /// Why `name` must be kept for what it holds: a Helm release, or captain's shared state.
    /// A question the API server cannot answer is an error: the namespace is not deleted.
    async fn holds_what_is_kept(&self, name: &str) -> Result<Option<String>, SourceError> {
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), name);
        let helm = ListParams::default()
            .labels(HELM_RELEASE.0)
            .fields(HELM_RELEASE.1)
            .limit(1);
        match secrets.list_metadata(&helm).await {
            Ok(list) => {
                if let Some(secret) = list.items.first() {
                    let release = secret.metadata.name.as_deref().unwrap_or("?");
                    return Ok(Some(format!(
                        "{name} holds a Helm release (Secret {release}): never deleted"
                    )));
                }
            }
            Err(e) => return Err(unchecked(&e, name, "a Helm release", self.clock.now())),
        }
        let configmaps: Api<ConfigMap> = Api::namespaced(self.client.clone(), name);
        let state = ListParams::default().labels(CAPTAIN_STATE).limit(1);
        match configmaps.list_metadata(&state).await {
            Ok(list) => Ok(list.items.first().map(|cm| {
                let held = cm.metadata.name.as_deref().unwrap_or("?");
                format!("{name} holds captain's shared state (ConfigMap {held}): never deleted")
            })),
            Err(e) => Err(unchecked(&e, name, "captain's state", self.clock.now())),
        }
    }
}

fn unchecked(
    e: &kube::Error,
    namespace: &str,
    what: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> SourceError {
    let why = source_error(e, &format!("list in namespace {namespace}"), now);
    SourceError::Rejected(format!(
        "whether {namespace} holds {what} cannot be checked ({why}): not deleted"
    ))
}

impl Drop for KubeCluster {
    fn drop(&mut self) {
        if let Some((_, task)) = self.previews.get() {
            task.abort();
        }
        if let Some((_, task)) = self.traffic_watch.get() {
            task.abort();
        }
    }
}

#[async_trait]
impl Cluster for KubeCluster {
    fn previews(&self) -> Feed<Vec<Preview>> {
        self.previews
            .get_or_init(|| {
                previews::spawn(self.client.clone(), self.prefix.clone(), self.clock.clone())
            })
            .0
            .clone()
    }

    async fn delete_namespace(&self, name: &str) -> Result<Deletion, SourceError> {
        // Checked here, just before the call, whatever the caller checked: this is the last
        // code between a typo in captain.toml and `kubectl delete namespace prod`.
        if let Some(why) = self.keeps(name).await? {
            return Ok(Deletion::Kept(why));
        }
        let what = format!("delete namespace {name}");
        let now = || self.clock.now();
        // Asked first, so a second delete of a namespace already going says so instead of
        // claiming a deletion the API server would answer 200 to all the same.
        let current = self
            .namespaces
            .get_opt(name)
            .await
            .map_err(|e| source_error(&e, &what, now()))?;
        if current.is_none_or(|ns| ns.metadata.deletion_timestamp.is_some()) {
            return Ok(Deletion::AlreadyGone);
        }
        match self
            .namespaces
            .delete(name, &DeleteParams::background())
            .await
        {
            Ok(_) => {
                log::info!("kube: deleting namespace {name}");
                Ok(Deletion::Deleted)
            }
            Err(e) if status_code(&e) == Some(404) => Ok(Deletion::AlreadyGone),
            Err(e) => Err(source_error(&e, &what, now())),
        }
    }

    async fn keeps(&self, name: &str) -> Result<Option<String>, SourceError> {
        if let Err(why) = self.protected.check(name) {
            return Ok(Some(why));
        }
        self.holds_what_is_kept(name).await
    }

    async fn canary_weight(&self) -> Result<u8, SourceError> {
        self.traffic.weight().await
    }

    fn canary_weight_feed(&self) -> Feed<u8> {
        self.traffic_watch
            .get_or_init(|| self.traffic.watch())
            .0
            .clone()
    }

    async fn set_canary_weight(&self, weight: u8) -> Result<u8, SourceError> {
        let back = self.traffic.set_weight(weight).await?;
        log::info!("kube: canary weight set to {weight} %, the cluster has {back} %");
        Ok(back)
    }

    async fn inspect(&self, what: &Inspection) -> Result<Finding, SourceError> {
        inspect::inspect(&self.client, what, self.clock.now()).await
    }

    async fn access(&self, check: &AccessCheck) -> Result<Access, SourceError> {
        access::review(&self.client, check, self.clock.now()).await
    }
}
