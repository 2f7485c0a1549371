//! `.ci/config/slo.yml`: rollout steps, measurement policy, SLIs and objectives.
//! Parsed with serde_yaml_ng and then checked as a whole (SPEC §5); see `docs/slo.md`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use super::{ConfigError, Span};

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum RollbackTo {
    #[default]
    Previous,
    LastPassing,
    Revision(u32),
}

impl<'de> Deserialize<'de> for RollbackTo {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u32),
            Word(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Ok(RollbackTo::Revision(n)),
            Raw::Word(w) => match w.as_str() {
                "previous" => Ok(RollbackTo::Previous),
                "last_passing" => Ok(RollbackTo::LastPassing),
                other => other.parse().map(RollbackTo::Revision).map_err(|_| {
                    serde::de::Error::custom(format!(
                        "rollback_to: expected previous, last_passing or a revision number, found `{other}`"
                    ))
                }),
            },
        }
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
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
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
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(path, format!("cannot read: {e}")))?;
        Self::parse(path, &text)
    }

    /// Parses and checks; `origin` only names the file in errors.
    pub fn parse(origin: &Path, text: &str) -> Result<Self, ConfigError> {
        let cfg: SloConfig =
            serde_yaml_ng::from_str(text).map_err(|e| ConfigError::from_yaml(origin, &e))?;
        cfg.check().map_err(|(needle, msg)| {
            let e = ConfigError::new(origin, msg);
            match locate(text, &needle) {
                Some((l, c)) => e.at(l, c),
                None => e,
            }
        })?;
        Ok(cfg)
    }

    /// Whole-file rules that no single field can express. On failure: a text to locate the
    /// problem by, and the message.
    fn check(&self) -> Result<(), (String, String)> {
        let steps = &self.rollout.steps;
        if steps.is_empty() {
            return Err((
                "steps".into(),
                "rollout.steps: at least one step is required".into(),
            ));
        }
        for pair in steps.windows(2) {
            if pair[1].weight <= pair[0].weight {
                return Err((
                    format!("weight: {}", pair[1].weight),
                    format!(
                        "rollout.steps: weights must be strictly increasing, but {} follows {}",
                        pair[1].weight, pair[0].weight
                    ),
                ));
            }
        }
        let last = steps[steps.len() - 1].weight;
        if last != 100 {
            return Err((
                format!("weight: {last}"),
                format!("rollout.steps: the last step must have weight 100, found {last}"),
            ));
        }
        let needed =
            self.rollout.initial_delay.0 + self.rollout.interval.0 * self.defaults.failure_limit;
        for s in steps {
            if s.observe.0 < needed {
                return Err((
                    format!("weight: {}", s.weight),
                    format!(
                        "rollout.steps: the {} % window ({}) is shorter than initial_delay + failure_limit × interval ({})",
                        s.weight,
                        s.observe,
                        Span(needed)
                    ),
                ));
            }
        }
        if self.rollout.interval.0.is_zero() {
            return Err((
                "interval".into(),
                "rollout.interval must be more than 0s".into(),
            ));
        }
        if self.defaults.failure_limit == 0 || self.defaults.error_limit == 0 {
            return Err((
                "failure_limit".into(),
                "defaults: failure_limit and error_limit must be at least 1".into(),
            ));
        }
        for (name, sli) in &self.slis {
            if !sli.query.contains("$selector") {
                return Err((
                    format!("{name}:"),
                    format!(
                        "slis.{name}: the query must use $selector so canary and stable can be told apart"
                    ),
                ));
            }
        }
        for o in &self.objectives {
            if !self.slis.contains_key(&o.sli) {
                return Err((
                    format!("sli: {}", o.sli),
                    format!(
                        "objectives: `{}` is not one of the slis ({})",
                        o.sli,
                        self.sli_names()
                    ),
                ));
            }
            if o.pass.lte.is_none() && o.pass.gte.is_none() && o.pass.vs_stable.is_none() {
                return Err((
                    format!("sli: {}", o.sli),
                    format!("objectives.{}: pass needs lte, gte or vs_stable", o.sli),
                ));
            }
            if let Some(w) = &o.warn
                && let Some(msg) = warn_tighter_than_pass(&o.pass, w)
            {
                return Err((
                    format!("sli: {}", o.sli),
                    format!("objectives.{}: {msg}", o.sli),
                ));
            }
        }
        if !(0.0..=100.0).contains(&self.score.pass) || self.score.warn > self.score.pass {
            return Err((
                "score".into(),
                "score: expected 0 <= warn <= pass <= 100".into(),
            ));
        }
        Ok(())
    }

    fn sli_names(&self) -> String {
        self.slis.keys().cloned().collect::<Vec<_>>().join(", ")
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

fn warn_tighter_than_pass(pass: &Criterion, warn: &Criterion) -> Option<String> {
    if let (Some(p), Some(w)) = (pass.lte, warn.lte)
        && w < p
    {
        return Some(format!("warn.lte ({w}) must be looser than pass.lte ({p})"));
    }
    if let (Some(p), Some(w)) = (pass.gte, warn.gte)
        && w > p
    {
        return Some(format!("warn.gte ({w}) must be looser than pass.gte ({p})"));
    }
    None
}

/// Line and column of the first occurrence of `needle`, to point at a whole-file problem.
fn locate(text: &str, needle: &str) -> Option<(usize, usize)> {
    text.find(needle)
        .map(|offset| super::error::line_column(text, offset))
}

const DEFAULT_REQUESTS: &str = "sum(increase(http_requests_total{$selector}[$window]))";

/// Fills `$selector` and `$window` into a query.
pub fn resolve_query(query: &str, selector: &str, window: Span) -> String {
    query
        .replace("$selector", selector)
        .replace("$window", &prom_duration(window))
}

/// Prometheus writes durations as `90s`, `5m`, `1h`: no spaces, one unit.
fn prom_duration(s: Span) -> String {
    let secs = s.as_secs();
    if secs.is_multiple_of(3600) && secs > 0 {
        format!("{}h", secs / 3600)
    } else if secs.is_multiple_of(60) && secs > 0 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}
