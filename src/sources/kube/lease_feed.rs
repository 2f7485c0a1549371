//! The driver's Lease, watched: one kube-runtime watcher on the Lease by name (a field
//! selector, so one list and then one watch). A console that does not drive learns from it
//! that the driver renewed, without asking the API server at every measurement; it asks
//! (and may take the lease) only once the lease it sees has expired, is free, or cannot be
//! seen (docs/architecture.md, "Shared train state").
//!
//! A watch error other than `410 Gone` publishes a fault and keeps the last holder; the
//! watcher reconnects with backoff and the next event clears the fault.

use std::sync::Arc;

use futures::{StreamExt, future};
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::lease::seen_by;
use super::shared_feed::{drop_gone, watch_fault};
use crate::clock::Clock;
use crate::sources::{Feed, LeaseHolder, Reading};

/// Start watching Lease `name` through `api`; the feed holds who holds it (never `ours`:
/// the reader compares the holder with itself), `None` when nobody does or it is gone.
/// Must be called within a Tokio runtime. Aborting the handle stops the watch.
pub fn spawn(
    api: Api<Lease>,
    what: String,
    name: &str,
    clock: Arc<dyn Clock>,
) -> (Feed<Option<LeaseHolder>>, JoinHandle<()>) {
    let (tx, feed) = watch::channel(Reading::default());
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let task = tokio::spawn(async move {
        let events = watcher(api, config)
            .filter_map(|event| future::ready(drop_gone(event)))
            .default_backoff();
        let mut events = std::pin::pin!(events);
        let mut listing: Option<Option<Lease>> = None;
        while let Some(event) = events.next().await {
            let now = clock.now();
            let current = match event {
                Ok(watcher::Event::Init) => {
                    listing = Some(None);
                    continue;
                }
                Ok(watcher::Event::InitApply(lease)) => {
                    listing = Some(Some(lease));
                    continue;
                }
                Ok(watcher::Event::InitDone) => listing.take().flatten(),
                Ok(watcher::Event::Apply(lease)) => Some(lease),
                Ok(watcher::Event::Delete(_)) => None,
                Err(e) => {
                    let fault = watch_fault(&e, &what, now);
                    log::warn!("kube: {what}: {fault}");
                    tx.send_modify(|r| r.fault = Some((now, fault)));
                    continue;
                }
            };
            let holder = current.as_ref().and_then(|l| seen_by(l, ""));
            tx.send_replace(Reading::fresh(holder, now));
        }
    });
    (feed, task)
}
