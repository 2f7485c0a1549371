//! The demo's `main`: required checks on a schedule, freeze-labelled PRs, Renovate PRs.

use chrono::{DateTime, Duration, Utc};

use super::{Scenario, noise};
use crate::engine::main_health::{
    CheckState, Commit, Freeze, MainHealth, RateLimit, RequiredCheck,
};
use crate::sources::OpenPull;

pub const REQUIRED: [&str; 4] = ["ci-pr", "build", "test", "scan"];

/// The drill's `test` check goes red this long after the start, and green again later.
pub const DRILL_RED: (i64, i64) = (45, 150);

pub fn head(seed: u64, origin: DateTime<Utc>) -> Commit {
    Commit {
        sha: (0..5)
            .map(|i| {
                format!(
                    "{:08x}",
                    (noise(seed, 4242, i).abs() * f64::from(u32::MAX)) as u32
                )
            })
            .collect(),
        author: "mira".into(),
        message: "Merge pull request #418 from acme/release-train-steps".into(),
        at: origin - Duration::minutes(42),
    }
}

pub fn health(
    scenario: Scenario,
    seed: u64,
    origin: DateTime<Utc>,
    now: DateTime<Utc>,
    frozen: Option<Freeze>,
    pulls: &[OpenPull],
) -> MainHealth {
    let head = head(seed, origin);
    let green_since = head.at + Duration::minutes(9);
    let checks = REQUIRED
        .iter()
        .map(|&name| {
            let (state, since) = match (scenario, name) {
                (Scenario::MainRed, "scan") => {
                    (CheckState::Failure, origin - Duration::minutes(25))
                }
                (Scenario::Drill, "test") => {
                    let red = origin + Duration::seconds(DRILL_RED.0);
                    let green = origin + Duration::seconds(DRILL_RED.1);
                    if now >= green {
                        (CheckState::Success, green)
                    } else if now >= red {
                        (CheckState::Failure, red)
                    } else {
                        (CheckState::Success, green_since)
                    }
                }
                _ => (CheckState::Success, green_since),
            };
            RequiredCheck {
                name: name.into(),
                state,
                since: Some(since),
            }
        })
        .collect();
    MainHealth {
        head,
        checks,
        frozen,
        freeze_prs: super::pulls::frozen(pulls),
        renovate_prs: super::pulls::renovate(pulls),
        open_prs: pulls.to_vec(),
        rate_limit: Some(RateLimit {
            remaining: 4_870 - ((now - origin).num_minutes().clamp(0, 600) as u32),
            limit: 5_000,
            reset: origin + Duration::minutes(60),
        }),
    }
}
