//! The demo's preview namespaces: 8–15 of them, of varied ages, some stale or orphaned.

use chrono::{DateTime, Duration, Utc};

use super::{Scenario, noise};
use crate::engine::previews::{PrState, Preview, PullRequest, UrlHealth};

const TITLES: [&str; 16] = [
    "Add cosign verification to publish",
    "Bump chart to 4.2.0",
    "Migrate sessions table to uuid keys",
    "Fix flaky checkout e2e test",
    "Cache node_modules across jobs",
    "OPA policy for privileged pods",
    "Expose p99 latency on the dashboard",
    "Renovate: update rust docker tag",
    "Split release-train into reusable steps",
    "Preview URL comment on PRs",
    "Drop legacy /v1 health endpoint",
    "Trace ids from CI to deploy",
    "Rate-limit the export endpoint",
    "Stage smoke test after deploy",
    "Retry transient registry pushes",
    "Tighten CSP headers",
];

const AUTHORS: [&str; 6] = ["mira", "devon", "renovate[bot]", "kofi", "ana", "li-wei"];

/// Hours of age for each preview; stale-previews skews old.
fn ages(scenario: Scenario, seed: u64) -> Vec<i64> {
    let base: &[i64] = match scenario {
        Scenario::StalePreviews => &[
            2, 30, 80, 96, 120, 150, 170, 200, 230, 260, 300, 350, 410, 500,
        ],
        _ => &[1, 5, 14, 26, 40, 55, 70, 79, 100, 130, 180, 220, 260, 330],
    };
    let count = match scenario {
        Scenario::StalePreviews => 14,
        _ => 8 + (seed % 8) as usize,
    };
    base.iter()
        .cycle()
        .take(count)
        .enumerate()
        .map(|(i, h)| (h + (noise(seed, i as u64, 11) * 3.0) as i64).max(1))
        .collect()
}

pub fn generate(scenario: Scenario, seed: u64, origin: DateTime<Utc>) -> Vec<Preview> {
    ages(scenario, seed)
        .into_iter()
        .enumerate()
        .map(|(i, hours)| {
            // Newer previews have higher PR numbers, as on a real repository.
            let number = 460 - i as u32 * 9 - ((noise(seed, i as u64, 31).abs() * 7.0) as u32);
            let roll = noise(seed, i as u64, 23);
            let state = if hours > 72 && roll > 0.2 {
                PrState::Merged
            } else if roll > 0.75 {
                PrState::Closed
            } else if hours < 72 && roll > 0.55 {
                PrState::Merged
            } else {
                PrState::Open
            };
            let health = if state == PrState::Open {
                if roll < -0.8 {
                    UrlHealth::Down
                } else {
                    UrlHealth::Up
                }
            } else {
                UrlHealth::Unknown
            };
            Preview {
                namespace: format!("pr-{number}"),
                created: origin - Duration::hours(hours) - Duration::minutes(i as i64 * 7),
                terminating: false,
                pr: Some(PullRequest {
                    number,
                    title: TITLES[(i + seed as usize) % TITLES.len()].into(),
                    author: AUTHORS[(i * 5 + seed as usize) % AUTHORS.len()].into(),
                    state,
                }),
                url: Some(format!("https://pr-{number}.preview.summit.example")),
                health,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn each_scenario_has_eight_to_fifteen_previews_some_stale_some_orphaned() {
        let origin = Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap();
        for scenario in Scenario::ALL {
            for seed in 0..8 {
                let list = generate(scenario, seed, origin);
                assert!((8..=15).contains(&list.len()), "{scenario} seed {seed}");
                assert!(list.iter().any(|p| p.is_stale(origin, Duration::days(3))));
                assert!(
                    list.iter().any(|p| p.is_orphaned()),
                    "{scenario} seed {seed}"
                );
                let mut names: Vec<_> = list.iter().map(|p| &p.namespace).collect();
                names.sort();
                names.dedup();
                assert_eq!(names.len(), list.len(), "namespaces are unique");
            }
        }
    }
}
