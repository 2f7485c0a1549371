//! The Prometheus rule file `captain slo rules` writes: one group, evaluated at the
//! measurement interval, that records every SLI on both tracks and the error ratio over
//! every burn-rate window, and alerts when both windows of a `burn_rate` alert burn the
//! error budget faster than its factor (the Google SRE workbook's multi-window,
//! multi-burn-rate alerts, as `engine::burn` judges them).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{
    BURN_ALERT, GROUP, GenerateError, Sources, TRACK_LABEL, budget_expr, burn_record, sli_record,
    track_name,
};
use crate::config::slo::{SloConfig, prom_duration};
use crate::engine::signals::Track;

/// A rule file as Prometheus reads it (`rule_files`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleFile {
    pub groups: Vec<Group>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub name: String,
    pub interval: String,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Rule {
    Record {
        record: String,
        expr: String,
        labels: BTreeMap<String, String>,
    },
    Alert {
        alert: String,
        expr: String,
        labels: BTreeMap<String, String>,
        annotations: BTreeMap<String, String>,
    },
}

impl Rule {
    /// The recorded series' or the alert's name.
    pub fn name(&self) -> &str {
        match self {
            Rule::Record { record, .. } => record,
            Rule::Alert { alert, .. } => alert,
        }
    }

    pub fn expr(&self) -> &str {
        match self {
            Rule::Record { expr, .. } | Rule::Alert { expr, .. } => expr,
        }
    }
}

/// Why the file has no alerts, when `slo.yml` asks for some and they cannot be written.
pub fn alerts_left_out(slo: &SloConfig) -> Option<&'static str> {
    match &slo.burn_rate {
        Some(b) if !b.alerts.is_empty() && !slo.slis.contains_key("error_rate") => Some(
            "burn_rate has alerts, but there is no `error_rate` SLI to measure the error ratio with: no alert is written",
        ),
        _ => None,
    }
}

/// The annotation every alerting rule carries: a digest of the whole group as slo.yml
/// made it, so a group loaded from an older rule file is told apart from the one slo.yml
/// makes now, whatever Prometheus does to the expressions' spelling when it reports them.
pub const DIGEST_ANNOTATION: &str = "slo_digest";

pub fn generate(slo: &SloConfig) -> Result<RuleFile, GenerateError> {
    let mut file = undigested(slo)?;
    let digest = digest_of(&file)?;
    for group in &mut file.groups {
        for rule in &mut group.rules {
            if let Rule::Alert { annotations, .. } = rule {
                annotations.insert(DIGEST_ANNOTATION.to_string(), digest.clone());
            }
        }
    }
    Ok(file)
}

/// The digest the alerting rules carry; `None` when slo.yml makes no alert to carry it.
pub fn digest(slo: &SloConfig) -> Option<String> {
    let file = generate(slo).ok()?;
    file.groups
        .iter()
        .flat_map(|g| &g.rules)
        .find_map(|r| match r {
            Rule::Alert { annotations, .. } => annotations.get(DIGEST_ANNOTATION).cloned(),
            Rule::Record { .. } => None,
        })
}

/// The first 16 hex digits of the SHA-256 of the rules as JSON: short enough to read in
/// an annotation, long enough that two slo.yml files never share one by chance.
fn digest_of(file: &RuleFile) -> Result<String, GenerateError> {
    use sha2::{Digest, Sha256};
    let json =
        serde_json::to_vec(file).map_err(|e| GenerateError(format!("digesting the rules: {e}")))?;
    Ok(hex::encode(Sha256::digest(&json))[..16].to_string())
}

fn undigested(slo: &SloConfig) -> Result<RuleFile, GenerateError> {
    let sources = Sources::of(slo);
    let mut named: BTreeMap<String, &str> = BTreeMap::new();
    for sli in slo.slis.keys() {
        if let Some(other) = named.insert(sli_record(sli), sli) {
            return Err(GenerateError(format!(
                "the SLIs `{other}` and `{sli}` would both be recorded as {}: rename one \
                 (letters, digits and `_` make a Prometheus name)",
                sli_record(sli)
            )));
        }
    }
    let track = |t: Track| BTreeMap::from([(TRACK_LABEL.to_string(), track_name(t).to_string())]);
    let mut rules: Vec<Rule> = sources
        .slis
        .iter()
        .map(|q| Rule::Record {
            record: sli_record(&q.sli),
            expr: q.expr.clone(),
            labels: track(q.track),
        })
        .collect();
    for (window, [canary, stable]) in &sources.burn {
        for (t, expr) in [(Track::Canary, canary), (Track::Stable, stable)] {
            rules.push(Rule::Record {
                record: burn_record(*window),
                expr: expr.clone(),
                labels: track(t),
            });
        }
    }
    if let Some(b) = &slo.burn_rate
        && !sources.burn.is_empty()
    {
        let budget = budget_expr(b.target);
        for a in &b.alerts {
            let (long, short) = (prom_duration(a.long), prom_duration(a.short));
            let threshold = format!("{} * {budget}", a.factor);
            rules.push(Rule::Alert {
                alert: BURN_ALERT.to_string(),
                expr: format!(
                    "{} > {threshold} and {} > {threshold}",
                    burn_record(a.long),
                    burn_record(a.short)
                ),
                labels: BTreeMap::from([
                    ("severity".to_string(), a.severity.clone()),
                    ("long_window".to_string(), long.clone()),
                    ("short_window".to_string(), short.clone()),
                ]),
                annotations: BTreeMap::from([
                    (
                        "summary".to_string(),
                        format!(
                            "The {{{{ $labels.track }}}} track burns its error budget more than {}× over both {long} and {short}",
                            a.factor
                        ),
                    ),
                    (
                        "description".to_string(),
                        format!(
                            "Error ratio {{{{ $value | humanizePercentage }}}} over {long} (and over {short}) against a budget of {}% ({}% target over {}); from slo.yml's burn_rate.",
                            short_number(100.0 - b.target),
                            b.target,
                            b.period
                        ),
                    ),
                ]),
            });
        }
    }
    Ok(RuleFile {
        groups: vec![Group {
            name: GROUP.to_string(),
            interval: prom_duration(slo.rollout.interval),
            rules,
        }],
    })
}

/// Each rule's name once (a series is recorded once per track): what a loaded group must
/// hold to be the one slo.yml makes now. Empty when slo.yml makes no rules.
pub fn rule_names(slo: &SloConfig) -> Vec<String> {
    let mut names: Vec<String> = generate(slo)
        .map(|f| {
            f.groups
                .iter()
                .flat_map(|g| &g.rules)
                .map(|r| r.name().to_string())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names.dedup();
    names
}

/// The file's text: a header that says where it comes from, then the YAML.
pub fn text(slo: &SloConfig, origin: &str) -> Result<String, GenerateError> {
    let file = generate(slo)?;
    let yaml = serde_yaml_ng::to_string(&file)
        .map_err(|e| GenerateError(format!("writing the rules as YAML: {e}")))?;
    Ok(format!(
        "# Prometheus rules generated by `captain slo rules` from {origin}.\n\
         # Edit {origin} and generate again: the canary's verdict runs these same queries.\n\
         {yaml}"
    ))
}

/// A percentage as a person writes it: `0.1`, not `0.09999999999999432`.
fn short_number(x: f64) -> String {
    let s = format!("{x:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
