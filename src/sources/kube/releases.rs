//! [`HelmReleases`]: the live [`Deployer`]. History is read natively from the release
//! Secrets ([`super::helm_history`]); a rollback runs the `helm` CLI ([`super::helm_cli`])
//! against the same context captain reads.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;

use super::client::KubeTarget;
use super::helm_cli::{HelmCli, Rollback};
use super::helm_history::{self, read_history};
use crate::clock::Clock;
use crate::config::app::ReleaseConfig;
use crate::sources::{Deployer, ReleaseRevision, SourceError};

/// One Helm release in one namespace.
pub struct HelmReleases {
    secrets: Api<Secret>,
    release: String,
    namespace: String,
    context: Option<String>,
    kubeconfig: Option<PathBuf>,
    helm: HelmCli,
    clock: Arc<dyn Clock>,
}

impl HelmReleases {
    /// The release in `config`, read through `target`, rolled back with `helm`.
    pub fn new(
        target: &KubeTarget,
        config: &ReleaseConfig,
        helm: HelmCli,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            secrets: Api::namespaced(target.client.clone(), &config.namespace),
            release: config.name.clone(),
            namespace: config.namespace.clone(),
            context: target.context.clone(),
            kubeconfig: target.kubeconfig.clone(),
            helm,
            clock,
        }
    }

    /// The latest revision when it is stuck `pending-*` (Helm refuses the next operation
    /// until someone resolves it).
    pub async fn stuck(&self) -> Result<Option<ReleaseRevision>, SourceError> {
        Ok(helm_history::stuck(&self.history().await?).cloned())
    }

    /// Roll back to `revision`, recording `reason` in the release's history when the helm
    /// binary can (Helm 4 and later).
    pub async fn rollback_with_reason(
        &self,
        revision: u32,
        reason: Option<&str>,
    ) -> Result<String, SourceError> {
        log::info!(
            "helm: rolling {} in {} back to revision {revision}",
            self.release,
            self.namespace
        );
        self.helm
            .rollback(&Rollback {
                release: &self.release,
                namespace: &self.namespace,
                revision,
                context: self.context.as_deref(),
                kubeconfig: self.kubeconfig.as_deref(),
                description: reason,
            })
            .await
    }
}

#[async_trait]
impl Deployer for HelmReleases {
    async fn history(&self) -> Result<Vec<ReleaseRevision>, SourceError> {
        read_history(&self.secrets, &self.release, self.clock.now()).await
    }

    async fn rollback(&self, revision: u32, reason: Option<&str>) -> Result<String, SourceError> {
        self.rollback_with_reason(revision, reason).await
    }

    async fn rollback_release(
        &self,
        release: &str,
        namespace: &str,
        revision: Option<u32>,
        reason: Option<&str>,
    ) -> Result<String, SourceError> {
        log::info!("helm: rolling {release} in {namespace} back");
        // Revision 0 is Helm's "the previous one".
        self.helm
            .rollback(&Rollback {
                release,
                namespace,
                revision: revision.unwrap_or(0),
                context: self.context.as_deref(),
                kubeconfig: self.kubeconfig.as_deref(),
                description: reason,
            })
            .await
    }
}
