//! Grafana's HTTP API as far as `grafana.dashboard` needs it (docs/plan.md): a dashboard
//! by uid, and a panel's queries run through `/api/ds/query` as the panel would run them.
//! The service-account token is sent, never written anywhere.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::{Finding, SourceError};
use crate::config::Span;

/// The variable the service-account token is read from.
pub const TOKEN_VAR: &str = "GRAFANA_TOKEN";

pub struct Grafana {
    http: reqwest::Client,
    url: String,
    token: SecretString,
}

impl Grafana {
    pub fn new(url: &str, token: SecretString) -> Result<Self, SourceError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| SourceError::Unconfigured(format!("an HTTP client: {e}")))?;
        Ok(Grafana {
            http,
            url: url.trim_end_matches('/').to_string(),
            token,
        })
    }

    /// The dashboard `uid` has a panel titled `panel` whose queries return data over the
    /// last `within`.
    pub async fn panel_has_data(
        &self,
        uid: &str,
        panel: &str,
        within: Span,
    ) -> Result<Finding, SourceError> {
        let Some(found) = self.get(&format!("/api/dashboards/uid/{uid}")).await? else {
            return Ok(Finding::fail(format!(
                "no dashboard with uid {uid} in Grafana"
            )));
        };
        let dashboard = &found["dashboard"];
        let title = dashboard["title"].as_str().unwrap_or(uid);
        let mut panels = Vec::new();
        collect_panels(&dashboard["panels"], &mut panels);
        let Some(p) = panels.iter().find(|p| p["title"] == panel) else {
            let titles: Vec<&str> = panels.iter().filter_map(|p| p["title"].as_str()).collect();
            return Ok(Finding::fail(format!(
                "dashboard {title:?} ({uid}) has no panel {panel:?}; its panels: {}",
                titles.join(", ")
            )));
        };
        let mut queries = Vec::new();
        for t in p["targets"].as_array().into_iter().flatten() {
            if t["hide"] == true {
                continue;
            }
            let mut q = t.clone();
            let source = if t["datasource"].is_object() {
                &t["datasource"]
            } else {
                &p["datasource"]
            };
            q["datasource"] = self.data_source(source, dashboard).await?;
            q["maxDataPoints"] = json!(100);
            q["intervalMs"] = json!(15_000);
            queries.push(q);
        }
        if queries.is_empty() {
            return Ok(Finding::fail(format!(
                "panel {panel:?} of {title:?} has no query to run"
            )));
        }
        let window = crate::config::slo::prom_duration(within);
        let body = json!({"from": format!("now-{window}"), "to": "now", "queries": queries});
        let answer = self.post("/api/ds/query", &body).await?;
        Ok(judge(&answer, title, panel, &window))
    }

    /// The panel's data source as `/api/ds/query` takes it: a dashboard variable
    /// (`${datasource}`) is resolved to the data source it is set to, or, unset, to the
    /// default one of its type.
    async fn data_source(&self, source: &Value, dashboard: &Value) -> Result<Value, SourceError> {
        let uid = source["uid"].as_str().unwrap_or("");
        let var = uid
            .strip_prefix("${")
            .and_then(|v| v.strip_suffix('}'))
            .or_else(|| uid.strip_prefix('$'));
        let Some(var) = var else {
            return Ok(source.clone());
        };
        let list = dashboard["templating"]["list"].as_array();
        let v = list
            .into_iter()
            .flatten()
            .find(|v| v["name"] == var)
            .ok_or_else(|| SourceError::Rejected(format!("the dashboard has no variable {var}")))?;
        if let Some(set) = v["current"]["value"].as_str().filter(|s| !s.is_empty()) {
            return Ok(json!({"type": source["type"], "uid": set}));
        }
        let kind = v["query"].as_str().unwrap_or("prometheus");
        let all = self.get("/api/datasources").await?.unwrap_or(Value::Null);
        let of_kind: Vec<&Value> = all
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["type"] == kind)
            .collect();
        of_kind
            .iter()
            .find(|d| d["isDefault"] == true)
            .or(of_kind.first())
            .map(|d| json!({"type": kind, "uid": d["uid"]}))
            .ok_or_else(|| SourceError::Rejected(format!("Grafana has no {kind} data source")))
    }

    async fn get(&self, path: &str) -> Result<Option<Value>, SourceError> {
        let req = self.http.get(format!("{}{path}", self.url));
        self.answer(path, req).await
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Value, SourceError> {
        let req = self.http.post(format!("{}{path}", self.url)).json(body);
        Ok(self.answer(path, req).await?.unwrap_or(Value::Null))
    }

    /// The JSON answer; `None` for a 404. A query that failed answers 400 or 500 with the
    /// reason in its result, which the caller reads.
    async fn answer(
        &self,
        path: &str,
        req: reqwest::RequestBuilder,
    ) -> Result<Option<Value>, SourceError> {
        let resp = req
            .bearer_auth(self.token.expose_secret())
            .send()
            .await
            .map_err(|e| SourceError::Unreachable(super::oci::chain(&e)))?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        let results = body.get("results").is_some();
        match status.as_u16() {
            200..=299 => Ok(Some(body)),
            404 => Ok(None),
            400 | 500 if results => Ok(Some(body)),
            401 | 403 => Err(SourceError::Rejected(format!(
                "Grafana refused the token (${TOKEN_VAR}) for {path}: {status}"
            ))),
            s if s >= 500 => Err(SourceError::Unreachable(format!("{path}: {status}"))),
            _ => Err(SourceError::Rejected(format!(
                "{path}: {status} {}",
                body["message"].as_str().unwrap_or("")
            ))),
        }
    }
}

/// Every panel, those inside rows too.
fn collect_panels<'a>(panels: &'a Value, out: &mut Vec<&'a Value>) {
    for p in panels.as_array().into_iter().flatten() {
        if p["type"] == "row" {
            collect_panels(&p["panels"], out);
        } else {
            out.push(p);
        }
    }
}

/// Data is a value that is not a time and not null, in any frame of any query.
fn judge(answer: &Value, title: &str, panel: &str, window: &str) -> Finding {
    let mut points = 0;
    let mut last = None;
    let mut errors = Vec::new();
    let results = answer["results"].as_object().cloned().unwrap_or_default();
    for (r, result) in &results {
        if let Some(e) = result["error"].as_str() {
            errors.push(format!("{r}: {e}"));
        }
        for frame in result["frames"].as_array().into_iter().flatten() {
            let fields = frame["schema"]["fields"].as_array();
            let columns = frame["data"]["values"].as_array().into_iter().flatten();
            for (i, column) in columns.enumerate() {
                let is_time = fields
                    .and_then(|f| f.get(i))
                    .is_some_and(|f| f["type"] == "time");
                if is_time {
                    continue;
                }
                for v in column
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|v| !v.is_null())
                {
                    points += 1;
                    last = Some(v.clone());
                }
            }
        }
    }
    let errors = if errors.is_empty() {
        String::new()
    } else {
        format!("; errors: {}", errors.join("; "))
    };
    match last {
        Some(v) => Finding::pass(format!(
            "{title:?} panel {panel:?}: {points} values over the last {window}, the last {v}{errors}"
        )),
        None => Finding::fail(format!(
            "{title:?} panel {panel:?}: no data over the last {window}{errors}"
        )),
    }
}
