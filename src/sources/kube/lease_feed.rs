//! The driver's Lease, watched: one kube-runtime watcher on the Lease by name (a field
//! selector, so one list and then one watch). A console that does not drive learns from it
//! that the driver renewed, without asking the API server at every measurement; it asks
//! (and may take the lease) only once the lease it sees has expired, is free, or cannot be
//! seen (docs/architecture.md, "Shared train state").
//!
//! A watch error publishes a fault and keeps the last holder (`named_watch`); the next
//! event clears the fault.

use std::sync::Arc;

use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::lease::seen_by;
use super::named_watch::{self, Seen};
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
    let task = named_watch::spawn(api, what, name, clock, move |seen, now| match seen {
        Seen::Fault(fault) => tx.send_modify(|r| r.fault = Some((now, fault))),
        Seen::Now(lease) => {
            let holder = lease.as_ref().and_then(|l| seen_by(l, ""));
            tx.send_replace(Reading::fresh(holder, now));
        }
    });
    (feed, task)
}
