//! The driver's lease: one `coordination.k8s.io/v1` Lease per release, held by the one
//! console that may drive the train. Taken when absent, released or expired, renewed by
//! its holder, and otherwise left alone: every write carries the resourceVersion it was
//! decided on, so of two consoles deciding at once exactly one lands, and the other is
//! told who holds the lease. Times come from the injected clock.
//!
//! Expiry is judged from the Lease's own `renewTime`, so consoles whose clocks disagree by
//! more than a small part of the lease's duration may disagree about expiry.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::PostParams;
use kube::{Api, Client};

use super::client::{source_error, status_code};
use super::previews::timestamp;
use super::shared_docs::managed_labels;
use crate::clock::Clock;
use crate::sources::{LeaseHolder, SourceError};

/// Tries at releasing a lease whose holder keeps renewing it meanwhile.
const RELEASE_ATTEMPTS: u32 = 2;

/// One Lease, taken, renewed and released on behalf of a console.
pub struct DriverLease {
    api: Api<Lease>,
    namespace: String,
    name: String,
    clock: Arc<dyn Clock>,
}

/// What a console may do with the lease as it reads it.
#[derive(Debug, Clone, PartialEq)]
enum Claim {
    /// Someone else holds it and it has not expired.
    Refused(LeaseHolder),
    /// Write this (a renewal, or a takeover) with the read resourceVersion.
    Write(Box<Lease>),
}

impl DriverLease {
    pub fn new(client: Client, namespace: &str, name: &str, clock: Arc<dyn Clock>) -> Self {
        Self {
            api: Api::namespaced(client, namespace),
            namespace: namespace.to_string(),
            name: name.to_string(),
            clock,
        }
    }

    fn fail(&self, e: &kube::Error, verb: &str) -> SourceError {
        let what = format!("{verb} Lease {}/{}", self.namespace, self.name);
        source_error(e, &what, self.clock.now())
    }

    async fn get(&self) -> Result<Option<Lease>, SourceError> {
        self.api
            .get_opt(&self.name)
            .await
            .map_err(|e| self.fail(&e, "read"))
    }

    /// Who holds the lease now, if anyone does and it has not expired; nothing is written.
    pub async fn holder(&self) -> Result<Option<LeaseHolder>, SourceError> {
        let now = self.clock.now();
        Ok(self
            .get()
            .await?
            .as_ref()
            .and_then(|l| seen_by(l, ""))
            .filter(|h| h.expires >= now))
    }

    /// Take the lease for `holder` if it is free or expired, renew it if `holder` has it;
    /// says who holds it after.
    pub async fn acquire(
        &self,
        holder: &str,
        ttl: std::time::Duration,
    ) -> Result<LeaseHolder, SourceError> {
        let now = micro_time(self.clock.now())?;
        let seconds = whole_seconds(ttl);
        let written = match self.get().await? {
            None => {
                let lease = new_lease(&self.name, holder, seconds, &now);
                self.api.create(&PostParams::default(), &lease).await
            }
            Some(current) => match claim(&current, holder, seconds, &now) {
                Claim::Refused(other) => return Ok(other),
                Claim::Write(lease) => {
                    self.api
                        .replace(&self.name, &PostParams::default(), &lease)
                        .await
                }
            },
        };
        match written {
            Ok(lease) => seen_by(&lease, holder).ok_or_else(|| {
                SourceError::Rejected(format!(
                    "Lease {}/{}: the API server kept no holder",
                    self.namespace, self.name
                ))
            }),
            // Another console took or renewed it first: it holds the lease now.
            Err(e) if status_code(&e) == Some(409) => {
                let lease = self.get().await?;
                lease
                    .as_ref()
                    .and_then(|l| seen_by(l, holder))
                    .ok_or_else(|| {
                        SourceError::Rejected(format!(
                            "Lease {}/{} changed while {holder} was taking it, and is free now",
                            self.namespace, self.name
                        ))
                    })
            }
            Err(e) => Err(self.fail(&e, "write")),
        }
    }

    /// Give the lease up if `holder` has it, so another console need not wait out its
    /// expiry.
    pub async fn release(&self, holder: &str) -> Result<(), SourceError> {
        for _ in 0..RELEASE_ATTEMPTS {
            let Some(mut lease) = self.get().await? else {
                return Ok(());
            };
            let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
            if spec.holder_identity.as_deref() != Some(holder) {
                return Ok(());
            }
            spec.holder_identity = None;
            match self
                .api
                .replace(&self.name, &PostParams::default(), &lease)
                .await
            {
                Ok(_) => return Ok(()),
                // Renewed meanwhile (by another of the holder's consoles): read it again.
                Err(e) if status_code(&e) == Some(409) => {}
                Err(e) => return Err(self.fail(&e, "release")),
            }
        }
        Err(SourceError::Rejected(format!(
            "release Lease {}/{}: it changed under every one of {RELEASE_ATTEMPTS} attempts",
            self.namespace, self.name
        )))
    }
}

/// A Lease counts whole seconds; a part of one counts as one, so a lease never ends
/// before the holder asked.
fn whole_seconds(ttl: std::time::Duration) -> i32 {
    let seconds = ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0);
    i32::try_from(seconds).unwrap_or(i32::MAX).max(1)
}

/// `at` as a MicroTime, truncated to the microseconds the API keeps, so what is written
/// is exactly what is read back.
fn micro_time(at: DateTime<Utc>) -> Result<MicroTime, SourceError> {
    let nanos = at.timestamp_subsec_micros() * 1_000;
    k8s_openapi::jiff::Timestamp::new(at.timestamp(), nanos as i32)
        .map(MicroTime)
        .map_err(|e| SourceError::Rejected(format!("the time {at} cannot be a Lease's: {e}")))
}

fn new_lease(name: &str, holder: &str, seconds: i32, now: &MicroTime) -> Lease {
    Lease {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: Some(managed_labels()),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(holder.to_string()),
            lease_duration_seconds: Some(seconds),
            acquire_time: Some(now.clone()),
            renew_time: Some(now.clone()),
            lease_transitions: Some(0),
            ..LeaseSpec::default()
        }),
    }
}

/// Decide on the lease as read; the write keeps the read resourceVersion as its
/// precondition.
fn claim(current: &Lease, holder: &str, seconds: i32, now: &MicroTime) -> Claim {
    let seen = seen_by(current, holder);
    let at = timestamp(&now.0).unwrap_or_default();
    if let Some(other) = &seen
        && !other.ours
        && other.expires >= at
    {
        return Claim::Refused(other.clone());
    }
    let mut lease = current.clone();
    let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
    if !seen.is_some_and(|s| s.ours) {
        spec.holder_identity = Some(holder.to_string());
        spec.acquire_time = Some(now.clone());
        spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0).saturating_add(1));
    }
    spec.renew_time = Some(now.clone());
    spec.lease_duration_seconds = Some(seconds);
    Claim::Write(Box::new(lease))
}

/// Who holds `lease`, as `holder` sees it; `None` when nobody does. A lease that never
/// says when it was renewed cannot be shown alive, and counts as expired long ago.
pub(super) fn seen_by(lease: &Lease, holder: &str) -> Option<LeaseHolder> {
    let spec = lease.spec.as_ref()?;
    let current = spec.holder_identity.as_deref().filter(|h| !h.is_empty())?;
    let renewed = spec
        .renew_time
        .as_ref()
        .or(spec.acquire_time.as_ref())
        .and_then(|t| timestamp(&t.0))
        .unwrap_or_default();
    let duration = TimeDelta::seconds(i64::from(spec.lease_duration_seconds.unwrap_or(0)));
    Some(LeaseHolder {
        holder: current.to_string(),
        renewed,
        expires: renewed
            .checked_add_signed(duration)
            .unwrap_or(DateTime::<Utc>::MAX_UTC),
        ours: current == holder,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> MicroTime {
        micro_time(text.parse().unwrap()).unwrap()
    }

    fn held(holder: &str, renewed: &str, seconds: i32, transitions: i32) -> Lease {
        let mut lease = new_lease("summit", holder, seconds, &at(renewed));
        lease.metadata.resource_version = Some("7".into());
        if let Some(spec) = lease.spec.as_mut() {
            spec.lease_transitions = Some(transitions);
        }
        lease
    }

    fn written(claim: Claim) -> LeaseSpec {
        match claim {
            Claim::Write(lease) => {
                assert_eq!(lease.metadata.resource_version.as_deref(), Some("7"));
                lease.spec.unwrap()
            }
            Claim::Refused(other) => panic!("refused: {other:?}"),
        }
    }

    #[test]
    fn a_live_lease_of_someone_else_is_refused_with_its_holder() {
        let lease = held("ana@a", "2026-11-20T10:00:00Z", 15, 0);
        let Claim::Refused(other) = claim(&lease, "bo@b", 15, &at("2026-11-20T10:00:15Z")) else {
            panic!("taken while alive");
        };
        assert_eq!(other.holder, "ana@a");
        assert!(!other.ours);
        assert_eq!(other.expires.to_rfc3339(), "2026-11-20T10:00:15+00:00");
    }

    #[test]
    fn a_renewal_moves_the_renew_time_only() {
        let lease = held("ana@a", "2026-11-20T10:00:00Z", 15, 2);
        let now = at("2026-11-20T10:00:10.123456Z");
        let spec = written(claim(&lease, "ana@a", 30, &now));
        assert_eq!(spec.renew_time, Some(now));
        assert_eq!(spec.acquire_time, Some(at("2026-11-20T10:00:00Z")));
        assert_eq!(spec.lease_duration_seconds, Some(30));
        assert_eq!(spec.lease_transitions, Some(2));
    }

    #[test]
    fn an_expired_or_released_lease_is_taken_and_counts_a_transition() {
        let now = at("2026-11-20T10:00:15.000001Z");
        let lease = held("ana@a", "2026-11-20T10:00:00Z", 15, 2);
        let spec = written(claim(&lease, "bo@b", 15, &now));
        assert_eq!(spec.holder_identity.as_deref(), Some("bo@b"));
        assert_eq!(spec.acquire_time, Some(now.clone()));
        assert_eq!(spec.lease_transitions, Some(3));

        let mut released = held("ana@a", "2026-11-20T10:00:00Z", 15, 3);
        released.spec.as_mut().unwrap().holder_identity = None;
        let spec = written(claim(&released, "bo@b", 15, &at("2026-11-20T10:00:01Z")));
        assert_eq!(spec.holder_identity.as_deref(), Some("bo@b"));
        assert_eq!(spec.lease_transitions, Some(4));
    }

    #[test]
    fn a_lease_without_a_renew_time_counts_as_expired() {
        let mut lease = held("ana@a", "2026-11-20T10:00:00Z", 15, 0);
        let spec = lease.spec.as_mut().unwrap();
        spec.renew_time = None;
        spec.acquire_time = None;
        let spec = written(claim(&lease, "bo@b", 15, &at("2026-11-20T10:00:01Z")));
        assert_eq!(spec.holder_identity.as_deref(), Some("bo@b"));
    }

    #[test]
    fn a_part_of_a_second_counts_as_a_whole_one() {
        use std::time::Duration;
        assert_eq!(whole_seconds(Duration::from_secs(15)), 15);
        assert_eq!(whole_seconds(Duration::from_millis(15_001)), 16);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::from_secs(u64::MAX)), i32::MAX);
    }
}
