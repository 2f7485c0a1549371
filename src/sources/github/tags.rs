//! The `frozen/rollback` tag, whose existence pauses the train: reading it (where, since
//! when), creating it (freeze) and deleting it (unfreeze).
//!
//! When the freeze began: GitHub stores no time on a lightweight tag, so `since` is
//! - the tagger date, for an annotated tag;
//! - the moment this console created it, when it did;
//! - otherwise the tagged commit's committer date, which the freeze cannot precede (a lower
//!   bound: "frozen at a commit from then");
//! - and only if that commit cannot be read, the time the tag was first seen.
//!
//! That answer is remembered per tag target, so a steady freeze costs no request beyond the
//! (conditional, free when unchanged) read of the ref.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde_json::json;

use super::client::{GithubClient, Write};
use super::wire::{AnnotatedTag, GitCommit, GitRef};
use crate::engine::main_health::Freeze;
use crate::sources::{SourceError, TagChange};

pub const TAG: &str = "frozen/rollback";
const REF: &str = "refs/tags/frozen/rollback";

/// The freeze last seen or made, by the object its ref points at (a commit, or an annotated
/// tag). Shared by the poller and the forge's actions.
#[derive(Debug, Clone, Default)]
pub struct FreezeMemo(Arc<Mutex<Option<(String, Freeze)>>>);

impl FreezeMemo {
    fn get(&self, object: &str) -> Option<Freeze> {
        let memo = self.0.lock().unwrap_or_else(|e| e.into_inner());
        memo.as_ref()
            .filter(|(o, _)| o == object)
            .map(|(_, f)| f.clone())
    }

    fn set(&self, value: Option<(String, Freeze)>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = value;
    }
}

/// Whether `frozen/rollback` exists, where, and since when.
///
/// Read through `git/matching-refs` rather than `git/ref`: an absent tag is then a `200 []`
/// with an ETag, free to revalidate, where `git/ref` would answer a 404 that costs budget on
/// every poll. Matching is by prefix, so the exact name is checked here.
pub async fn read(
    client: &GithubClient,
    memo: &FreezeMemo,
    now: DateTime<Utc>,
) -> Result<Option<Freeze>, SourceError> {
    let url = format!("{}/git/matching-refs/tags/{TAG}", client.repo());
    let refs: Vec<Vec<GitRef>> = client.get_pages(&url).await?.unwrap_or_default();
    let Some(found) = refs.into_iter().flatten().find(|r| r.name == REF) else {
        memo.set(None);
        return Ok(None);
    };
    if let Some(known) = memo.get(&found.object.sha) {
        return Ok(Some(known));
    }
    let freeze = match found.object.kind.as_str() {
        "tag" => annotated(client, &found.object.sha, now).await?,
        _ => Freeze {
            since: commit_date(client, &found.object.sha).await?.unwrap_or(now),
            sha: found.object.sha.clone(),
        },
    };
    memo.set(Some((found.object.sha, freeze.clone())));
    Ok(Some(freeze))
}

async fn annotated(
    client: &GithubClient,
    sha: &str,
    now: DateTime<Utc>,
) -> Result<Freeze, SourceError> {
    let url = format!("{}/git/tags/{sha}", client.repo());
    let tag: Option<(AnnotatedTag, bool)> = client.get_json(&url).await?;
    Ok(match tag {
        Some((tag, _)) => Freeze {
            since: tag.tagger.and_then(|t| t.date).unwrap_or(now),
            sha: tag.object.sha,
        },
        None => Freeze {
            sha: sha.to_string(),
            since: now,
        },
    })
}

async fn commit_date(
    client: &GithubClient,
    sha: &str,
) -> Result<Option<DateTime<Utc>>, SourceError> {
    let url = format!("{}/git/commits/{sha}", client.repo());
    let commit: Option<(GitCommit, bool)> = client.get_json(&url).await?;
    Ok(commit.and_then(|(c, _)| c.committer.or(c.author).and_then(|s| s.date)))
}

/// Create `frozen/rollback` at `sha`.
pub async fn create(
    client: &GithubClient,
    memo: &FreezeMemo,
    sha: &str,
    now: DateTime<Utc>,
) -> Result<TagChange, SourceError> {
    let is_hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
    if !(matches!(sha.len(), 40 | 64) && is_hex(sha)) {
        return Err(SourceError::Rejected(format!(
            "cannot tag `{sha}`: a tag needs a full commit SHA"
        )));
    }
    let url = format!("{}/git/refs", client.repo());
    let answer = client
        .write(Write::Post, &url, Some(&json!({"ref": REF, "sha": sha})))
        .await?;
    match answer.status {
        201 => {
            let freeze = Freeze {
                sha: sha.to_string(),
                since: now,
            };
            memo.set(Some((sha.to_string(), freeze)));
            log::info!("GitHub: created tag {TAG} at {sha}");
            Ok(TagChange::Created)
        }
        422 if mentions(&answer.message, "already exists") => {
            log::info!("GitHub: tag {TAG} already exists");
            Ok(TagChange::AlreadyThere)
        }
        status => Err(client.refusal("POST", &url, status, &answer.message)),
    }
}

/// Delete `frozen/rollback`. GitHub answers a delete of a missing ref with 422 "Reference
/// does not exist" (not 404); both mean it is gone.
pub async fn delete(client: &GithubClient, memo: &FreezeMemo) -> Result<TagChange, SourceError> {
    let url = format!("{}/git/{REF}", client.repo());
    let answer = client.write(Write::Delete, &url, None).await?;
    match answer.status {
        204 | 200 => {
            memo.set(None);
            log::info!("GitHub: deleted tag {TAG}");
            Ok(TagChange::Deleted)
        }
        404 => {
            memo.set(None);
            Ok(TagChange::AlreadyGone)
        }
        422 if mentions(&answer.message, "does not exist") => {
            memo.set(None);
            log::info!("GitHub: tag {TAG} was already gone");
            Ok(TagChange::AlreadyGone)
        }
        status => Err(client.refusal("DELETE", &url, status, &answer.message)),
    }
}

fn mentions(message: &str, words: &str) -> bool {
    message.to_ascii_lowercase().contains(words)
}
