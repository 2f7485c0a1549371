//! The golden signals, canary against stable.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Track {
    Canary,
    Stable,
}

/// The six golden signals; each is measured by the SLI of the same name in `slo.yml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    ErrorRate,
    LatencyP99,
    LatencyP95,
    LatencyP50,
    Traffic,
    Saturation,
}

impl Signal {
    pub const ALL: [Signal; 6] = [
        Signal::ErrorRate,
        Signal::LatencyP99,
        Signal::LatencyP95,
        Signal::LatencyP50,
        Signal::Traffic,
        Signal::Saturation,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// The SLI name in `slo.yml` that measures this signal.
    pub fn sli(self) -> &'static str {
        match self {
            Signal::ErrorRate => "error_rate",
            Signal::LatencyP99 => "latency_p99",
            Signal::LatencyP95 => "latency_p95",
            Signal::LatencyP50 => "latency_p50",
            Signal::Traffic => "traffic",
            Signal::Saturation => "saturation",
        }
    }

    pub fn from_sli(name: &str) -> Option<Signal> {
        Signal::ALL.into_iter().find(|s| s.sli() == name)
    }

    pub fn label(self) -> &'static str {
        match self {
            Signal::ErrorRate => "error rate",
            Signal::LatencyP99 => "latency p99",
            Signal::LatencyP95 => "latency p95",
            Signal::LatencyP50 => "latency p50",
            Signal::Traffic => "traffic",
            Signal::Saturation => "saturation",
        }
    }

    /// A value in the unit people read this signal in.
    pub fn format(self, v: f64) -> String {
        match self {
            Signal::ErrorRate => format!("{:.2}%", v * 100.0),
            Signal::LatencyP99 | Signal::LatencyP95 | Signal::LatencyP50 => {
                format!("{:.0}ms", v * 1000.0)
            }
            Signal::Traffic => format!("{v:.1}rps"),
            Signal::Saturation => format!("{:.0}%", v * 100.0),
        }
    }
}

/// Format a value of a named SLI, in its signal's unit when it is one of the golden six.
pub fn format_sli(sli: &str, v: f64) -> String {
    match Signal::from_sli(sli) {
        Some(s) => s.format(v),
        None => format!("{v:.4}"),
    }
}

/// One reading of every golden signal on both tracks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldenSample {
    pub at: DateTime<Utc>,
    pub canary: [Option<f64>; 6],
    pub stable: [Option<f64>; 6],
}

impl GoldenSample {
    pub fn get(&self, signal: Signal, track: Track) -> Option<f64> {
        match track {
            Track::Canary => self.canary[signal.index()],
            Track::Stable => self.stable[signal.index()],
        }
    }
}
