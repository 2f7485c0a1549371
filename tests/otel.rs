//! `[otel]`: the real binary acts on the demo world and a test collector receives its spans
//! over OTLP/HTTP (protobuf), decoded with the OpenTelemetry protocol's own messages.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value::Value};
use opentelemetry_proto::tonic::trace::v1::{Span, status::StatusCode as SpanStatus};
use prost::Message as _;

const CI_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CI_SPAN: &str = "00f067aa0ba902b7";

/// A collector on a port of its own, keeping every `POST /v1/traces` it is sent.
struct Collector {
    url: String,
    requests: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
}

impl Collector {
    fn start() -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let kept = requests.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async move {
                let app = axum::Router::new().route(
                    "/v1/traces",
                    axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                        let kept = kept.clone();
                        async move {
                            let protobuf = headers
                                .get(header::CONTENT_TYPE)
                                .is_some_and(|v| v == "application/x-protobuf");
                            match ExportTraceServiceRequest::decode(body) {
                                Ok(req) if protobuf => {
                                    kept.lock().unwrap().push(req);
                                    (
                                        StatusCode::OK,
                                        [(header::CONTENT_TYPE, "application/x-protobuf")],
                                    )
                                }
                                _ => (
                                    StatusCode::BAD_REQUEST,
                                    [(header::CONTENT_TYPE, "text/plain")],
                                ),
                            }
                        }
                    }),
                );
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        let addr = rx.recv().unwrap();
        Collector {
            url: format!("http://{addr}"),
            requests,
        }
    }

    /// Every span received, with its resource's attributes.
    fn spans(&self) -> Vec<(Vec<KeyValue>, Span)> {
        let requests = self.requests.lock().unwrap();
        let mut spans = Vec::new();
        for req in requests.iter() {
            for rs in &req.resource_spans {
                let resource = rs
                    .resource
                    .as_ref()
                    .map(|r| r.attributes.clone())
                    .unwrap_or_default();
                for ss in &rs.scope_spans {
                    for span in &ss.spans {
                        spans.push((resource.clone(), span.clone()));
                    }
                }
            }
        }
        spans
    }
}

fn attr(attrs: &[KeyValue], key: &str) -> Option<String> {
    let value = attrs.iter().find(|kv| kv.key == key)?.value.as_ref()?;
    match value.value.as_ref()? {
        Value::StringValue(s) => Some(s.clone()),
        Value::BoolValue(b) => Some(b.to_string()),
        Value::IntValue(i) => Some(i.to_string()),
        other => Some(format!("{other:?}")),
    }
}

/// A state directory whose captain.toml exports to `endpoint`, with the resource
/// attributes file CI sources.
fn state_with_otel(endpoint: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("captain.toml"),
        format!("[otel]\nendpoint = \"{endpoint}\"\n"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join(".ci/otel")).unwrap();
    std::fs::write(
        dir.path().join(".ci/otel/resource-attrs.env"),
        "# sourced by CI\nservice.namespace=release\ndeployment.environment=staging\n",
    )
    .unwrap();
    dir
}

fn captain(state: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_captain"))
        .args(args)
        .env("CAPTAIN_STATE_DIR", state)
        .env_remove("CAPTAIN_CONFIG")
        .env_remove("TRACEPARENT")
        .env_remove("TRACESTATE")
        .env_remove("OTEL_RESOURCE_ATTRIBUTES")
        .envs(env.iter().copied())
        .current_dir(state)
        .stdin(Stdio::null())
        .output()
        .expect("the captain binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn journal(state: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(state.join("demo-audit.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const ROLLBACK: &[&str] = &["--demo", "canary", "rollback", "--yes", "--reason", "x"];

#[test]
fn a_rollback_is_one_span_under_the_ci_runs_trace_with_its_attributes_and_resource() {
    let collector = Collector::start();
    let state = state_with_otel(&collector.url);
    let traceparent = format!("00-{CI_TRACE}-{CI_SPAN}-01");
    let o = captain(
        state.path(),
        ROLLBACK,
        &[
            ("TRACEPARENT", &traceparent),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=production,team=sre",
            ),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));

    let spans = collector.spans();
    let rollbacks: Vec<_> = spans
        .iter()
        .filter(|(_, s)| s.name == "captain.rollback")
        .collect();
    assert_eq!(rollbacks.len(), 1, "spans: {spans:?}");
    let (resource, span) = rollbacks[0];

    assert_eq!(hex::encode(&span.trace_id), CI_TRACE);
    assert_eq!(hex::encode(&span.parent_span_id), CI_SPAN);
    assert_ne!(hex::encode(&span.span_id), CI_SPAN);

    let a = &span.attributes;
    assert_eq!(attr(a, "captain.release").as_deref(), Some("summit"));
    assert_eq!(attr(a, "captain.action").as_deref(), Some("rollback"));
    assert_eq!(attr(a, "captain.reason").as_deref(), Some("x"));
    assert_eq!(attr(a, "captain.confirmation").as_deref(), Some("--yes"));
    assert_eq!(attr(a, "captain.automatic").as_deref(), Some("false"));
    assert_eq!(attr(a, "captain.result").as_deref(), Some("ok"));
    assert!(attr(a, "captain.target").is_some_and(|t| !t.is_empty()));
    assert!(attr(a, "captain.actor").is_some_and(|t| !t.is_empty()));
    let status = span.status.as_ref().map(|s| s.code);
    assert_eq!(status, Some(SpanStatus::Ok as i32));

    assert_eq!(attr(resource, "service.name").as_deref(), Some("captain"));
    assert_eq!(
        attr(resource, "service.namespace").as_deref(),
        Some("release")
    );
    // The environment's attributes add to the file's and override them.
    assert_eq!(
        attr(resource, "deployment.environment").as_deref(),
        Some("production")
    );
    assert_eq!(attr(resource, "team").as_deref(), Some("sre"));

    // Both records of the action carry the span's ids, and the journal's own trace id
    // (which pairs intent and outcome) is the span's attribute.
    let records = journal(state.path());
    let ours: Vec<_> = records
        .iter()
        .filter(|r| r["action"] == "rollback")
        .collect();
    assert_eq!(ours.len(), 2, "{records:?}");
    for r in &ours {
        assert_eq!(r["otel"]["trace_id"], CI_TRACE);
        assert_eq!(r["otel"]["span_id"], hex::encode(&span.span_id));
        assert_eq!(
            r["trace_id"].as_str(),
            attr(a, "captain.journal.trace_id").as_deref()
        );
    }

    let verify = captain(state.path(), &["--demo", "audit", "verify"], &[]);
    assert!(verify.status.success(), "{}", text(&verify));

    // A demo export rehearses a run of its own, untraced; the export of a journal is the
    // live one's, so the demo's journal is exported as a live journal.
    for (from, to) in [
        ("demo-audit.jsonl", "audit.jsonl"),
        ("demo-audit.jsonl.head", "audit.jsonl.head"),
    ] {
        std::fs::copy(state.path().join(from), state.path().join(to)).unwrap();
    }
    let out = state.path().join("evidence");
    let export = captain(
        state.path(),
        &["evidence", "export", "--out", out.to_str().unwrap()],
        &[],
    );
    assert!(export.status.success(), "{}", text(&export));
    let train = std::fs::read_to_string(out.join("release-train.md")).unwrap();
    let row = train
        .lines()
        .find(|l| l.contains("| rollback |"))
        .unwrap_or_else(|| panic!("{train}"));
    assert!(row.contains(&format!("`{CI_TRACE}`")), "{row}");
}

#[test]
fn without_traceparent_the_action_is_a_root_span_of_a_trace_of_its_own() {
    let collector = Collector::start();
    let state = state_with_otel(&collector.url);
    let o = captain(
        state.path(),
        &["--demo", "canary", "pause", "--yes", "--reason", "y"],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let spans = collector.spans();
    let (_, span) = spans
        .iter()
        .find(|(_, s)| s.name == "captain.pause")
        .unwrap_or_else(|| panic!("spans: {spans:?}"));
    assert!(span.parent_span_id.is_empty(), "{span:?}");
    assert_ne!(hex::encode(&span.trace_id), CI_TRACE);
    let records = journal(state.path());
    let pause = records.iter().find(|r| r["action"] == "pause").unwrap();
    assert_eq!(pause["otel"]["trace_id"], hex::encode(&span.trace_id));
}

#[test]
fn with_the_collector_down_the_action_succeeds_with_a_warning() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let state = state_with_otel(&endpoint);
    let o = captain(state.path(), ROLLBACK, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("otel:") && stderr.contains("not exported"),
        "{}",
        text(&o)
    );
    let records = journal(state.path());
    let outcome = records
        .iter()
        .find(|r| r["action"] == "rollback" && r["phase"] == "outcome")
        .unwrap();
    assert!(
        outcome["result"].as_str().unwrap().starts_with("ok"),
        "{outcome}"
    );
    assert!(outcome["otel"]["span_id"].is_string(), "{outcome}");
}

#[test]
fn without_otel_the_journal_has_no_span_ids() {
    let state = tempfile::tempdir().unwrap();
    let o = captain(state.path(), ROLLBACK, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let records = journal(state.path());
    assert!(!records.is_empty());
    assert!(
        records.iter().all(|r| r.get("otel").is_none()),
        "{records:?}"
    );
}

#[test]
fn a_malformed_resource_attrs_line_is_an_error_at_its_line() {
    let state = state_with_otel("http://127.0.0.1:9");
    std::fs::write(
        state.path().join(".ci/otel/resource-attrs.env"),
        "service.namespace=release\nnot an attribute\n",
    )
    .unwrap();
    let o = captain(state.path(), ROLLBACK, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("resource-attrs.env:2:1"), "{}", text(&o));
    assert!(stderr.contains("expected KEY=VALUE"), "{}", text(&o));
    assert!(!state.path().join("demo-audit.jsonl").exists());
}

#[test]
fn an_endpoint_that_is_not_an_http_url_is_an_error_at_its_place_in_captain_toml() {
    let state = state_with_otel("grpc://collector:4317");
    let o = captain(state.path(), ROLLBACK, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("captain.toml:2:12"), "{}", text(&o));
    assert!(stderr.contains("not an http(s) URL"), "{}", text(&o));
}

#[test]
fn a_traceparent_that_does_not_parse_is_warned_about_and_the_span_is_a_root() {
    let collector = Collector::start();
    let state = state_with_otel(&collector.url);
    let o = captain(
        state.path(),
        ROLLBACK,
        &[("TRACEPARENT", "00-not-a-trace-01")],
    );
    assert!(o.status.success(), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("is not a W3C traceparent"), "{}", text(&o));
    let spans = collector.spans();
    let (_, span) = spans
        .iter()
        .find(|(_, s)| s.name == "captain.rollback")
        .unwrap_or_else(|| panic!("spans: {spans:?}"));
    assert!(span.parent_span_id.is_empty(), "{span:?}");
}
