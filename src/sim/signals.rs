//! Golden signals of the simulated service: a stable baseline with a daily-ish swell and
//! noise, the canary's share of traffic, and the breach the scenarios inject.

use chrono::{DateTime, Utc};

use super::noise;
use crate::engine::signals::{GoldenSample, GoldenSet, Signal, Track};

const TOTAL_RPS: f64 = 120.0;

/// What the simulated service looks like at one instant.
pub struct Conditions {
    pub seed: u64,
    pub weight: u8,
    /// The canary is breaking its SLOs.
    pub breached: bool,
    /// Latency breaks too, not only errors (the drill's "everything gets slow" breach).
    pub slow: bool,
}

fn baseline(signal: Signal) -> f64 {
    match signal {
        Signal::ErrorRate => 0.004,
        Signal::LatencyP99 => 0.26,
        Signal::LatencyP95 => 0.14,
        Signal::LatencyP50 => 0.045,
        Signal::Traffic => TOTAL_RPS,
        Signal::Saturation => 0.42,
    }
}

pub fn value(c: &Conditions, signal: Signal, track: Track, at: DateTime<Utc>) -> Option<f64> {
    let share = match track {
        Track::Canary => f64::from(c.weight) / 100.0,
        Track::Stable => 1.0 - f64::from(c.weight) / 100.0,
    };
    if share <= 0.0 {
        return None;
    }
    let t = at.timestamp().max(0) as u64;
    let jitter = noise(
        c.seed,
        t,
        (signal.index() as u64) << 1 | (track == Track::Canary) as u64,
    );
    let swell = 1.0 + 0.08 * ((t as f64) / 300.0).sin();
    let base = baseline(signal);
    let canary_breach = c.breached && track == Track::Canary;
    let v = match signal {
        Signal::Traffic => base * share * swell * (1.0 + 0.03 * jitter),
        Signal::ErrorRate if canary_breach => 0.06 * (1.0 + 0.1 * jitter),
        Signal::ErrorRate => base * (1.0 + 0.03 * jitter),
        Signal::LatencyP99 | Signal::LatencyP95 if canary_breach && c.slow => {
            base * 3.6 * (1.0 + 0.08 * jitter)
        }
        Signal::Saturation => (base + 0.25 * share) * swell * (1.0 + 0.04 * jitter),
        _ => base * swell * (1.0 + 0.05 * jitter),
    };
    Some(v)
}

/// Every signal of `set` the simulated service has (the six well-known ones); any other
/// SLI has no data here, as a Prometheus without that metric answers.
pub fn sample(c: &Conditions, set: &GoldenSet, at: DateTime<Utc>) -> GoldenSample {
    let row = |track| {
        set.iter()
            .map(|g| Signal::from_sli(&g.sli).and_then(|s| value(c, s, track, at)))
            .collect()
    };
    GoldenSample {
        at,
        canary: row(Track::Canary),
        stable: row(Track::Stable),
    }
}

/// Requests a track served over `window_secs`.
pub fn requests(c: &Conditions, track: Track, at: DateTime<Utc>, window_secs: u64) -> u64 {
    value(c, Signal::Traffic, track, at).map_or(0, |rps| (rps * window_secs as f64) as u64)
}
