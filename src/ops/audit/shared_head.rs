//! The journal's head kept in the release's shared ConfigMap as well as beside the file
//! (`docs/architecture.md`, "The audit journal"): whoever can cut a journal and its head
//! file on one disk cannot also cut the cluster's copy, so `captain audit verify` still
//! names the records missing from the end.
//!
//! The copy is written by a task of its own, never on the action's path: a slow or
//! failing API server must not hold a rollback back (`docs/architecture.md`, "Shared train
//! state"). It may lag the file by the time one write takes; a head that lags is "behind",
//! which verifies, as the head file's does.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::{Head, HeadStore};
use crate::sources::{SharedDoc, SharedState, WriteError};

/// The shared documents that hold journals' heads start with this.
pub const KEY_PREFIX: &str = "journal-head.";

/// Longest wait between two tries at a copy the API server refused or did not answer.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Tries at a copy that others keep writing between its read and its write.
const CONFLICT_TRIES: u32 = 5;

/// Tries at the last head once the journal is closed (the console quit).
const LAST_TRIES: u32 = 3;

/// The document of the journal at `journal` on this machine: each machine's consoles keep
/// their own journal, so each has its own head.
pub fn key(journal: &Path) -> String {
    let path = std::path::absolute(journal).unwrap_or_else(|_| journal.to_path_buf());
    let id = Sha256::digest(format!("{}:{}", crate::paths::host_name(), path.display()));
    format!("{KEY_PREFIX}{}", &hex::encode(id)[..16])
}

/// What the document holds: the head, and whose journal it is, for whoever reads the
/// ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadDoc {
    pub seq: u64,
    pub hash: String,
    pub host: String,
    pub journal: String,
}

impl HeadDoc {
    fn new(head: &Head, journal: &Path) -> Self {
        HeadDoc {
            seq: head.seq,
            hash: head.hash.clone(),
            host: crate::paths::host_name(),
            journal: journal.display().to_string(),
        }
    }

    pub fn head(&self) -> Head {
        Head {
            seq: self.seq,
            hash: self.hash.clone(),
        }
    }

    pub fn parse(doc: &SharedDoc) -> Result<Self, String> {
        serde_json::from_value(doc.body.clone())
            .map_err(|e| format!("is not a journal's head ({{seq, hash, host, journal}}): {e}"))
    }
}

/// How the journal's messages name the cluster's copy.
pub fn location(key: &str) -> String {
    format!("the cluster's head (shared document {key})")
}

/// Hands every head to the task that copies it into the shared state.
pub struct SharedHead {
    newest: watch::Sender<Head>,
    location: String,
}

impl SharedHead {
    /// Copy `journal`'s heads into `shared`, starting with `head`, written as `by`. Must
    /// be called within a Tokio runtime. The task ends when the journal is dropped and its
    /// last head is written (or could not be, after a few tries); the process waits for it
    /// before exiting (`ops::background`).
    pub fn spawn(shared: Arc<dyn SharedState>, journal: &Path, head: Head, by: String) -> Self {
        let key = key(journal);
        let location = location(&key);
        let (newest, rx) = watch::channel(head);
        let copy = Copier {
            shared,
            location: location.clone(),
            key,
            journal: journal.to_path_buf(),
            by,
        };
        crate::ops::background::keep(tokio::spawn(copy.run(rx)));
        SharedHead { newest, location }
    }
}

impl HeadStore for SharedHead {
    fn location(&self) -> String {
        self.location.clone()
    }

    /// Never waits for the API server: the copy's task takes the newest head when it can.
    fn store(&mut self, head: &Head) -> std::io::Result<()> {
        self.newest.send_replace(head.clone());
        Ok(())
    }
}

struct Copier {
    shared: Arc<dyn SharedState>,
    key: String,
    location: String,
    journal: std::path::PathBuf,
    by: String,
}

/// Why a copy was not written.
enum Unwritten {
    /// The API server failed: tried again later.
    Again(String),
    /// The cluster's copy is ahead of the journal, or names another record: it is the
    /// evidence that records are missing, and is never overwritten.
    Never(String),
}

impl Copier {
    async fn run(self, mut rx: watch::Receiver<Head>) {
        // The copy as the watch has it: a journal that did not change since is not
        // written again.
        let mut held = self.watched();
        let mut backoff = Duration::from_secs(1);
        let mut tries_closed = 0;
        loop {
            let head = rx.borrow_and_update().clone();
            // A journal with no record yet has nothing a copy could vouch for.
            let nothing_yet = head.seq == 0 && held.is_none();
            if !nothing_yet && held.as_ref().map(|(_, h)| h) != Some(&head) {
                match self.write(&head, held.as_ref()).await {
                    Ok(generation) => {
                        held = Some((generation, head));
                        backoff = Duration::from_secs(1);
                    }
                    Err(Unwritten::Never(why)) => {
                        log::error!("audit: {why}; `captain audit verify` says more");
                        return;
                    }
                    Err(Unwritten::Again(why)) => {
                        // The journal is gone (the process is ending): a few more tries.
                        let closed = rx.has_changed().is_err();
                        tries_closed += u32::from(closed);
                        if tries_closed >= LAST_TRIES {
                            log::warn!(
                                "audit: record {} is in {}, but {} could not be written: {why}",
                                head.seq,
                                self.journal.display(),
                                self.location
                            );
                            return;
                        }
                        log::warn!(
                            "audit: {} not written ({why}); trying again in {}s",
                            self.location,
                            backoff.as_secs()
                        );
                        if closed {
                            tokio::time::sleep(backoff).await;
                        } else {
                            // The newest head is taken when the wait ends, whichever came.
                            let _ = tokio::time::timeout(backoff, rx.changed()).await;
                        }
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        continue;
                    }
                }
            }
            if rx.changed().await.is_err() {
                // The journal is gone: the task ends once its last head is written.
                let last = rx.borrow().clone();
                if held.as_ref().map(|(_, h)| h) == Some(&last) || last.seq == 0 {
                    return;
                }
            }
        }
    }

    /// The copy the shared state's watch holds now, if it can be read.
    fn watched(&self) -> Option<(u64, Head)> {
        let docs = self.shared.docs();
        let reading = docs.borrow();
        let doc = reading.value.as_ref()?.get(&self.key)?.clone();
        let head = HeadDoc::parse(&doc).ok()?.head();
        Some((doc.generation, head))
    }

    /// Write `head` over the copy `known` to be there (`None`: none yet), taking in what
    /// a conflict says the copy holds now.
    async fn write(&self, head: &Head, known: Option<&(u64, Head)>) -> Result<u64, Unwritten> {
        let body = serde_json::to_value(HeadDoc::new(head, &self.journal))
            .map_err(|e| Unwritten::Never(format!("the head as JSON: {e}")))?;
        let mut generation = 0;
        if let Some((at, theirs)) = known {
            if self.same(theirs, head)? {
                return Ok(*at);
            }
            generation = *at;
        }
        for _ in 0..CONFLICT_TRIES {
            match self
                .shared
                .write(&self.key, body.clone(), generation, &self.by)
                .await
            {
                Ok(written) => return Ok(written),
                Err(WriteError::Source(e)) => return Err(Unwritten::Again(e.to_string())),
                Err(WriteError::Conflict(None)) => generation = 0,
                Err(WriteError::Conflict(Some(doc))) => {
                    let theirs = HeadDoc::parse(&doc)
                        .map_err(|why| Unwritten::Never(format!("{} {why}", self.location)))?;
                    if self.same(&theirs.head(), head)? {
                        return Ok(doc.generation);
                    }
                    generation = doc.generation;
                }
            }
        }
        Err(Unwritten::Again(format!(
            "{} kept changing under every try",
            self.location
        )))
    }

    /// Whether the copy `theirs` already names `ours`; an error when it is ahead of the
    /// journal or names another record as its last, which is evidence kept as it is.
    fn same(&self, theirs: &Head, ours: &Head) -> Result<bool, Unwritten> {
        if theirs.seq > ours.seq {
            return Err(Unwritten::Never(format!(
                "{} says seq {}, but {} ends at {}: records are missing from the journal",
                self.location,
                theirs.seq,
                self.journal.display(),
                ours.seq
            )));
        }
        if theirs.seq == ours.seq && theirs.hash != ours.hash {
            return Err(Unwritten::Never(format!(
                "record {} of {} is not the one {} names: the journal was rewritten",
                ours.seq,
                self.journal.display(),
                self.location
            )));
        }
        Ok(theirs.seq == ours.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::sources::memory_state::MemoryState;

    fn head(seq: u64) -> Head {
        Head {
            seq,
            hash: format!("{seq:064x}"),
        }
    }

    async fn held(shared: &dyn SharedState, key: &str) -> Option<(u64, u64)> {
        let doc = shared.read(key).await.unwrap()?;
        Some((doc.generation, HeadDoc::parse(&doc).unwrap().seq))
    }

    /// Wait until the copy's task ended, as a process that exits does.
    async fn settle() {
        assert_eq!(
            crate::ops::background::finish(Duration::from_secs(5)).await,
            0,
            "the copy's task ends once the journal is dropped"
        );
    }

    #[tokio::test]
    async fn every_new_head_is_copied_and_one_the_copy_is_ahead_of_is_never_written() {
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let shared: Arc<dyn SharedState> = Arc::new(MemoryState::new(clock));
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("audit.jsonl");
        let key = key(&journal);

        // A journal with no record yet writes no copy.
        drop(SharedHead::spawn(
            shared.clone(),
            &journal,
            Head::empty(),
            "ana@a".into(),
        ));
        settle().await;
        assert_eq!(held(&*shared, &key).await, None);

        let mut store = SharedHead::spawn(shared.clone(), &journal, head(1), "ana@a".into());
        store.store(&head(2)).unwrap();
        store.store(&head(3)).unwrap();
        drop(store);
        settle().await;
        let (generation, seq) = held(&*shared, &key).await.unwrap();
        assert_eq!(seq, 3, "the last head is in the cluster when the task ends");

        // The same head again is not written again.
        drop(SharedHead::spawn(
            shared.clone(),
            &journal,
            head(3),
            "ana@a".into(),
        ));
        settle().await;
        assert_eq!(held(&*shared, &key).await, Some((generation, 3)));

        // A journal behind its copy (cut short since) never overwrites the evidence.
        let mut store = SharedHead::spawn(shared.clone(), &journal, head(1), "ana@a".into());
        store.store(&head(2)).unwrap();
        drop(store);
        settle().await;
        assert_eq!(held(&*shared, &key).await, Some((generation, 3)));
    }
}
