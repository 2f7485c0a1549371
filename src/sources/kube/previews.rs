//! The preview namespaces feed: one kube-runtime metadata watcher on namespaces (only
//! `PartialObjectMetadata` travels: a preview needs a name and two timestamps, never a
//! spec or a status; bookmarks on, paged initial list), a reflector holding only the
//! previews (`<prefix><pull request number>`, see `engine::previews::pr_number`) and only
//! what a preview shows of them, and a reading published on every change. Never polls:
//! after the initial list, the only requests are the long-running watch and its
//! reconnections.
//!
//! A watch error other than `410 Gone` publishes a fault and keeps the last list; the
//! watcher reconnects with backoff and the next event clears the fault. A `410 Gone` (the
//! resourceVersion expired) is routine: the watcher re-lists by itself, the store swaps to
//! the new list atomically at its end, and no fault is shown.

use std::sync::Arc;

use futures::{StreamExt, future};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::client::source_error;
use crate::clock::Clock;
use crate::engine::previews::{Preview, is_preview, sort_by_age};
use crate::sources::{Feed, Reading, SourceError};

/// Objects per page of the initial list (and of every re-list): client-go's default.
pub const PAGE_SIZE: u32 = 500;

/// Start watching namespaces; the feed holds the preview namespaces, oldest first.
/// Must be called within a Tokio runtime. Aborting the handle stops the watch.
pub fn spawn(
    client: Client,
    prefix: String,
    clock: Arc<dyn Clock>,
) -> (Feed<Vec<Preview>>, JoinHandle<()>) {
    spawn_with_quiet(client, prefix, clock, QUIET_AFTER_FAULT)
}

/// As [`spawn`], taking a watch as back after `quiet` without a new failure (tests).
pub fn spawn_with_quiet(
    client: Client,
    prefix: String,
    clock: Arc<dyn Clock>,
    quiet: std::time::Duration,
) -> (Feed<Vec<Preview>>, JoinHandle<()>) {
    let (tx, feed) = watch::channel(Reading::default());
    let task = tokio::spawn(run(client, prefix, clock, tx, quiet));
    (feed, task)
}

async fn run(
    client: Client,
    prefix: String,
    clock: Arc<dyn Clock>,
    tx: watch::Sender<Reading<Vec<Preview>>>,
    quiet: std::time::Duration,
) {
    // An Api of PartialObjectMeta asks for metadata only, on the list and on the watch.
    let api: Api<NamespaceMeta> = Api::all(client);
    let (store, writer) = reflector::store();
    let config = watcher::Config::default().page_size(PAGE_SIZE);
    let wanted = prefix.clone();
    // A namespace never changes its name, so dropping the others before the reflector is
    // exact: the store holds previews only, however many namespaces the cluster has.
    let events = watcher(api, config)
        .filter(move |event| future::ready(concerns_previews(event, &wanted)))
        .filter_map(|event| future::ready(drop_gone(event)))
        .map(|event| event.map(|e| e.modify(slim)))
        .default_backoff();
    let mut events = std::pin::pin!(reflector::reflector(writer, events));
    // Set after a watch error: if no other error comes before it, the re-watch held.
    let mut recovered_by: Option<tokio::time::Instant> = None;
    loop {
        let event = match recovered_by {
            Some(at) => tokio::select! {
                event = events.next() => event,
                () = tokio::time::sleep_until(at) => {
                    recovered_by = None;
                    let now = clock.now();
                    tx.send_if_modified(|r| confirm_recovery(r, now));
                    continue;
                }
            },
            None => events.next().await,
        };
        let Some(event) = event else { break };
        match event {
            Ok(watcher::Event::Init | watcher::Event::InitApply(_)) => {}
            Ok(watcher::Event::InitDone | watcher::Event::Apply(_) | watcher::Event::Delete(_)) => {
                recovered_by = None;
                let list = previews(&store, &prefix);
                tx.send_replace(Reading::fresh(list, clock.now()));
            }
            Err(e) => {
                let now = clock.now();
                let fault = watch_fault(&e, now);
                log::warn!("kube: preview namespaces watch: {fault}");
                tx.send_modify(|r| r.fault = Some((now, fault)));
                recovered_by = Some(tokio::time::Instant::now() + quiet);
            }
        }
    }
}

/// A failed watch is retried with backoff (at most 30 s apart), and each failure is
/// reported. A watch that comes back says nothing until something changes, so a fault
/// followed by this long without another one means the watch is back and the list as it
/// was is current.
pub const QUIET_AFTER_FAULT: std::time::Duration = std::time::Duration::from_secs(45);

/// Clear the fault of a reading that has a list (a fault before the first list stays
/// until the list arrives). Returns whether the reading changed.
fn confirm_recovery(r: &mut Reading<Vec<Preview>>, now: chrono::DateTime<chrono::Utc>) -> bool {
    if r.fault.is_none() || r.value.is_none() {
        return false;
    }
    log::info!("kube: preview namespaces watch is back");
    r.fault = None;
    r.updated = Some(now);
    true
}

/// A namespace as the metadata watch delivers it.
type NamespaceMeta = PartialObjectMeta<Namespace>;

/// Whether a watcher event can matter to the preview list.
fn concerns_previews(
    event: &Result<watcher::Event<NamespaceMeta>, watcher::Error>,
    prefix: &str,
) -> bool {
    match event {
        Ok(
            watcher::Event::Apply(ns) | watcher::Event::Delete(ns) | watcher::Event::InitApply(ns),
        ) => ns
            .metadata
            .name
            .as_deref()
            .is_some_and(|n| is_preview(n, prefix)),
        Ok(watcher::Event::Init | watcher::Event::InitDone) | Err(_) => true,
    }
}

/// A `410 Gone` is the watcher's cue to re-list, which it has already taken: not a fault,
/// and not a reason to back off.
fn drop_gone(
    event: Result<watcher::Event<NamespaceMeta>, watcher::Error>,
) -> Option<Result<watcher::Event<NamespaceMeta>, watcher::Error>> {
    match &event {
        Err(watcher::Error::WatchError(status)) if status.code == 410 => {
            log::info!("kube: namespaces watch expired (410 Gone), re-listing");
            None
        }
        _ => Some(event),
    }
}

/// Keep what a preview needs (see [`preview`]); the rest (managed fields, labels,
/// annotations such as kubectl's last-applied configuration, uid, resourceVersion) would
/// only cost memory in the store, ten thousand times over.
fn slim(ns: &mut NamespaceMeta) {
    let metadata = std::mem::take(&mut ns.metadata);
    ns.metadata = ObjectMeta {
        name: metadata.name,
        creation_timestamp: metadata.creation_timestamp,
        deletion_timestamp: metadata.deletion_timestamp,
        ..ObjectMeta::default()
    };
}

fn watch_fault(e: &watcher::Error, now: chrono::DateTime<chrono::Utc>) -> SourceError {
    let what = "watch namespaces";
    match e {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => source_error(e, what, now),
        watcher::Error::WatchError(status) => {
            let e = kube::Error::Api(status.clone());
            source_error(&e, what, now)
        }
        watcher::Error::NoResourceVersion => {
            SourceError::Rejected(format!("{what}: the API sent no resourceVersion"))
        }
    }
}

fn previews(store: &Store<NamespaceMeta>, prefix: &str) -> Vec<Preview> {
    let mut list: Vec<Preview> = store
        .state()
        .iter()
        .filter_map(|ns| preview(&ns.metadata, prefix))
        .collect();
    sort_by_age(&mut list);
    list
}

/// A namespace, by its metadata, as a preview (its pull request is joined later, from the
/// forge). A namespace is Terminating exactly when it has a deletionTimestamp: the API
/// server sets both at once.
pub fn preview(ns: &ObjectMeta, prefix: &str) -> Option<Preview> {
    let name = ns.name.as_deref()?;
    if !is_preview(name, prefix) {
        return None;
    }
    let created = ns
        .creation_timestamp
        .as_ref()
        .and_then(|t| timestamp(&t.0))
        .unwrap_or_default();
    let terminating = ns.deletion_timestamp.is_some();
    Some(Preview::bare(name, created, terminating))
}

pub(super) fn timestamp(t: &k8s_openapi::jiff::Timestamp) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(t.as_second(), t.subsec_nanosecond().max(0) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, Time};
    use kube::core::PartialObjectMetaExt;

    fn ns(name: &str, created: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            creation_timestamp: Some(Time(created.parse().unwrap())),
            ..ObjectMeta::default()
        }
    }

    fn meta(metadata: ObjectMeta) -> NamespaceMeta {
        metadata.into_response_partial()
    }

    #[test]
    fn a_preview_keeps_its_name_and_creation_time() {
        let p = preview(&ns("pr-12", "2026-11-20T10:00:00Z"), "pr-").unwrap();
        assert_eq!(p.namespace, "pr-12");
        assert_eq!(p.created.to_rfc3339(), "2026-11-20T10:00:00+00:00");
        assert!(!p.terminating);
        assert!(preview(&ns("prod", "2026-11-20T10:00:00Z"), "pr-").is_none());
        assert!(preview(&ns("pr-old", "2026-11-20T10:00:00Z"), "pr-").is_none());
        assert!(preview(&ns("prod", "2026-11-20T10:00:00Z"), "pr").is_none());
    }

    #[test]
    fn a_namespace_being_deleted_is_terminating() {
        let mut n = ns("pr-13", "2026-11-20T10:00:00Z");
        n.deletion_timestamp = Some(Time("2026-11-21T10:00:00Z".parse().unwrap()));
        assert!(preview(&n, "pr-").unwrap().terminating);
    }

    #[test]
    fn the_store_keeps_a_previews_name_and_times_only() {
        let mut n = ns("pr-13", "2026-11-20T10:00:00Z");
        n.deletion_timestamp = Some(Time("2026-11-21T10:00:00Z".parse().unwrap()));
        n.uid = Some("6f1c7f0e-6b1e-4c1e-9d2a-3f4b5c6d7e8f".into());
        n.resource_version = Some("41".into());
        n.labels = Some([("kubernetes.io/metadata.name".into(), "pr-13".into())].into());
        n.annotations = Some(
            [(
                "kubectl.kubernetes.io/last-applied-configuration".into(),
                "{}".into(),
            )]
            .into(),
        );
        n.managed_fields = Some(vec![ManagedFieldsEntry {
            manager: Some("kubectl-client-side-apply".into()),
            ..ManagedFieldsEntry::default()
        }]);
        let before = preview(&n, "pr-").unwrap();
        let mut stored = meta(n);
        slim(&mut stored);
        assert_eq!(
            stored.metadata,
            ObjectMeta {
                name: Some("pr-13".into()),
                creation_timestamp: Some(Time("2026-11-20T10:00:00Z".parse().unwrap())),
                deletion_timestamp: Some(Time("2026-11-21T10:00:00Z".parse().unwrap())),
                ..ObjectMeta::default()
            }
        );
        assert_eq!(preview(&stored.metadata, "pr-"), Some(before));
    }

    #[test]
    fn a_quiet_watch_clears_the_fault_and_keeps_the_list() {
        let at = chrono::Utc::now();
        let list = vec![preview(&ns("pr-1", "2026-11-20T10:00:00Z"), "pr-").unwrap()];
        let mut r = Reading::fresh(list.clone(), at);
        r.fault = Some((at, SourceError::Unreachable("connection reset".into())));
        let later = at + chrono::Duration::seconds(45);
        assert!(confirm_recovery(&mut r, later));
        assert!(r.fault.is_none());
        assert_eq!(r.updated, Some(later));
        assert_eq!(r.value.as_deref(), Some(&list));
        assert!(!confirm_recovery(&mut r, later), "nothing to clear");

        let mut never_listed = Reading::<Vec<Preview>> {
            fault: Some((at, SourceError::Unreachable("refused".into()))),
            ..Reading::default()
        };
        assert!(!confirm_recovery(&mut never_listed, later));
        assert!(never_listed.fault.is_some());
    }

    #[test]
    fn only_preview_events_and_markers_reach_the_store() {
        let event = |e| Ok::<_, watcher::Error>(e);
        assert!(concerns_previews(
            &event(watcher::Event::Apply(meta(ns(
                "pr-1",
                "2026-11-20T10:00:00Z"
            )))),
            "pr-"
        ));
        assert!(!concerns_previews(
            &event(watcher::Event::InitApply(meta(ns(
                "kube-system",
                "2026-11-20T10:00:00Z"
            )))),
            "pr-"
        ));
        assert!(concerns_previews(&event(watcher::Event::InitDone), "pr-"));
    }
}
