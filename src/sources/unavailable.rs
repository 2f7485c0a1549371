//! A forge or a cluster that cannot be reached at all (no token, no kubeconfig): its panel
//! and its probes say why, and the rest keeps working. Acting through it is refused with
//! the same reason.

use async_trait::async_trait;
use chrono::Utc;
use tokio::sync::watch;

use super::activity::{Activity, Observation, PullComment};
use super::{
    Cluster, Deletion, Feed, Finding, Forge, Governance, Inspection, LabelChange, OpenPull,
    Reading, SourceError, TagChange,
};
use crate::engine::main_health::MainHealth;
use crate::engine::previews::Preview;

/// A cluster that is not there: every question is answered with why.
pub struct UnavailableCluster {
    reason: String,
    feed: watch::Sender<Reading<Vec<Preview>>>,
}

impl UnavailableCluster {
    pub fn new(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        let reading = Reading {
            value: None,
            updated: None,
            fault: Some((Utc::now(), SourceError::Unconfigured(reason.clone()))),
        };
        UnavailableCluster {
            reason,
            feed: watch::channel(reading).0,
        }
    }

    fn why<T>(&self) -> Result<T, SourceError> {
        Err(SourceError::Unconfigured(self.reason.clone()))
    }
}

#[async_trait]
impl Cluster for UnavailableCluster {
    fn previews(&self) -> Feed<Vec<Preview>> {
        self.feed.subscribe()
    }

    async fn delete_namespace(&self, _name: &str) -> Result<Deletion, SourceError> {
        self.why()
    }

    async fn set_canary_weight(&self, _weight: u8) -> Result<u8, SourceError> {
        self.why()
    }

    async fn canary_weight(&self) -> Result<u8, SourceError> {
        self.why()
    }

    fn canary_weight_feed(&self) -> Feed<u8> {
        let reading = Reading {
            value: None,
            updated: None,
            fault: Some((Utc::now(), SourceError::Unconfigured(self.reason.clone()))),
        };
        watch::channel(reading).1
    }

    async fn inspect(&self, _what: &Inspection) -> Result<Finding, SourceError> {
        self.why()
    }
}

pub struct UnavailableForge {
    reason: String,
    feed: watch::Sender<Reading<MainHealth>>,
}

impl UnavailableForge {
    pub fn new(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        let reading = Reading {
            value: None,
            updated: None,
            fault: Some((Utc::now(), SourceError::Rejected(reason.clone()))),
        };
        UnavailableForge {
            reason,
            feed: watch::channel(reading).0,
        }
    }
}

#[async_trait]
impl Forge for UnavailableForge {
    fn main_health(&self) -> Feed<MainHealth> {
        self.feed.subscribe()
    }

    async fn freeze(&self, _sha: &str) -> Result<TagChange, SourceError> {
        Err(SourceError::Rejected(self.reason.clone()))
    }

    async fn unfreeze(&self) -> Result<TagChange, SourceError> {
        Err(SourceError::Rejected(self.reason.clone()))
    }

    async fn open_pulls(&self) -> Result<Vec<OpenPull>, SourceError> {
        Err(SourceError::Unconfigured(self.reason.clone()))
    }

    async fn add_label(&self, _number: u32, _label: &str) -> Result<LabelChange, SourceError> {
        Err(SourceError::Unconfigured(self.reason.clone()))
    }

    async fn remove_label(&self, _number: u32, _label: &str) -> Result<LabelChange, SourceError> {
        Err(SourceError::Unconfigured(self.reason.clone()))
    }

    async fn check(&self, _what: &Governance) -> Result<Finding, SourceError> {
        Err(SourceError::Unconfigured(self.reason.clone()))
    }

    async fn observe(&self, _what: &Activity) -> Result<Observation, SourceError> {
        Err(SourceError::Unconfigured(self.reason.clone()))
    }

    async fn pull_comment(
        &self,
        _pull: Option<u32>,
        _pattern: &regex::Regex,
    ) -> Result<Option<PullComment>, SourceError> {
        Err(SourceError::Unconfigured(self.reason.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_feed_carries_the_reason_and_freezing_is_refused_with_it() {
        let f = UnavailableForge::new("no GitHub token");
        let r = f.main_health().borrow().clone();
        assert!(r.value.is_none());
        assert_eq!(
            r.fault.unwrap().1,
            SourceError::Rejected("no GitHub token".into())
        );
        assert_eq!(
            f.freeze("abc").await,
            Err(SourceError::Rejected("no GitHub token".into()))
        );
        // A probe against it is unavailable, with the reason, rather than failed.
        assert_eq!(
            f.check(&Governance::NoCriticalAlerts).await,
            Err(SourceError::Unconfigured("no GitHub token".into()))
        );
    }
}
