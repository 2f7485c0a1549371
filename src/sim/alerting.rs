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
                        annotations: BTreeMap::new(),
                        alerts: Vec::new(),
                    },
                    Rule::Alert {
                        alert,
                        labels,
                        annotations,
                        ..
                    } => {
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
                            annotations,
                            alerts,
                        }
                    }
                })
                .collect(),
        })
        .collect();
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::probes::alerting::{Expected, alert_firing, group_loaded};

    fn conditions(breached: bool) -> Conditions {
        Conditions {
            seed: 1,
            weight: 50,
            breached,
            slow: false,
        }
    }

    fn ticket() -> BTreeMap<String, String> {
        BTreeMap::from([("severity".to_string(), "ticket".to_string())])
    }

    #[test]
    fn the_group_is_loaded_whole_and_healthy() {
        let now = chrono::Utc::now();
        let groups = rule_groups(&conditions(false), now).unwrap();
        let f = group_loaded(
            &groups,
            crate::slo_rules::GROUP,
            &Expected::of(&super::super::demo_slo()),
        );
        assert!(f.passed, "{f:?}");
    }

    #[test]
    fn a_breach_fires_the_canarys_burn_alerts_and_a_calm_world_fires_none() {
        let now = chrono::Utc::now();
        let calm = rule_groups(&conditions(false), now).unwrap();
        assert!(!alert_firing(&calm, crate::slo_rules::BURN_ALERT, &BTreeMap::new()).passed);
        // The breach's 6 % errors burn a 1 % budget at about 6×: the tickets (3× and 1×)
        // fire, on the canary alone.
        let breached = rule_groups(&conditions(true), now).unwrap();
        let f = alert_firing(&breached, crate::slo_rules::BURN_ALERT, &ticket());
        assert!(f.passed, "{f:?}");
        assert!(f.evidence.contains(r#"track="canary""#), "{f:?}");
        assert!(!f.evidence.contains(r#"track="stable""#), "{f:?}");
    }
}
