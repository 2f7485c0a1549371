//! `captain audit verify` against the copy of the journal's head a live release keeps in
//! its shared ConfigMap (`docs/architecture.md`, "The audit journal").

use color_eyre::eyre::{Result, eyre};

use crate::cli::Cli;
use crate::launch::{Settings, budget};
use crate::ops::audit::{Head, shared_head};

/// What the cluster keeps of the journal's head.
pub enum ClusterHead {
    /// The demo's journal, or `--local`: the file and its head file alone.
    NotAsked,
    /// The release's ConfigMap has no copy for this journal (nothing was written to it
    /// from a live console on this machine).
    None,
    Kept {
        head: Head,
        location: String,
    },
}

/// The copy of the head of the journal `settings` name, read once. An error is a copy
/// that could not be read: the journal's tail cannot then be vouched for.
pub async fn read(cli: &Cli, settings: &Settings, local: bool) -> Result<ClusterHead> {
    if local || settings.demo.is_some() {
        return Ok(ClusterHead::NotAsked);
    }
    let cfg = &settings.config;
    let context = settings.kube_context(cli);
    let target = crate::sources::kube::connect_within(context.as_deref(), None, budget(cli, cfg)?)
        .await
        .map_err(|e| eyre!("Kubernetes: {e}"))?;
    let key = shared_head::key(&settings.audit_path());
    let configmap = crate::sources::kube::shared::object_name(&cfg.release.name);
    let doc = crate::sources::kube::shared::read_once(
        target.client,
        &cfg.release.namespace,
        &configmap,
        &key,
    )
    .await
    .map_err(|e| eyre!("{e}"))?;
    let location = shared_head::location(&key);
    let Some(doc) = doc else {
        return Ok(ClusterHead::None);
    };
    let kept = shared_head::HeadDoc::parse(&doc).map_err(|why| eyre!("{location} {why}"))?;
    Ok(ClusterHead::Kept {
        head: kept.head(),
        location: format!(
            "{location} in ConfigMap {}/{configmap}",
            cfg.release.namespace
        ),
    })
}
