//! Judging what Prometheus has loaded: a rule group present and healthy
//! (`prometheus.rules`), an alert firing (`prometheus.alert`). Shared by the probes and
//! `slo burn-drill`; the answers come from `Metrics::rule_groups`.

use std::collections::{BTreeMap, BTreeSet};

use crate::sources::Finding;
use crate::sources::alerting::{ActiveAlert, LoadedGroup};

/// What the group slo.yml makes must hold: a rule of each name, and alerting rules
/// carrying this digest (`slo_rules::rules::DIGEST_ANNOTATION`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    pub names: Vec<String>,
    pub digest: Option<String>,
}

impl Expected {
    /// What `slo rules` makes from `slo`.
    pub fn of(slo: &crate::config::slo::SloConfig) -> Self {
        Expected {
            names: crate::slo_rules::rules::rule_names(slo),
            digest: crate::slo_rules::rules::digest(slo),
        }
    }
}

/// The group `name` is loaded, every rule in it has been evaluated without an error, and
/// it is the one `expected` describes: a group loaded from an older rule file lacks what
/// slo.yml makes now, or carries another digest.
pub fn group_loaded(groups: &[LoadedGroup], name: &str, expected: &Expected) -> Finding {
    let found: Vec<&LoadedGroup> = groups.iter().filter(|g| g.name == name).collect();
    if found.is_empty() {
        let loaded: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        return Finding::fail(format!(
            "no rule group `{name}` is loaded ({}): add the rule file to `rule_files` and reload Prometheus",
            if loaded.is_empty() {
                "no group at all".to_string()
            } else {
                format!("loaded: {}", loaded.join(", "))
            }
        ));
    }
    let rules: Vec<_> = found.iter().flat_map(|g| &g.rules).collect();
    let unhealthy: Vec<String> = rules
        .iter()
        .filter(|r| r.health != "ok")
        .map(|r| match (&r.last_error, r.health.as_str()) {
            (Some(e), _) if !e.is_empty() => format!("{} ({}): {e}", r.name, r.health),
            (_, "unknown") => format!("{}: not evaluated yet", r.name),
            (_, health) => format!("{}: {health}", r.name),
        })
        .collect();
    let names: BTreeSet<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    let missing: Vec<&str> = expected
        .names
        .iter()
        .map(String::as_str)
        .filter(|n| !names.contains(n))
        .collect();
    let files: BTreeSet<&str> = found.iter().map(|g| g.file.as_str()).collect();
    let files: Vec<&str> = files.into_iter().collect();
    let head = format!(
        "group {name} from {}: {} rules ({} alerting)",
        files.join(", "),
        rules.len(),
        rules.iter().filter(|r| r.kind == "alerting").count()
    );
    if !missing.is_empty() {
        return Finding::fail(format!(
            "{head}; missing what slo.yml makes now: {}; write the file again with `captain slo rules` and reload Prometheus",
            missing.join(", ")
        ));
    }
    if let Some(want) = &expected.digest {
        let key = crate::slo_rules::rules::DIGEST_ANNOTATION;
        let other: BTreeSet<&str> = rules
            .iter()
            .filter(|r| r.kind == "alerting")
            .map(|r| r.annotations.get(key).map_or("none", String::as_str))
            .filter(|d| d != want)
            .collect();
        if !other.is_empty() {
            let other: Vec<&str> = other.into_iter().collect();
            return Finding::fail(format!(
                "{head}; made from another slo.yml: its alerts carry {key} {}, slo.yml makes {want}; write the file again with `captain slo rules` and reload Prometheus",
                other.join(", ")
            ));
        }
    }
    if !unhealthy.is_empty() {
        return Finding::fail(format!("{head}; unhealthy: {}", unhealthy.join("; ")));
    }
    Finding::pass(format!("{head}, every one healthy"))
}

/// The alerts named `alert` whose labels include every one of `labels`, pending or firing.
pub fn matching<'a>(
    groups: &'a [LoadedGroup],
    alert: &str,
    labels: &BTreeMap<String, String>,
) -> Vec<&'a ActiveAlert> {
    groups
        .iter()
        .flat_map(|g| &g.rules)
        .filter(|r| r.kind == "alerting" && r.name == alert)
        .flat_map(|r| &r.alerts)
        .filter(|a| labels.iter().all(|(k, v)| a.labels.get(k) == Some(v)))
        .collect()
}

/// An alert named `alert` with every one of `labels` is firing; the evidence names each
/// one, since when, and its value.
pub fn alert_firing(
    groups: &[LoadedGroup],
    alert: &str,
    labels: &BTreeMap<String, String>,
) -> Finding {
    let wanted = {
        let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        format!("{alert}{{{}}}", l.join(", "))
    };
    let loaded = groups
        .iter()
        .flat_map(|g| &g.rules)
        .any(|r| r.kind == "alerting" && r.name == alert);
    if !loaded {
        return Finding::fail(format!(
            "no alerting rule `{alert}` is loaded: nothing can fire {wanted}"
        ));
    }
    let alerts = matching(groups, alert, labels);
    let (firing, pending): (Vec<&ActiveAlert>, Vec<&ActiveAlert>) =
        alerts.into_iter().partition(|a| a.firing());
    let show = |a: &ActiveAlert| {
        format!(
            "{} {} since {} (value {})",
            a.describe(),
            a.state,
            a.active_at.map_or("?".into(), |t| t
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string()),
            a.value.as_deref().unwrap_or("?")
        )
    };
    if !firing.is_empty() {
        let shown: Vec<String> = firing.into_iter().map(show).collect();
        return Finding::pass(shown.join("; "));
    }
    if !pending.is_empty() {
        let shown: Vec<String> = pending.into_iter().map(show).collect();
        return Finding::fail(format!(
            "not firing yet: {} (it fires once its `for` has passed)",
            shown.join("; ")
        ));
    }
    Finding::fail(format!(
        "{wanted} is not firing: the rule is loaded, and calm"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::alerting::LoadedRule;

    fn rule(name: &str, kind: &str, health: &str, alerts: Vec<ActiveAlert>) -> LoadedRule {
        LoadedRule {
            name: name.into(),
            kind: kind.into(),
            health: health.into(),
            last_error: None,
            annotations: BTreeMap::from([("slo_digest".to_string(), "d1".to_string())]),
            alerts,
        }
    }

    fn alert(state: &str, severity: &str) -> ActiveAlert {
        ActiveAlert {
            labels: BTreeMap::from([
                ("alertname".into(), "ErrorBudgetBurn".into()),
                ("severity".into(), severity.into()),
                ("track".into(), "canary".into()),
            ]),
            state: state.into(),
            active_at: None,
            value: Some("0.3".into()),
        }
    }

    fn group(rules: Vec<LoadedRule>) -> Vec<LoadedGroup> {
        vec![LoadedGroup {
            name: "captain-slo".into(),
            file: "/etc/prometheus/slo-rules.yml".into(),
            rules,
        }]
    }

    fn page() -> BTreeMap<String, String> {
        BTreeMap::from([("severity".into(), "page".into())])
    }

    #[test]
    fn a_group_passes_loaded_whole_and_healthy_and_fails_otherwise() {
        let expected = Expected {
            names: vec![
                "captain:sli_error_rate".to_string(),
                "ErrorBudgetBurn".to_string(),
            ],
            digest: Some("d1".into()),
        };
        let healthy = group(vec![
            rule("captain:sli_error_rate", "recording", "ok", vec![]),
            rule("ErrorBudgetBurn", "alerting", "ok", vec![]),
        ]);
        let f = group_loaded(&healthy, "captain-slo", &expected);
        assert!(f.passed, "{f:?}");
        assert!(f.evidence.contains("2 rules (1 alerting)"), "{f:?}");

        let f = group_loaded(&healthy, "other", &Expected::default());
        assert!(
            !f.passed && f.evidence.contains("loaded: captain-slo"),
            "{f:?}"
        );
        assert!(!group_loaded(&[], "captain-slo", &Expected::default()).passed);

        let mut broken = healthy.clone();
        broken[0].rules[1].health = "err".into();
        broken[0].rules[1].last_error =
            Some("vector cannot contain metrics with the same labelset".into());
        let f = group_loaded(&broken, "captain-slo", &expected);
        assert!(!f.passed && f.evidence.contains("same labelset"), "{f:?}");

        let old = group(vec![rule(
            "captain:sli_error_rate",
            "recording",
            "ok",
            vec![],
        )]);
        let f = group_loaded(&old, "captain-slo", &expected);
        assert!(
            !f.passed
                && f.evidence
                    .contains("missing what slo.yml makes now: ErrorBudgetBurn"),
            "{f:?}"
        );

        let mut edited = healthy.clone();
        edited[0].rules[1]
            .annotations
            .insert("slo_digest".into(), "d0".into());
        let f = group_loaded(&edited, "captain-slo", &expected);
        assert!(
            !f.passed
                && f.evidence.contains(
                    "made from another slo.yml: its alerts carry slo_digest d0, slo.yml makes d1"
                ),
            "{f:?}"
        );
    }

    #[test]
    fn only_a_firing_alert_with_every_label_passes() {
        let firing = group(vec![rule(
            "ErrorBudgetBurn",
            "alerting",
            "ok",
            vec![alert("firing", "page")],
        )]);
        let f = alert_firing(&firing, "ErrorBudgetBurn", &page());
        assert!(f.passed, "{f:?}");
        assert!(
            f.evidence
                .contains(r#"ErrorBudgetBurn{severity="page", track="canary"} firing"#),
            "{f:?}"
        );

        let ticket = group(vec![rule(
            "ErrorBudgetBurn",
            "alerting",
            "ok",
            vec![alert("firing", "ticket")],
        )]);
        let f = alert_firing(&ticket, "ErrorBudgetBurn", &page());
        assert!(!f.passed && f.evidence.contains("calm"), "{f:?}");

        let pending = group(vec![rule(
            "ErrorBudgetBurn",
            "alerting",
            "ok",
            vec![alert("pending", "page")],
        )]);
        let f = alert_firing(&pending, "ErrorBudgetBurn", &page());
        assert!(!f.passed && f.evidence.contains("not firing yet"), "{f:?}");

        let f = alert_firing(&[], "ErrorBudgetBurn", &page());
        assert!(
            !f.passed && f.evidence.contains("no alerting rule"),
            "{f:?}"
        );
    }
}
