//! What the demo repository shows of its activity for the plan's probes: workflow runs
//! with their jobs and artifacts, and check runs, here; its pull requests in
//! [`super::pull_activity`]. Deterministic for a scenario, a seed and a clock; nothing
//! leaves the process, and a preview's URL answers as its health stands.

use chrono::{DateTime, Duration, Utc};

use super::{Scenario, noise};
use crate::engine::main_health::OpenPull;
use crate::engine::previews::{PrState, Preview, UrlHealth};
use crate::sources::activity::{Activity, Observation, Target, job_is};

pub(super) const REPO_URL: &str = "https://github.com/acme/summit";

/// Each workflow's jobs and the artifacts its runs upload.
const WORKFLOWS: [(&str, &[&str], &[&str]); 4] = [
    (
        "pr.yml",
        &[
            "build (node)",
            "build (python)",
            "test",
            "scan",
            "conftest",
            "preview",
        ],
        &["junit-node", "junit-python", "sbom.spdx.json"],
    ),
    (
        "migration-gate.yml",
        &["dryrun", "docs"],
        &["migration-dryrun", "migrations-plan"],
    ),
    (
        "release-train.yml",
        &["deploy-stage", "slo-gate", "canary"],
        &["release-notes"],
    ),
    ("clean-main-sentinel.yml", &["label"], &[]),
];

/// A run of a workflow: its id, the commit in words, its jobs and its artifacts.
type Run = (
    u64,
    String,
    &'static [&'static str],
    &'static [&'static str],
);

/// The check runs every commit gets.
pub(super) const CHECKS: [&str; 6] = [
    "build",
    "test",
    "scan",
    "conftest",
    "ci-pr",
    "migration-gate",
];

/// The demo's pull requests, as far as the probes look at them.
#[derive(Debug, Clone)]
pub(super) struct Pull {
    pub(super) number: u32,
    pub(super) title: String,
    pub(super) author: String,
    pub(super) opened: DateTime<Utc>,
    pub(super) open: bool,
    pub(super) preview: Option<(String, UrlHealth)>,
}

/// What the world holds that the probes read.
pub struct Seen<'a> {
    pub scenario: Scenario,
    pub seed: u64,
    pub origin: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub pulls: &'a [OpenPull],
    pub previews: &'a [Preview],
}

impl Seen<'_> {
    /// Every pull request the demo knows: the open ones, and the previews' (of any state).
    pub(super) fn all(&self) -> Vec<Pull> {
        // Hours since each open pull request was opened, by number.
        let opened = |n: u32| match n {
            409 => 150,
            415 => 50,
            421 => 70,
            423 => 26,
            424 => 20,
            _ => 5,
        };
        let mut all: Vec<Pull> = self
            .pulls
            .iter()
            .map(|p| Pull {
                number: p.number,
                title: p.title.clone(),
                author: p.author.clone(),
                opened: self.origin - Duration::hours(opened(p.number)),
                open: true,
                preview: None,
            })
            .collect();
        for v in self.previews {
            let Some(pr) = &v.pr else { continue };
            if all.iter().any(|p| p.number == pr.number) {
                continue;
            }
            all.push(Pull {
                number: pr.number,
                title: pr.title.clone(),
                author: pr.author.clone(),
                opened: v.created,
                open: pr.state == PrState::Open,
                preview: v.url.clone().map(|u| (u, v.health)),
            });
        }
        all.sort_by_key(|p| std::cmp::Reverse(p.number));
        all
    }

    fn head(&self, n: u32) -> String {
        (0..5)
            .map(|i| {
                format!(
                    "{:08x}",
                    (noise(self.seed, u64::from(n), 90 + i).abs() * f64::from(u32::MAX)) as u32
                )
            })
            .collect()
    }

    fn said(&self, target: &Target) -> Result<(String, Option<u32>), Observation> {
        match target {
            Target::Branch(b) => Ok((b.clone(), None)),
            Target::Pull(n) => match self.all().into_iter().find(|p| p.number == *n) {
                Some(_) => Ok((format!("#{n} (head {})", &self.head(*n)[..12]), Some(*n))),
                None => Err(Observation::fail(format!(
                    "no pull request #{n} (404 Not Found)"
                ))),
            },
            Target::NewestPull => match self.all().into_iter().find(|p| p.open) {
                Some(p) => Ok((
                    format!("#{} (head {})", p.number, &self.head(p.number)[..12]),
                    Some(p.number),
                )),
                None => Err(Observation::unavailable("no open pull request to look at")),
            },
        }
    }

    /// A check's conclusion on a pull request (`None`: main or another branch).
    pub(super) fn conclusion(
        &self,
        check: &str,
        pull: Option<u32>,
        branch: Option<&str>,
    ) -> &'static str {
        let migrates = pull
            .and_then(|n| self.all().into_iter().find(|p| p.number == n))
            .is_some_and(|p| touches_migrations(&p));
        match check {
            "migration-gate" if migrates => "failure",
            "scan" if self.scenario == Scenario::MainRed && branch == Some("main") => "failure",
            _ => "success",
        }
    }

    pub fn observe(&self, what: &Activity) -> Observation {
        match what {
            Activity::WorkflowRun {
                workflow,
                target,
                jobs,
            } => self.workflow_run(workflow, target, jobs),
            Activity::Artifacts {
                workflow,
                target,
                names,
            } => self.artifacts(workflow, target, names),
            Activity::CheckRun {
                name,
                target,
                conclusion,
            } => self.check_run(name, target, conclusion),
            Activity::PullBlocked {
                paths,
                checks,
                pull,
            } => self.blocked(paths, checks, *pull),
            Activity::PullsBy { author, since, min } => self.by(author, *since, *min),
            Activity::LabelledWhenRed {
                label,
                branch,
                within_secs,
            } => self.labelled_when_red(label, branch, *within_secs),
        }
    }

    fn run(&self, workflow: &str, target: &Target) -> Result<Run, Observation> {
        let (said, pull) = self.said(target)?;
        let Some((i, (_, jobs, artifacts))) = WORKFLOWS
            .iter()
            .enumerate()
            .find(|(_, (w, _, _))| *w == workflow)
        else {
            return Err(Observation::fail(format!(
                "no run of {workflow} for {said}"
            )));
        };
        let id = 12_000_000_000 + i as u64 * 100_000 + u64::from(pull.unwrap_or(0));
        Ok((id, said, jobs, artifacts))
    }

    fn workflow_run(&self, workflow: &str, target: &Target, wanted: &[String]) -> Observation {
        let (id, said, jobs, _) = match self.run(workflow, target) {
            Ok(r) => r,
            Err(o) => return o,
        };
        let branch = match target {
            Target::Branch(b) => Some(b.as_str()),
            _ => None,
        };
        let pull = self.said(target).ok().and_then(|(_, n)| n);
        let mut seen = Vec::new();
        let mut wrong = Vec::new();
        for want in wanted {
            let of_it: Vec<&&str> = jobs.iter().filter(|j| job_is(j, want)).collect();
            if of_it.is_empty() {
                wrong.push(format!("no job {want}"));
            }
            for j in of_it {
                let base = j.split(" (").next().unwrap_or(j);
                let c = self.conclusion(base, pull, branch);
                if c != "success" {
                    wrong.push(format!("{j} {c}"));
                }
                seen.push(format!("{j} {c}"));
            }
        }
        let jobs_said = if seen.is_empty() {
            String::new()
        } else {
            format!("; {}", seen.join(", "))
        };
        let url = format!("{REPO_URL}/actions/runs/{id}");
        if wrong.is_empty() {
            Observation::pass(format!(
                "run {id} of {workflow} for {said}: success{jobs_said} ({url})"
            ))
        } else {
            Observation::fail(format!(
                "run {id} of {workflow} for {said}: concluded failure, {}{jobs_said} ({url})",
                wrong.join(", ")
            ))
        }
    }

    fn artifacts(&self, workflow: &str, target: &Target, names: &[String]) -> Observation {
        let (id, said, _, artifacts) = match self.run(workflow, target) {
            Ok(r) => r,
            Err(o) => return o,
        };
        let url = format!("{REPO_URL}/actions/runs/{id}");
        let size = |a: &str| 4_096 + (noise(self.seed, a.len() as u64, 5).abs() * 90_000.0) as u64;
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for want in names {
            match artifacts.iter().find(|a| a.starts_with(want.as_str())) {
                Some(a) => found.push(format!("{a} ({} bytes)", size(a))),
                None => missing.push(want.clone()),
            }
        }
        if missing.is_empty() {
            Observation::pass(format!(
                "run {id} of {workflow} for {said}: {} ({url})",
                found.join(", ")
            ))
        } else {
            let had = if artifacts.is_empty() {
                "no artifacts".to_string()
            } else {
                format!("artifacts: {}", artifacts.join(", "))
            };
            Observation::fail(format!(
                "run {id} of {workflow} for {said}: no {} ({had}; {url})",
                missing.join(", no ")
            ))
        }
    }

    fn check_run(&self, name: &str, target: &Target, expected: &str) -> Observation {
        let (said, pull) = match self.said(target) {
            Ok(s) => s,
            Err(o) => return o,
        };
        if !CHECKS.contains(&name) {
            return Observation::fail(format!("no check run {name} on {said}"));
        }
        let branch = match target {
            Target::Branch(b) => Some(b.as_str()),
            _ => None,
        };
        let c = self.conclusion(name, pull, branch);
        let link = format!(
            " ({REPO_URL}/runs/{})",
            31_000_000_000 + u64::from(pull.unwrap_or(0))
        );
        let said = format!("check {name} on {said}");
        if c == expected {
            Observation::pass(format!("{said}: {c}, as expected{link}"))
        } else {
            Observation::fail(format!("{said}: {c}, expected {expected}{link}"))
        }
    }
}

pub(super) fn touches_migrations(p: &Pull) -> bool {
    p.title.to_ascii_lowercase().contains("migrat")
}

/// The status a preview's URL answers in the demo: its health as the world keeps it.
pub fn preview_status(previews: &[Preview], url: &str) -> Option<u16> {
    previews
        .iter()
        .find(|p| p.url.as_deref() == Some(url))
        .map(|p| match p.health {
            UrlHealth::Up => 200,
            UrlHealth::Down | UrlHealth::Unknown => 503,
        })
}
