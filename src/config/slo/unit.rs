//! How an SLI's values read (`docs/slo.md`, `slis`): written in `slo.yml`, used by the
//! verdict's words, the charts and the Grafana dashboard.

use serde::{Deserialize, Serialize};

/// How a signal's values are read: what a number means and how it is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A fraction, shown as a percentage with two decimals (0.0123 → 1.23%).
    Ratio,
    /// A fraction, shown as a whole percentage (0.42 → 42%).
    Percent,
    /// Seconds, shown as milliseconds.
    Seconds,
    /// Requests (or events) per second.
    PerSecond,
    /// Anything else, with four decimals.
    #[default]
    Number,
}

impl Unit {
    pub fn format(self, v: f64) -> String {
        match self {
            Unit::Ratio => format!("{:.2}%", v * 100.0),
            Unit::Percent => format!("{:.0}%", v * 100.0),
            Unit::Seconds => format!("{:.0}ms", v * 1000.0),
            Unit::PerSecond => format!("{v:.1}rps"),
            Unit::Number => format!("{v:.4}"),
        }
    }

    /// Grafana's name for the unit (a panel's `fieldConfig.defaults.unit`).
    pub fn grafana(self) -> &'static str {
        match self {
            Unit::Ratio | Unit::Percent => "percentunit",
            Unit::Seconds => "s",
            Unit::PerSecond => "reqps",
            Unit::Number => "short",
        }
    }
}
