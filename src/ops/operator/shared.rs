//! The operator's side of the shared state: joining the train and the plan every console
//! of the release sees, following what others write, and committing its own changes before
//! it acts on them.

use super::{Operator, StartError};
use chrono::{DateTime, Utc};

use crate::engine::phases::PhaseState;
use crate::engine::train::Train;
use crate::ops::coordination::{Lost, PLAN, TRAIN};
use crate::sources::SharedDoc;

/// How a console takes part in driving the shared train.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Drive {
    /// It holds the lease (or shares nothing): it measures and acts.
    Leads,
    /// Another console drives, or this one is read-only: it measures and shows.
    Follows,
    /// Nobody can be known to drive: it acts on a breach by itself, and never promotes.
    Alone(String),
}

impl Operator {
    /// Take the shared train and plan, or publish this console's when there are none yet
    /// (or the shared train is a finished one of an older revision). True when the train
    /// was joined rather than started here.
    pub(super) async fn join_shared(&mut self) -> Result<bool, StartError> {
        let read_only = self.read_only;
        let Some(c) = &mut self.shared else {
            return Ok(false);
        };
        let stored = c.read(TRAIN).await.map_err(StartError::Shared)?;
        // A train this console cannot read is never written over: it may be another
        // console's, mid-flight.
        let theirs = match stored {
            Some(doc) => Some(serde_json::from_value::<Train>(doc.body).map_err(|e| {
                StartError::Shared(crate::sources::SourceError::Rejected(format!(
                    "the shared train written by {} cannot be read ({e}); nothing was changed",
                    doc.written_by
                )))
            })?),
            None => None,
        };
        // A train is the one of its revision. Helm's own rollback revision belongs to the
        // train that rolled back to it; any other newer revision starts a train of its own
        // (a train of an older revision that had not ended was overtaken by the deploy).
        let ours = self.train.revisions.current;
        let made_by = |t: &Train| {
            t.revisions.current < ours
                && (self.rollback_of.is_some()
                    || Self::made_by_rollback(
                        t,
                        ours,
                        "",
                        &self.train.revisions.image,
                        &self.versions,
                    ))
        };
        let joined = match theirs {
            Some(t)
                if t.release == self.train.release
                    && (t.revisions.current == ours || made_by(&t)) =>
            {
                if self.rollback_of.is_none() {
                    self.rollback_of = match &t.status {
                        crate::engine::train::Status::RolledBack { to_revision, .. }
                        | crate::engine::train::Status::RollingBack { to_revision, .. }
                            if t.revisions.current != ours =>
                        {
                            Some(*to_revision)
                        }
                        _ => None,
                    };
                }
                self.train = t;
                true
            }
            Some(t) if t.release == self.train.release && !t.status.is_terminal() => {
                log::warn!(
                    "revision {ours} was deployed while revision {}'s train was {}: that train is over, revision {ours} gets its own",
                    t.revisions.current,
                    t.status.label()
                );
                false
            }
            _ => false,
        };
        let plan = c.read(PLAN).await.map_err(StartError::Shared)?;
        let plan_joined = match plan.map(|doc| serde_json::from_value::<Vec<PhaseState>>(doc.body))
        {
            Some(Ok(states)) => match self.progress.adopt(states) {
                Ok(()) => true,
                Err(e) => {
                    // Another console runs another plan: its progress is left alone, and
                    // this console keeps its own.
                    log::warn!(
                        "the shared plan progress does not fit this plan ({e}); keeping this console's apart"
                    );
                    c.keep_apart(PLAN);
                    true
                }
            },
            Some(Err(e)) => {
                log::warn!(
                    "the shared plan progress cannot be read ({e}); keeping this console's apart"
                );
                c.keep_apart(PLAN);
                true
            }
            None => false,
        };
        if read_only {
            return Ok(joined);
        }
        let mut joined = joined;
        if !joined {
            match self.commit_train().await {
                Ok(()) => {}
                // Another console started it a moment before: theirs it is.
                Err(lost @ Lost::Race(_)) => {
                    self.take_theirs(TRAIN, &lost);
                    joined = true;
                }
                Err(Lost::Store(e)) => return Err(StartError::Shared(e)),
            }
        }
        if !plan_joined && let Err(Lost::Store(e)) = self.commit_plan().await {
            return Err(StartError::Shared(e));
        }
        Ok(joined)
    }

    /// Take whatever other consoles wrote since this one last looked.
    pub(super) fn follow_shared(&mut self) {
        let Some(c) = &mut self.shared else { return };
        let docs: Vec<_> = [TRAIN, PLAN]
            .into_iter()
            .filter_map(|key| c.newer(key).map(|doc| (key, doc)))
            .collect();
        for (key, doc) in docs {
            self.adopt_doc(key, &doc);
        }
    }

    /// After losing a race: take what won (the conflict carries it; the watch may not
    /// have delivered it yet).
    pub(super) fn take_theirs(&mut self, key: &str, lost: &Lost) {
        if let Lost::Race(Some(doc)) = lost {
            self.adopt_doc(key, doc);
        }
    }

    fn adopt_doc(&mut self, key: &str, doc: &SharedDoc) {
        if key == TRAIN {
            match serde_json::from_value::<Train>(doc.body.clone()) {
                Ok(t) if t.release == self.train.release => self.train = t,
                Ok(_) => {}
                Err(e) => log::warn!(
                    "the shared train from {} cannot be read: {e}",
                    doc.written_by
                ),
            }
        } else if key == PLAN {
            let adopted = serde_json::from_value::<Vec<PhaseState>>(doc.body.clone())
                .map_err(|e| e.to_string())
                .and_then(|states| self.progress.adopt(states));
            if let Err(e) = adopted {
                log::warn!("the shared plan progress from {}: {e}", doc.written_by);
            }
        }
    }

    /// Publish the train as it is now, over the version last seen.
    pub(super) async fn commit_train(&mut self) -> Result<(), Lost> {
        let body = serde_json::to_value(&self.train)
            .map_err(|e| Lost::Store(crate::sources::SourceError::Rejected(e.to_string())))?;
        match &mut self.shared {
            Some(c) => c.commit(TRAIN, body).await,
            None => Ok(()),
        }
    }

    pub(super) async fn commit_plan(&mut self) -> Result<(), Lost> {
        let body = serde_json::to_value(self.progress.states())
            .map_err(|e| Lost::Store(crate::sources::SourceError::Rejected(e.to_string())))?;
        match &mut self.shared {
            Some(c) => c.commit(PLAN, body).await,
            None => Ok(()),
        }
    }

    /// How this console takes part in driving the train. Without shared state it drives;
    /// with it, while it holds the lease; a read-only console never does (it only looks at
    /// who does). A lease that cannot be read or taken leaves this console alone with what
    /// it measures: it then rolls back or pauses on a breach but never promotes (safety
    /// beats coordination; docs/architecture.md, "Shared train state").
    pub(super) async fn drive_mode(&mut self, now: DateTime<Utc>) -> Drive {
        let read_only = self.read_only;
        let Some(c) = &mut self.shared else {
            return if read_only {
                Drive::Follows
            } else {
                Drive::Leads
            };
        };
        if read_only {
            c.peek(now).await;
            return Drive::Follows;
        }
        if c.drive(now).await {
            return Drive::Leads;
        }
        match &c.lease_error {
            Some(e) if c.driver.is_none() => Drive::Alone(format!("the driver's lease: {e}")),
            _ => Drive::Follows,
        }
    }

    /// How often the driver's lease needs a look between measurements: when the state is
    /// shared and this console may drive.
    pub fn lease_period(&self) -> Option<std::time::Duration> {
        let c = self.shared.as_ref().filter(|_| !self.read_only)?;
        Some(c.timings().period())
    }

    /// Renew the lease when its renewal is due, or ask for it when a retry is, so the lease
    /// keeps its own timings whatever the measurement interval.
    pub async fn keep_lease(&mut self, now: DateTime<Utc>) {
        if let Some(c) = self.shared.as_mut().filter(|_| !self.read_only) {
            c.keep(now).await;
        }
    }

    /// Why nobody would roll this canary back by itself if it breached now; `None` while
    /// somebody would (this console, or the one that drives).
    pub fn auto_rollback_off(&self) -> Option<String> {
        use crate::engine::analysis::Verdict;
        use crate::engine::train::Status;
        match &self.train.status {
            Status::Progressing | Status::AwaitingGate | Status::RollingBack { .. } => {}
            Status::Paused { .. } => return Some("the train is paused".into()),
            _ => return None,
        }
        let (someone, lease_error) = match &self.shared {
            None => (!self.read_only, None),
            // Not read-only: this console leads, follows a live driver, or acts alone.
            Some(_) if !self.read_only => (true, None),
            Some(c) => (c.driver.is_some(), c.lease_error.clone()),
        };
        if !someone {
            return Some(match lease_error {
                Some(e) => format!("read-only, and the driver's lease cannot be read ({e})"),
                None => "read-only, and nobody drives".into(),
            });
        }
        match &self.train.last {
            Some(a) if matches!(a.verdict, Verdict::Error | Verdict::NoData) => {
                Some(format!("no verdict from the metrics: {}", a.reason))
            }
            _ => None,
        }
    }

    /// What the screen should say of the shared state beyond who drives: the train follows
    /// a route changed by hand, and shared documents this console wrote anew after they
    /// were lost. Details are in the log.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(revision) = self.overtaken {
            notes.push(format!(
                "revision {revision} deployed: this train is over, reopen to follow it"
            ));
        }
        if self.drift.is_some() {
            notes.push("DRIFT: following the route as changed by hand".to_string());
        }
        if let Some(c) = &self.shared
            && !c.rewritten.is_empty()
        {
            let keys: Vec<&str> = c.rewritten.iter().map(String::as_str).collect();
            notes.push(format!(
                "shared {} written anew: it was gone",
                keys.join(" and ")
            ));
        }
        notes
    }

    /// Who drives the train, when the state is shared (and, when the lease cannot be
    /// read or taken, that nobody may be).
    pub fn driver(&self) -> Option<String> {
        let c = self.shared.as_ref()?;
        match (&c.driver, &c.lease_error) {
            (Some(d), _) => Some(d.holder.clone()),
            (None, Some(e)) => Some(format!("nobody: the driver's lease: {e}")),
            (None, None) => None,
        }
    }

    /// Whether this console drove the train at its last look at the lease.
    pub fn drives(&self) -> bool {
        !self.read_only
            && self
                .shared
                .as_ref()
                .is_none_or(|c| c.driver.as_ref().is_some_and(|d| d.ours))
    }

    /// Step down: let another console drive at once.
    pub async fn release_shared(&mut self) {
        if let Some(c) = &mut self.shared {
            c.release().await;
        }
    }
}
