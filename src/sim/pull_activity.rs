//! The demo repository's pull requests as the activity probes see them: the one that
//! migrates the sessions table held back by its failing gate, who opened pull requests and
//! when, the sentinel's label the last time main was red, and the comments that give
//! previews' URLs.

use chrono::{DateTime, Duration, Utc};
use regex::Regex;

use super::Scenario;
use super::activity::{CHECKS, Pull, REPO_URL, Seen, touches_migrations};
use crate::engine::main_health::FREEZE_LABEL;
use crate::sources::activity::{CommentMatch, Observation, PullComment, first_touched, matched};

impl Seen<'_> {
    pub(super) fn blocked(
        &self,
        paths: &[String],
        checks: &[String],
        pull: Option<u32>,
    ) -> Observation {
        let all = self.all();
        let candidates: Vec<&Pull> = match pull {
            Some(n) => all.iter().filter(|p| p.number == n).collect(),
            None => all.iter().filter(|p| p.open).collect(),
        };
        if candidates.is_empty() {
            return match pull {
                Some(n) => Observation::fail(format!("no pull request #{n} (404 Not Found)")),
                None => Observation::unavailable("no open pull request to look at"),
            };
        }
        let touching = candidates
            .iter()
            .find_map(|p| first_touched(&files(p), paths).map(|f| (*p, f.to_string())));
        let Some((p, file)) = touching else {
            return Observation::unavailable(format!(
                "no open pull request touches {}: nothing shows the gate",
                paths.join(", ")
            ));
        };
        let states: Vec<String> = checks
            .iter()
            .map(|c| {
                let state = if CHECKS.contains(&c.as_str()) {
                    self.conclusion(c, Some(p.number), None)
                } else {
                    "missing"
                };
                format!("{c} {state}")
            })
            .collect();
        let not_passed: Vec<&String> = states.iter().filter(|s| !s.ends_with(" success")).collect();
        let url = format!("{REPO_URL}/pull/{}", p.number);
        if not_passed.is_empty() {
            return Observation::unavailable(format!(
                "#{} touches {file}; every named check passed ({}), so no block can be seen now ({url})",
                p.number,
                states.join(", ")
            ));
        }
        let held: Vec<&str> = not_passed.iter().map(|s| s.as_str()).collect();
        Observation::pass(format!(
            "#{} touches {file}; blocked while {} ({url})",
            p.number,
            held.join(", ")
        ))
    }

    pub(super) fn by(&self, author: &str, since: DateTime<Utc>, min: u32) -> Observation {
        let mut found: Vec<Pull> = self
            .all()
            .into_iter()
            .filter(|p| p.author == author && p.opened >= since)
            .collect();
        found.sort_by_key(|p| std::cmp::Reverse(p.opened));
        let named: Vec<String> = found
            .iter()
            .take(5)
            .map(|p| {
                format!(
                    "#{} {} ({})",
                    p.number,
                    p.title,
                    p.opened.format("%Y-%m-%d")
                )
            })
            .collect();
        let count = match found.len() {
            1 => "1 pull request".to_string(),
            n => format!("{n} pull requests"),
        };
        let said = format!(
            "{count} by {author} opened since {}",
            since.format("%Y-%m-%d")
        );
        let list = if named.is_empty() {
            String::new()
        } else {
            format!(": {}", named.join(", "))
        };
        if found.len() >= min as usize {
            Observation::pass(format!("{said}{list}"))
        } else {
            Observation::fail(format!("{said}, fewer than {min}{list}"))
        }
    }

    pub(super) fn labelled_when_red(
        &self,
        label: &str,
        branch: &str,
        within_secs: i64,
    ) -> Observation {
        if branch != "main" {
            return Observation::unavailable(format!(
                "no failed workflow run on {branch}: it has not been red"
            ));
        }
        let drill_red = self.origin + Duration::seconds(super::main_health::DRILL_RED.0);
        let say_red = |at: DateTime<Utc>, run: u64| {
            format!(
                "main went red at {} (run {run} of CI failed: {REPO_URL}/actions/runs/{run})",
                at.format("%Y-%m-%d %H:%M UTC")
            )
        };
        if self.scenario == Scenario::Drill && self.now >= drill_red {
            let red = say_red(drill_red, 12_000_900_001);
            return match self
                .pulls
                .iter()
                .find(|p| p.labels.iter().any(|l| l == label))
            {
                Some(p) => Observation::pass(format!(
                    "{red}; #{} labelled {label} since, by the sentinel",
                    p.number
                )),
                None if self.now <= drill_red + Duration::seconds(within_secs) => {
                    Observation::unavailable(format!("{red}; no pull request labelled {label} yet"))
                }
                None => Observation::fail(format!(
                    "{red}; no open pull request was labelled {label} within {}s of it",
                    within_secs
                )),
            };
        }
        let (red, labelled) = match self.scenario {
            Scenario::MainRed => (self.origin - Duration::minutes(25), 421),
            _ => (self.origin - Duration::hours(52), 415),
        };
        if label != FREEZE_LABEL {
            return Observation::fail(format!(
                "{}; no pull request open then was labelled {label}",
                say_red(red, 12_000_900_000)
            ));
        }
        Observation::pass(format!(
            "{}; #{labelled} labelled {label} at {} by github-actions[bot]",
            say_red(red, 12_000_900_000),
            (red + Duration::minutes(2)).format("%H:%M UTC")
        ))
    }

    pub fn pull_comment(&self, pull: Option<u32>, pattern: &Regex) -> Option<PullComment> {
        let all = self.all();
        let p = match pull {
            Some(n) => all.into_iter().find(|p| p.number == n)?,
            None => all.into_iter().find(|p| p.open)?,
        };
        let comment = p.preview.as_ref().and_then(|(url, _)| {
            let body = format!("Preview deployed to namespace pr-{}: {url}", p.number);
            Some(CommentMatch {
                text: matched(pattern, &body)?,
                url: format!(
                    "{REPO_URL}/pull/{}#issuecomment-{}",
                    p.number,
                    2_400_000 + p.number
                ),
                by: "github-actions[bot]".into(),
            })
        });
        Some(PullComment {
            number: p.number,
            comment,
        })
    }
}

/// The files a demo pull request changes, from what its title says it does.
fn files(p: &Pull) -> Vec<String> {
    if touches_migrations(p) {
        vec![
            "db/migrations/20261128_sessions_uuid.sql".into(),
            "docs/migrations/20261128_sessions_uuid.md".into(),
        ]
    } else {
        vec![format!("src/changes/pr_{}.rs", p.number)]
    }
}
