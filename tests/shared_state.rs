//! The release's shared state in the cluster, against the wire-faithful test API server
//! (`captain_testkit::apiserver`): documents in one ConfigMap written with optimistic concurrency
//! (a stale generation is a conflict carrying the current document; of two consoles
//! racing on one document exactly one lands; racing on two documents both land), a second
//! console's feed following the first's writes through one watch (a broken watch keeping
//! the last documents, a damaged document named), and the driver's Lease taken, refused,
//! renewed, taken over after expiry, released, and raced for.

// The server's support module exports more than these tests use.
mod kube_tests_support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use captain::clock::{Clock, ManualClock};
use captain::sources::kube::{KubeShared, connect};
use captain::sources::{SharedDoc, SharedState, SourceError, WriteError};
use captain_testkit::apiserver::{AccessPolicy, ApiServer};
use captain_testkit::kube::{lists_of, watches_of};
use kube_tests_support::until;

const NAMESPACE: &str = "prod";
const CONFIGMAP: &str = "captain-summit";
const LEASE: &str = "captain-summit-driver";
const CONFIGMAPS: &str = "/api/v1/namespaces/prod/configmaps";
const THE_CONFIGMAP: &str = "/api/v1/namespaces/prod/configmaps/captain-summit";
const TTL: Duration = Duration::from_secs(15);
/// A change must reach the other console's feed within this.
const PROMPTLY: Duration = Duration::from_secs(1);
const STARTUP: Duration = Duration::from_secs(10);
const ROUNDS: u64 = 20;

fn start() -> DateTime<Utc> {
    "2026-11-20T10:00:00.123456Z".parse().unwrap()
}

async fn server() -> ApiServer {
    let server = ApiServer::start().await;
    server.put_namespace(NAMESPACE, &[], start() - TimeDelta::days(90));
    server
}

/// A console's shared state, on a connection of its own.
async fn console(server: &ApiServer, clock: &ManualClock) -> KubeShared {
    let target = connect(None, Some(&server.kubeconfig()))
        .await
        .expect("connecting through the test kubeconfig");
    let clock: Arc<dyn Clock> = Arc::new(clock.clone());
    KubeShared::spawn(target.client, NAMESPACE, CONFIGMAP, LEASE, clock)
}

/// Document `key` as the cluster holds it.
fn stored(server: &ApiServer, key: &str) -> Option<SharedDoc> {
    let configmap = server.object("configmaps", Some(NAMESPACE), CONFIGMAP)?;
    let text = configmap["data"][format!("{key}.json")].as_str()?;
    Some(serde_json::from_str(text).expect("a shared document"))
}

fn writes_of(server: &ApiServer, method: &str, path: &str) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.method == method && r.path == path)
        .count()
}

fn lost(result: &Result<u64, WriteError>) -> &SharedDoc {
    match result {
        Err(WriteError::Conflict(Some(held))) => held,
        other => panic!("expected a conflict carrying the document, got {other:?}"),
    }
}

// --- documents -----------------------------------------------------------------------------

#[tokio::test]
async fn the_first_write_creates_the_labelled_configmap_and_the_next_at_its_generation_lands() {
    let server = server().await;
    let clock = ManualClock::new(start());
    let a = console(&server, &clock).await;

    assert_eq!(a.read("train").await, Ok(None));
    assert_eq!(
        a.write("train", json!({"step": 1}), 0, "ana@a").await,
        Ok(1)
    );
    let configmap = server
        .object("configmaps", Some(NAMESPACE), CONFIGMAP)
        .expect("created");
    assert_eq!(
        configmap["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "captain"
    );
    let first = stored(&server, "train").unwrap();
    assert_eq!(
        (first.generation, &first.body, first.written_by.as_str()),
        (1, &json!({"step": 1}), "ana@a")
    );
    assert_eq!(first.written_at, start(), "the injected clock's time");
    assert_eq!(writes_of(&server, "POST", CONFIGMAPS), 1);

    clock.advance(TimeDelta::seconds(30));
    assert_eq!(
        a.write("train", json!({"step": 2}), 1, "ana@a").await,
        Ok(2)
    );
    let second = a.read("train").await.unwrap().expect("the document");
    assert_eq!((second.generation, &second.body), (2, &json!({"step": 2})));
    assert_eq!(second.written_at, start() + TimeDelta::seconds(30));
    let patch = server
        .requests()
        .into_iter()
        .find(|r| r.method == "PATCH" && r.path == THE_CONFIGMAP)
        .expect("the second write patches");
    assert!(
        patch
            .content_type
            .starts_with("application/merge-patch+json")
    );
}

#[tokio::test]
async fn a_stale_generation_is_a_conflict_carrying_the_current_document_and_writes_nothing() {
    let server = server().await;
    let clock = ManualClock::new(start());
    let a = console(&server, &clock).await;
    assert_eq!(
        a.write("train", json!(3), 2, "ana@a").await,
        Err(WriteError::Conflict(None)),
        "no ConfigMap yet: every document is at generation 0"
    );
    assert_eq!(writes_of(&server, "POST", CONFIGMAPS), 0);

    a.write("train", json!("one"), 0, "ana@a").await.unwrap();
    a.write("train", json!("two"), 1, "bo@b").await.unwrap();
    let before = server.resource_version();
    for stale in [0, 1, 7] {
        let result = a.write("train", json!("mine"), stale, "cy@c").await;
        let held = lost(&result);
        assert_eq!(
            (held.generation, &held.body, held.written_by.as_str()),
            (2, &json!("two"), "bo@b"),
            "expected {stale}"
        );
    }
    assert_eq!(server.resource_version(), before, "nothing was written");
    assert_eq!(stored(&server, "train").unwrap().body, "two");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_consoles_racing_on_one_document_land_exactly_one_write_per_round() {
    let server = server().await;
    let clock = ManualClock::new(start());
    let (a, b) = (
        console(&server, &clock).await,
        console(&server, &clock).await,
    );

    // Round 0 races two creates of the ConfigMap; the rest, two patches of it.
    for generation in 0..ROUNDS {
        let (ra, rb) = tokio::join!(
            a.write("train", json!(format!("a{generation}")), generation, "a"),
            b.write("train", json!(format!("b{generation}")), generation, "b"),
        );
        let next = generation + 1;
        let (won, loss, winner) = match (&ra, &rb) {
            (Ok(g), Err(_)) => (*g, &rb, "a"),
            (Err(_), Ok(g)) => (*g, &ra, "b"),
            _ => panic!("round {generation}: not exactly one winner: {ra:?} {rb:?}"),
        };
        assert_eq!(won, next);
        let held = lost(loss);
        let expected = json!(format!("{winner}{generation}"));
        assert_eq!(
            (held.generation, &held.body),
            (next, &expected),
            "the loser is told what the winner wrote"
        );
        assert_eq!(stored(&server, "train").unwrap().body, expected);
    }
    let writes =
        writes_of(&server, "POST", CONFIGMAPS) + writes_of(&server, "PATCH", THE_CONFIGMAP);
    assert!(
        writes > ROUNDS as usize,
        "some rounds raced to the API server itself ({writes} writes in {ROUNDS} rounds)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_consoles_writing_different_documents_at_once_both_land() {
    let server = server().await;
    let clock = ManualClock::new(start());
    let (a, b) = (
        console(&server, &clock).await,
        console(&server, &clock).await,
    );

    for generation in 0..ROUNDS {
        let (ra, rb) = tokio::join!(
            a.write("train", json!(generation), generation, "a"),
            b.write("plan", json!(generation), generation, "b"),
        );
        assert_eq!(
            (ra, rb),
            (Ok(generation + 1), Ok(generation + 1)),
            "round {generation}"
        );
    }
    for key in ["train", "plan"] {
        let doc = stored(&server, key).unwrap();
        assert_eq!((doc.generation, &doc.body), (ROUNDS, &json!(ROUNDS - 1)));
    }
    let writes =
        writes_of(&server, "POST", CONFIGMAPS) + writes_of(&server, "PATCH", THE_CONFIGMAP);
    assert!(
        writes > 2 * ROUNDS as usize,
        "some writes were refused at the API server and tried again ({writes} writes for {} documents)",
        2 * ROUNDS
    );
}

#[tokio::test]
async fn a_second_console_sees_the_first_ones_writes_within_a_second_without_polling() {
    let server = server().await;
    let clock = ManualClock::new(start());
    let b = console(&server, &clock).await;
    let mut feed = b.docs();
    let first = until(&mut feed, STARTUP, "the first reading", |r| {
        r.value.is_some()
    })
    .await;
    assert!(first.value.as_ref().unwrap().is_empty());
    assert!(first.fault.is_none());

    let a = console(&server, &clock).await;
    a.write("train", json!({"step": 1}), 0, "ana@a")
        .await
        .unwrap();
    until(&mut feed, PROMPTLY, "the created document", |r| {
        r.value
            .as_ref()
            .is_some_and(|d| d.get("train").is_some_and(|t| t.generation == 1))
    })
    .await;
    a.write("train", json!({"step": 2}), 1, "ana@a")
        .await
        .unwrap();
    a.write("plan", json!({"phase": "canary"}), 0, "ana@a")
        .await
        .unwrap();
    server.put_configmap(NAMESPACE, "unrelated", &[], &[("x.json", "{}")]);
    let r = until(&mut feed, PROMPTLY, "both documents", |r| {
        r.value.as_ref().is_some_and(|d| {
            d.get("train").is_some_and(|t| t.generation == 2) && d.contains_key("plan")
        })
    })
    .await;
    let docs = r.value.unwrap();
    assert_eq!(docs.keys().collect::<Vec<_>>(), ["plan", "train"]);
    assert_eq!(docs["train"].body, json!({"step": 2}));

    // Quiet for a few bookmark intervals: a poller would read again, a watch does not.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let requests = server.requests();
    let lists = lists_of(&requests, CONFIGMAPS);
    let watches = watches_of(&requests, CONFIGMAPS);
    assert_eq!(lists.len(), 2, "one list per console: {lists:#?}");
    assert_eq!(watches.len(), 2, "one watch per console: {watches:#?}");
    for r in lists.iter().chain(&watches) {
        assert_eq!(
            r.param("fieldSelector").as_deref(),
            Some("metadata.name=captain-summit")
        );
    }
    let gets = requests
        .iter()
        .filter(|r| r.method == "GET" && r.path == THE_CONFIGMAP)
        .count();
    assert_eq!(gets, 3, "one read per write, none for the feed");
}

#[tokio::test]
async fn a_broken_watch_keeps_the_last_documents_and_the_next_change_clears_its_fault() {
    let server = server().await;
    let clock = ManualClock::new(start());
    let a = console(&server, &clock).await;
    let mut feed = a.docs();
    a.write("train", json!({"step": 1}), 0, "ana@a")
        .await
        .unwrap();
    until(&mut feed, STARTUP, "the document", |r| {
        r.value.as_ref().is_some_and(|d| d.contains_key("train"))
    })
    .await;

    server.set_access(AccessPolicy::allow_all().deny("watch", "configmaps"));
    server.close_watches();
    let r = until(&mut feed, STARTUP, "a fault", |r| r.fault.is_some()).await;
    assert!(
        matches!(&r.fault, Some((_, SourceError::Rejected(m)))
            if m.contains("403") && m.contains("ConfigMap prod/captain-summit")),
        "{:?}",
        r.fault
    );
    assert_eq!(
        r.value.unwrap()["train"].generation,
        1,
        "the last value kept"
    );

    server.set_access(AccessPolicy::allow_all());
    a.write("train", json!({"step": 2}), 1, "ana@a")
        .await
        .unwrap();
    until(&mut feed, STARTUP, "the change, without a fault", |r| {
        r.fault.is_none() && r.value.as_ref().is_some_and(|d| d["train"].generation == 2)
    })
    .await;
}

#[tokio::test]
async fn a_damaged_document_is_named_in_the_feed_and_refuses_writes_over_it() {
    let server = server().await;
    let clock = ManualClock::new(start());
    let a = console(&server, &clock).await;
    a.write("train", json!({"step": 1}), 0, "ana@a")
        .await
        .unwrap();
    let mut configmap = server
        .object("configmaps", Some(NAMESPACE), CONFIGMAP)
        .unwrap();
    configmap["data"]["plan.json"] = json!("{\"phase\": ");
    server.put_object(configmap);

    let mut feed = a.docs();
    let r = until(&mut feed, STARTUP, "the damage named", |r| {
        r.fault.is_some()
    })
    .await;
    assert!(
        matches!(&r.fault, Some((_, SourceError::Rejected(m))) if m.contains("plan.json")),
        "{:?}",
        r.fault
    );
    let docs = r.value.unwrap();
    assert_eq!(
        docs.keys().collect::<Vec<_>>(),
        ["train"],
        "the sound one kept"
    );

    let refused = a.write("plan", json!({}), 0, "ana@a").await;
    assert!(
        matches!(&refused, Err(WriteError::Source(SourceError::Rejected(m)))
            if m.contains("plan.json is not a shared document")),
        "{refused:?}"
    );
    assert_eq!(
        a.write("train", json!({"step": 2}), 1, "ana@a").await,
        Ok(2)
    );
}

#[tokio::test]
async fn a_missing_namespace_fails_the_write_by_name_once() {
    let server = ApiServer::start().await;
    let clock = ManualClock::new(start());
    let a = console(&server, &clock).await;
    let result = a.write("train", json!({}), 0, "ana@a").await;
    assert!(
        matches!(&result, Err(WriteError::Source(SourceError::Rejected(m)))
            if m.contains("404") && m.contains("ConfigMap prod/captain-summit")),
        "{result:?}"
    );
    assert_eq!(writes_of(&server, "POST", CONFIGMAPS), 1, "not retried");
}

// --- the driver's lease --------------------------------------------------------------------

fn stored_lease(server: &ApiServer) -> Value {
    server
        .object("leases", Some(NAMESPACE), LEASE)
        .expect("the Lease")
}

#[tokio::test]
async fn the_lease_goes_to_the_first_console_and_the_second_is_told_who_holds_it_until_renewed() {
    let server = server().await;
    let clock = ManualClock::new(start());
    let (a, b) = (
        console(&server, &clock).await,
        console(&server, &clock).await,
    );

    let taken = a.lease("ana@a", TTL).await.unwrap();
    assert!(taken.ours);
    assert_eq!(taken.holder, "ana@a");
    assert_eq!(taken.renewed, start());
    assert_eq!(taken.expires, start() + TimeDelta::seconds(15));
    let lease = stored_lease(&server);
    assert_eq!(lease["spec"]["holderIdentity"], "ana@a");
    assert_eq!(lease["spec"]["leaseDurationSeconds"], 15);
    assert_eq!(lease["spec"]["acquireTime"], "2026-11-20T10:00:00.123456Z");
    assert_eq!(lease["spec"]["renewTime"], "2026-11-20T10:00:00.123456Z");
    assert_eq!(lease["spec"]["leaseTransitions"], 0);
    assert_eq!(
        lease["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "captain"
    );

    clock.advance(TimeDelta::seconds(10));
    let refused = b.lease("bo@b", TTL).await.unwrap();
    assert!(!refused.ours);
    assert_eq!(refused.holder, "ana@a");
    assert_eq!(refused.expires, start() + TimeDelta::seconds(15));

    let renewed = a.lease("ana@a", TTL).await.unwrap();
    assert!(renewed.ours);
    assert_eq!(renewed.expires, start() + TimeDelta::seconds(25));
    let lease = stored_lease(&server);
    assert_eq!(lease["spec"]["renewTime"], "2026-11-20T10:00:10.123456Z");
    assert_eq!(lease["spec"]["acquireTime"], "2026-11-20T10:00:00.123456Z");

    // Past the first term, but within the renewed one.
    clock.advance(TimeDelta::seconds(10));
    assert_eq!(b.lease("bo@b", TTL).await.unwrap().holder, "ana@a");
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_its_old_holder_is_refused() {
    let server = server().await;
    let clock = ManualClock::new(start());
    let (a, b) = (
        console(&server, &clock).await,
        console(&server, &clock).await,
    );
    a.lease("ana@a", TTL).await.unwrap();

    clock.advance(TimeDelta::seconds(16));
    let taken = b.lease("bo@b", TTL).await.unwrap();
    assert!(taken.ours, "{taken:?}");
    assert_eq!(taken.holder, "bo@b");
    let lease = stored_lease(&server);
    assert_eq!(lease["spec"]["leaseTransitions"], 1);
    assert_eq!(lease["spec"]["acquireTime"], "2026-11-20T10:00:16.123456Z");

    let old = a.lease("ana@a", TTL).await.unwrap();
    assert!(!old.ours);
    assert_eq!(old.holder, "bo@b");
}

#[tokio::test]
async fn a_released_lease_is_free_at_once_and_only_its_holder_releases_it() {
    let server = server().await;
    let clock = ManualClock::new(start());
    let (a, b) = (
        console(&server, &clock).await,
        console(&server, &clock).await,
    );
    a.lease("ana@a", TTL).await.unwrap();

    b.release_lease("bo@b").await.unwrap();
    assert_eq!(stored_lease(&server)["spec"]["holderIdentity"], "ana@a");

    a.release_lease("ana@a").await.unwrap();
    assert!(stored_lease(&server)["spec"]["holderIdentity"].is_null());
    let taken = b.lease("bo@b", TTL).await.unwrap();
    assert!(taken.ours, "{taken:?}");
    assert_eq!(stored_lease(&server)["spec"]["leaseTransitions"], 1);
    assert!(!a.lease("ana@a", TTL).await.unwrap().ours);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_consoles_racing_for_a_free_lease_get_exactly_one_driver() {
    let server = server().await;
    let clock = ManualClock::new(start());
    let (a, b) = (
        console(&server, &clock).await,
        console(&server, &clock).await,
    );

    // Round 0 races two creates; the rest, two takeovers of a released Lease.
    for round in 0..ROUNDS {
        let (ra, rb) = tokio::join!(a.lease("ana@a", TTL), b.lease("bo@b", TTL));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert_ne!(ra.ours, rb.ours, "round {round}: {ra:?} {rb:?}");
        assert_eq!(ra.holder, rb.holder, "both name the one driver");
        let winner = if ra.ours { &a } else { &b };
        winner.release_lease(&ra.holder).await.unwrap();
        clock.advance(TimeDelta::seconds(1));
    }
}
