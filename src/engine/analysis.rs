//! SLO analysis: one measurement of every objective's SLI on both tracks in, one explained
//! verdict out. A missing value is never a pass by accident, and a query error never counts
//! as a pass.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::slo::{Criterion, NoDataPolicy, SloConfig};
use crate::engine::signals::{Unit, unit_of};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
    NoData,
    Error,
}

impl Verdict {
    /// Pass and warn let the train go on; nothing else does.
    pub fn is_passing(self) -> bool {
        matches!(self, Verdict::Pass | Verdict::Warn)
    }

    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "FAIL",
            Verdict::NoData => "no data",
            Verdict::Error => "error",
        }
    }
}

/// What a source read for one SLI: both tracks, or the error that prevented it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SliReading {
    Values {
        canary: Option<f64>,
        stable: Option<f64>,
    },
    Error(String),
}

/// Everything read at one measurement tick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub at: DateTime<Utc>,
    /// Requests served by the canary over the window; `None` when it could not be read.
    pub canary_requests: Option<u64>,
    /// Requests served by stable over the window: none at 100 %, when there is nothing to
    /// compare with and relative bounds do not apply.
    pub stable_requests: Option<u64>,
    pub readings: BTreeMap<String, SliReading>,
}

/// The verdict for one objective, with what it was decided on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveVerdict {
    pub sli: String,
    pub key: bool,
    pub weight: u32,
    pub verdict: Verdict,
    pub canary: Option<f64>,
    pub stable: Option<f64>,
    /// The pass criterion as read, e.g. `<= 1.00% and <= stable +20%`.
    pub comparator: String,
    /// The tightest bound the canary had to meet at this measurement.
    pub threshold: Option<f64>,
    pub query: String,
    pub window: String,
    pub requests: Option<u64>,
    /// One sentence: why this verdict.
    pub reason: String,
    /// How the SLI's values read (a verdict written before units were kept reads as a
    /// number).
    #[serde(default)]
    pub unit: Unit,
}

/// The verdict of a whole measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub at: DateTime<Utc>,
    pub verdict: Verdict,
    /// Weighted score in percent, `None` when no objective could be scored.
    pub score: Option<f64>,
    pub reason: String,
    pub objectives: Vec<ObjectiveVerdict>,
    /// Burn-rate alerts, when `slo.yml` has them: shown, not part of the verdict.
    #[serde(default)]
    pub burn: Vec<crate::engine::burn::AlertState>,
}

/// Judge a measurement against the objectives of `cfg`. `queries` holds the resolved
/// canary query per SLI, shown as evidence.
pub fn analyse(cfg: &SloConfig, m: &Measurement, queries: &BTreeMap<String, String>) -> Analysis {
    let window = cfg.query_window().to_string();
    let min = cfg.defaults.min_requests;
    // An unreadable request count cannot show there were enough requests.
    let starved = min > 0 && m.canary_requests.is_none_or(|n| n < min);
    let no_stable = m.stable_requests == Some(0);
    let objectives: Vec<ObjectiveVerdict> = cfg
        .objectives
        .iter()
        .map(|o| {
            let reading = m.readings.get(&o.sli);
            let query = queries.get(&o.sli).cloned().unwrap_or_default();
            let unit = unit_of(cfg, &o.sli);
            let comparator = describe(unit, &o.pass);
            let base = ObjectiveVerdict {
                sli: o.sli.clone(),
                key: o.key,
                weight: o.weight,
                verdict: Verdict::NoData,
                canary: None,
                stable: None,
                comparator,
                threshold: None,
                query,
                window: window.clone(),
                requests: m.canary_requests,
                reason: String::new(),
                unit,
            };
            let ctx = Context {
                starved,
                no_stable,
                min,
                policy: cfg.defaults.no_data,
            };
            judge(base, reading, &o.pass, o.warn.as_ref(), &ctx)
        })
        .collect();
    summarise(cfg, m.at, objectives)
}

/// What holds for every objective of one measurement.
struct Context {
    starved: bool,
    no_stable: bool,
    min: u64,
    policy: NoDataPolicy,
}

fn judge(
    mut v: ObjectiveVerdict,
    reading: Option<&SliReading>,
    pass: &Criterion,
    warn: Option<&Criterion>,
    ctx: &Context,
) -> ObjectiveVerdict {
    let policy = ctx.policy;
    let no_data = |mut v: ObjectiveVerdict, why: String| {
        v.verdict = match policy {
            NoDataPolicy::Pass => Verdict::Pass,
            NoDataPolicy::Fail => Verdict::Fail,
            NoDataPolicy::Inconclusive => Verdict::NoData,
        };
        v.reason = format!("{why} (no_data: {})", policy_name(policy));
        v
    };
    let (canary, stable) = match reading {
        None => return no_data(v, "not measured".into()),
        Some(SliReading::Error(e)) => {
            v.verdict = Verdict::Error;
            v.reason = format!("query failed: {e}");
            return v;
        }
        Some(SliReading::Values { canary, stable }) => (*canary, *stable),
    };
    v.canary = canary;
    v.stable = stable;
    if ctx.starved {
        let why = match v.requests {
            Some(n) => format!("{n} canary requests < min_requests {}", ctx.min),
            None => "the canary's request count could not be read".into(),
        };
        return no_data(v, why);
    }
    // NaN is no answer; an infinite value is an answer (every request in the top bucket)
    // and is judged like any other.
    let Some(value) = canary.filter(|x| !x.is_nan()) else {
        return no_data(v, "the canary query returned no series".into());
    };
    // Stable serves nothing at 100 %: a bound relative to it cannot apply, and an
    // objective with nothing else to meet has no data.
    let relative_only = pass.lte.is_none() && pass.gte.is_none();
    let stable = if ctx.no_stable {
        if relative_only {
            return no_data(v, "stable serves no traffic to compare with".into());
        }
        v.comparator
            .push_str(" (relative bound skipped: stable serves no traffic)");
        None
    } else {
        if pass.vs_stable.is_some() && stable.filter(|x| x.is_finite()).is_none() {
            return no_data(v, "no stable value to compare with".into());
        }
        stable
    };
    let (ok, threshold, broken) = meets(v.unit, pass, value, stable, ctx.no_stable);
    v.threshold = threshold;
    if ok {
        v.verdict = Verdict::Pass;
        v.reason = format!("{} meets {}", v.unit.format(value), v.comparator);
        return v;
    }
    let warn_ok = warn.is_some_and(|w| meets(v.unit, w, value, stable, ctx.no_stable).0);
    v.verdict = if warn_ok {
        Verdict::Warn
    } else {
        Verdict::Fail
    };
    v.reason = format!(
        "{} breaks {}{}",
        v.unit.format(value),
        broken,
        if warn_ok { " (within warn)" } else { "" }
    );
    v
}

/// Whether `value` meets `c`; the tightest bound; the first bound it breaks, described.
fn meets(
    unit: Unit,
    c: &Criterion,
    value: f64,
    stable: Option<f64>,
    skip_relative: bool,
) -> (bool, Option<f64>, String) {
    // A relative bound with nothing to compare against is not met, unless stable serves
    // no traffic at all, when it does not apply.
    let stable = stable.filter(|s| s.is_finite());
    if c.vs_stable.is_some() && !skip_relative && stable.is_none() {
        return (
            false,
            None,
            "a bound relative to stable (no stable value)".into(),
        );
    }
    let mut bounds: Vec<(bool, f64, String)> = Vec::new();
    if let Some(l) = c.lte {
        bounds.push((true, l, format!("<= {}", unit.format(l))));
    }
    if let Some(g) = c.gte {
        bounds.push((false, g, format!(">= {}", unit.format(g))));
    }
    if let (Some(r), Some(s)) = (c.vs_stable, stable) {
        let b = r.bound(s);
        bounds.push((r.at_most, b, format!("stable {r} (= {})", unit.format(b))));
    }
    let threshold = bounds
        .iter()
        .filter(|(upper, _, _)| *upper)
        .map(|(_, b, _)| *b)
        .reduce(f64::min)
        .or_else(|| bounds.iter().map(|(_, b, _)| *b).reduce(f64::max));
    let broken = bounds
        .iter()
        .find(|(upper, b, _)| if *upper { value > *b } else { value < *b });
    match broken {
        Some((_, _, text)) => (false, threshold, text.clone()),
        None if bounds.is_empty() => (false, None, "no bound that applies".into()),
        None => (true, threshold, String::new()),
    }
}

fn describe(unit: Unit, c: &Criterion) -> String {
    let mut parts = Vec::new();
    if let Some(l) = c.lte {
        parts.push(format!("<= {}", unit.format(l)));
    }
    if let Some(g) = c.gte {
        parts.push(format!(">= {}", unit.format(g)));
    }
    if let Some(r) = c.vs_stable {
        parts.push(format!("stable {r}"));
    }
    parts.join(" and ")
}

fn policy_name(p: NoDataPolicy) -> &'static str {
    match p {
        NoDataPolicy::Pass => "pass",
        NoDataPolicy::Fail => "fail",
        NoDataPolicy::Inconclusive => "inconclusive",
    }
}

/// Key objectives first, then errors, then missing data, then the weighted score.
fn summarise(cfg: &SloConfig, at: DateTime<Utc>, objectives: Vec<ObjectiveVerdict>) -> Analysis {
    let total: u32 = objectives.iter().map(|o| o.weight).sum();
    let earned: f64 = objectives
        .iter()
        .map(|o| match o.verdict {
            Verdict::Pass => f64::from(o.weight),
            Verdict::Warn => f64::from(o.weight) / 2.0,
            _ => 0.0,
        })
        .sum();
    let scorable = objectives
        .iter()
        .all(|o| matches!(o.verdict, Verdict::Pass | Verdict::Warn | Verdict::Fail));
    let score = (scorable && total > 0).then(|| earned * 100.0 / f64::from(total));
    let (verdict, reason) = if let Some(k) = objectives
        .iter()
        .find(|o| o.key && o.verdict == Verdict::Fail)
    {
        (
            Verdict::Fail,
            format!("key objective {}: {}", k.sli, k.reason),
        )
    } else if let Some(e) = objectives.iter().find(|o| o.verdict == Verdict::Error) {
        (Verdict::Error, format!("{}: {}", e.sli, e.reason))
    } else if let Some(n) = objectives.iter().find(|o| o.verdict == Verdict::NoData) {
        (Verdict::NoData, format!("{}: {}", n.sli, n.reason))
    } else if let Some(s) = score {
        let failing: Vec<&str> = objectives
            .iter()
            .filter(|o| o.verdict == Verdict::Fail)
            .map(|o| o.sli.as_str())
            .collect();
        let detail = if failing.is_empty() {
            String::new()
        } else {
            format!("; failing: {}", failing.join(", "))
        };
        if s >= cfg.score.pass {
            (
                Verdict::Pass,
                format!("score {s:.0}% >= {}%{detail}", cfg.score.pass),
            )
        } else if s >= cfg.score.warn {
            (
                Verdict::Warn,
                format!("score {s:.0}% >= warn {}%{detail}", cfg.score.warn),
            )
        } else {
            (
                Verdict::Fail,
                format!("score {s:.0}% < {}%{detail}", cfg.score.warn),
            )
        }
    } else {
        (Verdict::NoData, "no objectives".into())
    };
    Analysis {
        at,
        verdict,
        score,
        reason,
        objectives,
        burn: Vec::new(),
    }
}

#[cfg(test)]
mod tests;
