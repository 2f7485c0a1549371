//! Health of `main`: its required checks, the freeze label and the `frozen/rollback` tag.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckState {
    Success,
    Failure,
    Pending,
    /// Required, but never reported on this commit: not green.
    Missing,
}

impl CheckState {
    pub fn label(self) -> &'static str {
        match self {
            CheckState::Success => "success",
            CheckState::Failure => "failure",
            CheckState::Pending => "pending",
            CheckState::Missing => "missing",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequiredCheck {
    pub name: String,
    pub state: CheckState,
    /// When it entered this state.
    pub since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    pub sha: String,
    pub author: String,
    pub message: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrRef {
    pub number: u32,
    pub title: String,
}

/// The label that blocks merging while main is red (a ruleset enforces it).
pub const FREEZE_LABEL: &str = "freeze/main-red";

/// An open pull request, as the sentinel needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenPull {
    pub number: u32,
    pub title: String,
    pub author: String,
    pub labels: Vec<String>,
}

impl OpenPull {
    pub fn frozen(&self) -> bool {
        self.labels.iter().any(|l| l == FREEZE_LABEL)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    pub remaining: u32,
    pub limit: u32,
    pub reset: DateTime<Utc>,
}

/// The `frozen/rollback` tag: the train is paused while it exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Freeze {
    pub sha: String,
    pub since: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MainHealth {
    pub head: Commit,
    pub checks: Vec<RequiredCheck>,
    pub frozen: Option<Freeze>,
    pub freeze_prs: Vec<PrRef>,
    pub renovate_prs: Vec<PrRef>,
    /// Every open pull request, for the sentinel.
    #[serde(default)]
    pub open_prs: Vec<OpenPull>,
    pub rate_limit: Option<RateLimit>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Overall {
    Green,
    Pending,
    /// Red since the earliest failing required check went red.
    Red {
        since: Option<DateTime<Utc>>,
    },
}

impl MainHealth {
    pub fn overall(&self) -> Overall {
        let red: Vec<&RequiredCheck> = self
            .checks
            .iter()
            .filter(|c| matches!(c.state, CheckState::Failure | CheckState::Missing))
            .collect();
        if !red.is_empty() {
            return Overall::Red {
                since: red.iter().filter_map(|c| c.since).min(),
            };
        }
        if self.checks.iter().any(|c| c.state == CheckState::Pending) {
            return Overall::Pending;
        }
        Overall::Green
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn check(name: &str, state: CheckState, minute: u32) -> RequiredCheck {
        RequiredCheck {
            name: name.into(),
            state,
            since: Some(Utc.with_ymd_and_hms(2026, 11, 29, 12, minute, 0).unwrap()),
        }
    }

    fn health(checks: Vec<RequiredCheck>) -> MainHealth {
        MainHealth {
            head: Commit {
                sha: "abc".into(),
                author: "a".into(),
                message: "m".into(),
                at: Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap(),
            },
            checks,
            frozen: None,
            freeze_prs: vec![],
            renovate_prs: vec![],
            open_prs: vec![],
            rate_limit: None,
        }
    }

    #[test]
    fn a_missing_required_check_is_not_green() {
        let h = health(vec![
            check("ci-pr", CheckState::Success, 1),
            check("scan", CheckState::Missing, 2),
        ]);
        assert!(matches!(h.overall(), Overall::Red { .. }));
    }

    #[test]
    fn red_since_the_earliest_failure() {
        let h = health(vec![
            check("test", CheckState::Failure, 7),
            check("scan", CheckState::Failure, 3),
            check("build", CheckState::Pending, 1),
        ]);
        assert_eq!(
            h.overall(),
            Overall::Red {
                since: Some(Utc.with_ymd_and_hms(2026, 11, 29, 12, 3, 0).unwrap())
            }
        );
        assert_eq!(
            health(vec![check("b", CheckState::Pending, 1)]).overall(),
            Overall::Pending
        );
        assert_eq!(health(vec![]).overall(), Overall::Green);
    }
}
