//! Checking a journal: every line, the chain between them, and the head kept beside it.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::{AuditError, GENESIS, Head, RECORD_VERSION, Record, read_head, split_line};

/// What the head file says of the journal's end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadCheck {
    /// The head names the last record.
    Matches,
    /// There is no head file and no record written with one: the journal predates head
    /// files, so records missing from its end cannot be noticed.
    Missing,
    /// Records follow the one the head names, chained to it: captain stopped between
    /// writing a record and its head, or records were added at the end since.
    Behind { head_seq: u64 },
}

#[derive(Debug)]
pub struct Verified {
    pub records: Vec<Record>,
    pub head: HeadCheck,
}

/// Read and check every record; see [`verify_chain`].
pub fn verify(path: &Path) -> Result<Vec<Record>, AuditError> {
    verify_chain(path).map(|v| v.records)
}

/// Read and check every record: each is UTF-8, parses, is numbered in order, hashes to
/// its own `hash`, and points at the previous record's hash; then the journal must reach
/// the record its head names. A missing journal with no head is an empty one.
pub fn verify_chain(path: &Path) -> Result<Verified, AuditError> {
    let head = read_head(path)?;
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && head.is_some() => Vec::new(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Verified {
                records: Vec::new(),
                head: HeadCheck::Missing,
            });
        }
        Err(source) => {
            return Err(AuditError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let broken = |line: usize, message: String| AuditError::Broken {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut records: Vec<Record> = Vec::new();
    let body = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    let lines = if body.is_empty() {
        Vec::new()
    } else {
        body.split(|b| *b == b'\n').collect()
    };
    for (i, raw) in lines.into_iter().enumerate() {
        let n = i + 1;
        let line = std::str::from_utf8(raw).map_err(|e| {
            let valid = &raw[..e.valid_up_to()];
            AuditError::Encoding {
                path: path.to_path_buf(),
                line: n,
                col: String::from_utf8_lossy(valid).chars().count() + 1,
                byte: e.valid_up_to() + 1,
                value: raw[e.valid_up_to()],
            }
        })?;
        let record: Record = serde_json::from_str(line)
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
        check_hash(&record, line, records.last()).map_err(|m| broken(n, m))?;
        records.push(record);
    }
    let head = match head {
        None => match records.iter().find(|r| r.v.is_some()) {
            Some(r) => {
                return Err(broken(
                    records.len() + 1,
                    format!(
                        "its head {} is missing, though records from {} on were written with \
                         one: it was deleted, and records missing from the end cannot be ruled out",
                        super::head_path(path).display(),
                        r.seq
                    ),
                ));
            }
            None => HeadCheck::Missing,
        },
        Some(head) => {
            let file = format!("the head ({})", super::head_path(path).display());
            check_head(&records, &head, &file).map_err(|(n, m)| broken(n, m))?
        }
    };
    Ok(Verified { records, head })
}

/// A record of this code's form must hash, as the exact bytes of its line, to its own
/// hash; an older one must be exactly the line the code of its time wrote.
fn check_hash(record: &Record, line: &str, before: Option<&Record>) -> Result<(), String> {
    match record.v {
        Some(RECORD_VERSION) => {
            let Some((body, hash)) = split_line(line) else {
                return Err(
                    "its hash is not the last member, as captain writes it: the \
                            line was edited"
                        .into(),
                );
            };
            if hex::encode(Sha256::digest(body.as_bytes())) != hash {
                return Err("its content does not match its hash: a field was edited, \
                            added, removed or reordered"
                    .into());
            }
            Ok(())
        }
        Some(v) => Err(format!(
            "record form {v} is not one this captain knows (it writes {RECORD_VERSION})"
        )),
        None if before.is_some_and(|b| b.v.is_some()) => Err(
            "a record of the older form follows one of the newer: the line was rewritten".into(),
        ),
        None => {
            if record.legacy_digest() != record.hash {
                return Err("its content does not match its hash: the line was edited".into());
            }
            if serde_json::to_string(record).ok().as_deref() != Some(line) {
                return Err("the line is not as captain wrote it: a field was added, \
                            removed or reordered"
                    .into());
            }
            Ok(())
        }
    }
}

/// The journal's records against a head kept somewhere else than its file (the release's
/// shared ConfigMap): the same check as the head file's, named by `location` ("the
/// cluster's head (…)") in the error.
pub fn check_head_at(
    path: &Path,
    records: &[Record],
    head: &Head,
    location: &str,
) -> Result<HeadCheck, AuditError> {
    check_head(records, head, location).map_err(|(line, message)| AuditError::Broken {
        path: path.to_path_buf(),
        line,
        message,
    })
}

/// The journal must reach the record the head names, and that record must be the one the
/// head names. `location` says which head ("the head (<file>)"). On error: the line to
/// blame and why.
fn check_head(
    records: &[Record],
    head: &Head,
    location: &str,
) -> Result<HeadCheck, (usize, String)> {
    let last = records.last().map_or(0, |r| r.seq);
    if last < head.seq {
        let missing = head.seq - last;
        let message = if last == 0 {
            // "its head" reads better of the file's own head: "the journal is empty, but
            // its head (…) says".
            let whose = location
                .strip_prefix("the head ")
                .map_or_else(|| location.to_string(), |rest| format!("its head {rest}"));
            format!(
                "the journal is empty, but {whose} says seq {}: all {missing} record{} are \
                 missing",
                head.seq,
                plural(missing),
            )
        } else if missing == 1 {
            format!(
                "the last record is missing: {location} says seq {}, the file ends at {last}",
                head.seq,
            )
        } else {
            format!(
                "the last {missing} records are missing: {location} says seq {}, the file \
                 ends at {last}",
                head.seq,
            )
        };
        return Err((records.len() + 1, message));
    }
    let named = match head.seq {
        0 => GENESIS,
        seq => records[(seq - 1) as usize].hash.as_str(),
    };
    if named != head.hash {
        return Err((
            head.seq.max(1) as usize,
            format!(
                "record {} is not the one {location} names: the journal was rewritten",
                head.seq,
            ),
        ));
    }
    Ok(if last == head.seq {
        HeadCheck::Matches
    } else {
        HeadCheck::Behind { head_seq: head.seq }
    })
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}
