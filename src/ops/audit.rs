//! The audit journal: append-only JSONL, one record per intent and per outcome, each
//! carrying the hash of the one before it, so an edited or removed line is detected, and a
//! head kept beside it (`head.rs`), so a removed tail is detected too. What a record's hash
//! covers, and how records written before that verify, is in `docs/architecture.md`.

mod head;
pub mod shared_head;
mod verify;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::outcome::Outcome;
use super::telemetry::{Action, ActionSpan, SpanIds, Telemetry};
use crate::clock::{Clock, SystemClock};

/// The hash that the first record points back to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Intent,
    Outcome,
}

/// Who acted: the OS user always, the forge and cluster identities when known.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Actor {
    pub os_user: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub github: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub kube: Option<String>,
    /// True when captain acted by itself (an automatic rollback).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub automatic: bool,
}

impl Actor {
    /// The person at this terminal: `$USER` as the shell says it; where it is unset (cron, a
    /// container's entrypoint, `env -i`), the name the system gives the process's user; and
    /// where the system has none (a uid without a passwd entry), that uid. Never "unknown":
    /// a journal must say who acted.
    pub fn local() -> Self {
        let uid = nix::unistd::Uid::effective();
        let os_user = std::env::var("USER")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .or_else(|| {
                nix::unistd::User::from_uid(uid)
                    .ok()
                    .flatten()
                    .map(|u| u.name)
            })
            .unwrap_or_else(|| format!("uid {uid}"));
        Actor {
            os_user,
            ..Actor::default()
        }
    }

    pub fn automatic(of: &Actor) -> Self {
        Actor {
            automatic: true,
            ..of.clone()
        }
    }

    pub fn label(&self) -> String {
        if self.automatic {
            "captain (automatic)".into()
        } else {
            self.os_user.clone()
        }
    }
}

/// What a record says, before the journal numbers and chains it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub phase: Phase,
    pub trace_id: String,
    pub actor: Actor,
    pub action: String,
    pub target: String,
    pub from: String,
    pub to: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    pub confirmation: String,
    /// The verdict the action was taken on, when it concerns the canary.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub slo: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub result: Option<String>,
}

pub use head::{Head, HeadFile, HeadStore, head_path, read_head};
pub use verify::{HeadCheck, Verified, check_head_at, verify, verify_chain};

impl Entry {
    /// What the action's span says of it (`ops::telemetry`).
    fn action(&self) -> Action<'_> {
        Action {
            name: &self.action,
            target: &self.target,
            from: &self.from,
            to: &self.to,
            actor: &self.actor.os_user,
            github: self.actor.github.as_deref(),
            automatic: self.actor.automatic,
            confirmation: &self.confirmation,
            reason: self.reason.as_deref(),
            journal_trace_id: &self.trace_id,
        }
    }

    /// The entry with control characters escaped in every text, the SLO snapshot's
    /// included: targets, reasons and results can carry a server's words, and `audit show`
    /// prints them to a terminal.
    fn escaped(self) -> Entry {
        let line = |s: String| crate::text::sanitize_line(&s).into_owned();
        let text = |s: String| crate::text::sanitize(&s).into_owned();
        Entry {
            phase: self.phase,
            trace_id: line(self.trace_id),
            actor: Actor {
                os_user: line(self.actor.os_user),
                github: self.actor.github.map(line),
                kube: self.actor.kube.map(line),
                automatic: self.actor.automatic,
            },
            action: line(self.action),
            target: line(self.target),
            from: line(self.from),
            to: line(self.to),
            reason: self.reason.map(text),
            confirmation: line(self.confirmation),
            slo: self.slo.map(escape_value),
            result: self.result.map(text),
        }
    }
}

fn escape_value(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(crate::text::sanitize(&s).into_owned()),
        Value::Array(items) => Value::Array(items.into_iter().map(escape_value).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (crate::text::sanitize_line(&k).into_owned(), escape_value(v)))
                .collect(),
        ),
        other => other,
    }
}

/// The form of record this code writes: its hash covers the exact bytes of its line.
/// Records without `v` were written before, and verify as described in
/// `docs/architecture.md`.
pub const RECORD_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub v: Option<u32>,
    pub seq: u64,
    pub time: DateTime<Utc>,
    #[serde(flatten)]
    pub entry: Entry,
    /// The OpenTelemetry span of the action, when `[otel]` exported it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub otel: Option<SpanIds>,
    pub prev: String,
    pub hash: String,
}

/// The member that ends every line this code writes; the hash covers everything before it.
const HASH_MEMBER: &str = ",\"hash\":\"";

impl Record {
    /// The hash of records written before `v` existed: the record as the struct
    /// serializes it, with an empty `hash`.
    fn legacy_digest(&self) -> String {
        let mut unhashed = self.clone();
        unhashed.hash = String::new();
        let bytes = serde_json::to_vec(&unhashed).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }

    /// Sets the hash and returns the journal line: the record without its hash, then the
    /// hash of those exact bytes as the last member.
    fn seal(&mut self) -> String {
        let mut unhashed = self.clone();
        unhashed.hash = String::new();
        let full = serde_json::to_string(&unhashed).unwrap_or_default();
        let body = full
            .strip_suffix(&format!("{HASH_MEMBER}\"}}"))
            .map(|b| format!("{b}}}"))
            .unwrap_or(full);
        self.hash = hex::encode(Sha256::digest(body.as_bytes()));
        format!(
            "{}{HASH_MEMBER}{}\"}}\n",
            &body[..body.len() - 1],
            self.hash
        )
    }
}

/// Splits a line this code wrote into the bytes its hash covers and the hash it carries.
fn split_line(line: &str) -> Option<(String, &str)> {
    let rest = line.strip_suffix("\"}")?;
    let cut = rest.len().checked_sub(64)?;
    let hash = rest.get(cut..)?;
    let body = rest.get(..cut)?.strip_suffix(HASH_MEMBER)?;
    hash.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        .then(|| (format!("{body}}}"), hash))
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Broken {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error(
        "{path}:{line}:{col}: not UTF-8: byte {byte} of the line (0x{value:02x}) cannot start \
         or continue a character; the line was edited or the file damaged"
    )]
    Encoding {
        path: PathBuf,
        line: usize,
        col: usize,
        byte: usize,
        value: u8,
    },
    #[error("{path}:{line}:{col}: not a journal head: {message}")]
    Head {
        path: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
    #[error("record {seq} is in {journal}, but its head could not be kept in {location}: {source}")]
    HeadNotKept {
        journal: PathBuf,
        seq: u64,
        location: String,
        source: std::io::Error,
    },
}

/// An open journal, positioned after its last record.
/// An action whose intent is on disk and whose outcome is not yet (`Journal::begin`).
#[derive(Debug)]
#[must_use = "a begun action is settled (Journal::settle), or its outcome is never journalled"]
pub struct Begun {
    intent: Entry,
    span: Option<ActionSpan>,
}

impl Begun {
    pub fn intent(&self) -> &Entry {
        &self.intent
    }
}

pub struct Journal {
    path: PathBuf,
    file: File,
    next_seq: u64,
    last_hash: String,
    heads: Vec<Box<dyn HeadStore>>,
    telemetry: Option<Telemetry>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .field("next_seq", &self.next_seq)
            .field(
                "heads",
                &self.heads.iter().map(|h| h.location()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Journal {
    /// Open (or create) the journal, checking the whole chain and its head first: records
    /// are never appended to a journal that has been tampered with. A journal without a
    /// head file gets one now, so its tail is vouched for from here on.
    pub fn open(path: &Path) -> Result<Self, AuditError> {
        let io = |source| AuditError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let verified = verify_chain(path)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        let (next_seq, last_hash) = verified
            .records
            .last()
            .map_or((1, GENESIS.to_string()), |r| (r.seq + 1, r.hash.clone()));
        let mut journal = Journal {
            path: path.to_path_buf(),
            file,
            next_seq,
            last_hash,
            heads: vec![Box::new(HeadFile::beside(path))],
            telemetry: super::telemetry::current(),
            clock: Arc::new(SystemClock),
        };
        if verified.head != HeadCheck::Matches {
            journal.keep_head()?;
        }
        Ok(journal)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Also hand every new head to `store`, starting with the current one.
    pub fn mirror_head(&mut self, store: Box<dyn HeadStore>) -> Result<(), AuditError> {
        self.heads.push(store);
        let head = self.head();
        let last = self.heads.len() - 1;
        self.store_head(last, &head)
    }

    /// Export every action's span through `telemetry` (`[otel]`), or none; a journal opens
    /// with the process's.
    pub fn trace_to(&mut self, telemetry: Option<Telemetry>) {
        self.telemetry = telemetry;
    }

    /// Stamp records with `clock` instead of the wall clock: only for a rehearsal, whose
    /// whole run (engine, timeline and journal) is on one simulated clock
    /// (`docs/runbook.md`, "Evidence").
    pub fn stamped_by(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The sequence number and hash of the last record.
    pub fn head(&self) -> Head {
        Head {
            seq: self.next_seq - 1,
            hash: self.last_hash.clone(),
        }
    }

    /// The one audited path every change takes (`docs/architecture.md`, "The audit
    /// journal"): the intent is on disk before the action starts, and the action is then
    /// `settle`d with its result. Records carry the wall-clock time they are written at,
    /// whatever clock drives the engine (the demo's runs faster): an audit trail is about
    /// when people acted. A rehearsal's journal alone is `stamped_by` its own clock.
    pub fn begin(&mut self, intent: Entry) -> Result<Begun, AuditError> {
        let span = self.telemetry.as_ref().map(|t| t.begin(intent.action()));
        let ids = span.as_ref().map(ActionSpan::ids);
        let now = self.clock.now();
        self.write(intent.clone(), now, ids)?;
        Ok(Begun { intent, span })
    }

    /// Journal what became of a begun action, log it, and say so.
    pub fn settle(
        &mut self,
        begun: Begun,
        result: Result<String, String>,
    ) -> Result<Outcome, AuditError> {
        let Begun { intent, span } = begun;
        let (ok, message) = match result {
            Ok(m) => (true, m),
            Err(m) => (false, m),
        };
        let outcome = Entry {
            phase: Phase::Outcome,
            result: Some(if ok {
                format!("ok: {message}")
            } else {
                format!("failed: {message}")
            }),
            ..intent.clone()
        };
        let ids = span.as_ref().map(ActionSpan::ids);
        let now = self.clock.now();
        self.write(outcome, now, ids)?;
        if let Some(span) = span {
            span.end(ok, &message);
        }
        let line = format!(
            "{} {} ({} → {}): {message}",
            intent.action, intent.target, intent.from, intent.to
        );
        if ok {
            log::info!("{line}");
        } else {
            log::error!("{line}");
        }
        Ok(Outcome {
            action: intent.action,
            target: intent.target,
            ok,
            message,
            trace_id: Some(intent.trace_id),
            automatic: intent.actor.automatic,
        })
    }

    /// A record that answers an intent journalled earlier, by a process that did not live
    /// to settle it (a rollback found interrupted at start), stamped as `begin` stamps.
    /// Its span starts and ends here: the intent's was never exported.
    pub fn answer(&mut self, outcome: Entry) -> Result<Record, AuditError> {
        let span = self.telemetry.as_ref().map(|t| t.begin(outcome.action()));
        let now = self.clock.now();
        let record = self.write(outcome.clone(), now, span.as_ref().map(ActionSpan::ids))?;
        if let Some(span) = span {
            let result = outcome.result.as_deref().unwrap_or_default();
            span.end(!result.starts_with("failed"), result);
        }
        Ok(record)
    }

    /// Append one record and flush it to disk before returning: an intent is on disk
    /// before the action it announces starts. The head is kept after the record is on
    /// disk; if it cannot be, the record stays and the error says so.
    pub fn append(&mut self, entry: Entry, time: DateTime<Utc>) -> Result<Record, AuditError> {
        self.write(entry, time, None)
    }

    fn write(
        &mut self,
        entry: Entry,
        time: DateTime<Utc>,
        otel: Option<SpanIds>,
    ) -> Result<Record, AuditError> {
        let mut record = Record {
            v: Some(RECORD_VERSION),
            seq: self.next_seq,
            time,
            entry: entry.escaped(),
            otel,
            prev: self.last_hash.clone(),
            hash: String::new(),
        };
        let line = record.seal();
        let io = |source| AuditError::Io {
            path: self.path.clone(),
            source,
        };
        self.file.write_all(line.as_bytes()).map_err(io)?;
        self.file.sync_data().map_err(io)?;
        self.next_seq += 1;
        self.last_hash = record.hash.clone();
        self.keep_head()?;
        Ok(record)
    }

    fn keep_head(&mut self) -> Result<(), AuditError> {
        let head = self.head();
        (0..self.heads.len()).try_for_each(|i| self.store_head(i, &head))
    }

    fn store_head(&mut self, i: usize, head: &Head) -> Result<(), AuditError> {
        let store = &mut self.heads[i];
        store.store(head).map_err(|source| AuditError::HeadNotKept {
            journal: self.path.clone(),
            seq: head.seq,
            location: store.location(),
            source,
        })
    }
}

/// A fresh id shared by an intent and its outcome.
pub fn trace_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests;
