//! The journal's head: the sequence number and hash of its last record, kept outside the
//! journal so that records removed from its end are noticed (see `docs/architecture.md`,
//! "The audit journal").

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{AuditError, GENESIS};

/// Where the chain ends. `seq` 0 with the genesis hash is the head of a journal that has
/// no record yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
}

impl Head {
    pub fn empty() -> Self {
        Head {
            seq: 0,
            hash: GENESIS.to_string(),
        }
    }
}

/// Somewhere the head is kept. The journal hands every new head to each of its stores,
/// after the record it names is on disk, so a store is never ahead of the journal. The
/// head file beside the journal is one; a copy kept elsewhere (e.g. with the release's
/// shared state) would be another.
pub trait HeadStore: Send + Sync {
    /// Where the head goes, for error messages.
    fn location(&self) -> String;
    fn store(&mut self, head: &Head) -> std::io::Result<()>;
}

/// `<journal>.head`, beside the journal.
pub fn head_path(journal: &Path) -> PathBuf {
    let mut name = journal.file_name().unwrap_or_default().to_os_string();
    name.push(".head");
    journal.with_file_name(name)
}

/// The head file, replaced whole on every store: written to a temporary file, flushed,
/// renamed over the old one, and the directory flushed, so a crash leaves the old head or
/// the new one, never a torn one.
#[derive(Debug)]
pub struct HeadFile {
    path: PathBuf,
}

impl HeadFile {
    pub fn beside(journal: &Path) -> Self {
        HeadFile {
            path: head_path(journal),
        }
    }
}

impl HeadStore for HeadFile {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn store(&mut self, head: &Head) -> std::io::Result<()> {
        let mut tmp_name = self.path.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(".tmp");
        let tmp = self.path.with_file_name(tmp_name);
        let mut text = serde_json::to_string(head).map_err(std::io::Error::other)?;
        text.push('\n');
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, &self.path)?;
        sync_dir(&self.path)
    }
}

#[cfg(unix)]
fn sync_dir(path: &Path) -> std::io::Result<()> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => File::open(dir)?.sync_all(),
        None => File::open(".")?.sync_all(),
    }
}

#[cfg(not(unix))]
fn sync_dir(_path: &Path) -> std::io::Result<()> {
    // Directories cannot be opened for flushing here; the rename is as durable as the
    // platform makes it.
    Ok(())
}

/// The head file beside `journal`, if there is one.
pub fn read_head(journal: &Path) -> Result<Option<Head>, AuditError> {
    let path = head_path(journal);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(AuditError::Io { path, source }),
    };
    let head: Head = serde_json::from_str(&text).map_err(|e| AuditError::Head {
        path: path.clone(),
        line: e.line(),
        col: e.column(),
        message: format!("expected {{\"seq\": <number>, \"hash\": \"<64 hex digits>\"}}: {e}"),
    })?;
    if head.hash.len() != 64 || !head.hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AuditError::Head {
            path,
            line: 1,
            col: 1,
            message: format!("expected a hash of 64 hex digits, found {:?}", head.hash),
        });
    }
    Ok(Some(head))
}
