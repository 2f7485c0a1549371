//! Two consoles on one release, each with its own connection to the wire-faithful test API
//! server: the second joins the train the first started, follows it, and takes over
//! driving when the first stops; two humans acting on the same train at the same moment
//! get one action done and the other refused as a lost race, never both, never silently.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};

use captain::clock::{Clock, ManualClock};
use captain::engine::train::{Status, TrainCommand};
use captain::ops::{Command, Confirmation, Confirmed, Operator};
use captain::sim::{Scenario, World};
use captain::sources::SharedState;
use captain::sources::kube::{KubeShared, connect};
use captain_testkit::apiserver::ApiServer;

const CONFIGMAP: &str = "captain-summit";

async fn server() -> ApiServer {
    let server = ApiServer::start().await;
    server.put_namespace("prod", &[], Utc::now() - TimeDelta::days(90));
    server
}

/// A console: its own connection to the cluster's shared state, its own journal, the one
/// demo world for traffic and metrics (the cluster both consoles steer).
async fn console(
    server: &ApiServer,
    world: &World,
    clock: &ManualClock,
    dir: &std::path::Path,
    user: &str,
) -> Operator {
    let target = connect(None, Some(&server.kubeconfig())).await.unwrap();
    let shared: Arc<dyn SharedState> = Arc::new(KubeShared::spawn(
        target.client,
        "prod",
        CONFIGMAP,
        CONFIGMAP,
        Arc::new(clock.clone()),
    ));
    support::console(world, clock, shared, dir, user, false).await
}

/// The test API server, one clock and demo world, and two consoles on them: ana's and ben's.
struct Pair {
    server: ApiServer,
    clock: ManualClock,
    world: World,
    dir: tempfile::TempDir,
    a: Operator,
    b: Operator,
}

async fn pair() -> Pair {
    let server = server().await;
    let clock = ManualClock::new(Utc::now());
    let world = World::new(Scenario::Steady, 1, Arc::new(clock.clone()));
    let dir = tempfile::tempdir().unwrap();
    let a = console(&server, &world, &clock, dir.path(), "ana").await;
    let b = console(&server, &world, &clock, dir.path(), "ben").await;
    Pair {
        server,
        clock,
        world,
        dir,
        a,
        b,
    }
}

/// A promote as `op`'s human confirms it: from the weight they were shown.
fn promote(op: &Operator) -> Confirmed {
    let command = Command::Train(TrainCommand::Promote);
    Confirmed {
        seen: Some(command.propose(Some(&op.train)).from),
        command,
        reason: None,
        confirmation: Confirmation::Dialog,
    }
}

/// Wait until the watch has brought `op` the train at `weight` (a tick reads the feed).
async fn sees_weight(op: &mut Operator, clock: &ManualClock, weight: u8) {
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        op.tick(clock.now()).await.unwrap();
        if op.train.weight == weight {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the other console never saw {weight} %: it shows {} %",
            op.train.weight
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_console_joins_the_same_train_follows_it_and_does_not_drive() {
    let server = server().await;
    let clock = ManualClock::new(Utc::now());
    let world = World::new(Scenario::Steady, 1, Arc::new(clock.clone()));
    let dir = tempfile::tempdir().unwrap();
    let mut a = console(&server, &world, &clock, dir.path(), "ana").await;
    a.tick(clock.now()).await.unwrap();
    assert!(a.drives(), "the first console drives");

    let mut b = console(&server, &world, &clock, dir.path(), "ben").await;
    assert!(
        b.train.same_course(&a.train),
        "the same train, not a second one: {:?} / {:?}",
        b.train.timeline,
        a.train.timeline
    );
    b.tick(clock.now()).await.unwrap();
    assert!(!b.drives());
    assert!(b.driver().unwrap().starts_with("ana@"), "{:?}", b.driver());

    let out = a.execute(promote(&a), clock.now()).await.unwrap();
    assert!(out.ok, "{out:?}");
    sees_weight(&mut b, &clock, 25).await;
    assert_eq!(world.backends().cluster.canary_weight().await.unwrap(), 25);

    // The follower's own action works from what it now sees.
    let out = b.execute(promote(&b), clock.now()).await.unwrap();
    assert!(out.ok, "{out:?}");
    sees_weight(&mut a, &clock, 50).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_consoles_racing_on_the_train_state_one_wins_and_the_other_is_told() {
    let Pair {
        server: _server,
        clock,
        world,
        dir,
        mut a,
        mut b,
    } = pair().await;
    let mut wins = BTreeMap::new();
    for round in 0..5u8 {
        let weight = a.train.weight;
        assert_eq!(
            b.train.weight, weight,
            "round {round}: both see the same train"
        );
        if weight == 100 {
            break;
        }
        let (x, y) = tokio::join!(
            a.execute(promote(&a), clock.now()),
            b.execute(promote(&b), clock.now())
        );
        let (x, y) = (x.unwrap(), y.unwrap());
        assert!(
            x.ok != y.ok,
            "round {round}: exactly one promote lands: {x:?} / {y:?}"
        );
        let lost = if x.ok { &y } else { &x };
        assert!(lost.message.starts_with("lost a race: "), "{lost:?}");
        *wins.entry(if x.ok { "ana" } else { "ben" }).or_insert(0) += 1;
        let next = if x.ok { b.train.weight } else { a.train.weight };
        // The loser already holds the winner's train (the conflict carried it).
        let winner = if x.ok { a.train.weight } else { b.train.weight };
        assert_eq!(next, winner, "round {round}");
        assert!(
            winner > weight,
            "round {round}: promoted once, from {weight} to {winner}"
        );
        assert_eq!(
            world.backends().cluster.canary_weight().await.unwrap(),
            winner
        );
    }
    println!("wins: {wins:?}");
    let promotes = |user: &str| {
        std::fs::read_to_string(dir.path().join(format!("{user}-audit.jsonl")))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("\"action\":\"promote\"") && l.contains("\"phase\":\"outcome\""))
            .count()
    };
    assert_eq!(
        promotes("ana") + promotes("ben"),
        3,
        "5 → 25 → 50 → 100: three promotions journalled across both consoles, no double step"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_driving_console_quits_or_goes_silent_the_other_takes_over() {
    let Pair {
        server: _server,
        clock,
        world: _world,
        dir: _dir,
        mut a,
        mut b,
    } = pair().await;
    a.tick(clock.now()).await.unwrap();
    b.tick(clock.now()).await.unwrap();
    assert!(a.drives() && !b.drives());

    // Quitting gives the lease up at once; ben learns it from the Lease's watch, a moment
    // later, and takes it at his next measurement.
    a.release_shared().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !b.drives() {
        assert!(
            std::time::Instant::now() < deadline,
            "ben never drove after ana quit"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        b.tick(clock.now()).await.unwrap();
    }

    // A driver that stops renewing (crashed, network gone) is replaced once its lease
    // expires: three measurement intervals, at least 15 s.
    a.tick(clock.now()).await.unwrap();
    assert!(!a.drives());
    clock.advance(TimeDelta::seconds(16));
    a.tick(clock.now()).await.unwrap();
    assert!(a.drives(), "ana took over from a silent ben");
    assert!(matches!(a.train.status, Status::Progressing));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promote_confirmed_at_25_is_refused_once_another_console_took_the_train_to_50() {
    let Pair {
        server: _server,
        clock,
        world,
        dir: _dir,
        mut a,
        mut b,
    } = pair().await;
    let out = a.execute(promote(&a), clock.now()).await.unwrap();
    assert!(out.ok, "{out:?}");
    let weight = a.train.weight;
    sees_weight(&mut b, &clock, weight).await;
    // Both humans are shown the train at `weight` and both confirm a promote.
    let (ana, ben) = (promote(&a), promote(&b));
    assert_eq!(ana.seen, ben.seen);
    let out = a.execute(ana, clock.now()).await.unwrap();
    assert!(out.ok, "{out:?}");
    let moved = a.train.weight;
    assert!(moved > weight);
    sees_weight(&mut b, &clock, moved).await;
    // Ben's promote was confirmed from `weight`: carried out now it would skip a step.
    let out = b.execute(ben, clock.now()).await.unwrap();
    assert!(!out.ok, "{out:?}");
    assert!(
        out.message.starts_with(&format!(
            "lost a race: summit is at {moved} % now, not at {weight} % as confirmed"
        )),
        "{out:?}"
    );
    assert_eq!(
        world.backends().cluster.canary_weight().await.unwrap(),
        moved,
        "nothing moved"
    );
}
