//! Kubernetes as the cluster and Helm as the deployer. Nothing here touches UI state.
//!
//! - [`client`]: connecting as kubectl does (kubeconfig, `--context`), API errors as
//!   [`crate::sources::SourceError`]s
//! - [`deadline`]: every request within a budget, retried as the server's `Retry-After` says
//! - [`cluster`]: [`KubeCluster`], the [`crate::sources::Cluster`]: preview namespaces,
//!   deleting them, the canary's weight
//! - [`previews`]: the one namespaces watcher (kube-runtime watcher + reflector) and its feed
//! - [`traffic`]: [`TrafficShifter`] for Gateway API `HTTPRoute`s and ingress-nginx canaries,
//!   patched with resourceVersion preconditions
//! - [`traffic_watch`]: the canary's weight watched on the route object, for drift
//! - [`releases`]: [`HelmReleases`], the [`crate::sources::Deployer`]
//! - [`helm_history`]: release history decoded from Helm's release Secrets
//! - [`helm_cli`]: `helm rollback` as an argument vector
//! - [`inspect`]: validation probes' checks of namespaces, Deployments and Helm releases
//! - [`access`]: SelfSubjectAccessReviews: may captain's user do this?
//! - [`shared`]: [`KubeShared`], the [`crate::sources::SharedState`]: documents in one
//!   ConfigMap, written with resourceVersion preconditions, watched into a feed
//! - [`lease`]: the driver's Lease, taken, renewed and released with preconditions
//! - [`lease_feed`]: the driver's Lease watched by name, so followers need not ask
//! - [`named_watch`]: one object watched by name, for the route's weight and the Lease

pub mod access;
pub mod client;
pub mod cluster;
pub mod deadline;
pub mod helm_cli;
pub mod helm_history;
pub mod inspect;
pub mod lease;
mod lease_feed;
mod named_watch;
pub mod previews;
pub mod releases;
pub mod shared;
pub mod shared_docs;
mod shared_feed;
pub mod traffic;
mod traffic_watch;

pub use client::{KubeTarget, connect, connect_within};
pub use cluster::KubeCluster;
pub use helm_cli::HelmCli;
pub use releases::HelmReleases;
pub use shared::KubeShared;
pub use traffic::{GatewayRoute, NginxCanary, TrafficShifter};
