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
use super::wire::{AnnotatedTag, BRANCH, BranchCommit, GitCommit, GitRef};
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

/// Create `frozen/rollback` at the commit the release's version names (see [`resolve`]).
pub async fn create(
    client: &GithubClient,
    memo: &FreezeMemo,
    version: &str,
    now: DateTime<Utc>,
) -> Result<TagChange, SourceError> {
    let sha = resolve(client, version).await?;
    let sha = sha.as_str();
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

/// The commit a release's version names, never assumed: the freeze is the release train's
/// pause switch, so it must be settable whatever the version looks like.
///
/// - a full commit SHA (`sha-<40 hex>` or the bare SHA) is taken as it is;
/// - a short one (`sha-42c0146`) is looked up as a commit;
/// - otherwise a git tag of that name, or with a `v` in front (`1.3.0`, `v1.3.0`), is
///   followed to its commit (through an annotated tag, too);
/// - and failing all of those, `main`'s head: the pause still holds the train, which is
///   what it is for; the log says which commit it took and why.
pub async fn resolve(client: &GithubClient, version: &str) -> Result<String, SourceError> {
    let repo = client.repo();
    let bare = version.strip_prefix("sha-").unwrap_or(version);
    let is_hex = !bare.is_empty() && bare.bytes().all(|b| b.is_ascii_hexdigit());
    if is_hex && matches!(bare.len(), 40 | 64) {
        return Ok(bare.to_ascii_lowercase());
    }
    if is_hex && bare.len() >= 7 {
        let url = format!("{repo}/commits/{bare}");
        if let Some((commit, _)) = client.get_json::<BranchCommit>(&url).await? {
            return Ok(commit.sha);
        }
    }
    let names = if version.is_empty() || version.contains(['/', ' ', '?', '#', '%']) {
        Vec::new()
    } else if version.starts_with('v') {
        vec![version.to_string()]
    } else {
        vec![version.to_string(), format!("v{version}")]
    };
    for name in names {
        let url = format!("{repo}/git/ref/tags/{name}");
        let Some((found, _)) = client.get_json::<GitRef>(&url).await? else {
            continue;
        };
        if found.object.kind != "tag" {
            return Ok(found.object.sha);
        }
        let url = format!("{repo}/git/tags/{}", found.object.sha);
        if let Some((tag, _)) = client.get_json::<AnnotatedTag>(&url).await? {
            return Ok(tag.object.sha);
        }
    }
    let url = format!("{repo}/commits/{BRANCH}");
    let (head, _) = client
        .get_json::<BranchCommit>(&url)
        .await?
        .ok_or_else(|| client.refusal("GET", &url, 404, "Branch not found"))?;
    log::warn!(
        "GitHub: no commit found for the release's version `{version}`; tagging {TAG} at {BRANCH}'s head {}",
        head.sha
    );
    Ok(head.sha)
}

fn mentions(message: &str, words: &str) -> bool {
    message.to_ascii_lowercase().contains(words)
}
