//! [`GithubForge`]: the live [`Forge`]. It owns the client and the poller task, hands out
//! the main-health feed, and performs the freeze and label actions, each change followed by
//! an immediate refresh so the feed shows its effect without waiting a poll period. Pull
//! requests and labels: [`super::labels`]; governance checks: [`super::governance`].

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::activity;
use super::client::GithubClient;
use super::governance;
use super::labels;
use super::poller::Poller;
use super::pulls_probe;
use super::rate::RequestCounter;
use super::tags::{self, FreezeMemo};
use crate::clock::Clock;
use crate::config::app::GithubConfig;
use crate::engine::main_health::MainHealth;
use crate::engine::preview_links::ListedPull;
use crate::sources::activity::{Activity, Observation, PullComment};
use crate::sources::{
    Feed, Finding, Forge, Governance, LabelChange, OpenPull, Reading, SourceError, TagChange,
};

/// The poll period for `main`'s health. Unchanged answers are 304s and cost nothing, so
/// this is about freshness; a poll that does cost (CI running on a new HEAD) stretches the
/// next wait to stay within [`super::rate::BUDGET_PER_HOUR`].
pub const DEFAULT_POLL: Duration = Duration::from_secs(30);

/// GitHub as the forge: polls `main`'s health in the background and tags freezes.
/// Dropping it stops the poller.
pub struct GithubForge {
    client: Arc<GithubClient>,
    freeze: FreezeMemo,
    feed: Feed<MainHealth>,
    pulls: Feed<Vec<ListedPull>>,
    refresh: Arc<Notify>,
    clock: Arc<dyn Clock>,
    poller: JoinHandle<()>,
}

impl GithubForge {
    /// Connect to the repository in `config` with a personal `token` and start polling
    /// every `poll`. Must be called within a Tokio runtime. Fails only on a configuration
    /// that cannot work (bad repo name, API URL or token); GitHub being down is a fault on
    /// the feed, not an error here.
    pub fn spawn(
        config: &GithubConfig,
        token: &str,
        poll: Duration,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SourceError> {
        let client = Arc::new(GithubClient::new(config, token, clock.clone())?);
        let (tx, feed) = watch::channel(Reading::default());
        let (pulls_tx, pulls) = watch::channel(Reading::default());
        let refresh = Arc::new(Notify::new());
        let freeze = FreezeMemo::default();
        let poller = tokio::spawn(
            Poller {
                client: client.clone(),
                freeze: freeze.clone(),
                tx,
                pulls: pulls_tx,
                refresh: refresh.clone(),
                poll: poll.max(Duration::from_secs(1)),
                clock: clock.clone(),
            }
            .run(),
        );
        Ok(GithubForge {
            client,
            freeze,
            feed,
            pulls,
            refresh,
            clock,
            poller,
        })
    }

    /// Poll now instead of at the end of the current wait (unless rate limited).
    pub fn refresh(&self) {
        self.refresh.notify_one();
    }

    /// The requests sent so far: those that cost budget, and the free 304s.
    pub fn requests(&self) -> RequestCounter {
        self.client.counter()
    }
}

impl Drop for GithubForge {
    fn drop(&mut self) {
        self.poller.abort();
    }
}

#[async_trait]
impl Forge for GithubForge {
    fn main_health(&self) -> Feed<MainHealth> {
        self.feed.clone()
    }

    fn pulls(&self) -> Feed<Vec<ListedPull>> {
        self.pulls.clone()
    }

    async fn freeze(&self, version: &str) -> Result<TagChange, SourceError> {
        let change = tags::create(&self.client, &self.freeze, version, self.clock.now()).await;
        self.refresh();
        change
    }

    async fn unfreeze(&self) -> Result<TagChange, SourceError> {
        let change = tags::delete(&self.client, &self.freeze).await;
        self.refresh();
        change
    }

    async fn open_pulls(&self) -> Result<Vec<OpenPull>, SourceError> {
        labels::open(&self.client).await
    }

    async fn add_label(&self, number: u32, label: &str) -> Result<LabelChange, SourceError> {
        let change = labels::add(&self.client, number, label).await;
        if change == Ok(LabelChange::Added) {
            self.refresh();
        }
        change
    }

    async fn remove_label(&self, number: u32, label: &str) -> Result<LabelChange, SourceError> {
        let change = labels::remove(&self.client, number, label).await;
        if change == Ok(LabelChange::Removed) {
            self.refresh();
        }
        change
    }

    async fn check(&self, what: &Governance) -> Result<Finding, SourceError> {
        governance::check(&self.client, what).await
    }

    async fn observe(&self, what: &Activity) -> Result<Observation, SourceError> {
        activity::observe(&self.client, what).await
    }

    async fn pull_comment(
        &self,
        pull: Option<u32>,
        pattern: &regex::Regex,
    ) -> Result<Option<PullComment>, SourceError> {
        pulls_probe::comment(&self.client, pull, pattern).await
    }
}
