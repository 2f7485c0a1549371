//! The golden signals, canary against stable. Which SLIs they are comes from `slo.yml`
//! (`golden`, `docs/slo.md`); the six well-known ones below are the default and lend their
//! names, words and units to any file that uses them.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::slo::SloConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Track {
    Canary,
    Stable,
}

pub use crate::config::slo::Unit;

/// The six well-known golden signals: the SLIs of these names get their words and units
/// without being told, and are the charts when `slo.yml` names none.
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
    /// In the order the charts pair them: errors beside the tail latency first.
    pub const ALL: [Signal; 6] = [
        Signal::ErrorRate,
        Signal::LatencyP99,
        Signal::LatencyP50,
        Signal::LatencyP95,
        Signal::Traffic,
        Signal::Saturation,
    ];

    /// A number of its own, stable whatever the order of [`Signal::ALL`].
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

    pub fn unit(self) -> Unit {
        match self {
            Signal::ErrorRate => Unit::Ratio,
            Signal::LatencyP99 | Signal::LatencyP95 | Signal::LatencyP50 => Unit::Seconds,
            Signal::Traffic => Unit::PerSecond,
            Signal::Saturation => Unit::Percent,
        }
    }
}

/// The unit of an SLI: as `slo.yml` gives it, else its well-known signal's, else a number.
pub fn unit_of(slo: &SloConfig, sli: &str) -> Unit {
    slo.slis
        .get(sli)
        .and_then(|s| s.unit)
        .or_else(|| Signal::from_sli(sli).map(Signal::unit))
        .unwrap_or(Unit::Number)
}

/// A value of a named SLI, in its unit.
pub fn format_sli(slo: &SloConfig, sli: &str, v: f64) -> String {
    unit_of(slo, sli).format(v)
}

/// One charted signal.
#[derive(Debug, Clone, PartialEq)]
pub struct Golden {
    /// The SLI in `slo.yml` that measures it.
    pub sli: String,
    pub label: String,
    pub unit: Unit,
}

/// The golden signals, in the order the charts pair them: the first beside the second,
/// the third beside the fourth, and so on. Every [`GoldenSample`] holds one value per
/// signal and track, in this order.
#[derive(Debug, Clone, PartialEq)]
pub struct GoldenSet(Arc<[Golden]>);

impl Default for GoldenSet {
    /// The six well-known signals.
    fn default() -> Self {
        GoldenSet(
            Signal::ALL
                .iter()
                .map(|s| Golden {
                    sli: s.sli().into(),
                    label: s.label().into(),
                    unit: s.unit(),
                })
                .collect(),
        )
    }
}

impl GoldenSet {
    /// `slo.yml`'s `golden`, or, when it names none, those of the six well-known signals
    /// it has SLIs for.
    pub fn of(slo: &SloConfig) -> Self {
        let names: Vec<&str> = match &slo.golden {
            Some(names) => names.iter().map(String::as_str).collect(),
            None => Signal::ALL
                .iter()
                .map(|s| s.sli())
                .filter(|name| slo.slis.contains_key(*name))
                .collect(),
        };
        GoldenSet(
            names
                .into_iter()
                .map(|name| Golden {
                    sli: name.into(),
                    label: slo
                        .slis
                        .get(name)
                        .and_then(|s| s.label.clone())
                        .or_else(|| Signal::from_sli(name).map(|s| s.label().into()))
                        .unwrap_or_else(|| name.replace('_', " ")),
                    unit: unit_of(slo, name),
                })
                .collect(),
        )
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&Golden> {
        self.0.get(i)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Golden> {
        self.0.iter()
    }

    pub fn position(&self, sli: &str) -> Option<usize> {
        self.0.iter().position(|g| g.sli == sli)
    }

    /// The value of the signal measured by `sli` in `sample` (one of this set's).
    pub fn value(&self, sample: &GoldenSample, sli: &str, track: Track) -> Option<f64> {
        sample.get(self.position(sli)?, track)
    }

    /// How many pairs of charts `g` cycles through.
    pub fn pairs(&self) -> usize {
        self.0.len().div_ceil(2)
    }

    /// The signals of the `n`th pair (of [`GoldenSet::pairs`], wrapping): the second is
    /// missing when an odd last one stands alone.
    pub fn pair(&self, n: usize) -> Option<(usize, Option<usize>)> {
        let pairs = self.pairs();
        (pairs > 0).then(|| {
            let first = (n % pairs) * 2;
            (first, (first + 1 < self.0.len()).then_some(first + 1))
        })
    }
}

/// One reading of every golden signal on both tracks, in its [`GoldenSet`]'s order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldenSample {
    pub at: DateTime<Utc>,
    pub canary: Box<[Option<f64>]>,
    pub stable: Box<[Option<f64>]>,
}

impl GoldenSample {
    /// The value of the `i`th signal on `track`; `None` without data or past the set.
    pub fn get(&self, i: usize, track: Track) -> Option<f64> {
        match track {
            Track::Canary => self.canary.get(i).copied().flatten(),
            Track::Stable => self.stable.get(i).copied().flatten(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slo(extra: &str) -> SloConfig {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/config/slo.yml"))
                .unwrap();
        SloConfig::parse(
            std::path::Path::new("slo.yml"),
            &(text.replacen(
                "\nobjectives:",
                "\n  queue_depth: {query: 'sum(queue_depth{$selector})'}\nobjectives:",
                1,
            ) + extra),
        )
        .unwrap()
    }

    #[test]
    fn without_golden_the_six_well_known_slis_are_charted_in_pairs() {
        let set = GoldenSet::of(&slo(""));
        let names: Vec<&str> = set.iter().map(|g| g.sli.as_str()).collect();
        assert_eq!(
            names,
            [
                "error_rate",
                "latency_p99",
                "latency_p50",
                "latency_p95",
                "traffic",
                "saturation"
            ]
        );
        assert_eq!(set, GoldenSet::default());
        assert_eq!(set.pairs(), 3);
        assert_eq!(set.pair(2), Some((4, Some(5))));
        assert_eq!(set.pair(3), Some((0, Some(1))), "g wraps round");
    }

    #[test]
    fn golden_names_any_sli_with_its_own_words_and_unit_and_an_odd_last_stands_alone() {
        let cfg = slo("golden: [error_rate, latency_p99, queue_depth]\n");
        let set = GoldenSet::of(&cfg);
        assert_eq!(set.len(), 3);
        let queue = set.get(2).unwrap();
        assert_eq!(queue.label, "queue depth");
        assert_eq!(queue.unit, Unit::Number);
        assert_eq!(set.pair(1), Some((2, None)));
        assert_eq!(format_sli(&cfg, "queue_depth", 12.5), "12.5000");
        assert_eq!(format_sli(&cfg, "error_rate", 0.0123), "1.23%");
    }

    #[test]
    fn an_empty_set_has_no_pair() {
        let set = GoldenSet(Arc::from(Vec::new()));
        assert_eq!(set.pairs(), 0);
        assert_eq!(set.pair(0), None);
    }
}
