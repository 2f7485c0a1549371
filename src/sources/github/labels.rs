//! Pull requests as the sentinel works with them: every open one with its labels, and labels
//! put on and taken off. A label change says whether it changed anything, so repeating one
//! is harmless.
//!
//! Labels go through the issues API (every pull request is an issue). GitHub compares label
//! names without regard to case, and so does this module.

use serde_json::json;

use super::client::{GithubClient, Write};
use super::wire::{Label, PullRequest, segment};
use crate::sources::{LabelChange, OpenPull, SourceError};

/// Every open pull request, lowest number first.
///
/// The same URL the poller reads for `main`'s health, so the two share cached pages and a
/// list that has not changed since the last poll costs nothing.
pub async fn open(client: &GithubClient) -> Result<Vec<OpenPull>, SourceError> {
    let url = format!("{}/pulls?state=open&per_page=100", client.repo());
    let pages: Vec<Vec<PullRequest>> = client
        .get_pages(&url)
        .await?
        .ok_or_else(|| client.refusal("GET", &url, 404, "Not Found"))?;
    let mut pulls: Vec<OpenPull> = pages.into_iter().flatten().map(open_pull).collect();
    pulls.sort_by_key(|p| p.number);
    Ok(pulls)
}

/// A pull request as GitHub lists it, as the sentinel needs it.
pub fn open_pull(p: PullRequest) -> OpenPull {
    OpenPull {
        number: p.number,
        title: p.title,
        author: p.user.map(|u| u.login).unwrap_or_default(),
        labels: p.labels.into_iter().map(|l| l.name).collect(),
    }
}

/// Put `label` on pull request `number`.
///
/// GitHub's answer to adding a label is the labels afterwards, the same whether the
/// label was new or not; only a read before the write tells the two apart. That read is
/// conditional, and a label already there needs no write at all.
pub async fn add(
    client: &GithubClient,
    number: u32,
    label: &str,
) -> Result<LabelChange, SourceError> {
    let label = label_name(label)?;
    let url = format!("{}/issues/{number}/labels?per_page=100", client.repo());
    let pages: Vec<Vec<Label>> = client
        .get_pages(&url)
        .await?
        .ok_or_else(|| client.refusal("GET", &url, 404, "Not Found"))?;
    if pages.iter().flatten().any(|l| same_label(&l.name, label)) {
        return Ok(LabelChange::AlreadyThere);
    }
    let url = format!("{}/issues/{number}/labels", client.repo());
    let answer = client
        .write(Write::Post, &url, Some(&json!({ "labels": [label] })))
        .await?;
    match answer.status {
        200 | 201 => {
            log::info!("GitHub: labelled #{number} {label}");
            Ok(LabelChange::Added)
        }
        status => Err(client.refusal("POST", &url, status, &answer.message)),
    }
}

/// Take `label` off pull request `number`. GitHub answers 404 "Label does not exist" when the
/// issue does not carry it, and a plain 404 when there is no such issue.
pub async fn remove(
    client: &GithubClient,
    number: u32,
    label: &str,
) -> Result<LabelChange, SourceError> {
    let label = label_name(label)?;
    let url = format!(
        "{}/issues/{number}/labels/{}",
        client.repo(),
        segment(label)
    );
    let answer = client.write(Write::Delete, &url, None).await?;
    match answer.status {
        200 | 204 => {
            log::info!("GitHub: took {label} off #{number}");
            Ok(LabelChange::Removed)
        }
        404 if answer
            .message
            .to_ascii_lowercase()
            .contains("label does not exist") =>
        {
            Ok(LabelChange::AlreadyGone)
        }
        status => Err(client.refusal("DELETE", &url, status, &answer.message)),
    }
}

fn label_name(label: &str) -> Result<&str, SourceError> {
    let label = label.trim();
    if label.is_empty() {
        return Err(SourceError::Rejected("a label needs a name".into()));
    }
    Ok(label)
}

fn same_label(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}
