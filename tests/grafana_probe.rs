//! `grafana.dashboard` against a wiremock Grafana answering in the real API's shapes:
//! - the dashboard by uid, `{dashboard, meta}`:
//!   https://grafana.com/docs/grafana/latest/developers/http_api/dashboard/#get-dashboard-by-uid
//! - the data sources, a list of `{uid, name, type, isDefault, …}`:
//!   https://grafana.com/docs/grafana/latest/developers/http_api/data_source/#get-all-data-sources
//! - a query, `POST /api/ds/query` answering `results.<refId>.frames` of data frames
//!   (`schema.fields`, `data.values` by column) or `results.<refId>.error`:
//!   https://grafana.com/docs/grafana/latest/developers/http_api/data_source/#query-a-data-source
//!   https://grafana.com/developers/plugin-tools/key-concepts/data-frames
//!
//! The dashboard is the one `captain slo dashboard` writes, as Grafana holds it once
//! imported.

use std::sync::Arc;

use captain::config::Span;
use captain::config::probe::Probe;
use captain::engine::phases::ProbeStatus;
use captain::ops::probes::{ProbeContext, run};
use captain::sources::published::LivePublished;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN: &str = "glsa_test_token_0123456789";
const TRAFFIC: &str = "canary traffic share (step weight)";

fn context(url: Option<&str>, token: Option<&str>) -> ProbeContext {
    let token = token.map(str::to_string);
    let env = move |k: &str| (k == "GRAFANA_TOKEN").then(|| token.clone()).flatten();
    ProbeContext {
        audit_path: std::env::temp_dir().join("captain-grafana-probe-audit.jsonl"),
        metrics: None,
        forge: None,
        cluster: None,
        published: Some(Arc::new(LivePublished::new("acme/summit", url, None, env))),
        host: Arc::new(captain::sources::host::LocalHost),
        now: chrono::Utc::now(),
    }
}

fn probe(uid: &str, panel: &str) -> Probe {
    Probe::GrafanaDashboard {
        uid: uid.into(),
        panel: panel.into(),
        within: Span::secs(15 * 60),
    }
}

/// The generated dashboard as Grafana serves it after import: its data source variable
/// set to `current` (or left unset).
fn imported(current: Option<&str>) -> Value {
    let mut model = captain::slo_rules::dashboard::generate(&captain::sim::demo_slo());
    model["id"] = json!(17);
    if let Some(uid) = current {
        model["templating"]["list"][0]["current"] = json!({"text": "Prometheus", "value": uid});
    }
    json!({
        "dashboard": model,
        "meta": {"type": "db", "slug": "canary-slos", "url": "/d/captain-slo/canary-slos", "folderUid": ""}
    })
}

fn traffic_expr(dashboard: &Value) -> String {
    dashboard["dashboard"]["panels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["title"] == TRAFFIC)
        .unwrap()["targets"][0]["expr"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A time column and a number column, as Prometheus' data source answers a range query.
fn frames(values: &[Option<f64>]) -> Value {
    let times: Vec<i64> = (0..values.len() as i64)
        .map(|i| 1_764_000_000_000 + i * 15_000)
        .collect();
    json!({"results": {"A": {"status": 200, "frames": [{
        "schema": {"refId": "A", "fields": [
            {"name": "Time", "type": "time", "typeInfo": {"frame": "time.Time"}},
            {"name": "Value", "type": "number", "typeInfo": {"frame": "float64", "nullable": true},
             "labels": {}, "config": {"displayNameFromDS": "canary"}}
        ]},
        "data": {"values": [times, values]}
    }]}}})
}

/// A query of the traffic panel's expression against data source `ds` over the last 15m.
fn asks_for(ds: &'static str, expr: String) -> impl Fn(&Request) -> bool + Send + Sync {
    move |r: &Request| {
        let Ok(body) = serde_json::from_slice::<Value>(&r.body) else {
            return false;
        };
        body["from"] == "now-15m"
            && body["queries"].as_array().is_some_and(|q| {
                q.len() == 1 && q[0]["expr"] == expr.as_str() && q[0]["datasource"]["uid"] == ds
            })
    }
}

async fn grafana(dashboard: Value, answer: ResponseTemplate, ds: &'static str) -> MockServer {
    let server = MockServer::start().await;
    let expr = traffic_expr(&dashboard);
    Mock::given(method("GET"))
        .and(path("/api/dashboards/uid/captain-slo"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(dashboard))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/dashboards/uid/nope"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"message": "Dashboard not found"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/datasources"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": 1, "uid": "loki-1", "name": "Loki", "type": "loki", "isDefault": true},
            {"id": 2, "uid": "prom-old", "name": "Old", "type": "prometheus", "isDefault": false},
            {"id": 3, "uid": "prom-main", "name": "Prometheus", "type": "prometheus", "isDefault": true}
        ])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/ds/query"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(asks_for(ds, expr))
        .respond_with(answer)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_panel_whose_query_returns_data_passes_and_one_without_fails() {
    let server = grafana(
        imported(Some("prom-1")),
        ResponseTemplate::new(200).set_body_json(frames(&[Some(5.0), None, Some(25.0)])),
        "prom-1",
    )
    .await;
    let ctx = context(Some(&server.uri()), Some(TOKEN));
    let r = run(&probe("captain-slo", TRAFFIC), &ctx).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{r:?}");
    assert!(
        r.evidence
            .contains("2 values over the last 15m, the last 25"),
        "{r:?}"
    );

    let empty = grafana(
        imported(Some("prom-1")),
        ResponseTemplate::new(200).set_body_json(frames(&[None, None])),
        "prom-1",
    )
    .await;
    let r = run(
        &probe("captain-slo", TRAFFIC),
        &context(Some(&empty.uri()), Some(TOKEN)),
    )
    .await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(r.evidence.contains("no data over the last 15m"), "{r:?}");
}

#[tokio::test]
async fn an_unset_data_source_variable_is_grafanas_default_of_its_type() {
    let server = grafana(
        imported(None),
        ResponseTemplate::new(200).set_body_json(frames(&[Some(50.0)])),
        "prom-main",
    )
    .await;
    let r = run(
        &probe("captain-slo", TRAFFIC),
        &context(Some(&server.uri()), Some(TOKEN)),
    )
    .await;
    assert_eq!(r.status, ProbeStatus::Pass, "{r:?}");
}

#[tokio::test]
async fn a_missing_dashboard_or_panel_and_a_failing_query_fail_and_say_why() {
    let error = json!({"results": {"A": {"status": 400, "error": "bad_data: invalid parameter \"query\"", "errorSource": "downstream"}}});
    let server = grafana(
        imported(Some("prom-1")),
        ResponseTemplate::new(400).set_body_json(error),
        "prom-1",
    )
    .await;
    let ctx = context(Some(&server.uri()), Some(TOKEN));
    let r = run(&probe("nope", TRAFFIC), &ctx).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert_eq!(r.evidence, "no dashboard with uid nope in Grafana");
    let r = run(&probe("captain-slo", "Requests"), &ctx).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(r.evidence.contains("has no panel \"Requests\""), "{r:?}");
    assert!(
        r.evidence.contains(TRAFFIC),
        "names the panels there are: {r:?}"
    );
    let r = run(&probe("captain-slo", TRAFFIC), &ctx).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(
        r.evidence.contains("A: bad_data: invalid parameter"),
        "{r:?}"
    );
}

#[tokio::test]
async fn a_refused_token_fails_without_showing_it_and_no_grafana_is_unavailable() {
    let server = grafana(
        imported(Some("prom-1")),
        ResponseTemplate::new(200).set_body_json(frames(&[Some(1.0)])),
        "prom-1",
    )
    .await;
    let wrong = "glsa_wrong_token";
    // The dashboard's mock answers only the right token; Grafana says 401 to others.
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"message": "invalid API key"})),
        )
        .mount(&server)
        .await;
    let r = run(
        &probe("captain-slo", TRAFFIC),
        &context(Some(&server.uri()), Some(wrong)),
    )
    .await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(
        r.evidence.contains("refused the token ($GRAFANA_TOKEN)"),
        "{r:?}"
    );
    assert!(!r.evidence.contains(wrong), "{r:?}");

    let r = run(
        &probe("captain-slo", TRAFFIC),
        &context(Some(&server.uri()), None),
    )
    .await;
    assert_eq!(r.status, ProbeStatus::Unavailable, "{r:?}");
    assert!(r.evidence.contains("GRAFANA_TOKEN"), "{r:?}");
    let r = run(&probe("captain-slo", TRAFFIC), &context(None, Some(TOKEN))).await;
    assert_eq!(r.status, ProbeStatus::Unavailable, "{r:?}");
    assert!(r.evidence.contains("[grafana] url"), "{r:?}");
    // Nothing listens on the discard port.
    let r = run(
        &probe("captain-slo", TRAFFIC),
        &context(Some("http://127.0.0.1:9"), Some(TOKEN)),
    )
    .await;
    assert_eq!(r.status, ProbeStatus::Unavailable, "{r:?}");
    assert!(r.evidence.contains("unreachable"), "{r:?}");
}
