//! The demo world's Prometheus rules: the group `captain slo rules` writes from the demo
//! slo.yml, loaded and healthy, whose burn alerts fire on the world's error ratio now (it
//! keeps no history, so every window reads the ratio of the moment).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::signals::{self, Conditions};
use crate::engine::signals::{Signal, Track};
use crate::slo_rules::rules::{Rule, generate};
use crate::slo_rules::{TRACK_LABEL, track_name};
use crate::sources::SourceError;
use crate::sources::alerting::{ActiveAlert, LoadedGroup, LoadedRule};

pub fn rule_groups(c: &Conditions, now: DateTime<Utc>) -> Result<Vec<LoadedGroup>, SourceError> {
    let slo = super::demo_slo();
    let file = generate(&slo).map_err(|e| SourceError::Rejected(e.0))?;
    // Per track, each burn alert judged as the engine judges it, in slo.yml's order: the
    // order the alerting rules are written in.
    type Judged = (Track, Option<f64>, Vec<crate::engine::burn::AlertState>);
    let judged: Vec<Judged> = match &slo.burn_rate {
        Some(cfg) => [Track::Canary, Track::Stable]
            .into_iter()
            .map(|t| {
                let ratio = signals::value(c, Signal::ErrorRate, t, now);
                (t, ratio, crate::engine::burn::evaluate(cfg, |_| ratio))
            })
            .collect(),
        None => Vec::new(),
    };
    let mut nth_alert = 0;
    let groups = file
        .groups
        .into_iter()
        .map(|g| LoadedGroup {
            name: g.name,
            file: "slo-rules.yml".into(),
            rules: g
                .rules
                .into_iter()
                .map(|r| match r {
                    Rule::Record { record, .. } => LoadedRule {
                        name: record,
                        kind: "recording".into(),
                        health: "ok".into(),
                        last_error: None,
                        alerts: Vec::new(),
                    },
                    Rule::Alert { alert, labels, .. } => {
                        let alerts = judged
                            .iter()
                            .filter_map(|(t, ratio, states)| {
                                states.get(nth_alert).filter(|s| s.firing)?;
                                let mut labels = labels.clone();
                                labels.insert("alertname".into(), alert.clone());
                                labels.insert(TRACK_LABEL.into(), track_name(*t).into());
                                Some(ActiveAlert {
                                    labels: labels.into_iter().collect::<BTreeMap<_, _>>(),
                                    state: "firing".into(),
                                    active_at: Some(now),
                                    // The expression's value: the error ratio.
                                    value: ratio.map(|r| format!("{r}")),
                                })
                            })
                            .collect();
                        nth_alert += 1;
                        LoadedRule {
                            name: alert,
                            kind: "alerting".into(),
                            health: "ok".into(),
                            last_error: None,
                            alerts,
                        }
                    }
                })
                .collect(),
        })
        .collect();
    Ok(groups)
}
