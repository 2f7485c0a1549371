//! Drift: the cluster's traffic and the train disagree because somebody changed the route
//! by hand. The cluster is the truth: captain says so, and takes the train where the
//! cluster has it (docs/architecture.md, "Drift"). A route reset by the deploy of a newer
//! revision is not drift: that train is over.

use chrono::{DateTime, Utc};

use super::Operator;
use crate::engine::train::{Status, Train};

impl Operator {
    /// The cluster is the truth: when the joined train's weight is not what the route sends
    /// to the canary (someone changed the route by hand), say so and take the train where
    /// the cluster has it, as a console joining a canary under way does, instead of
    /// reporting what was stored. A read-only console shows it without writing it.
    pub(super) async fn check_drift(&mut self, cluster: u8, now: DateTime<Utc>) {
        // An unfinished rollback is not drift: it is retried until the route says 0 %.
        if self.train.weight == cluster || matches!(self.train.status, Status::RollingBack { .. }) {
            return;
        }
        let stored = format!(
            "the shared train says {} at {} % but the route sends {cluster} % to the canary",
            self.train.status.label(),
            self.train.weight
        );
        if cluster == 0 && self.train.status.is_terminal() {
            // An ended train whose canary gets nothing is at rest (a promotion folded into
            // stable, traffic moved by hand): it is never started again by itself.
            log::info!("{stored}; the train has ended and stays as it is");
            return;
        }
        log::warn!("drift: {stored}; following the cluster");
        let mut found = Train::adopt(
            self.train.release.clone(),
            self.train.policy.clone(),
            self.train.revisions.clone(),
            cluster,
            now,
        );
        if found.status == Status::NotStarted {
            // Someone took the canary's traffic away: a human decides what comes next, not
            // a fresh start.
            found.status = Status::Paused {
                reason: format!("{stored}: promote, roll back or abort by hand"),
            };
        }
        self.train = found;
        self.drift = Some(stored);
        if !self.read_only
            && let Err(e) = self.commit_train().await
        {
            log::warn!("recording the train as the cluster has it: {e}");
        }
    }

    /// At a measurement of the train this console drives: when the watched route does not
    /// send the canary the train's weight, ask the cluster once (the watch may not have
    /// delivered this console's own last write yet) and follow what it says, unless a newer
    /// revision was deployed meanwhile (its deploy reset the route): then this train is
    /// overtaken and no longer driven. A watch that is failing says nothing here; the next
    /// event is looked at again.
    pub(super) async fn watch_drift(&mut self, now: DateTime<Utc>) {
        // An unfinished rollback is retried until the route says 0 %, whatever it says now.
        if matches!(self.train.status, Status::RollingBack { .. }) {
            return;
        }
        let cluster = self.backends.cluster.clone();
        let feed = self
            .route
            .get_or_insert_with(|| cluster.canary_weight_feed());
        let (watched, updated) = {
            let r = feed.borrow();
            match (r.value.as_deref(), &r.fault) {
                (Some(w), None) => (*w, r.updated),
                _ => return,
            }
        };
        if watched == self.train.weight || self.drift_looked == updated {
            return;
        }
        self.drift_looked = updated;
        let weight = match cluster.canary_weight().await {
            Ok(w) if w == self.train.weight => return,
            Ok(w) => w,
            Err(e) => {
                log::warn!(
                    "the route's watch says {watched} % to the canary, the train {} %, and the route cannot be read: {e}",
                    self.train.weight
                );
                return;
            }
        };
        if let Some(revision) = self.newer_deploy().await {
            log::warn!(
                "revision {revision} was deployed while revision {}'s train was {} at {} %: that train is over, revision {revision} gets its own",
                self.train.revisions.current,
                self.train.status.label(),
                self.train.weight
            );
            self.overtaken = Some(revision);
            return;
        }
        self.check_drift(weight, now).await;
    }

    /// The newest deployed revision, when it is newer than this train's and not Helm's own
    /// rollback of it: a new canary, with a train of its own. `None` also when the history
    /// cannot be read (said in the log).
    pub async fn newer_deploy(&self) -> Option<u32> {
        let history = match self.backends.deployer.history().await {
            Ok(h) => h,
            Err(e) => {
                log::warn!("reading the release history: {e}");
                return None;
            }
        };
        let versions = history
            .iter()
            .map(|r| (r.revision, r.app_version.clone()))
            .collect();
        history
            .iter()
            .rev()
            .find(|r| r.status == "deployed")
            .filter(|r| {
                r.revision > self.train.revisions.current
                    && !Self::made_by_rollback(
                        &self.train,
                        r.revision,
                        &r.description,
                        &r.app_version,
                        &versions,
                    )
            })
            .map(|r| r.revision)
    }
}
