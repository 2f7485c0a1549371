//! Activity probes on pull requests: one touching some paths held back until its checks
//! pass, pull requests opened by an author (issue search), the freeze label put on when a
//! branch went red (read from pull requests' timelines), and a comment matching a pattern
//! (a preview's URL). Each keeps to a handful of conditional GETs.

use chrono::{DateTime, Duration, Utc};
use regex::Regex;

use super::actions::{self, newest_open, read};
use super::activity_wire::{
    CheckRuns, IssueComment, IssueSearch, Pull, PullFile, TimelineEvent, WorkflowRuns,
};
use super::client::GithubClient;
use super::wire::segment;
use crate::sources::SourceError;
use crate::sources::activity::{CommentMatch, Observation, PullComment, first_touched, matched};

/// How many of the newest open pull requests are searched for one touching the paths.
const SEARCHED: usize = 3;

/// How many pull requests open when the branch went red have their timelines read.
const TIMELINES: usize = 3;

/// Pages of comments or of a timeline read (100 items each).
const PAGES: usize = 3;

pub async fn blocked(
    client: &GithubClient,
    paths: &[String],
    checks: &[String],
    pull: Option<u32>,
) -> Result<Observation, SourceError> {
    let globs = paths.join(", ");
    let candidates: Vec<u32> = match pull {
        Some(n) => vec![n],
        None => newest_open(client)
            .await?
            .iter()
            .take(SEARCHED)
            .map(|p| p.number)
            .collect(),
    };
    if candidates.is_empty() {
        return Ok(Observation::unavailable("no open pull request to look at"));
    }
    let mut touching = None;
    for n in &candidates {
        let url = format!("{}/pulls/{n}/files?per_page=100", client.repo());
        let files: Vec<String> = match read::<Vec<PullFile>>(client, &url).await? {
            Ok(files) => files.into_iter().map(|f| f.filename).collect(),
            Err(said) => {
                return Ok(Observation::fail(format!(
                    "cannot read the files of #{n}: {said}"
                )));
            }
        };
        if let Some(f) = first_touched(&files, paths) {
            touching = Some((*n, f.to_string()));
            break;
        }
    }
    let Some((n, file)) = touching else {
        let which: Vec<String> = candidates.iter().map(|n| format!("#{n}")).collect();
        return Ok(Observation::unavailable(match pull {
            Some(n) => format!("#{n} does not touch {globs}: it cannot show the gate"),
            None => format!(
                "none of the newest open pull requests ({}) touches {globs}: nothing shows the gate",
                which.join(", ")
            ),
        }));
    };
    let pr: Pull = match actions::pull(client, n).await? {
        Ok(p) => p,
        Err(said) => return Ok(Observation::fail(format!("no pull request #{n} ({said})"))),
    };
    let url = format!(
        "{}/commits/{}/check-runs?per_page=100",
        client.repo(),
        pr.head.sha
    );
    let runs = match read::<CheckRuns>(client, &url).await? {
        Ok(r) => r.check_runs,
        Err(said) => {
            return Ok(Observation::fail(format!(
                "cannot read the checks of #{n}: {said}"
            )));
        }
    };
    let states: Vec<(String, String)> = checks
        .iter()
        .map(|c| {
            let state = runs
                .iter()
                .find(|r| &r.name == c)
                .map_or("missing", |r| r.conclusion.as_deref().unwrap_or(&r.status));
            (c.clone(), state.to_string())
        })
        .collect();
    let not_passed: Vec<String> = states
        .iter()
        .filter(|(_, s)| s != "success")
        .map(|(c, s)| format!("{c} {s}"))
        .collect();
    let all: Vec<String> = states.iter().map(|(c, s)| format!("{c} {s}")).collect();
    let state = pr.mergeable_state.as_deref().unwrap_or("unknown");
    let seen = format!("#{n} touches {file}");
    Ok(match (not_passed.is_empty(), state) {
        (false, "blocked") => Observation::pass(format!(
            "{seen}; blocked while {} ({})",
            not_passed.join(", "),
            pr.html_url
        )),
        (false, "clean" | "unstable" | "has_hooks") => Observation::fail(format!(
            "{seen}; mergeable ({state}) although {} ({})",
            not_passed.join(", "),
            pr.html_url
        )),
        (true, _) => Observation::unavailable(format!(
            "{seen}; every named check passed ({}), so no block can be seen now ({})",
            all.join(", "),
            pr.html_url
        )),
        (false, _) => Observation::unavailable(format!(
            "{seen}; GitHub says mergeable_state {state}, which does not tell whether {} holds it back ({})",
            not_passed.join(", "),
            pr.html_url
        )),
    })
}

/// `renovate[bot]` is searched for as `app/renovate`, as GitHub's search wants an app.
fn search_author(author: &str) -> String {
    match author.strip_suffix("[bot]") {
        Some(app) => format!("app/{app}"),
        None => author.to_string(),
    }
}

/// Pull requests named in evidence, at most.
const NAMED: usize = 5;

pub async fn by(
    client: &GithubClient,
    author: &str,
    since: DateTime<Utc>,
    min: u32,
) -> Result<Observation, SourceError> {
    let repo = client.repo().trim_start_matches("/repos/");
    let day = since.format("%Y-%m-%d");
    let terms = [
        format!("repo:{repo}"),
        "is:pr".to_string(),
        format!("author:{}", search_author(author)),
        format!("created:>={day}"),
    ];
    let q: Vec<String> = terms.iter().map(|t| segment(t)).collect();
    let url = format!("/search/issues?q={}&per_page={NAMED}", q.join("+"));
    let found = match read::<IssueSearch>(client, &url).await? {
        Ok(f) => f,
        Err(said) => {
            return Ok(Observation::fail(format!(
                "cannot search pull requests by {author}: {said}"
            )));
        }
    };
    let named: Vec<String> = found
        .items
        .iter()
        .take(NAMED)
        .map(|i| {
            format!(
                "#{} {} ({})",
                i.number,
                i.title,
                i.created_at.format("%Y-%m-%d")
            )
        })
        .collect();
    let partial = if found.incomplete_results {
        " (GitHub's search timed out: the count may be short)"
    } else {
        ""
    };
    let said = format!(
        "{} by {author} opened since {day}{partial}",
        pulls(found.total_count)
    );
    let list = if named.is_empty() {
        String::new()
    } else {
        format!(": {}", named.join(", "))
    };
    Ok(if found.total_count >= u64::from(min) {
        Observation::pass(format!("{said}{list}"))
    } else {
        Observation::fail(format!("{said}, fewer than {min}{list}"))
    })
}

fn pulls(n: u64) -> String {
    if n == 1 {
        "1 pull request".into()
    } else {
        format!("{n} pull requests")
    }
}

pub async fn labelled_when_red(
    client: &GithubClient,
    label: &str,
    branch: &str,
    within_secs: i64,
) -> Result<Observation, SourceError> {
    let url = format!(
        "{}/actions/runs?branch={}&status=failure&per_page=1",
        client.repo(),
        segment(branch)
    );
    let run = match read::<WorkflowRuns>(client, &url).await? {
        Ok(r) => r.workflow_runs.into_iter().next(),
        Err(said) => {
            return Ok(Observation::fail(format!(
                "cannot read workflow runs on {branch}: {said}"
            )));
        }
    };
    let Some(run) = run else {
        return Ok(Observation::unavailable(format!(
            "no failed workflow run on {branch}: it has not been red"
        )));
    };
    let (red, done) = (run.created_at, run.updated_at);
    let until = done + Duration::seconds(within_secs);
    let red_said = format!(
        "{branch} went red at {} (run {} of {} failed: {})",
        red.format("%Y-%m-%d %H:%M UTC"),
        run.id,
        run.name.as_deref().unwrap_or("a workflow"),
        run.html_url
    );
    let url = format!(
        "{}/pulls?state=all&sort=created&direction=desc&per_page=30",
        client.repo()
    );
    let listed = match read::<Vec<Pull>>(client, &url).await? {
        Ok(p) => p,
        Err(said) => {
            return Ok(Observation::fail(format!(
                "cannot list pull requests: {said}"
            )));
        }
    };
    let open_then: Vec<&Pull> = listed
        .iter()
        .filter(|p| p.created_at <= done && p.closed_at.is_none_or(|c| c > red))
        .take(TIMELINES)
        .collect();
    if open_then.is_empty() {
        return Ok(Observation::unavailable(format!(
            "{red_said}; no pull request was open then"
        )));
    }
    let mut late = Vec::new();
    for p in &open_then {
        let url = format!(
            "{}/issues/{}/timeline?per_page=100",
            client.repo(),
            p.number
        );
        let events: Vec<TimelineEvent> = match client
            .get_some_pages::<Vec<TimelineEvent>>(&url, PAGES)
            .await?
        {
            Some(pages) => pages.into_iter().flatten().collect(),
            None => continue,
        };
        let labelled = events.iter().filter(|e| {
            e.event.as_deref() == Some("labeled")
                && e.label
                    .as_ref()
                    .is_some_and(|l| l.name.eq_ignore_ascii_case(label))
        });
        for e in labelled {
            let Some(at) = e.created_at.filter(|at| *at >= red) else {
                continue;
            };
            let by = e.actor.as_ref().map_or("someone", |a| a.login.as_str());
            if at <= until {
                return Ok(Observation::pass(format!(
                    "{red_said}; #{} labelled {label} at {} by {by}",
                    p.number,
                    at.format("%H:%M UTC")
                )));
            }
            late.push(format!(
                "#{} at {}",
                p.number,
                at.format("%Y-%m-%d %H:%M UTC")
            ));
        }
    }
    let asked: Vec<String> = open_then.iter().map(|p| format!("#{}", p.number)).collect();
    let late = if late.is_empty() {
        String::new()
    } else {
        format!(" (later: {})", late.join(", "))
    };
    Ok(Observation::fail(format!(
        "{red_said}; none of {} was labelled {label} within {} of it{late}",
        asked.join(", "),
        crate::config::duration::format_span(std::time::Duration::from_secs(
            within_secs.max(0).unsigned_abs()
        ))
    )))
}

/// Pull request `pull` (or the newest open one) and the newest of its comments `pattern`
/// matches; `None` when there is no such pull request.
pub async fn comment(
    client: &GithubClient,
    pull: Option<u32>,
    pattern: &Regex,
) -> Result<Option<PullComment>, SourceError> {
    let number = match pull {
        Some(n) => n,
        None => match newest_open(client).await?.into_iter().next() {
            Some(p) => p.number,
            None => return Ok(None),
        },
    };
    let url = format!("{}/issues/{number}/comments?per_page=100", client.repo());
    let Some(pages) = client
        .get_some_pages::<Vec<IssueComment>>(&url, PAGES)
        .await?
    else {
        return Ok(None);
    };
    let comment = pages.into_iter().flatten().rev().find_map(|c| {
        let text = matched(pattern, c.body.as_deref()?)?;
        Some(CommentMatch {
            text,
            url: c.html_url,
            by: c.user.map(|u| u.login).unwrap_or_default(),
        })
    });
    Ok(Some(PullComment { number, comment }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bot_is_searched_for_as_an_app() {
        assert_eq!(search_author("renovate[bot]"), "app/renovate");
        assert_eq!(search_author("mira"), "mira");
    }

    #[test]
    fn a_count_of_pull_requests_reads_as_words() {
        assert_eq!(pulls(1), "1 pull request");
        assert_eq!(pulls(0), "0 pull requests");
    }
}
