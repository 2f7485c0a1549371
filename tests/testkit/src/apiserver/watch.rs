//! WATCH as the API server streams it: a chunked `200 application/json` answer of
//! newline-delimited `{"type": ..., "object": ...}` events. From a resourceVersion: the
//! history after it, replayed from the store's event log, then live changes; from "" or
//! "0": the current objects as ADDED first. Selectors turn an object leaving (entering) the
//! selection into DELETED (ADDED). A resourceVersion older than the retained history gets
//! one in-stream ERROR event carrying a 410 Expired Status, then the stream ends. BOOKMARKs
//! come every bookmark interval when asked for, and the stream ends at `timeoutSeconds`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::Response;
use chrono::Utc;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use super::metadata;
use super::resources::ResourceType;
use super::selectors::Selectors;
use super::shared::{Shared, lock};
use super::status::ApiError;
use super::store::{Event, EventType};
use super::table::{self, IncludeObject};

/// A watch request's parameters.
#[derive(Debug, Clone)]
pub struct WatchRequest {
    pub t: &'static ResourceType,
    pub namespace: Option<String>,
    pub selectors: Selectors,
    pub resource_version: Option<String>,
    pub bookmarks: bool,
    pub send_initial_events: Option<bool>,
    pub timeout: Duration,
    /// `Some`: the client asked for Tables; each event's object is a one-row Table.
    pub table: Option<IncludeObject>,
    /// The client asked for PartialObjectMetadata: each event's object is one.
    pub metadata_only: bool,
}

/// When a watch asks for no timeout, a real server picks one of 30 to 60 minutes.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

/// Start streaming; the events are produced by a task that ends with the stream. Where the
/// watch starts is settled before the answer goes out, so a write made after the client
/// has the headers is always seen.
pub fn respond(shared: Arc<Shared>, request: WatchRequest) -> Response {
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let mut changes = shared.changes.subscribe();
    changes.borrow_and_update();
    let mut closings = shared.closings.subscribe();
    closings.borrow_and_update();
    let start = start(&shared, &request);
    let signals = Signals { changes, closings };
    tokio::spawn(produce(shared, request, start, signals, tx));
    let body = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, Infallible>(chunk), rx))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(body))
        .unwrap_or_default()
}

fn line(kind: &str, object: Value) -> Bytes {
    let mut text = json!({"type": kind, "object": object}).to_string();
    text.push('\n');
    Bytes::from(text)
}

impl WatchRequest {
    fn encode(&self, kind: EventType, object: &Value) -> Bytes {
        let object = match self.table {
            None if self.metadata_only => metadata::partial(object),
            None => object.clone(),
            Some(include) => {
                let rv = object["metadata"]["resourceVersion"].clone();
                table::table(
                    self.t,
                    std::slice::from_ref(object),
                    json!({"resourceVersion": rv}),
                    include,
                    Utc::now(),
                )
            }
        };
        line(kind.as_str(), object)
    }

    fn bookmark(&self, rv: u64, initial_events_end: bool) -> Bytes {
        let mut metadata = json!({"resourceVersion": rv.to_string()});
        if initial_events_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let (kind, api_version) = if self.metadata_only {
            ("PartialObjectMetadata", "meta.k8s.io/v1".to_string())
        } else {
            (self.t.kind, self.t.api_version())
        };
        line(
            "BOOKMARK",
            json!({"kind": kind, "apiVersion": api_version, "metadata": metadata}),
        )
    }

    fn in_scope(&self, key_resource: &str, key_namespace: &str) -> bool {
        key_resource == self.t.plural
            && self
                .namespace
                .as_deref()
                .is_none_or(|ns| ns == key_namespace)
    }

    /// What this watch sees of `event`, if anything.
    fn visible(&self, event: &Event) -> Option<EventType> {
        if !self.in_scope(event.key.0, &event.key.1) {
            return None;
        }
        let now = self.selectors.matches(&event.object);
        let before = event
            .previous
            .as_ref()
            .is_some_and(|p| self.selectors.matches(p));
        match (event.kind, before, now) {
            (EventType::Added, _, true) | (EventType::Modified, false, true) => {
                Some(EventType::Added)
            }
            (EventType::Modified, true, true) => Some(EventType::Modified),
            (EventType::Modified, true, false) | (EventType::Deleted, _, true) => {
                Some(EventType::Deleted)
            }
            _ => None,
        }
    }
}

/// What wakes a watch: a write, or the order to close.
struct Signals {
    changes: tokio::sync::watch::Receiver<u64>,
    closings: tokio::sync::watch::Receiver<u64>,
}

/// The revision the watch starts after, and the events that come first (the current
/// objects, when it starts "now"); or the error it ends with at once.
fn start(shared: &Shared, request: &WatchRequest) -> Result<(u64, Vec<Bytes>), ApiError> {
    let from = request
        .resource_version
        .as_deref()
        .filter(|rv| !rv.is_empty() && *rv != "0");
    let initial = request.send_initial_events.unwrap_or(from.is_none());

    let store = lock(&shared.store);
    match from.map(str::parse::<u64>) {
        Some(Err(_)) => Err(ApiError::bad_request(format!(
            "invalid resource version: {}",
            from.unwrap_or_default()
        ))),
        Some(Ok(rv)) if !initial && rv < store.compacted() => {
            Err(ApiError::too_old_resource_version(rv, store.compacted()))
        }
        Some(Ok(rv)) if !initial => Ok((rv, Vec::new())),
        _ => {
            let now = store.resource_version();
            let mut first = Vec::new();
            if initial {
                let ns = request.namespace.as_deref();
                for (_, object) in store.scan(request.t.plural, ns, None, now) {
                    if request.selectors.matches(object) {
                        first.push(request.encode(EventType::Added, object));
                    }
                }
            }
            Ok((now, first))
        }
    }
}

async fn produce(
    shared: Arc<Shared>,
    request: WatchRequest,
    start: Result<(u64, Vec<Bytes>), ApiError>,
    signals: Signals,
    tx: mpsc::Sender<Bytes>,
) {
    let Signals {
        mut changes,
        mut closings,
    } = signals;
    let (mut cursor, first) = match start {
        Ok(start) => start,
        Err(error) => {
            let _ = tx.send(line("ERROR", error.status())).await;
            return;
        }
    };
    let initial = request.send_initial_events == Some(true);
    let interval = shared.settings().bookmark_interval;
    let deadline = Instant::now() + request.timeout;
    for chunk in first {
        if tx.send(chunk).await.is_err() {
            return;
        }
    }
    if initial && request.bookmarks {
        let _ = tx.send(request.bookmark(cursor, true)).await;
    }

    let mut next_bookmark = Instant::now() + interval;
    loop {
        changes.borrow_and_update();
        let batch = {
            let store = lock(&shared.store);
            if store.missed(cursor) {
                Err(ApiError::too_old_resource_version(
                    cursor,
                    store.compacted(),
                ))
            } else {
                let chunks: Vec<Bytes> = store
                    .events_after(cursor)
                    .filter_map(|e| {
                        request
                            .visible(e)
                            .map(|kind| request.encode(kind, &e.object))
                    })
                    .collect();
                Ok((chunks, store.resource_version()))
            }
        };
        match batch {
            Err(error) => {
                let _ = tx.send(line("ERROR", error.status())).await;
                return;
            }
            Ok((chunks, rv)) => {
                for chunk in chunks {
                    if tx.send(chunk).await.is_err() {
                        return;
                    }
                }
                cursor = cursor.max(rv);
            }
        }
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return },
            _ = closings.changed() => return,
            _ = tx.closed() => return,
            _ = sleep_until(deadline) => {
                // As the real watch cache does, a last bookmark before the timeout.
                if request.bookmarks {
                    let _ = tx.send(request.bookmark(cursor, false)).await;
                }
                return;
            }
            _ = sleep_until(next_bookmark), if request.bookmarks => {
                if tx.send(request.bookmark(cursor, false)).await.is_err() {
                    return;
                }
                next_bookmark = Instant::now() + interval;
            }
        }
    }
}
