//! Safety beats coordination: a console that measured a breach rolls it back whatever the
//! shared state does: a lease that cannot be read, a race lost to a write that did not act
//! on the breach. It never promotes without knowing it drives, never rolls back twice, and
//! says when nobody would roll back. The demo world is the cluster; the shared state is the
//! in-memory twin, wrapped to fail or interfere on cue.

mod support;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{TimeDelta, Utc};
use serde_json::Value;

use captain::clock::{Clock, ManualClock};
use captain::engine::train::{Status, Train, TrainCommand};
use captain::ops::{Command, Confirmation, Confirmed, Operator};
use captain::sim::{Scenario, World};
use captain::sources::memory_state::MemoryState;
use captain::sources::{
    Feed, LeaseHolder, SharedDoc, SharedDocs, SharedState, SourceError, WriteError,
};
use support::{console, joining};

/// The in-memory shared state, with two faults on cue: a lease that cannot be read, and
/// another console's train written just before this console's next write.
struct Faulty {
    inner: MemoryState,
    lease_down: Mutex<bool>,
    interfere: Mutex<Option<Value>>,
    /// Calls that take or renew the lease.
    lease_calls: Mutex<u32>,
}

impl Faulty {
    fn new(inner: MemoryState) -> Arc<Self> {
        Arc::new(Faulty {
            inner,
            lease_down: Mutex::new(false),
            interfere: Mutex::new(None),
            lease_calls: Mutex::new(0),
        })
    }
}

#[async_trait]
impl SharedState for Faulty {
    fn docs(&self) -> Feed<SharedDocs> {
        self.inner.docs()
    }
    async fn read(&self, key: &str) -> Result<Option<SharedDoc>, SourceError> {
        self.inner.read(key).await
    }
    async fn write(
        &self,
        key: &str,
        body: Value,
        expected: u64,
        by: &str,
    ) -> Result<u64, WriteError> {
        let theirs = self.interfere.lock().unwrap().take();
        if let Some(theirs) = theirs {
            let held = self.inner.read(key).await?.map_or(0, |d| d.generation);
            self.inner
                .write(key, theirs, held, "ben@elsewhere#7")
                .await
                .expect("the other console's write lands");
        }
        self.inner.write(key, body, expected, by).await
    }
    async fn recreate(
        &self,
        key: &str,
        body: Value,
        after: u64,
        by: &str,
    ) -> Result<u64, WriteError> {
        self.inner.recreate(key, body, after, by).await
    }
    async fn lease_holder(&self) -> Result<Option<LeaseHolder>, SourceError> {
        self.inner.lease_holder().await
    }
    async fn lease(
        &self,
        holder: &str,
        ttl: std::time::Duration,
    ) -> Result<LeaseHolder, SourceError> {
        *self.lease_calls.lock().unwrap() += 1;
        if *self.lease_down.lock().unwrap() {
            return Err(SourceError::Unreachable(
                "read Lease prod/captain-summit: connection refused".into(),
            ));
        }
        self.inner.lease(holder, ttl).await
    }
    async fn release_lease(&self, holder: &str) -> Result<(), SourceError> {
        self.inner.release_lease(holder).await
    }
    fn lease_watch(&self) -> Feed<Option<LeaseHolder>> {
        self.inner.lease_watch()
    }
}

fn promote() -> Confirmed {
    Confirmed {
        seen: None,
        command: Command::Train(TrainCommand::Promote),
        reason: None,
        confirmation: Confirmation::Dialog,
    }
}

/// One measurement interval of the demo's slo.yml later, then a tick.
async fn tick(op: &mut Operator, clock: &ManualClock) -> Vec<captain::ops::Outcome> {
    clock.advance(TimeDelta::seconds(5));
    op.tick(clock.now()).await.unwrap().outcomes
}

/// A console driving the breach scenario, promoted by hand to 50 % (where the canary
/// breaks its SLOs), past the warm-up with one failed measurement counted: the next failed
/// one rolls back.
async fn one_failure_from_a_rollback(
    store: &Arc<Faulty>,
    clock: &ManualClock,
    world: &World,
    dir: &std::path::Path,
) -> Operator {
    let mut op = console(world, clock, store.clone(), dir, "ana", false).await;
    tick(&mut op, clock).await;
    assert!(op.drives());
    for _ in 0..2 {
        assert!(op.execute(promote(), clock.now()).await.unwrap().ok);
    }
    assert_eq!(op.train.weight, 50);
    for _ in 0..10 {
        tick(&mut op, clock).await;
        if op.train.failures == 1 {
            return op;
        }
    }
    panic!("no failed measurement at 50 %: {:?}", op.train.last);
}

fn with_status(train: &Train, status: Status) -> Value {
    let mut theirs = train.clone();
    theirs.status = status;
    serde_json::to_value(theirs).unwrap()
}

#[tokio::test]
async fn a_console_that_cannot_read_the_lease_still_rolls_back_a_breach_and_journals_why() {
    let clock = ManualClock::new(Utc::now());
    let world = World::new(Scenario::Breach, 1, Arc::new(clock.clone()));
    let dir = tempfile::tempdir().unwrap();
    let store = Faulty::new(MemoryState::new(Arc::new(clock.clone())));
    let mut op = one_failure_from_a_rollback(&store, &clock, &world, dir.path()).await;

    *store.lease_down.lock().unwrap() = true;
    let outcomes = tick(&mut op, &clock).await;
    let rollback = outcomes
        .iter()
        .find(|o| o.action == "rollback")
        .unwrap_or_else(|| panic!("rolled back alone: {outcomes:?} {:?}", op.train.status));
    assert!(rollback.ok && rollback.automatic, "{rollback:?}");
    assert!(
        rollback.message.contains("helm rolled back"),
        "{rollback:?}"
    );
    assert!(matches!(op.train.status, Status::RolledBack { .. }));
    assert_eq!(world.backends().cluster.canary_weight().await.unwrap(), 0);
    let journal = std::fs::read_to_string(dir.path().join("ana-audit.jsonl")).unwrap();
    assert!(
        journal.contains("acted on without the other consoles"),
        "the journal says why it acted alone"
    );
}

#[tokio::test]
async fn a_console_acting_alone_holds_every_promotion() {
    let clock = ManualClock::new(Utc::now());
    let world = World::new(Scenario::Steady, 1, Arc::new(clock.clone()));
    let dir = tempfile::tempdir().unwrap();
    let store = Faulty::new(MemoryState::new(Arc::new(clock.clone())));
    let mut op = console(&world, &clock, store.clone(), dir.path(), "ana", false).await;
    *store.lease_down.lock().unwrap() = true;
    for _ in 0..40 {
        let outcomes = tick(&mut op, &clock).await;
        assert!(
            outcomes.iter().all(|o| o.action != "promote"),
            "promoted without knowing it drives: {outcomes:?}"
        );
    }
    assert_eq!(
        op.train.weight, 5,
        "held at its step: {:?}",
        op.train.timeline
    );
    assert_eq!(
        op.auto_rollback_off(),
        None,
        "a breach would still be rolled back"
    );
}

#[tokio::test]
async fn a_race_lost_to_a_write_that_did_not_act_on_the_breach_still_rolls_it_back() {
    let clock = ManualClock::new(Utc::now());
    let world = World::new(Scenario::Breach, 1, Arc::new(clock.clone()));
    let dir = tempfile::tempdir().unwrap();
    let store = Faulty::new(MemoryState::new(Arc::new(clock.clone())));
    let mut op = one_failure_from_a_rollback(&store, &clock, &world, dir.path()).await;

    // Between this console's last look and its write, someone paused the train by hand.
    let paused = Status::Paused {
        reason: "paused by hand".into(),
    };
    *store.interfere.lock().unwrap() = Some(with_status(&op.train, paused));
    let outcomes = tick(&mut op, &clock).await;
    let rollback = outcomes
        .iter()
        .find(|o| o.action == "rollback")
        .unwrap_or_else(|| panic!("the breach was dropped: {outcomes:?} {:?}", op.train.status));
    assert!(rollback.ok, "{rollback:?}");
    assert_eq!(world.backends().cluster.canary_weight().await.unwrap(), 0);
    let shared = store.read("train").await.unwrap().unwrap();
    assert_eq!(
        shared.body["status"]["state"], "rolled_back",
        "every console sees the rollback: {}",
        shared.body
    );
}

#[tokio::test]
async fn a_race_lost_to_a_rollback_already_made_does_not_roll_back_twice() {
    let clock = ManualClock::new(Utc::now());
    let world = World::new(Scenario::Breach, 1, Arc::new(clock.clone()));
    let dir = tempfile::tempdir().unwrap();
    let store = Faulty::new(MemoryState::new(Arc::new(clock.clone())));
    let mut op = one_failure_from_a_rollback(&store, &clock, &world, dir.path()).await;

    let done = Status::RolledBack {
        to_revision: op.train.revisions.previous,
        reason: "by hand".into(),
    };
    *store.interfere.lock().unwrap() = Some(with_status(&op.train, done));
    let outcomes = tick(&mut op, &clock).await;
    assert!(
        outcomes.iter().all(|o| o.action != "rollback"),
        "a second rollback: {outcomes:?}"
    );
    assert!(matches!(op.train.status, Status::RolledBack { .. }));
}

#[tokio::test]
async fn a_read_only_console_says_auto_rollback_is_off_while_nobody_drives() {
    let clock = ManualClock::new(Utc::now());
    let world = World::new(Scenario::Steady, 1, Arc::new(clock.clone()));
    let dir = tempfile::tempdir().unwrap();
    let memory = MemoryState::new(Arc::new(clock.clone()));
    let mut driver = console(
        &world,
        &clock,
        Arc::new(memory.clone()),
        dir.path(),
        "ana",
        false,
    )
    .await;
    let mut looker = console(
        &world,
        &clock,
        Arc::new(memory.clone()),
        dir.path(),
        "ron",
        true,
    )
    .await;
    let off = looker.auto_rollback_off().expect("nobody drives yet");
    assert!(off.contains("nobody drives"), "{off}");

    // The read-only console looks at the lease once a third of its term (15 s here): by
    // then, every tick of 5 s.
    tick(&mut driver, &clock).await;
    clock.advance(TimeDelta::seconds(5));
    tick(&mut looker, &clock).await;
    assert_eq!(
        looker.auto_rollback_off(),
        None,
        "ana drives: auto-rollback is armed"
    );

    driver.release_shared().await;
    tick(&mut looker, &clock).await;
    tick(&mut looker, &clock).await;
    let off = looker.auto_rollback_off();
    assert!(
        off.as_deref().is_some_and(|o| o.contains("nobody drives")),
        "after the driver quit: {off:?}"
    );
}

#[tokio::test]
async fn a_standing_train_is_written_only_when_it_changes_and_the_lease_renewed_at_a_third_of_its_term()
 {
    let clock = ManualClock::new(Utc::now());
    let world = World::new(Scenario::Steady, 1, Arc::new(clock.clone()));
    let dir = tempfile::tempdir().unwrap();
    let store = Faulty::new(MemoryState::new(Arc::new(clock.clone())));
    let mut op = console(&world, &clock, store.clone(), dir.path(), "ana", false).await;
    let generation = || async { store.read("train").await.unwrap().unwrap().generation };
    let written = generation().await;
    let leases = *store.lease_calls.lock().unwrap();
    // 30 measurements a second apart inside the 5 % step's 40 s window: each passes and
    // changes nothing every console must agree on.
    for _ in 0..30 {
        clock.advance(TimeDelta::seconds(1));
        op.tick(clock.now()).await.unwrap();
    }
    assert_eq!(op.train.weight, 5);
    assert_eq!(
        generation().await,
        written,
        "no write for measurements that changed nothing"
    );
    let renewals = *store.lease_calls.lock().unwrap() - leases;
    // A 15 s lease renewed every 5 s: 6 in 30 s, not 30.
    assert!(
        (5..=7).contains(&renewals),
        "{renewals} lease calls in 30 measurements"
    );
    assert!(op.drives());
    // The window's end promotes: that is written.
    for _ in 0..20 {
        clock.advance(TimeDelta::seconds(1));
        op.tick(clock.now()).await.unwrap();
    }
    assert_eq!(op.train.weight, 25, "{:?}", op.train.timeline);
    assert_eq!(
        generation().await,
        written + 1,
        "one write for the promotion"
    );
}

#[tokio::test]
async fn drift_is_followed_but_never_restarts_an_ended_train_nor_starts_one_by_itself() {
    let clock = ManualClock::new(Utc::now());
    let world = World::new(Scenario::Steady, 1, Arc::new(clock.clone()));
    let dir = tempfile::tempdir().unwrap();
    let memory = MemoryState::new(Arc::new(clock.clone()));
    let cluster = world.backends().cluster;
    // A live console opening now: it takes the train where the cluster has it.
    let join = |user: &'static str| {
        joining(
            &world,
            &clock,
            Arc::new(memory.clone()),
            dir.path(),
            user,
            false,
            true,
        )
    };
    let mut ana = console(
        &world,
        &clock,
        Arc::new(memory.clone()),
        dir.path(),
        "ana",
        false,
    )
    .await;
    let full = Confirmed {
        seen: None,
        command: Command::Train(TrainCommand::PromoteFull),
        reason: None,
        confirmation: Confirmation::Typed,
    };
    assert!(ana.execute(full, clock.now()).await.unwrap().ok);
    assert_eq!(ana.train.status, Status::Promoted);

    // The promotion folded into stable (the canary gets nothing): an ended train at rest.
    cluster.set_canary_weight(0).await.unwrap();
    let eve = join("eve").await;
    assert_eq!(
        eve.train.status,
        Status::Promoted,
        "never restarted by itself"
    );
    assert_eq!(eve.drift, None);

    // The route sends the canary 5 % again, by hand: the train is taken where it is.
    cluster.set_canary_weight(5).await.unwrap();
    let ben = join("ben").await;
    assert!(
        ben.drift
            .as_deref()
            .is_some_and(|d| d.contains("promoted at 100 %")),
        "{:?}",
        ben.drift
    );
    assert_eq!(
        (ben.train.weight, ben.train.status.clone()),
        (5, Status::Progressing)
    );

    // Traffic taken from a running canary by hand: paused for a human, not started afresh.
    cluster.set_canary_weight(0).await.unwrap();
    let mut cy = join("cy").await;
    assert!(
        matches!(cy.train.status, Status::Paused { .. }),
        "{:?}",
        cy.train.status
    );
    assert!(
        cy.start_new(clock.now()).await.unwrap().is_err(),
        "nothing to start"
    );

    // An ended train whose canary gets nothing is at rest.
    let abort = Confirmed {
        seen: None,
        command: Command::Train(TrainCommand::Abort),
        reason: Some("done".into()),
        confirmation: Confirmation::Dialog,
    };
    assert!(cy.execute(abort, clock.now()).await.unwrap().ok);
    let dee = join("dee").await;
    assert!(
        matches!(dee.train.status, Status::Aborted { .. }),
        "{:?}",
        dee.train.status
    );
    assert_eq!(dee.drift, None);
}

#[tokio::test]
async fn helms_own_rollback_revision_is_never_a_new_canary_whatever_its_description() {
    let clock = ManualClock::new(Utc::now());
    let world = World::new(Scenario::Steady, 1, Arc::new(clock.clone()));
    let dir = tempfile::tempdir().unwrap();
    let memory = MemoryState::new(Arc::new(clock.clone()));
    let mut ana = console(&world, &clock, Arc::new(memory), dir.path(), "ana", false).await;
    let back = Confirmed {
        seen: None,
        command: Command::Train(TrainCommand::Rollback { to_revision: None }),
        reason: Some("p99".into()),
        confirmation: Confirmation::Typed,
    };
    assert!(ana.execute(back, clock.now()).await.unwrap().ok);
    let (current, previous) = (ana.train.revisions.current, ana.train.revisions.previous);
    let versions = [
        (previous, "sha-41aaaaa".to_string()),
        (current, "sha-42bbbbb".to_string()),
    ]
    .into_iter()
    .collect();
    let made = |description: &str, app_version: &str| {
        Operator::made_by_rollback(&ana.train, current + 1, description, app_version, &versions)
    };
    // Helm 3 describes it; Helm 4 records the reason instead: the version tells.
    assert!(made(&format!("Rollback to {previous}"), "sha-41aaaaa"));
    assert!(made("p99", "sha-41aaaaa"));
    // A later deploy of new code is a new canary.
    assert!(!made("Upgrade complete", "sha-43ccccc"));
    assert!(!Operator::made_by_rollback(
        &ana.train,
        current,
        "p99",
        "sha-41aaaaa",
        &versions
    ));
}

#[tokio::test]
async fn a_route_changed_by_hand_during_a_run_is_drift_followed_at_the_next_measurement() {
    let mut d = support::Demo::new(Scenario::Steady, false).await;
    d.run_for(120).await;
    assert!(
        d.op.train.weight > 5 && d.op.train.status == Status::Progressing,
        "promoted by itself: {} % {:?}",
        d.op.train.weight,
        d.op.train.status
    );
    assert_eq!(d.op.drift, None, "captain's own writes are not drift");

    // Somebody sends the canary 5 % with kubectl while the train runs.
    let was = d.op.train.weight;
    d.world.route(5);
    d.run_for(5).await;
    let drift = d.op.drift.clone().unwrap_or_default();
    assert!(
        drift.contains(&format!("at {was} %")) && drift.contains("sends 5 %"),
        "{drift:?}"
    );
    assert_eq!(
        (d.op.train.weight, d.op.train.status.clone()),
        (5, Status::Progressing),
        "the train measures what the cluster does"
    );
    let header = d
        .screen(200, 40)
        .backend()
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(header.contains("DRIFT"), "the header says so: {header}");

    // Traffic taken away by hand: paused for a human, never started afresh.
    d.world.route(0);
    d.run_for(10).await;
    assert!(
        matches!(&d.op.train.status, Status::Paused { reason } if reason.contains("by hand")),
        "{:?}",
        d.op.train.status
    );
    d.run_for(60).await;
    assert_eq!(d.world.backends().cluster.canary_weight().await.unwrap(), 0);
}

#[tokio::test]
async fn a_follower_learns_from_the_leases_watch_and_asks_for_it_only_once_it_has_expired() {
    let clock = ManualClock::new(Utc::now());
    let world = World::new(Scenario::Steady, 1, Arc::new(clock.clone()));
    let dir = tempfile::tempdir().unwrap();
    let memory = MemoryState::new(Arc::new(clock.clone()));
    let (ana_store, bo_store) = (Faulty::new(memory.clone()), Faulty::new(memory.clone()));
    let mut ana = console(&world, &clock, ana_store, dir.path(), "ana", false).await;
    let mut bo = console(&world, &clock, bo_store.clone(), dir.path(), "bo", false).await;
    tick(&mut ana, &clock).await;
    let asked = *bo_store.lease_calls.lock().unwrap();
    for _ in 0..30 {
        clock.advance(TimeDelta::seconds(1));
        ana.tick(clock.now()).await.unwrap();
        bo.tick(clock.now()).await.unwrap();
    }
    assert!(ana.drives() && !bo.drives());
    assert!(
        bo.driver().is_some_and(|d| d.starts_with("ana@")),
        "{:?}",
        bo.driver()
    );
    assert_eq!(
        *bo_store.lease_calls.lock().unwrap(),
        asked,
        "the follower never asked while the driver renewed"
    );

    // The driver stops renewing: once its lease has expired the follower asks, and drives.
    for _ in 0..20 {
        clock.advance(TimeDelta::seconds(1));
        bo.tick(clock.now()).await.unwrap();
    }
    assert!(bo.drives(), "{:?}", bo.driver());
    assert!(*bo_store.lease_calls.lock().unwrap() > asked);
}

/// A command by hand, confirmed as the dialog confirms it.
fn by_hand(command: TrainCommand) -> Confirmed {
    Confirmed {
        seen: None,
        command: Command::Train(command),
        reason: Some("the release train stops here".into()),
        confirmation: Confirmation::Typed,
    }
}

#[tokio::test]
async fn pause_sets_the_freeze_tag_in_every_train_state_and_a_second_pause_is_already_frozen() {
    use captain::engine::train::TrainCommand::{Abort, Pause, PromoteFull, Resume, Rollback};
    let states: [(&str, &[TrainCommand]); 5] = [
        ("progressing", &[]),
        ("paused", &[Pause, Resume, Pause]),
        ("promoted", &[PromoteFull]),
        ("rolled back", &[Rollback { to_revision: None }]),
        ("aborted", &[Abort]),
    ];
    for (state, before) in states {
        let mut d = support::Demo::new(Scenario::Steady, false).await;
        for c in before {
            let out = d.op.execute(by_hand(c.clone()), d.now()).await.unwrap();
            assert!(out.ok, "{state}: {c:?}: {out:?}");
        }
        let unfreeze = d.op.execute(by_hand(Resume), d.now()).await.unwrap();
        let pause = d.op.execute(by_hand(Pause), d.now()).await.unwrap();
        assert!(pause.ok, "{state}: {pause:?} (after {unfreeze:?})");
        assert!(
            pause.message.contains("frozen/rollback"),
            "{state}: {pause:?}"
        );
        let frozen = d.world.backends().forge.main_health().borrow().clone();
        assert!(
            frozen.value.as_ref().is_some_and(|m| m.frozen.is_some()),
            "{state}: the tag is there"
        );
        let again = d.op.execute(by_hand(Pause), d.now()).await.unwrap();
        assert!(
            again.ok && again.message.contains("already frozen"),
            "{state}: {again:?}"
        );
    }
}
