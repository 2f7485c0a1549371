//! The canary's share of traffic, watched: one kube-runtime watcher on the route object
//! (a field selector on its name, so one list and then one watch), publishing the weight
//! when it changes. The operator holds it against the train's weight at each measurement,
//! so a route changed by hand during a run is found at the next tick without reading the
//! route on every tick (docs/architecture.md, "Drift").
//!
//! A watch error publishes a fault and keeps the last weight (`named_watch`); the next event
//! clears the fault. A route that is deleted, or whose shape cannot be read, is a fault
//! without a weight.

use std::fmt::Debug;
use std::sync::Arc;

use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::named_watch::{self, Seen};
use crate::clock::Clock;
use crate::sources::{Feed, Reading, SourceError};

/// Start watching object `name` through `api`; the feed holds the canary weight
/// `weight_of` reads from it. Must be called within a Tokio runtime. Aborting the handle
/// stops the watch.
pub fn spawn<K>(
    api: Api<K>,
    what: String,
    name: &str,
    weight_of: impl Fn(&K) -> Result<u8, SourceError> + Send + 'static,
    clock: Arc<dyn Clock>,
) -> (Feed<u8>, JoinHandle<()>)
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    let (tx, feed) = watch::channel(Reading::default());
    let gone = format!("{what}: the object is gone");
    let task = named_watch::spawn(api, what, name, clock, move |seen, now| match seen {
        Seen::Fault(fault) => tx.send_modify(|r| r.fault = Some((now, fault))),
        Seen::Now(current) => {
            let weight = match current.as_ref().map(&weight_of) {
                Some(w) => w,
                None => Err(SourceError::Rejected(gone.clone())),
            };
            tx.send_if_modified(|r| publish(r, weight, now));
        }
    });
    (feed, task)
}

/// Take `weight` into the reading; true when it changed what the reading says.
fn publish(
    r: &mut Reading<u8>,
    weight: Result<u8, SourceError>,
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    match weight {
        Ok(w) if r.value.as_deref() == Some(&w) && r.fault.is_none() => false,
        Ok(w) => {
            *r = Reading::fresh(w, now);
            true
        }
        Err(e) => {
            let changed = r.value.is_some() || r.fault.as_ref().is_none_or(|(_, f)| *f != e);
            *r = Reading {
                value: None,
                updated: Some(now),
                fault: Some((now, e)),
            };
            changed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_weight_is_published_when_it_changes_and_a_lost_route_drops_it() {
        let at: chrono::DateTime<chrono::Utc> = "2026-12-01T10:00:00Z".parse().unwrap();
        let mut r = Reading::default();
        assert!(publish(&mut r, Ok(5), at));
        assert!(!publish(&mut r, Ok(5), at), "the same weight is no news");
        assert!(publish(&mut r, Ok(25), at));
        assert_eq!(r.value.as_deref(), Some(&25));

        let gone = SourceError::Rejected("the object is gone".into());
        assert!(publish(&mut r, Err(gone.clone()), at));
        assert_eq!(r.value, None, "no weight is kept for a route that is gone");
        assert!(!publish(&mut r, Err(gone), at));
        assert!(publish(&mut r, Ok(25), at), "back");
        assert!(r.fault.is_none());
    }
}
