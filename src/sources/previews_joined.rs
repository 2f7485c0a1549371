//! Live previews as the demo shows them: the cluster's `pr-<n>` namespaces joined to the
//! forge's pull requests (title, author, open / merged / closed, so orphaned ones show), with
//! each preview's URL and its health. [`JoinedCluster`] is the cluster with this feed in
//! place of the bare namespaces; everything else goes to the cluster it wraps.
//!
//! One task owns the join: it takes a new namespace list or a new pull request list as each
//! arrives (the forge reads one list per poll, see `sources::github::recent_pulls`); a task
//! of its own checks the open previews' URLs when they change and every [`HEALTH_EVERY`],
//! each GET under a deadline.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{
    Access, AccessCheck, Cluster, Deletion, Feed, Finding, Inspection, Reading, SourceError,
};
use crate::engine::preview_links::{ListedPull, UrlRule, join, urls_to_check};
use crate::engine::previews::{Preview, UrlHealth};

/// How often the open previews' URLs are checked.
pub const HEALTH_EVERY: Duration = Duration::from_secs(60);

/// How long the first list of previews waits for the forge's first answer before it is
/// published without pull requests (a hanging GitHub must not hold the cluster's list up).
pub const FORGE_WAIT: Duration = Duration::from_secs(5);

/// How long one URL may take to answer before it counts as down.
pub const HEALTH_DEADLINE: Duration = Duration::from_secs(5);

/// The cluster, its previews joined to their pull requests. Dropping it stops the join.
pub struct JoinedCluster {
    inner: Arc<dyn Cluster>,
    /// What the join needs, until it starts.
    lazy: Mutex<Option<Pending>>,
    /// The join, once something asks for the previews: `drive` and the `canary`
    /// commands never start it, nor the namespace watch under it.
    joined: std::sync::OnceLock<Started>,
}

/// The join's inputs, before it starts.
struct Pending {
    pulls: Feed<Vec<ListedPull>>,
    prefix: String,
    rule: UrlRule,
}

/// The join, started.
struct Started {
    feed: Feed<Vec<Preview>>,
    task: Option<JoinHandle<()>>,
}

impl JoinedCluster {
    /// Join `inner`'s previews to `pulls` (the forge's), from the first time they are
    /// asked for (within a Tokio runtime).
    pub fn spawn(
        inner: Arc<dyn Cluster>,
        pulls: Feed<Vec<ListedPull>>,
        prefix: String,
        rule: UrlRule,
    ) -> Self {
        JoinedCluster {
            inner,
            lazy: Mutex::new(Some(Pending {
                pulls,
                prefix,
                rule,
            })),
            joined: std::sync::OnceLock::new(),
        }
    }
}

impl Drop for JoinedCluster {
    fn drop(&mut self) {
        if let Some(Started {
            task: Some(task), ..
        }) = self.joined.get()
        {
            task.abort();
        }
    }
}

struct Joiner {
    prefix: String,
    rule: UrlRule,
    tx: watch::Sender<Reading<Vec<Preview>>>,
}

impl Joiner {
    async fn run(self, mut namespaces: Feed<Vec<Preview>>, mut pulls: Feed<Vec<ListedPull>>) {
        let (urls_tx, urls_rx) = watch::channel(Vec::new());
        let (health_tx, mut health) = watch::channel(None);
        let checker = tokio::spawn(watch_health(urls_rx, health_tx));
        let mut pulls_open = true;
        let mut namespaces_open = true;
        // A list held back for the forge's first answer waits at most this long.
        let mut held_until: Option<tokio::time::Instant> = None;
        let mut waited_out = false;
        loop {
            let forge_gone = !pulls_open || waited_out;
            let joined = self.joined(&namespaces, &pulls, forge_gone, &health.borrow());
            if joined.is_none() && held_until.is_none() {
                held_until = Some(tokio::time::Instant::now() + FORGE_WAIT);
            }
            if let Some((reading, urls)) = joined {
                urls_tx.send_if_modified(|old| {
                    let changed = *old != urls;
                    *old = urls.clone();
                    changed
                });
                // The first reading waits for the first check of its URLs (each under a
                // deadline), so a one-shot `previews list` shows their health too.
                let checked = health.borrow().is_some() || urls.is_empty();
                if checked || self.tx.borrow().value.is_some() {
                    self.tx.send_replace(reading);
                }
            }
            tokio::select! {
                changed = namespaces.changed(), if namespaces_open => {
                    namespaces_open = changed.is_ok();
                }
                changed = pulls.changed(), if pulls_open => {
                    pulls_open = changed.is_ok();
                }
                changed = health.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                () = sleep_until(held_until), if held_until.is_some() && !waited_out => {
                    waited_out = true;
                }
            }
            if !namespaces_open && !pulls_open {
                break;
            }
        }
        checker.abort();
    }

    /// The joined reading and the URLs in it: the namespaces' value and age; the
    /// namespaces' fault, else (once there is a list) the forge's. A list waits (`None`)
    /// until the forge has answered once, so the first list is a joined one, unless the
    /// forge lists nothing at all.
    fn joined(
        &self,
        namespaces: &Feed<Vec<Preview>>,
        pulls: &Feed<Vec<ListedPull>>,
        forge_gone: bool,
        health: &Option<HashMap<String, UrlHealth>>,
    ) -> Option<(Reading<Vec<Preview>>, Vec<String>)> {
        let ns = namespaces.borrow().clone();
        if ns.value.is_none() {
            // No list yet: only the cluster's fault can say why.
            return Some((ns, Vec::new()));
        }
        let pr = pulls.borrow().clone();
        let forge_answered = pr.value.is_some() || pr.fault.is_some() || forge_gone;
        if !forge_answered {
            return None;
        }
        let none = HashMap::new();
        let health = health.as_ref().unwrap_or(&none);
        let value = ns.value.as_ref().map(|list| {
            let listed: &[ListedPull] = pr.value.as_deref().map_or(&[], |v| v);
            join(list, listed, &self.prefix, &self.rule, health)
        });
        let urls = value.as_deref().map(urls_to_check).unwrap_or_default();
        let fault = ns.fault.clone().or_else(|| {
            pr.fault.clone().map(|(at, e)| {
                let e = match e {
                    SourceError::Unreachable(m) => {
                        SourceError::Unreachable(format!("pull requests: {m}"))
                    }
                    SourceError::Rejected(m) => {
                        SourceError::Rejected(format!("pull requests: {m}"))
                    }
                    other => other,
                };
                (at, e)
            })
        });
        let reading = Reading {
            value: value.map(Arc::new),
            updated: ns.updated,
            fault,
        };
        Some((reading, urls))
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Checks `urls` when they change and every [`HEALTH_EVERY`], and sends what it found.
async fn watch_health(
    mut urls: watch::Receiver<Vec<String>>,
    found: watch::Sender<Option<HashMap<String, UrlHealth>>>,
) {
    loop {
        let now = urls.borrow_and_update().clone();
        if !now.is_empty() {
            let health = check_all(now).await;
            if found.send(Some(health)).is_err() {
                return;
            }
        }
        tokio::select! {
            changed = urls.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            () = tokio::time::sleep(HEALTH_EVERY) => {}
        }
    }
}

/// Each URL's health: a GET answered 2xx within [`HEALTH_DEADLINE`] is up; anything else
/// (another status, no answer, a deadline passed) is down.
async fn check_all(urls: Vec<String>) -> HashMap<String, UrlHealth> {
    let client = match reqwest::Client::builder().timeout(HEALTH_DEADLINE).build() {
        Ok(c) => c,
        Err(e) => {
            log::warn!("previews: cannot check URLs: {e}");
            return HashMap::new();
        }
    };
    let checks = urls.into_iter().map(|url| {
        let client = client.clone();
        async move {
            let got = tokio::time::timeout(HEALTH_DEADLINE, client.get(&url).send()).await;
            let health = match got {
                Ok(Ok(r)) if r.status().is_success() => UrlHealth::Up,
                _ => UrlHealth::Down,
            };
            (url, health)
        }
    });
    futures::future::join_all(checks)
        .await
        .into_iter()
        .collect()
}

#[async_trait]
impl Cluster for JoinedCluster {
    fn previews(&self) -> Feed<Vec<Preview>> {
        self.joined
            .get_or_init(|| {
                let (tx, feed) = watch::channel(Reading::default());
                let taken = self.lazy.lock().unwrap_or_else(|e| e.into_inner()).take();
                // Only this closure takes it, and it runs once.
                let task = taken.map(|p| {
                    let joiner = Joiner {
                        prefix: p.prefix,
                        rule: p.rule,
                        tx,
                    };
                    tokio::spawn(joiner.run(self.inner.previews(), p.pulls))
                });
                Started { feed, task }
            })
            .feed
            .clone()
    }

    async fn delete_namespace(&self, name: &str) -> Result<Deletion, SourceError> {
        self.inner.delete_namespace(name).await
    }

    async fn keeps(&self, name: &str) -> Result<Option<String>, SourceError> {
        self.inner.keeps(name).await
    }

    async fn set_canary_weight(&self, weight: u8) -> Result<u8, SourceError> {
        self.inner.set_canary_weight(weight).await
    }

    async fn canary_weight(&self) -> Result<u8, SourceError> {
        self.inner.canary_weight().await
    }

    fn canary_weight_feed(&self) -> Feed<u8> {
        self.inner.canary_weight_feed()
    }

    async fn inspect(&self, what: &Inspection) -> Result<Finding, SourceError> {
        self.inner.inspect(what).await
    }

    async fn preview_status(&self, url: &str) -> Result<u16, SourceError> {
        self.inner.preview_status(url).await
    }

    async fn access(&self, check: &AccessCheck) -> Result<Access, SourceError> {
        self.inner.access(check).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::previews::{PrState, PullRequest};
    use chrono::{TimeZone, Utc};

    fn namespace(name: &str) -> Preview {
        Preview::bare(
            name,
            Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
            false,
        )
    }

    fn joiner() -> (Joiner, Feed<Vec<Preview>>) {
        let (tx, out) = watch::channel(Reading::default());
        let joiner = Joiner {
            prefix: "pr-".into(),
            rule: UrlRule::default(),
            tx,
        };
        (joiner, out)
    }

    #[tokio::test]
    async fn a_list_is_joined_once_the_forge_answers_and_the_forges_fault_never_stands_for_the_clusters()
     {
        let (joiner, mut out) = joiner();
        let (ns_tx, namespaces) = watch::channel(Reading::default());
        let (pr_tx, pulls) = watch::channel(Reading::<Vec<ListedPull>>::default());
        let task = tokio::spawn(joiner.run(namespaces, pulls));
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();

        // GitHub fails before the cluster has listed anything: nothing to say yet.
        pr_tx.send_replace(Reading {
            fault: Some((at, SourceError::Unreachable("no route".into()))),
            ..Reading::default()
        });
        out.changed().await.unwrap();
        assert!(out.borrow().fault.is_none(), "{:?}", out.borrow().fault);
        assert!(out.borrow().value.is_none());

        // The list comes: shown bare, with GitHub's fault.
        ns_tx.send_replace(Reading::fresh(vec![namespace("pr-7")], at));
        let r = out.wait_for(|r| r.value.is_some()).await.unwrap().clone();
        assert_eq!(r.value.as_deref().unwrap()[0].pr, None);
        assert!(
            r.fault
                .as_ref()
                .is_some_and(|(_, e)| e.to_string().contains("pull requests: no route"))
        );

        // GitHub answers: #7 merged, so pr-7 is orphaned, and the fault is gone.
        let merged = ListedPull {
            pr: PullRequest {
                number: 7,
                title: "Drop the v1 API".into(),
                author: "mira".into(),
                state: PrState::Merged,
            },
            body: String::new(),
        };
        pr_tx.send_replace(Reading::fresh(vec![merged], at));
        let r = out
            .wait_for(|r| r.value.as_deref().is_some_and(|v| v[0].pr.is_some()))
            .await
            .unwrap()
            .clone();
        assert!(r.value.as_deref().unwrap()[0].is_orphaned());
        assert!(r.fault.is_none());
        task.abort();
    }
}
