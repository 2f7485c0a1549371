//! The rule groups a metrics source has loaded and the alerts they hold now, as
//! Prometheus' `/api/v1/rules` reports them: what the `prometheus.rules` and
//! `prometheus.alert` probes and `slo burn-drill` look at. Reading the answer is here;
//! judging it is `ops::probes::alerting`'s job.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A rule group as loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadedGroup {
    pub name: String,
    /// The rule file it was loaded from.
    pub file: String,
    pub rules: Vec<LoadedRule>,
}

/// One recording or alerting rule, with its health at its last evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadedRule {
    /// The recorded series' name, or the alert's.
    pub name: String,
    /// `recording` or `alerting`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `ok`, `err`, or `unknown` before its first evaluation.
    pub health: String,
    #[serde(rename = "lastError", default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// An alerting rule's annotations (a recording rule has none).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// An alerting rule's alerts now, pending or firing.
    #[serde(default)]
    pub alerts: Vec<ActiveAlert>,
}

/// An alert of an alerting rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveAlert {
    /// The alert's labels, `alertname` among them.
    pub labels: BTreeMap<String, String>,
    /// `pending` (its condition holds, its `for` has not passed) or `firing`.
    pub state: String,
    #[serde(rename = "activeAt", default)]
    pub active_at: Option<DateTime<Utc>>,
    /// The expression's value when it was last evaluated, as Prometheus writes it.
    #[serde(default)]
    pub value: Option<String>,
}

impl ActiveAlert {
    pub fn firing(&self) -> bool {
        self.state == "firing"
    }

    /// `Name{label="value", …}`, as Prometheus shows an alert.
    pub fn describe(&self) -> String {
        let name = self.labels.get("alertname").map_or("", String::as_str);
        let labels: Vec<String> = self
            .labels
            .iter()
            .filter(|(k, _)| k.as_str() != "alertname")
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        format!("{name}{{{}}}", labels.join(", "))
    }
}

#[derive(Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
enum Answer {
    Success {
        data: Groups,
    },
    Error {
        #[serde(rename = "errorType", default)]
        error_type: String,
        #[serde(default)]
        error: String,
    },
}

#[derive(Deserialize)]
struct Groups {
    groups: Vec<LoadedGroup>,
}

/// The groups from `/api/v1/rules`' answer; `Err` says why the answer is not one.
pub fn parse_rules(status: u16, body: &str) -> Result<Vec<LoadedGroup>, String> {
    match serde_json::from_str::<Answer>(body) {
        Ok(Answer::Success { data }) => Ok(data.groups),
        Ok(Answer::Error { error_type, error }) => Err(format!("{error_type}: {error}")),
        Err(e) => Err(format!(
            "HTTP {status}: not an answer of the rules API ({e}): {}",
            body.chars().take(200).collect::<String>()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rules_answer_gives_its_groups_rules_health_and_alerts() {
        let body = r#"{"status":"success","data":{"groups":[{"name":"captain-slo","file":"/etc/prometheus/slo-rules.yml","interval":30,"rules":[
            {"name":"captain:sli_error_rate","query":"x","labels":{"track":"canary"},"health":"ok","type":"recording","evaluationTime":0.001,"lastEvaluation":"2026-12-06T10:00:00Z"},
            {"name":"ErrorBudgetBurn","query":"y","duration":0,"labels":{"severity":"page"},"annotations":{"slo_digest":"0123456789abcdef"},"alerts":[
                {"labels":{"alertname":"ErrorBudgetBurn","severity":"page","track":"canary"},"annotations":{},"state":"firing","activeAt":"2026-12-06T09:58:01.5Z","value":"2.5e-01"}
            ],"health":"err","lastError":"many-to-many matching not allowed","type":"alerting"}
        ]}]}}"#;
        let groups = parse_rules(200, body).unwrap();
        assert_eq!(groups[0].name, "captain-slo");
        assert_eq!(groups[0].rules[0].health, "ok");
        let alerting = &groups[0].rules[1];
        assert_eq!(alerting.kind, "alerting");
        assert_eq!(alerting.annotations["slo_digest"], "0123456789abcdef");
        assert_eq!(
            alerting.last_error.as_deref(),
            Some("many-to-many matching not allowed")
        );
        assert!(alerting.alerts[0].firing());
        assert_eq!(
            alerting.alerts[0].describe(),
            r#"ErrorBudgetBurn{severity="page", track="canary"}"#
        );
        assert_eq!(alerting.alerts[0].value.as_deref(), Some("2.5e-01"));
    }

    #[test]
    fn an_error_answer_or_something_else_says_why() {
        let e = parse_rules(
            422,
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter"}"#,
        )
        .unwrap_err();
        assert_eq!(e, "bad_data: invalid parameter");
        let e = parse_rules(502, "<html>Bad Gateway</html>").unwrap_err();
        assert!(
            e.starts_with("HTTP 502: not an answer of the rules API"),
            "{e}"
        );
    }
}
