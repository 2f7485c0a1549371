//! `.ci/config/slo.yml`: rollout steps, measurement policy, SLIs and objectives.
//! Parsed with serde_yaml_ng and then checked as a whole (`docs/slo.md`, `rules`); a rejected file
//! is reported with the line and column of the offending node (`nodes`). See `docs/slo.md`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::{ConfigError, Span};

use super::nodes;
mod rules;
mod unit;

pub use unit::Unit;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloConfig {
    pub version: u32,
    pub selectors: Selectors,
    pub rollout: Rollout,
    pub defaults: Defaults,
    pub slis: BTreeMap<String, Sli>,
    /// Requests served over the window, per track, for `min_requests`.
    #[serde(default)]
    pub requests: Option<Sli>,
    pub objectives: Vec<Objective>,
    pub score: ScoreThresholds,
    #[serde(default)]
    pub burn_rate: Option<BurnRate>,
    /// The SLIs charted canary against stable, in pairs, in this order; without it, the
    /// six well-known ones the file has (`docs/slo.md`, `golden`).
    #[serde(default)]
    pub golden: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selectors {
    pub canary: String,
    pub stable: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rollout {
    pub steps: Vec<Step>,
    pub interval: Span,
    pub initial_delay: Span,
    #[serde(default)]
    pub on_fail: OnFail,
    #[serde(default)]
    pub rollback_to: RollbackTo,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub weight: u8,
    pub observe: Span,
    #[serde(default)]
    pub gate: Gate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gate {
    #[default]
    Auto,
    Manual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFail {
    #[default]
    Rollback,
    Pause,
}

/// Which revision an automatic rollback returns to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RollbackTo {
    #[default]
    Previous,
    LastPassing,
    Revision(u32),
}

/// Written as slo.yml spells it, so it reads back (the train is shared as JSON).
impl Serialize for RollbackTo {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RollbackTo::Previous => s.serialize_str("previous"),
            RollbackTo::LastPassing => s.serialize_str("last_passing"),
            RollbackTo::Revision(n) => s.serialize_u32(*n),
        }
    }
}

impl<'de> Deserialize<'de> for RollbackTo {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor rather than an untagged enum, so a bad value is reported at its own
        // position and says what was expected.
        struct RollbackToVisitor;
        impl Visitor<'_> for RollbackToVisitor {
            type Value = RollbackTo;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("previous, last_passing or a revision number")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<RollbackTo, E> {
                match u32::try_from(n) {
                    Ok(n) if n >= 1 => Ok(RollbackTo::Revision(n)),
                    _ => Err(E::custom(format!(
                        "expected previous, last_passing or a revision number from 1, found {n}"
                    ))),
                }
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<RollbackTo, E> {
                match u64::try_from(n) {
                    Ok(n) => self.visit_u64(n),
                    Err(_) => Err(E::custom(format!(
                        "expected previous, last_passing or a revision number from 1, found {n}"
                    ))),
                }
            }
            fn visit_str<E: de::Error>(self, w: &str) -> Result<RollbackTo, E> {
                match w {
                    "previous" => Ok(RollbackTo::Previous),
                    "last_passing" => Ok(RollbackTo::LastPassing),
                    other => match other.parse::<u64>() {
                        Ok(n) => self.visit_u64(n),
                        Err(_) => Err(E::custom(format!(
                            "expected previous, last_passing or a revision number, found `{other}`"
                        ))),
                    },
                }
            }
        }
        d.deserialize_any(RollbackToVisitor)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    pub failure_limit: u32,
    pub error_limit: u32,
    #[serde(default)]
    pub no_data: NoDataPolicy,
    #[serde(default)]
    pub min_requests: u64,
}

/// What a measurement below `min_requests` (or with no series at all) counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoDataPolicy {
    Pass,
    Fail,
    #[default]
    Inconclusive,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sli {
    pub query: String,
    /// How its values read; the well-known golden signals know theirs.
    #[serde(default)]
    pub unit: Option<Unit>,
    /// Its name in words, for a chart's title.
    #[serde(default)]
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objective {
    pub sli: String,
    #[serde(default)]
    pub key: bool,
    #[serde(default = "one")]
    pub weight: u32,
    pub pass: Criterion,
    #[serde(default)]
    pub warn: Option<Criterion>,
}

fn one() -> u32 {
    1
}

/// Bounds a canary value must meet: absolute, and/or relative to the stable track.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    #[serde(default)]
    pub lte: Option<f64>,
    #[serde(default)]
    pub gte: Option<f64>,
    #[serde(default)]
    pub vs_stable: Option<Relative>,
}

/// `"<=+20%"`: the canary may be at most 20 % above stable; `">=-10%"`: at most 10 % below.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Relative {
    pub at_most: bool,
    pub percent: f64,
}

impl Relative {
    /// The bound on the canary for a given stable value.
    pub fn bound(&self, stable: f64) -> f64 {
        stable * (1.0 + self.percent / 100.0)
    }
}

impl FromStr for Relative {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || format!("expected a bound relative to stable such as \"<=+20%\", found `{s}`");
        let t = s.trim();
        let (at_most, rest) = if let Some(r) = t.strip_prefix("<=") {
            (true, r)
        } else if let Some(r) = t.strip_prefix(">=") {
            (false, r)
        } else {
            return Err(err());
        };
        let number = rest.trim().strip_suffix('%').ok_or_else(err)?;
        let percent: f64 = number.trim().parse().map_err(|_| err())?;
        if !percent.is_finite() {
            return Err(err());
        }
        Ok(Relative { at_most, percent })
    }
}

impl fmt::Display for Relative {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = if self.at_most { "<=" } else { ">=" };
        write!(f, "{op}{:+}%", self.percent)
    }
}

impl Serialize for Relative {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Relative {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor, so the error is raised while the deserializer still knows the position.
        struct RelativeVisitor;
        impl Visitor<'_> for RelativeVisitor {
            type Value = Relative;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a bound relative to stable such as \"<=+20%\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Relative, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(RelativeVisitor)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreThresholds {
    pub pass: f64,
    pub warn: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BurnRate {
    pub target: f64,
    pub period: Span,
    pub alerts: Vec<BurnAlert>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BurnAlert {
    pub severity: String,
    pub long: Span,
    pub short: Span,
    pub factor: f64,
}

impl SloConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = super::source::read(path)?;
        Self::parse(path, &text)
    }

    /// Parses and checks; `origin` only names the file in errors.
    ///
    /// serde_yaml_ng gives the typed values, and positions for syntax and type errors. The
    /// whole-file rules (`rules`) name the node they reject by its path; the text is then
    /// read a second time into a tree with positions to say where that node is.
    pub fn parse(origin: &Path, text: &str) -> Result<Self, ConfigError> {
        super::prescan::check(origin, text)?;
        let cfg: SloConfig =
            serde_yaml_ng::from_str(text).map_err(|e| ConfigError::from_yaml(origin, &e))?;
        rules::check(&cfg).map_err(|problem| {
            let e = ConfigError::new(origin, problem.to_string());
            match nodes::Positions::parse(text).find(&problem.at) {
                Some((line, column)) => e.at(line, column),
                None => e,
            }
        })?;
        Ok(cfg)
    }

    /// The range each query's `$window` covers: the measurement interval, but never less
    /// than 30 s, so a `rate()` always spans several scrapes.
    pub fn query_window(&self) -> Span {
        self.rollout.interval.max(Span::secs(30))
    }

    /// The query counting requests per track over the window: `requests`, or the usual
    /// `http_requests_total` increase.
    pub fn requests_query(&self) -> String {
        self.requests
            .as_ref()
            .map_or_else(|| DEFAULT_REQUESTS.to_string(), |s| s.query.clone())
    }

    /// The weight of each step, in order.
    pub fn weights(&self) -> Vec<u8> {
        self.rollout.steps.iter().map(|s| s.weight).collect()
    }
}

const DEFAULT_REQUESTS: &str = "sum(increase(http_requests_total{$selector}[$window]))";

/// Fills `$selector` and `$window` into a query.
pub fn resolve_query(query: &str, selector: &str, window: Span) -> String {
    query
        .replace("$selector", selector)
        .replace("$window", &prom_duration(window))
}

/// Prometheus writes durations as `90s`, `5m`, `1h`: no spaces, one unit.
pub fn prom_duration(s: Span) -> String {
    let secs = s.as_secs();
    if secs.is_multiple_of(3600) && secs > 0 {
        format!("{}h", secs / 3600)
    } else if secs.is_multiple_of(60) && secs > 0 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}
