//! The whole-file rules of `slo.yml` (`docs/slo.md`, "Load-time checks"): what no
//! single field's type can say. Each broken rule names the node to fix by its path; this
//! module never looks at the text.

use std::fmt;

use super::{
    BurnRate, Criterion, Defaults, Objective, ScoreThresholds, Selectors, SloConfig, Span,
};
use crate::config::nodes::NodePath;

/// A broken rule: the node to fix and what was expected of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub at: NodePath,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

type Checked = Result<(), Problem>;

fn reject(at: NodePath, message: impl Into<String>) -> Checked {
    Err(Problem {
        at,
        message: message.into(),
    })
}

fn root(key: &str) -> NodePath {
    NodePath::root().key(key)
}

/// The rules in the order `docs/slo.md` lists them; the first broken one is reported.
pub fn check(cfg: &SloConfig) -> Checked {
    if cfg.version != 1 {
        return reject(
            root("version"),
            format!(
                "expected 1, the only format version captain reads, found {}",
                cfg.version
            ),
        );
    }
    selectors(&cfg.selectors)?;
    steps(cfg)?;
    cadence(cfg)?;
    defaults(&cfg.defaults)?;
    windows(cfg)?;
    queries(cfg)?;
    for (i, o) in cfg.objectives.iter().enumerate() {
        objective(cfg, i, o)?;
    }
    score(&cfg.score)?;
    if let Some(b) = &cfg.burn_rate {
        burn_rate(b)?;
    }
    if let Some(names) = &cfg.golden {
        golden(cfg, names)?;
    }
    Ok(())
}

/// The most golden signals the charts cycle through: six pairs.
pub const GOLDEN_MAX: usize = 12;

fn golden(cfg: &SloConfig, names: &[String]) -> Checked {
    let at = root("golden");
    if names.len() > GOLDEN_MAX {
        return reject(
            at.index(GOLDEN_MAX),
            format!(
                "at most {GOLDEN_MAX} golden signals (six pairs of charts), found {}",
                names.len()
            ),
        );
    }
    for (i, name) in names.iter().enumerate() {
        if !cfg.slis.contains_key(name) {
            let known = cfg.slis.keys().cloned().collect::<Vec<_>>().join(", ");
            return reject(
                at.index(i),
                format!("`{name}` is not one of the slis ({known})"),
            );
        }
        if let Some(first) = names[..i].iter().position(|n| n == name) {
            return reject(
                at.index(i),
                format!("`{name}` is already charted (golden[{first}]); name each SLI once"),
            );
        }
    }
    Ok(())
}

fn selectors(s: &Selectors) -> Checked {
    for (track, selector) in [("canary", &s.canary), ("stable", &s.stable)] {
        if selector.trim().is_empty() {
            return reject(
                root("selectors").key(track),
                format!(
                    "expected label matchers such as track=\"{track}\", found an empty selector"
                ),
            );
        }
    }
    Ok(())
}

fn steps(cfg: &SloConfig) -> Checked {
    let steps = &cfg.rollout.steps;
    let at = root("rollout").key("steps");
    if steps.is_empty() {
        return reject(at, "at least one step is required");
    }
    let mut previous: Option<u8> = None;
    for (i, step) in steps.iter().enumerate() {
        let weight = at.clone().index(i).key("weight");
        if !(1..=100).contains(&step.weight) {
            return reject(
                weight,
                format!(
                    "expected a weight from 1 to 100 (percent of traffic), found {}",
                    step.weight
                ),
            );
        }
        if let Some(p) = previous
            && step.weight <= p
        {
            return reject(
                weight,
                format!(
                    "weights must be strictly increasing, but {} follows {p}",
                    step.weight
                ),
            );
        }
        previous = Some(step.weight);
    }
    let last = steps.len() - 1;
    if steps[last].weight != 100 {
        return reject(
            at.index(last).key("weight"),
            format!(
                "the last step must have weight 100, found {}",
                steps[last].weight
            ),
        );
    }
    Ok(())
}

fn cadence(cfg: &SloConfig) -> Checked {
    if cfg.rollout.interval.0.is_zero() {
        return reject(
            root("rollout").key("interval"),
            "expected a measurement interval of more than 0s",
        );
    }
    Ok(())
}

fn defaults(d: &Defaults) -> Checked {
    for (name, value) in [
        ("failure_limit", d.failure_limit),
        ("error_limit", d.error_limit),
    ] {
        if value == 0 {
            return reject(
                root("defaults").key(name),
                "expected at least 1 consecutive measurement, found 0",
            );
        }
    }
    Ok(())
}

/// A window must hold the warm-up and `failure_limit` measurements, or a breach in it could
/// never be acted on before the train promotes.
fn windows(cfg: &SloConfig) -> Checked {
    let r = &cfg.rollout;
    let needed = r
        .interval
        .0
        .saturating_mul(cfg.defaults.failure_limit)
        .saturating_add(r.initial_delay.0);
    for (i, step) in r.steps.iter().enumerate() {
        if step.observe.0 < needed {
            return reject(
                root("rollout").key("steps").index(i).key("observe"),
                format!(
                    "the {} % window ({}) is shorter than initial_delay + failure_limit × interval ({})",
                    step.weight,
                    step.observe,
                    Span(needed)
                ),
            );
        }
    }
    Ok(())
}

fn queries(cfg: &SloConfig) -> Checked {
    let slis = cfg
        .slis
        .iter()
        .map(|(name, sli)| (root("slis").key(name.as_str()).key("query"), sli));
    let requests = cfg
        .requests
        .iter()
        .map(|sli| (root("requests").key("query"), sli));
    for (at, sli) in slis.chain(requests) {
        if !sli.query.contains("$selector") {
            return reject(
                at,
                "the query must use $selector so canary and stable can be told apart",
            );
        }
    }
    Ok(())
}

fn objective(cfg: &SloConfig, i: usize, o: &Objective) -> Checked {
    let at = root("objectives").index(i);
    if !cfg.slis.contains_key(&o.sli) {
        let names = cfg.slis.keys().cloned().collect::<Vec<_>>().join(", ");
        return reject(
            at.key("sli"),
            format!("`{}` is not one of the slis ({names})", o.sli),
        );
    }
    if let Some(first) = cfg.objectives[..i].iter().position(|p| p.sli == o.sli) {
        return reject(
            at.key("sli"),
            format!(
                "`{}` already has an objective (objectives[{first}]); give each SLI one",
                o.sli
            ),
        );
    }
    if o.weight == 0 {
        return reject(at.key("weight"), "expected a weight of at least 1, found 0");
    }
    criterion(at.clone().key("pass"), &o.pass)?;
    if let Some(warn) = &o.warn {
        criterion(at.clone().key("warn"), warn)?;
        if let Some(why) = tighter(&o.pass, warn) {
            return reject(at.key("warn").key_itself(), why);
        }
    }
    Ok(())
}

/// A criterion bounds something, with numbers that compare: an empty `warn` would turn every
/// fail into a warn.
fn criterion(at: NodePath, c: &Criterion) -> Checked {
    if c.lte.is_none() && c.gte.is_none() && c.vs_stable.is_none() {
        return reject(
            at.key_itself(),
            "expected at least one of lte, gte, vs_stable",
        );
    }
    for (name, bound) in [("lte", c.lte), ("gte", c.gte)] {
        if let Some(x) = bound
            && !x.is_finite()
        {
            return reject(
                at.clone().key(name),
                format!("expected a finite number, found {x}"),
            );
        }
    }
    Ok(())
}

/// Why `warn` does not let through at least what `pass` lets through, if it does not.
fn tighter(pass: &Criterion, warn: &Criterion) -> Option<String> {
    if let (Some(p), Some(w)) = (pass.lte, warn.lte)
        && w < p
    {
        return Some(format!(
            "warn must be looser than pass, but warn.lte ({w}) < pass.lte ({p})"
        ));
    }
    if let (Some(p), Some(w)) = (pass.gte, warn.gte)
        && w > p
    {
        return Some(format!(
            "warn must be looser than pass, but warn.gte ({w}) > pass.gte ({p})"
        ));
    }
    if let (Some(p), Some(w)) = (pass.vs_stable, warn.vs_stable) {
        if p.at_most != w.at_most {
            return Some(format!(
                "warn must be looser than pass, but warn.vs_stable ({w}) bounds the other side from pass.vs_stable ({p})"
            ));
        }
        let looser = if p.at_most {
            w.percent >= p.percent
        } else {
            w.percent <= p.percent
        };
        if !looser {
            let op = if p.at_most { "<" } else { ">" };
            return Some(format!(
                "warn must be looser than pass, but warn.vs_stable ({w}) {op} pass.vs_stable ({p})"
            ));
        }
    }
    None
}

fn score(s: &ScoreThresholds) -> Checked {
    let ordered = 0.0 <= s.warn && s.warn <= s.pass && s.pass <= 100.0;
    if !ordered {
        return reject(
            root("score").key_itself(),
            format!(
                "expected 0 <= warn <= pass <= 100, found warn {} and pass {}",
                s.warn, s.pass
            ),
        );
    }
    Ok(())
}

fn burn_rate(b: &BurnRate) -> Checked {
    let at = root("burn_rate");
    if !(b.target > 0.0 && b.target < 100.0) {
        return reject(
            at.key("target"),
            format!(
                "expected an SLO target in percent, more than 0 and less than 100, found {}",
                b.target
            ),
        );
    }
    if b.period.0.is_zero() {
        return reject(at.key("period"), "expected a period of more than 0s");
    }
    for (i, a) in b.alerts.iter().enumerate() {
        let alert = at.clone().key("alerts").index(i);
        if a.short.0.is_zero() {
            return reject(alert.key("short"), "expected a window of more than 0s");
        }
        if a.short >= a.long {
            return reject(
                alert.key("short"),
                format!(
                    "the short window ({}) must be shorter than the long window ({})",
                    a.short, a.long
                ),
            );
        }
        if !(a.factor > 0.0 && a.factor.is_finite()) {
            return reject(
                alert.key("factor"),
                format!(
                    "expected a burn-rate factor of more than 0, found {}",
                    a.factor
                ),
            );
        }
    }
    Ok(())
}
