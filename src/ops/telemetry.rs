//! OpenTelemetry: every journalled action is a span, exported over OTLP/HTTP to
//! `[otel] endpoint` (see `docs/configuration.md`). A span starts when the journal writes an
//! intent and ends when it writes the outcome; its trace and span ids go into both records.
//! Spans are handed to a batch exporter on a thread of its own, so an action never waits
//! on the collector; they are flushed, for a few seconds at most, before the process exits.
//! A collector that is down costs a warning, never an action. Nothing here writes the
//! journal.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::resource::EnvResourceDetector;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, SpanData, SpanExporter};
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::config::app::OtelConfig;

/// How long one export may take, and the exiting process waits for the last spans.
pub const FLUSH: Duration = Duration::from_secs(5);

/// The span an action's records belong to, as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanIds {
    pub trace_id: String,
    pub span_id: String,
}

/// Where spans go: the tracer, the CI run's trace they join, and the release they are of.
#[derive(Clone)]
pub struct Telemetry {
    tracer: SdkTracer,
    parent: Context,
    release: String,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("release", &self.release)
            .finish_non_exhaustive()
    }
}

/// What a span says of the action a journal's intent announces.
#[derive(Debug, Clone, Copy)]
pub struct Action<'a> {
    pub name: &'a str,
    pub target: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub actor: &'a str,
    pub github: Option<&'a str>,
    pub automatic: bool,
    pub confirmation: &'a str,
    pub reason: Option<&'a str>,
    /// The journal's own id, pairing the intent and the outcome records.
    pub journal_trace_id: &'a str,
}

/// An action's span between its intent and its outcome.
pub struct ActionSpan {
    span: opentelemetry_sdk::trace::Span,
}

impl std::fmt::Debug for ActionSpan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ActionSpan").field(&self.ids()).finish()
    }
}

static INSTALLED: Mutex<Option<(SdkTracerProvider, Telemetry)>> = Mutex::new(None);

/// Start exporting to `cfg.endpoint`, once per process; `config_dir` is where the resource
/// attributes file is looked for when its path is relative. A second call keeps the first.
pub fn install(cfg: &OtelConfig, config_dir: &Path, release: &str) -> Result<(), ConfigError> {
    let Ok(mut installed) = INSTALLED.lock() else {
        return Ok(());
    };
    if installed.is_some() {
        return Ok(());
    }
    let file = config_dir.join(&cfg.resource_attrs);
    let attrs = resource_attrs(&file)?;
    let resource = Resource::builder_empty()
        .with_service_name(cfg.service_name.clone())
        .with_attributes(attrs.into_iter().map(|(k, v)| KeyValue::new(k, v)))
        // OTEL_RESOURCE_ATTRIBUTES adds to and overrides the file, as the spec has it.
        .with_detector(Box::new(EnvResourceDetector::new()))
        .build();
    let url = format!("{}/v1/traces", cfg.endpoint.trim_end_matches('/'));
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(url)
        .with_timeout(FLUSH)
        .build()
        .map_err(|e| ConfigError::new(Path::new("[otel] endpoint"), e.to_string()))?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(Warning(exporter))
        .with_resource(resource)
        .build();
    let telemetry = Telemetry {
        tracer: provider.tracer("captain"),
        parent: ci_parent(),
        release: release.to_string(),
    };
    *installed = Some((provider, telemetry));
    Ok(())
}

/// The installed telemetry, if `[otel]` is configured.
pub fn current() -> Option<Telemetry> {
    INSTALLED
        .lock()
        .ok()
        .and_then(|i| i.as_ref().map(|(_, t)| t.clone()))
}

/// Export what is left, `within` at most; a collector that does not answer costs a warning.
pub async fn finish(within: Duration) {
    let provider = match INSTALLED.lock() {
        Ok(mut i) => i.take().map(|(p, _)| p),
        Err(_) => None,
    };
    let Some(provider) = provider else { return };
    let shutdown = tokio::task::spawn_blocking(move || provider.shutdown_with_timeout(within));
    match tokio::time::timeout(within + Duration::from_secs(1), shutdown).await {
        Ok(Ok(Ok(()))) => {}
        // A failed export has said so already (`Warning`).
        Ok(Ok(Err(e))) => log::debug!("otel: shutting the exporter down: {e}"),
        Ok(Err(_)) | Err(_) => log::warn!(
            "otel: spans not exported within {}s; the collector did not answer",
            within.as_secs()
        ),
    }
}

/// The CI run's span from `TRACEPARENT` (and `TRACESTATE`), W3C trace-context; none when
/// unset, a warning and none when it does not parse.
fn ci_parent() -> Context {
    let Some(traceparent) = std::env::var("TRACEPARENT").ok().filter(|v| !v.is_empty()) else {
        return Context::new();
    };
    let mut carrier = HashMap::from([("traceparent".to_string(), traceparent.clone())]);
    if let Ok(state) = std::env::var("TRACESTATE") {
        carrier.insert("tracestate".into(), state);
    }
    use opentelemetry::propagation::TextMapPropagator as _;
    let cx = TraceContextPropagator::new().extract(&carrier);
    if !cx.span().span_context().is_valid() {
        log::warn!(
            "otel: TRACEPARENT {:?} is not a W3C traceparent (expected 00-<32 hex>-<16 hex>-<2 hex>); spans start their own trace",
            crate::text::sanitize_line(&traceparent)
        );
        return Context::new();
    }
    cx
}

impl Telemetry {
    /// Spans from `provider`'s tracer, roots of their own traces.
    #[cfg(test)]
    pub(crate) fn from_provider(provider: &SdkTracerProvider, release: &str) -> Self {
        Telemetry {
            tracer: provider.tracer("captain"),
            parent: Context::new(),
            release: release.to_string(),
        }
    }

    /// The same exporter, for the actions of `release`.
    pub fn for_release(mut self, release: &str) -> Self {
        self.release = release.to_string();
        self
    }

    /// Start the span of `action`, named `captain.<action>`.
    pub fn begin(&self, action: Action) -> ActionSpan {
        let text = |s: &str| s.to_string();
        let mut attributes = vec![
            KeyValue::new("captain.release", self.release.clone()),
            KeyValue::new("captain.action", text(action.name)),
            KeyValue::new("captain.target", text(action.target)),
            KeyValue::new("captain.from", text(action.from)),
            KeyValue::new("captain.to", text(action.to)),
            KeyValue::new("captain.actor", text(action.actor)),
            KeyValue::new("captain.automatic", action.automatic),
            KeyValue::new("captain.confirmation", text(action.confirmation)),
            KeyValue::new("captain.journal.trace_id", text(action.journal_trace_id)),
        ];
        if let Some(reason) = action.reason {
            attributes.push(KeyValue::new("captain.reason", text(reason)));
        }
        if let Some(github) = action.github {
            attributes.push(KeyValue::new("captain.actor.github", text(github)));
        }
        let span = self
            .tracer
            .span_builder(format!("captain.{}", action.name))
            .with_kind(SpanKind::Internal)
            .with_attributes(attributes)
            .start_with_context(&self.tracer, &self.parent);
        ActionSpan { span }
    }
}

impl ActionSpan {
    pub fn ids(&self) -> SpanIds {
        let cx = self.span.span_context();
        SpanIds {
            trace_id: cx.trace_id().to_string(),
            span_id: cx.span_id().to_string(),
        }
    }

    /// End the span with what became of the action.
    pub fn end(mut self, ok: bool, message: &str) {
        self.span.set_attribute(KeyValue::new(
            "captain.result",
            if ok { "ok" } else { "failed" },
        ));
        self.span
            .set_attribute(KeyValue::new("captain.result.message", message.to_string()));
        self.span.set_status(if ok {
            Status::Ok
        } else {
            Status::error(message.to_string())
        });
        self.span.end();
    }
}

/// The OTLP exporter, its failures logged: they are never an action's.
#[derive(Debug)]
struct Warning(opentelemetry_otlp::SpanExporter);

impl SpanExporter for Warning {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len();
        let result = self.0.export(batch).await;
        if let Err(e) = &result {
            log::warn!("otel: {spans} span(s) not exported: {e}");
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource(resource);
    }
}

/// The resource attributes file: `KEY=VALUE` lines, `#` comments and blank lines skipped.
/// A missing file has none; a line that is not `KEY=VALUE` is an error at that line.
pub fn resource_attrs(file: &Path) -> Result<Vec<(String, String)>, ConfigError> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ConfigError::new(file, e.to_string())),
    };
    parse_resource_attrs(file, &text)
}

fn parse_resource_attrs(file: &Path, text: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let mut attrs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let column = line.len() - line.trim_start().len() + 1;
        let bad = |what: &str| {
            ConfigError::new(
                file,
                format!("{what}; expected KEY=VALUE, such as deployment.environment=production"),
            )
            .at(i + 1, column)
        };
        let trimmed = trimmed.strip_prefix("export ").unwrap_or(trimmed);
        let Some((key, value)) = trimmed.split_once('=') else {
            return Err(bad(&format!("{trimmed:?} has no '='")));
        };
        let key = key.trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(bad(&format!("{key:?} is not an attribute name")));
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        attrs.push((key.to_string(), value.to_string()));
    }
    Ok(attrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_attrs_skip_comments_and_blank_lines_and_unquote_values() {
        let text = "# CI sources this\n\nservice.namespace=release\n  deployment.environment = \"production\"\nexport vcs.repository.url.full=https://github.com/acme/summit\n";
        let attrs = parse_resource_attrs(Path::new("a.env"), text).unwrap();
        assert_eq!(
            attrs,
            vec![
                ("service.namespace".into(), "release".into()),
                ("deployment.environment".into(), "production".into()),
                (
                    "vcs.repository.url.full".into(),
                    "https://github.com/acme/summit".into()
                ),
            ]
        );
    }

    #[test]
    fn a_resource_attrs_line_without_equals_is_an_error_at_its_line_and_column() {
        let e = parse_resource_attrs(Path::new("a.env"), "a=1\n\n  oops\n").unwrap_err();
        assert_eq!((e.line, e.column), (Some(3), Some(3)));
        assert!(e.message.contains("\"oops\" has no '='"), "{}", e.message);
        assert!(e.message.contains("expected KEY=VALUE"), "{}", e.message);
    }

    #[test]
    fn a_missing_resource_attrs_file_has_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            resource_attrs(&dir.path().join("none.env")).unwrap(),
            vec![]
        );
    }
}
