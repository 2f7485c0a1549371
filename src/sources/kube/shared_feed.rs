//! The shared documents feed: one kube-runtime watcher on the release's ConfigMap (a field
//! selector on its name, so one list and then one watch), a reading published on every
//! change. Never polls.
//!
//! As for the preview namespaces: a watch error other than `410 Gone` publishes a fault and
//! keeps the last documents; the watcher reconnects with backoff, and the next event (or a
//! quiet spell) clears the fault. A document that cannot be read is left out of the reading
//! and named in its fault, which stays while the document is damaged.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::{StreamExt, future};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::client::source_error;
use super::previews::QUIET_AFTER_FAULT;
use super::shared_docs::docs_in;
use crate::clock::Clock;
use crate::sources::{Feed, Reading, SharedDocs, SourceError};

/// Start watching ConfigMap `name` through `api`; the feed holds its documents. Must be
/// called within a Tokio runtime. Aborting the handle stops the watch.
pub fn spawn(
    api: Api<ConfigMap>,
    namespace: String,
    name: String,
    clock: Arc<dyn Clock>,
) -> (Feed<SharedDocs>, JoinHandle<()>) {
    let (tx, feed) = watch::channel(Reading::default());
    let what = format!("watch ConfigMap {namespace}/{name}");
    let task = tokio::spawn(run(api, name, what, clock, tx, QUIET_AFTER_FAULT));
    (feed, task)
}

async fn run(
    api: Api<ConfigMap>,
    name: String,
    what: String,
    clock: Arc<dyn Clock>,
    tx: watch::Sender<Reading<SharedDocs>>,
    quiet: std::time::Duration,
) {
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let events = watcher(api, config)
        .filter_map(|event| future::ready(drop_gone(event)))
        .default_backoff();
    let mut events = std::pin::pin!(events);
    // What a (re-)list has found so far: published whole at its end, never half.
    let mut listing: Option<Option<ConfigMap>> = None;
    // The damaged documents of the last reading: a fault that outlives a watch fault.
    let mut damaged: Option<SourceError> = None;
    // Set after a watch error: if no other error comes before it, the re-watch held.
    let mut recovered_by: Option<tokio::time::Instant> = None;
    loop {
        let event = match recovered_by {
            Some(at) => tokio::select! {
                event = events.next() => event,
                () = tokio::time::sleep_until(at) => {
                    recovered_by = None;
                    let now = clock.now();
                    tx.send_if_modified(|r| confirm_recovery(r, now, &damaged));
                    continue;
                }
            },
            None => events.next().await,
        };
        let Some(event) = event else { break };
        let current = match event {
            Ok(watcher::Event::Init) => {
                listing = Some(None);
                continue;
            }
            Ok(watcher::Event::InitApply(configmap)) => {
                listing = Some(Some(configmap));
                continue;
            }
            Ok(watcher::Event::InitDone) => listing.take().flatten(),
            Ok(watcher::Event::Apply(configmap)) => Some(configmap),
            Ok(watcher::Event::Delete(_)) => None,
            Err(e) => {
                let now = clock.now();
                let fault = watch_fault(&e, &what, now);
                log::warn!("kube: {what}: {fault}");
                tx.send_modify(|r| r.fault = Some((now, fault)));
                recovered_by = Some(tokio::time::Instant::now() + quiet);
                continue;
            }
        };
        recovered_by = None;
        let (docs, problems) = docs_in(current.as_ref());
        damaged = (!problems.is_empty())
            .then(|| SourceError::Rejected(format!("{what}: {}", problems.join("; "))));
        let now = clock.now();
        let mut reading = Reading::fresh(docs, now);
        reading.fault = damaged.clone().map(|e| (now, e));
        tx.send_replace(reading);
    }
}

/// After a quiet spell the watch is back: the fault goes, but for damaged documents.
/// A fault before the first reading stays until it arrives. Returns whether the reading
/// changed.
fn confirm_recovery(
    r: &mut Reading<SharedDocs>,
    now: DateTime<Utc>,
    damaged: &Option<SourceError>,
) -> bool {
    if r.fault.is_none() || r.value.is_none() {
        return false;
    }
    log::info!("kube: shared documents watch is back");
    r.fault = damaged.clone().map(|e| (now, e));
    r.updated = Some(now);
    true
}

/// A `410 Gone` is the watcher's cue to re-list, which it has already taken: not a fault.
pub(super) fn drop_gone<K>(
    event: Result<watcher::Event<K>, watcher::Error>,
) -> Option<Result<watcher::Event<K>, watcher::Error>> {
    match &event {
        Err(watcher::Error::WatchError(status)) if status.code == 410 => None,
        _ => Some(event),
    }
}

pub(super) fn watch_fault(e: &watcher::Error, what: &str, now: DateTime<Utc>) -> SourceError {
    match e {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => source_error(e, what, now),
        watcher::Error::WatchError(status) => {
            source_error(&kube::Error::Api(status.clone()), what, now)
        }
        watcher::Error::NoResourceVersion => {
            SourceError::Rejected(format!("{what}: the API sent no resourceVersion"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::SharedDoc;

    fn docs() -> SharedDocs {
        let doc = SharedDoc {
            generation: 1,
            body: serde_json::json!({}),
            written_by: "ana@a".into(),
            written_at: "2026-11-20T10:00:00Z".parse().unwrap(),
        };
        SharedDocs::from([("train".to_string(), doc)])
    }

    #[test]
    fn a_quiet_watch_clears_its_fault_but_not_a_damaged_documents() {
        let at: DateTime<Utc> = "2026-11-20T10:00:00Z".parse().unwrap();
        let later = at + chrono::Duration::seconds(45);
        let mut r = Reading::fresh(docs(), at);
        r.fault = Some((at, SourceError::Unreachable("connection reset".into())));
        assert!(confirm_recovery(&mut r, later, &None));
        assert!(r.fault.is_none());
        assert_eq!(r.value.as_deref(), Some(&docs()));

        let damaged = Some(SourceError::Rejected(
            "plan.json is not a shared document".into(),
        ));
        r.fault = Some((at, SourceError::Unreachable("connection reset".into())));
        assert!(confirm_recovery(&mut r, later, &damaged));
        assert_eq!(r.fault, Some((later, damaged.clone().unwrap())));

        let mut never_listed = Reading::<SharedDocs> {
            fault: Some((at, SourceError::Unreachable("refused".into()))),
            ..Reading::default()
        };
        assert!(!confirm_recovery(&mut never_listed, later, &damaged));
    }
}
