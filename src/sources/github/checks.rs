//! Which checks `main` requires, and the state of each on a commit: pure functions from what
//! GitHub reported (check runs and commit statuses) to [`RequiredCheck`]s. No I/O.
//!
//! A required check reports through a check run named like it or a commit status with that
//! context; when both exist, the later report wins. One that never reported is `Missing`.

use chrono::{DateTime, Utc};

use super::wire::{CheckRun, CommitStatus};
use crate::engine::main_health::{CheckState, RequiredCheck};

/// The union of the required names from every source, in first-seen order.
pub fn union<'a>(sources: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in sources {
        if !name.is_empty() && !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    names
}

/// Each required check's state on the commit the runs and statuses are for.
pub fn resolve(
    required: &[String],
    runs: &[CheckRun],
    statuses: &[CommitStatus],
) -> Vec<RequiredCheck> {
    required
        .iter()
        .map(|name| {
            // The newest run of that name (GitHub's ids only grow).
            let run = runs
                .iter()
                .filter(|r| &r.name == name)
                .max_by_key(|r| r.id)
                .map(run_state);
            let status = statuses
                .iter()
                .filter(|s| &s.context == name)
                .max_by_key(|s| s.updated_at.or(s.created_at))
                .map(status_state);
            let (state, since) = match (run, status) {
                (Some(r), Some(s)) if s.1 > r.1 => s,
                (Some(r), _) => r,
                (None, Some(s)) => s,
                (None, None) => (CheckState::Missing, None),
            };
            RequiredCheck {
                name: name.clone(),
                state,
                since,
            }
        })
        .collect()
}

/// Branch protection counts `success`, `neutral` and `skipped` as passing; every other
/// conclusion blocks a merge, so it is a failure here.
fn run_state(run: &CheckRun) -> (CheckState, Option<DateTime<Utc>>) {
    if run.status != "completed" {
        return (CheckState::Pending, run.started_at);
    }
    let state = match run.conclusion.as_deref() {
        Some("success" | "neutral" | "skipped") => CheckState::Success,
        _ => CheckState::Failure,
    };
    (state, run.completed_at.or(run.started_at))
}

fn status_state(status: &CommitStatus) -> (CheckState, Option<DateTime<Utc>>) {
    let state = match status.state.as_str() {
        "success" => CheckState::Success,
        "pending" => CheckState::Pending,
        _ => CheckState::Failure,
    };
    (state, status.updated_at.or(status.created_at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minute: u32) -> Option<DateTime<Utc>> {
        Some(Utc.with_ymd_and_hms(2026, 11, 29, 2, minute, 0).unwrap())
    }

    fn run(id: u64, name: &str, status: &str, conclusion: Option<&str>) -> CheckRun {
        CheckRun {
            id,
            name: name.into(),
            status: status.into(),
            conclusion: conclusion.map(str::to_string),
            started_at: at(1),
            completed_at: (status == "completed")
                .then(|| at(id as u32 % 60))
                .flatten(),
        }
    }

    fn status(context: &str, state: &str, minute: u32) -> CommitStatus {
        CommitStatus {
            context: context.into(),
            state: state.into(),
            updated_at: at(minute),
            created_at: at(minute),
        }
    }

    #[test]
    fn the_union_keeps_the_first_order_and_no_duplicates() {
        assert_eq!(
            union(["build", "test", "scan", "build", ""]),
            vec!["build", "test", "scan"]
        );
    }

    #[test]
    fn a_rerun_replaces_the_failure_it_reran() {
        let runs = [
            run(10, "test", "completed", Some("failure")),
            run(12, "test", "completed", Some("success")),
        ];
        let checks = resolve(&["test".into()], &runs, &[]);
        assert_eq!(checks[0].state, CheckState::Success);
        assert_eq!(checks[0].since, at(12));
    }

    #[test]
    fn conclusions_map_as_branch_protection_reads_them() {
        for (conclusion, state) in [
            ("neutral", CheckState::Success),
            ("skipped", CheckState::Success),
            ("cancelled", CheckState::Failure),
            ("timed_out", CheckState::Failure),
            ("action_required", CheckState::Failure),
        ] {
            let runs = [run(5, "scan", "completed", Some(conclusion))];
            assert_eq!(resolve(&["scan".into()], &runs, &[])[0].state, state);
        }
        let queued = [run(5, "scan", "queued", None)];
        assert_eq!(
            resolve(&["scan".into()], &queued, &[])[0].state,
            CheckState::Pending
        );
    }

    #[test]
    fn a_commit_status_counts_and_the_later_report_wins() {
        let runs = [run(7, "ci-pr", "completed", Some("success"))];
        let statuses = [status("ci-pr", "error", 30), status("lint", "success", 2)];
        let checks = resolve(&["ci-pr".into(), "nobody".into()], &runs, &statuses);
        assert_eq!(checks[0].state, CheckState::Failure);
        assert_eq!(checks[0].since, at(30));
        assert_eq!(checks[1].state, CheckState::Missing);
        assert_eq!(checks[1].since, None);
    }
}
