//! Backends behind traits: the cluster (Kubernetes), the forge (GitHub), metrics
//! (Prometheus) and the deployer (Helm). Live and simulated implementations plug in behind
//! the same traits; nothing here touches UI state.
//!
//! Continuous data arrives as a [`Feed`]: a watch channel that always holds the latest
//! reading, so a slow consumer never sees a queue pile up, and a newer reading replaces an
//! unread one.

pub mod activity;
pub mod alerting;
mod cluster;
pub mod cosign;
pub mod deadline;
mod deployer;
mod forge;
pub mod github;
pub mod grafana;
pub mod host;
pub mod kube;
pub mod memory_state;
mod metrics;
pub mod oci;
pub mod previews_joined;
pub mod prometheus;
pub mod published;
mod reading;
mod shared_state;
pub mod unavailable;

use std::sync::Arc;

pub use crate::engine::queries::{Queries, SliQuery};
pub use cluster::{Access, AccessCheck, Cluster, Deletion, Finding, Inspection};
pub use deployer::{Deployer, ReleaseRevision};
pub use forge::{Forge, Governance, LabelChange, OpenPull, TagChange};
pub use metrics::Metrics;
pub use reading::{Feed, Reading, SourceError, first_reading};
pub use shared_state::{LeaseHolder, SharedDoc, SharedDocs, SharedState, WriteError};

/// The backends a console runs against.
#[derive(Clone)]
pub struct Backends {
    pub metrics: Arc<dyn Metrics>,
    pub cluster: Arc<dyn Cluster>,
    pub forge: Arc<dyn Forge>,
    pub deployer: Arc<dyn Deployer>,
    /// Where `command` and `http.get` probes run.
    pub host: Arc<dyn host::Host>,
    pub published: Arc<dyn published::Published>,
}
