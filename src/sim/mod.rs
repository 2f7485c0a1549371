//! The embedded simulated world behind `--demo`: a cluster, a forge, Prometheus and Helm
//! that behave like the real ones, deterministically for a given scenario, seed and clock.
//!
//! The world is the outside of the console: it owns its own state (behind a mutex, as a
//! real backend owns its own), and the console sees it only through the source traits.

mod activity;
mod alerting;
mod host;
mod main_health;
mod previews;
mod published;
mod pull_activity;
mod pulls;
mod scenario;
mod settings;
mod signals;
mod world;

pub use scenario::Scenario;
pub use world::World;

use crate::config::slo::SloConfig;

/// The demo's `slo.yml`: the repository's own, with windows short enough to watch.
pub const DEMO_SLO: &str = include_str!("slo.yml");

pub fn demo_slo() -> SloConfig {
    SloConfig::parse(std::path::Path::new("<demo slo.yml>"), DEMO_SLO)
        .unwrap_or_else(|e| unreachable!("the demo slo.yml is checked by tests: {e}"))
}

/// A deterministic value in [-1, 1] for a seed and a position: the world's only randomness.
pub(crate) fn noise(seed: u64, a: u64, b: u64) -> f64 {
    let mut z =
        seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z as f64 / u64::MAX as f64) * 2.0 - 1.0
}

/// Where the demo team stands in the plan: phases 0–7 validated on their days (every
/// check passed or confirmed), phase 8 (the production canary) under way, the rest pending.
pub fn phase_states(
    plan: &crate::config::plan::Plan,
    origin: chrono::DateTime<chrono::Utc>,
) -> Vec<crate::engine::phases::PhaseState> {
    use crate::engine::phases::{
        CheckRecord, Confirmation, PhaseState, PhaseStatus, ProbeResult, ProbeStatus,
    };
    plan.phases
        .iter()
        .enumerate()
        .map(|(i, p)| match i {
            0..=7 => {
                let at = origin - chrono::Duration::days(8 - i as i64) + chrono::Duration::hours(3);
                let checks = p
                    .validation
                    .iter()
                    .map(|c| {
                        let manual = c.probe.is_manual();
                        CheckRecord {
                            result: Some(ProbeResult {
                                status: if manual {
                                    ProbeStatus::Manual
                                } else {
                                    ProbeStatus::Pass
                                },
                                evidence: "demo: passed on its day".into(),
                                at,
                            }),
                            confirmed: manual.then(|| Confirmation {
                                by: "mira".into(),
                                at,
                            }),
                        }
                    })
                    .collect();
                PhaseState {
                    status: PhaseStatus::Validated,
                    since: Some(at),
                    checks,
                }
            }
            8 => PhaseState {
                status: PhaseStatus::InProgress,
                since: Some(origin),
                ..PhaseState::pending(p.validation.len())
            },
            _ => PhaseState::pending(p.validation.len()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_slo_is_valid() {
        let cfg = super::demo_slo();
        assert_eq!(cfg.weights(), [5, 25, 50, 100]);
    }

    #[test]
    fn noise_is_deterministic_and_bounded() {
        let a = super::noise(7, 1, 2);
        assert_eq!(a, super::noise(7, 1, 2));
        assert_ne!(a, super::noise(8, 1, 2));
        assert!((0..1000).all(|i| super::noise(1, i, 0).abs() <= 1.0));
    }
}
