use std::path::Path;

use chrono::TimeZone;
use serde_json::json;

use super::*;
use crate::engine::signals::Track;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 3, 0, 0).unwrap()
}

fn slo(slis: &str) -> SloConfig {
    let yaml = format!(
        r#"version: 1
selectors: {{canary: 'track="canary"', stable: 'track="stable"'}}
rollout:
  steps: [{{weight: 5, observe: 10m}}, {{weight: 100, observe: 10m}}]
  interval: 30s
  initial_delay: 60s
defaults: {{failure_limit: 2, error_limit: 4}}
slis:
{slis}objectives:
  - {{sli: error_rate, pass: {{lte: 0.01}}}}
score: {{pass: 90, warn: 75}}
"#
    );
    SloConfig::parse(Path::new("t.yml"), &yaml).unwrap_or_else(|e| panic!("{e}"))
}

const TWO_SLIS: &str = "  error_rate: {query: 'sum(rate(errors{$selector}[$window]))'}\n  queue: {query: 'max(queue{$selector})'}\n";

fn data(value: serde_json::Value) -> Data {
    serde_json::from_value(value).unwrap()
}

fn series(v: &str) -> serde_json::Value {
    json!({"metric": {}, "value": [1_796_000_000.0, v]})
}

#[test]
fn one_series_is_its_value_no_series_or_nan_is_no_data() {
    let one = data(json!({"resultType": "vector", "result": [series("0.25")]}));
    assert_eq!(read_data(&one), Ok(Some(0.25)));
    let none = data(json!({"resultType": "vector", "result": []}));
    assert_eq!(read_data(&none), Ok(None));
    let nan = data(json!({"resultType": "vector", "result": [series("NaN")]}));
    assert_eq!(read_data(&nan), Ok(None));
    let inf = data(json!({"resultType": "vector", "result": [series("+Inf")]}));
    assert_eq!(read_data(&inf), Ok(Some(f64::INFINITY)));
    let scalar = data(json!({"resultType": "scalar", "result": [1_796_000_000.0, "3"]}));
    assert_eq!(read_data(&scalar), Ok(Some(3.0)));
}

#[test]
fn several_series_or_a_range_vector_are_an_error_not_a_guess() {
    let two = data(json!({"resultType": "vector", "result": [series("1"), series("2")]}));
    assert!(matches!(read_data(&two), Err(Failure::Rejected(m)) if m.contains("2 series")));
    let matrix = data(json!({"resultType": "matrix", "result": [
        {"metric": {}, "values": [[1_796_000_000.0, "1"]]}
    ]}));
    assert!(matches!(read_data(&matrix), Err(Failure::Rejected(_))));
}

#[test]
fn prometheus_refusing_a_query_is_rejected_with_its_message() {
    let refusal = serde_json::from_value(
        json!({"errorType": "bad_data", "error": "1:10: parse error: unclosed left parenthesis"}),
    )
    .unwrap();
    let f = classify(&Error::Prometheus(refusal));
    assert_eq!(
        f,
        Failure::Rejected("bad_data: 1:10: parse error: unclosed left parenthesis".into())
    );
}

fn answers(pairs: &[(&str, Answer)]) -> HashMap<String, Answer> {
    pairs
        .iter()
        .map(|(q, a)| (q.to_string(), a.clone()))
        .collect()
}

fn down() -> Answer {
    Err(Failure::Unreachable("connection refused".into()))
}

#[test]
fn a_failed_query_is_an_error_for_its_sli_only_and_empty_is_no_data() {
    let q = Queries::resolve(&slo(TWO_SLIS));
    let [err, queue] = [&q.slis[0], &q.slis[1]];
    let refused = Err(Failure::Rejected("bad_data: parse error".into()));
    let a = answers(&[
        (&err.canary, Ok(Some(0.5))),
        (&err.stable, Ok(None)),
        (&queue.canary, Ok(Some(3.0))),
        (&queue.stable, refused),
        (&q.requests.canary, Ok(Some(299.6))),
        (&q.requests.stable, down()),
    ]);
    let m = measurement(&q, &a, t0()).unwrap();
    assert_eq!(m.at, t0());
    assert_eq!(
        m.readings["error_rate"],
        SliReading::Values {
            canary: Some(0.5),
            stable: None
        }
    );
    assert_eq!(
        m.readings["queue"],
        SliReading::Error("stable: bad_data: parse error".into())
    );
    assert_eq!(m.canary_requests, Some(300));
    assert_eq!(m.stable_requests, None, "an unreadable count is not zero");
}

#[test]
fn prometheus_answering_nothing_is_unreachable_not_a_measurement() {
    let q = Queries::resolve(&slo(TWO_SLIS));
    let a: HashMap<String, Answer> = measured_queries(&q)
        .into_iter()
        .map(|query| (query.to_string(), down()))
        .collect();
    assert_eq!(measurement(&q, &a, t0()), Err("connection refused".into()));
    let mut one_answer = a.clone();
    one_answer.insert(q.requests.canary.clone(), Ok(Some(10.0)));
    let m = measurement(&q, &one_answer, t0()).unwrap();
    assert_eq!(
        m.readings["queue"],
        SliReading::Error("connection refused".into())
    );
}

#[test]
fn golden_signals_come_from_the_slis_of_their_names_and_the_rest_are_none() {
    let cfg = slo(TWO_SLIS);
    let golden = golden_queries(&cfg);
    assert_eq!(golden.len(), 1, "queue is no golden signal: {golden:?}");
    let error_rate = &golden[0];
    assert_eq!(
        error_rate.canary,
        r#"sum(rate(errors{track="canary"}[30s]))"#
    );
    let a = answers(&[
        (&error_rate.canary, Ok(Some(0.2))),
        (&error_rate.stable, down()),
    ]);
    let s = sample(&golden, &a, t0()).unwrap();
    assert_eq!(s.get(0, Track::Canary), Some(0.2));
    assert_eq!(s.get(0, Track::Stable), None);
    assert_eq!(s.canary.len(), 1);
    let gone = answers(&[(&error_rate.canary, down()), (&error_rate.stable, down())]);
    assert!(sample(&golden, &gone, t0()).is_err());
}

#[test]
fn golden_charts_any_sli_slo_yml_names_in_its_order() {
    let cfg = slo(&format!("{TWO_SLIS}golden: [queue, error_rate]\n"));
    let golden = golden_queries(&cfg);
    let names: Vec<&str> = golden.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(names, ["queue", "error_rate"]);
    let a = answers(&[
        (&golden[0].canary, Ok(Some(7.0))),
        (&golden[1].stable, Ok(Some(0.01))),
    ]);
    let s = sample(&golden, &a, t0()).unwrap();
    assert_eq!(s.get(0, Track::Canary), Some(7.0));
    assert_eq!(s.get(1, Track::Stable), Some(0.01));
}

#[test]
fn the_golden_signals_and_a_measurement_ask_the_same_query_strings() {
    let cfg = slo(TWO_SLIS);
    let q = Queries::resolve(&cfg);
    let golden = golden_queries(&cfg);
    assert_eq!(golden[0], q.slis[0]);
}

#[test]
fn a_query_waits_at_most_one_interval_and_never_more_than_ten_seconds() {
    assert_eq!(
        query_timeout(Duration::from_secs(1)),
        Duration::from_secs(1)
    );
    assert_eq!(
        query_timeout(Duration::from_secs(30)),
        Duration::from_secs(10)
    );
}

#[test]
fn the_evaluation_time_keeps_milliseconds() {
    let at = t0() + chrono::Duration::milliseconds(42);
    assert_eq!(eval_time(at), format!("{}.042", t0().timestamp()));
}

#[test]
fn request_counts_are_whole_and_never_negative_or_nan() {
    assert_eq!(request_count(299.5), Some(300));
    assert_eq!(request_count(0.0), Some(0));
    assert_eq!(request_count(f64::NAN), None);
    assert_eq!(request_count(-1.0), None);
}

#[test]
fn a_url_is_shown_without_credentials_or_query() {
    assert_eq!(
        redact("https://user:secret@prom.example.com:9090/prom?token=x"),
        "https://prom.example.com:9090/prom"
    );
    assert_eq!(redact("http://127.0.0.1:9090"), "http://127.0.0.1:9090");
}

#[test]
fn a_url_that_is_not_one_is_refused_at_construction() {
    assert!(PrometheusMetrics::new("not a url", &slo(TWO_SLIS)).is_err());
}
