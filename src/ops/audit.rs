//! The audit journal: append-only JSONL, one record per intent and per outcome, each
//! carrying the hash of the one before it, so an edited or removed line is detected.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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
    /// The person at this terminal.
    pub fn local() -> Self {
        let os_user = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "unknown".into());
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub seq: u64,
    pub time: DateTime<Utc>,
    #[serde(flatten)]
    pub entry: Entry,
    pub prev: String,
    pub hash: String,
}

impl Record {
    fn digest(&self) -> String {
        let mut unhashed = self.clone();
        unhashed.hash = String::new();
        let bytes = serde_json::to_vec(&unhashed).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }
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
}

/// An open journal, positioned after its last record.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    next_seq: u64,
    last_hash: String,
}

impl Journal {
    /// Open (or create) the journal, checking the whole chain first: records are never
    /// appended to a journal that has been tampered with.
    pub fn open(path: &Path) -> Result<Self, AuditError> {
        let io = |source| AuditError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let records = if path.exists() {
            verify(path)?
        } else {
            Vec::new()
        };
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        let (next_seq, last_hash) = records
            .last()
            .map_or((1, GENESIS.to_string()), |r| (r.seq + 1, r.hash.clone()));
        Ok(Journal {
            path: path.to_path_buf(),
            file,
            next_seq,
            last_hash,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one record and flush it to disk before returning: an intent is on disk
    /// before the action it announces starts.
    pub fn append(&mut self, entry: Entry, time: DateTime<Utc>) -> Result<Record, AuditError> {
        let mut record = Record {
            seq: self.next_seq,
            time,
            entry,
            prev: self.last_hash.clone(),
            hash: String::new(),
        };
        record.hash = record.digest();
        let mut line = serde_json::to_string(&record).unwrap_or_default();
        line.push('\n');
        let io = |source| AuditError::Io {
            path: self.path.clone(),
            source,
        };
        self.file.write_all(line.as_bytes()).map_err(io)?;
        self.file.sync_data().map_err(io)?;
        self.next_seq += 1;
        self.last_hash = record.hash.clone();
        Ok(record)
    }
}

/// Read and check every record: each parses, is numbered in order, hashes to its own
/// `hash`, and points at the previous record's hash.
pub fn verify(path: &Path) -> Result<Vec<Record>, AuditError> {
    let file = File::open(path).map_err(|source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let broken = |line: usize, message: String| AuditError::Broken {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut records: Vec<Record> = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let n = i + 1;
        let line = line.map_err(|source| AuditError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let record: Record = serde_json::from_str(&line)
            .map_err(|e| broken(n, format!("not an audit record: {e}")))?;
        let (want_seq, want_prev) = records
            .last()
            .map_or((1, GENESIS), |r| (r.seq + 1, r.hash.as_str()));
        if record.seq != want_seq {
            return Err(broken(
                n,
                format!(
                    "record {} follows record {}: a record was removed or reordered",
                    record.seq,
                    want_seq - 1
                ),
            ));
        }
        if record.prev != want_prev {
            return Err(broken(
                n,
                "does not chain to the record before it: that record was edited or removed".into(),
            ));
        }
        if record.digest() != record.hash {
            return Err(broken(
                n,
                "its content does not match its hash: the line was edited".into(),
            ));
        }
        records.push(record);
    }
    Ok(records)
}

/// A fresh id shared by an intent and its outcome.
pub fn trace_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn entry(phase: Phase, action: &str) -> Entry {
        Entry {
            phase,
            trace_id: "t1".into(),
            actor: Actor {
                os_user: "captain".into(),
                ..Actor::default()
            },
            action: action.into(),
            target: "summit".into(),
            from: "50 %".into(),
            to: "0 %".into(),
            reason: Some("error rate".into()),
            confirmation: "typed".into(),
            slo: None,
            result: None,
        }
    }

    fn journal_with(n: usize) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let t = Utc.with_ymd_and_hms(2026, 11, 29, 3, 0, 0).unwrap();
        let mut j = Journal::open(&path).unwrap();
        for i in 0..n {
            j.append(entry(Phase::Intent, &format!("a{i}")), t).unwrap();
        }
        (dir, path)
    }

    #[test]
    fn records_chain_and_verify() {
        let (_d, path) = journal_with(3);
        let records = verify(&path).unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].prev, GENESIS);
        assert_eq!(records[1].prev, records[0].hash);
        assert_eq!(records[2].seq, 3);
    }

    #[test]
    fn reopening_continues_the_chain() {
        let (_d, path) = journal_with(2);
        let t = Utc.with_ymd_and_hms(2026, 11, 29, 4, 0, 0).unwrap();
        Journal::open(&path)
            .unwrap()
            .append(entry(Phase::Outcome, "x"), t)
            .unwrap();
        let records = verify(&path).unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[2].prev, records[1].hash);
    }

    #[test]
    fn an_edited_line_is_detected() {
        let (_d, path) = journal_with(3);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replacen("\"a1\"", "\"a9\"", 1)).unwrap();
        let err = verify(&path).unwrap_err().to_string();
        assert!(err.contains(":2:") && err.contains("edited"), "{err}");
    }

    #[test]
    fn a_removed_line_is_detected() {
        let (_d, path) = journal_with(3);
        let text = std::fs::read_to_string(&path).unwrap();
        let kept: Vec<&str> = text
            .lines()
            .enumerate()
            .filter(|(i, _)| *i != 1)
            .map(|(_, l)| l)
            .collect();
        std::fs::write(&path, kept.join("\n") + "\n").unwrap();
        let err = verify(&path).unwrap_err().to_string();
        assert!(err.contains(":2:") && err.contains("removed"), "{err}");
    }

    #[test]
    fn a_tampered_journal_is_not_appended_to() {
        let (_d, path) = journal_with(2);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replacen("summit", "summat", 1)).unwrap();
        assert!(Journal::open(&path).is_err());
    }
}
