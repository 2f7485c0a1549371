//! [`KubeCluster`]: the live [`Cluster`]. It owns the preview namespaces watch, deletes
//! preview namespaces (and nothing else), moves the canary's traffic through the
//! configured [`TrafficShifter`], and answers validation probes ([`super::inspect`],
//! [`super::access`]).

use std::sync::Arc;

use async_trait::async_trait;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::DeleteParams;
use kube::{Api, Client};
use tokio::task::JoinHandle;

use super::client::{KubeTarget, source_error, status_code};
use super::traffic::{GatewayRoute, NginxCanary, TrafficShifter};
use super::{access, inspect, previews};
use crate::clock::Clock;
use crate::config::app::{PreviewConfig, ReleaseConfig, TrafficConfig, TrafficKind};
use crate::engine::previews::Preview;
use crate::sources::{
    Access, AccessCheck, Cluster, Deletion, Feed, Finding, Inspection, SourceError,
};

/// The cluster: preview namespaces watched into a feed, and the canary's traffic.
/// Dropping it stops the watch.
pub struct KubeCluster {
    client: Client,
    namespaces: Api<Namespace>,
    prefix: String,
    feed: Feed<Vec<Preview>>,
    traffic: Box<dyn TrafficShifter>,
    clock: Arc<dyn Clock>,
    watch: JoinHandle<()>,
}

impl KubeCluster {
    /// Start watching preview namespaces; traffic goes through the shifter `traffic`
    /// configures, in the release's namespace. Must be called within a Tokio runtime.
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
        Self::with_shifter(target, &previews.prefix, shifter, clock)
    }

    /// As [`KubeCluster::spawn`], with a shifter of the caller's.
    pub fn with_shifter(
        target: &KubeTarget,
        prefix: &str,
        traffic: Box<dyn TrafficShifter>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let (feed, watch) =
            previews::spawn(target.client.clone(), prefix.to_string(), clock.clone());
        Self {
            client: target.client.clone(),
            namespaces: Api::all(target.client.clone()),
            prefix: prefix.to_string(),
            feed,
            traffic,
            clock,
            watch,
        }
    }

    /// The canary's share of traffic as the cluster has it now.
    pub async fn canary_weight(&self) -> Result<u8, SourceError> {
        self.traffic.weight().await
    }
}

impl Drop for KubeCluster {
    fn drop(&mut self) {
        self.watch.abort();
    }
}

#[async_trait]
impl Cluster for KubeCluster {
    fn previews(&self) -> Feed<Vec<Preview>> {
        self.feed.clone()
    }

    async fn delete_namespace(&self, name: &str) -> Result<Deletion, SourceError> {
        // An empty prefix would make every namespace a preview: refuse rather than delete
        // `kube-system` on a typo.
        if self.prefix.is_empty() || !name.starts_with(&self.prefix) || name == self.prefix {
            return Err(SourceError::Rejected(format!(
                "{name} is not a preview namespace (no {:?} prefix): not deleting it",
                self.prefix
            )));
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

    async fn canary_weight(&self) -> Result<u8, SourceError> {
        self.traffic.weight().await
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
