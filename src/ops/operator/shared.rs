//! The operator's side of the shared state: joining the train and the plan every console
//! of the release sees, following what others write, and committing its own changes before
//! it acts on them.

use super::{Operator, StartError};
use crate::engine::phases::PhaseState;
use crate::engine::train::Train;
use crate::ops::shared::{Lost, PLAN, TRAIN};
use crate::sources::SharedDoc;

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
        let joined = match theirs {
            Some(t)
                if t.release == self.train.release
                    && !(t.status.is_terminal()
                        && t.revisions.current != self.train.revisions.current) =>
            {
                self.train = t;
                true
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

    /// Whether this console drives the train: always without shared state; with it, while
    /// it holds the lease. A read-only console never does.
    pub(super) async fn driving(&mut self) -> bool {
        if self.read_only {
            return false;
        }
        match &mut self.shared {
            Some(c) => c.drive().await,
            None => true,
        }
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
    pub async fn release_shared(&self) {
        if let Some(c) = &self.shared {
            c.release().await;
        }
    }
}
