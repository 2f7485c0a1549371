//! One object watched by name: a kube-runtime watcher with a field selector on its name (so
//! one list and then one watch), its events folded into "the object as it is now" (or gone)
//! for the caller to publish. A (re-)list is handed over whole at its end, so an object
//! missing from a list is seen as gone. `410 Gone` is the watcher's cue to re-list, not a
//! fault; other errors are handed over as faults while the watcher reconnects with
//! backoff. The route's weight (`traffic_watch`) and the driver's Lease (`lease_feed`)
//! are watched this way.

use std::fmt::Debug;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::{StreamExt, future};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use tokio::task::JoinHandle;

use super::shared_feed::{drop_gone, watch_fault};
use crate::clock::Clock;
use crate::sources::SourceError;

/// What a watch of one object tells its caller.
pub enum Seen<K> {
    /// The object as it is now; `None` when it is gone.
    Now(Option<K>),
    /// The watch failed (it is retried).
    Fault(SourceError),
}

/// Watch object `name` through `api`, calling `seen` with each settled state and each
/// fault, stamped by `clock`. Must be called within a Tokio runtime. Aborting the handle
/// stops the watch.
pub fn spawn<K>(
    api: Api<K>,
    what: String,
    name: &str,
    clock: Arc<dyn Clock>,
    mut seen: impl FnMut(Seen<K>, DateTime<Utc>) + Send + 'static,
) -> JoinHandle<()>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    tokio::spawn(async move {
        let events = watcher(api, config)
            .filter_map(|event| future::ready(drop_gone(event)))
            .default_backoff();
        let mut events = std::pin::pin!(events);
        let mut listing: Option<Option<K>> = None;
        while let Some(event) = events.next().await {
            let now = clock.now();
            let current = match event {
                Ok(watcher::Event::Init) => {
                    listing = Some(None);
                    continue;
                }
                Ok(watcher::Event::InitApply(object)) => {
                    listing = Some(Some(object));
                    continue;
                }
                Ok(watcher::Event::InitDone) => listing.take().flatten(),
                Ok(watcher::Event::Apply(object)) => Some(object),
                Ok(watcher::Event::Delete(_)) => None,
                Err(e) => {
                    let fault = watch_fault(&e, &what, now);
                    log::warn!("kube: {what}: {fault}");
                    seen(Seen::Fault(fault), now);
                    continue;
                }
            };
            seen(Seen::Now(current), now);
        }
    })
}
