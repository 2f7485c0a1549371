//! Activity probes on GitHub Actions: the latest run of a workflow and its jobs, the
//! artifacts it uploaded, and a named check's conclusion, for a branch, a pull request or
//! the newest open pull request. Each costs two or three requests, every one a conditional
//! GET through the client's ETag cache.
//!
//! What GitHub will not show the token (403, 404, 422) fails the probe and says so; GitHub
//! unreachable, a 5xx or a body not in the documented shape is an error.

use serde::de::DeserializeOwned;

use super::activity_wire::{Artifacts, CheckRuns, Jobs, Pull, WorkflowRun, WorkflowRuns};
use super::client::{GithubClient, Reply};
use super::wire::segment;
use crate::sources::SourceError;
use crate::sources::activity::{Observation, Target, job_is};

/// How many of the newest open pull requests one list asks for: the same URL for every
/// probe, so they share one cached answer.
pub const NEWEST: usize = 5;

/// A body, or what GitHub said when it would not show it (403, 404, 422).
pub async fn read<T: DeserializeOwned>(
    client: &GithubClient,
    url: &str,
) -> Result<Result<T, String>, SourceError> {
    match client.get(url).await? {
        Reply::Found(page) => Ok(Ok(client.parse(url, &page.body)?)),
        Reply::Refused {
            status: status @ (403 | 404 | 422),
            message,
        } => Ok(Err(format!("{status} {message}"))),
        Reply::Refused { status, message } => Err(client.refusal("GET", url, status, &message)),
    }
}

/// The newest open pull requests, newest first (at most [`NEWEST`]).
pub async fn newest_open(client: &GithubClient) -> Result<Vec<Pull>, SourceError> {
    let url = format!(
        "{}/pulls?state=open&sort=created&direction=desc&per_page={NEWEST}",
        client.repo()
    );
    match read::<Vec<Pull>>(client, &url).await? {
        Ok(pulls) => Ok(pulls),
        Err(said) => Err(SourceError::Rejected(format!(
            "GitHub would not list pull requests: {said}"
        ))),
    }
}

/// One pull request, or what GitHub said instead.
pub async fn pull(client: &GithubClient, number: u32) -> Result<Result<Pull, String>, SourceError> {
    let url = format!("{}/pulls/{number}", client.repo());
    read::<Pull>(client, &url).await
}

/// The commit a target names, as a ref for the API, and in words.
struct Head {
    /// A SHA, or a branch name.
    reference: String,
    is_branch: bool,
    said: String,
}

async fn head(
    client: &GithubClient,
    target: &Target,
) -> Result<Result<Head, Observation>, SourceError> {
    let of_pull = |p: Pull| Head {
        said: format!("#{} (head {})", p.number, short(&p.head.sha)),
        reference: p.head.sha,
        is_branch: false,
    };
    Ok(match target {
        Target::Branch(b) => Ok(Head {
            reference: b.clone(),
            is_branch: true,
            said: b.clone(),
        }),
        Target::Pull(n) => match pull(client, *n).await? {
            Ok(p) => Ok(of_pull(p)),
            Err(said) => Err(Observation::fail(format!("no pull request #{n} ({said})"))),
        },
        Target::NewestPull => match newest_open(client).await?.into_iter().next() {
            Some(p) => Ok(of_pull(p)),
            None => Err(Observation::unavailable("no open pull request to look at")),
        },
    })
}

/// The latest run of `workflow` on the head, or why there is none to judge.
async fn latest_run(
    client: &GithubClient,
    workflow: &str,
    head: &Head,
) -> Result<Result<WorkflowRun, Observation>, SourceError> {
    let on = if head.is_branch {
        format!("branch={}", segment(&head.reference))
    } else {
        format!("head_sha={}", head.reference)
    };
    let url = format!(
        "{}/actions/workflows/{}/runs?{on}&per_page=1",
        client.repo(),
        segment(workflow)
    );
    Ok(match read::<WorkflowRuns>(client, &url).await? {
        Err(said) => Err(Observation::fail(format!(
            "cannot read runs of {workflow}: {said}"
        ))),
        Ok(runs) => match runs.workflow_runs.into_iter().next() {
            Some(run) => Ok(run),
            None => Err(Observation::fail(format!(
                "no run of {workflow} for {}",
                head.said
            ))),
        },
    })
}

fn completed(run: &WorkflowRun) -> bool {
    run.status.as_deref() == Some("completed")
}

fn run_said(run: &WorkflowRun, workflow: &str, head: &Head) -> String {
    format!("run {} of {workflow} for {}", run.id, head.said)
}

pub async fn workflow_run(
    client: &GithubClient,
    workflow: &str,
    target: &Target,
    wanted: &[String],
) -> Result<Observation, SourceError> {
    let head = match head(client, target).await? {
        Ok(h) => h,
        Err(o) => return Ok(o),
    };
    let run = match latest_run(client, workflow, &head).await? {
        Ok(r) => r,
        Err(o) => return Ok(o),
    };
    let said = run_said(&run, workflow, &head);
    if !completed(&run) {
        return Ok(Observation::unavailable(format!(
            "{said} is {}, not finished ({})",
            run.status.as_deref().unwrap_or("pending"),
            run.html_url
        )));
    }
    let conclusion = run.conclusion.as_deref().unwrap_or("none");
    let url = format!(
        "{}/actions/runs/{}/jobs?per_page=100",
        client.repo(),
        run.id
    );
    let jobs = match read::<Jobs>(client, &url).await? {
        Ok(j) => j.jobs,
        Err(said) => {
            return Ok(Observation::fail(format!(
                "cannot read the jobs of run {}: {said}",
                run.id
            )));
        }
    };
    let mut seen = Vec::new();
    let mut wrong = Vec::new();
    for want in wanted {
        let of_it: Vec<_> = jobs.iter().filter(|j| job_is(&j.name, want)).collect();
        if of_it.is_empty() {
            wrong.push(format!("no job {want}"));
        }
        for j in of_it {
            let c = j
                .conclusion
                .as_deref()
                .or(j.status.as_deref())
                .unwrap_or("pending");
            if c != "success" {
                wrong.push(format!("{} {c}", j.name));
            }
            seen.push(format!("{} {c}", j.name));
        }
    }
    let jobs_said = if seen.is_empty() {
        String::new()
    } else {
        format!("; {}", seen.join(", "))
    };
    if conclusion == "success" && wrong.is_empty() {
        Ok(Observation::pass(format!(
            "{said}: success{jobs_said} ({})",
            run.html_url
        )))
    } else {
        let mut why = Vec::new();
        if conclusion != "success" {
            why.push(format!("concluded {conclusion}"));
        }
        why.extend(wrong);
        Ok(Observation::fail(format!(
            "{said}: {}{jobs_said} ({})",
            why.join(", "),
            run.html_url
        )))
    }
}

pub async fn artifacts(
    client: &GithubClient,
    workflow: &str,
    target: &Target,
    names: &[String],
) -> Result<Observation, SourceError> {
    let head = match head(client, target).await? {
        Ok(h) => h,
        Err(o) => return Ok(o),
    };
    let run = match latest_run(client, workflow, &head).await? {
        Ok(r) => r,
        Err(o) => return Ok(o),
    };
    let said = run_said(&run, workflow, &head);
    let url = format!(
        "{}/actions/runs/{}/artifacts?per_page=100",
        client.repo(),
        run.id
    );
    let artifacts = match read::<Artifacts>(client, &url).await? {
        Ok(a) => a.artifacts,
        Err(why) => {
            return Ok(Observation::fail(format!(
                "cannot read the artifacts of {said}: {why}"
            )));
        }
    };
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for want in names {
        let kept: Vec<_> = artifacts
            .iter()
            .filter(|a| a.name.starts_with(want.as_str()))
            .collect();
        match kept.iter().find(|a| !a.expired) {
            Some(a) => found.push(match a.size_in_bytes {
                Some(size) => format!("{} ({size} bytes)", a.name),
                None => a.name.clone(),
            }),
            None if !kept.is_empty() => missing.push(format!("{want} (expired)")),
            None => missing.push(want.clone()),
        }
    }
    if missing.is_empty() {
        return Ok(Observation::pass(format!(
            "{said}: {} ({})",
            found.join(", "),
            run.html_url
        )));
    }
    let had = if artifacts.is_empty() {
        "no artifacts".to_string()
    } else {
        let all: Vec<&str> = artifacts.iter().map(|a| a.name.as_str()).collect();
        format!("artifacts: {}", all.join(", "))
    };
    let text = format!(
        "{said}: no {} ({had}; {})",
        missing.join(", no "),
        run.html_url
    );
    Ok(if completed(&run) {
        Observation::fail(text)
    } else {
        Observation::unavailable(format!("not finished: {text}"))
    })
}

pub async fn check_run(
    client: &GithubClient,
    name: &str,
    target: &Target,
    expected: &str,
) -> Result<Observation, SourceError> {
    let head = match head(client, target).await? {
        Ok(h) => h,
        Err(o) => return Ok(o),
    };
    let url = format!(
        "{}/commits/{}/check-runs?check_name={}&per_page=10",
        client.repo(),
        segment(&head.reference),
        segment(name)
    );
    let runs = match read::<CheckRuns>(client, &url).await? {
        Ok(r) => r.check_runs,
        Err(said) => {
            return Ok(Observation::fail(format!(
                "cannot read check runs of {}: {said}",
                head.said
            )));
        }
    };
    // GitHub lists the most recent first.
    let Some(run) = runs.into_iter().find(|r| r.name == name) else {
        return Ok(Observation::fail(format!(
            "no check run {name} on {}",
            head.said
        )));
    };
    let link = run
        .html_url
        .as_deref()
        .map(|u| format!(" ({u})"))
        .unwrap_or_default();
    let said = format!("check {name} on {}", head.said);
    Ok(match run.conclusion.as_deref() {
        _ if run.status != "completed" => {
            Observation::unavailable(format!("{said} is {}{link}", run.status))
        }
        Some(c) if c == expected => Observation::pass(format!("{said}: {c}, as expected{link}")),
        c => Observation::fail(format!(
            "{said}: {}, expected {expected}{link}",
            c.unwrap_or("no conclusion")
        )),
    })
}

/// The first twelve characters of a SHA.
pub fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}
