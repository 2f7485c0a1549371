//! A console whose train cannot be started yet (the cluster unreachable): the operator is
//! tried again with backoff, every command is refused with why meanwhile, and the SLOs are
//! measured all the same, so the canary panel shows their verdict.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use captain::clock::{Clock, ManualClock};
use captain::engine::train::TrainCommand;
use captain::ops::driver::Update;
use captain::ops::starting::{self, Slos, Start};
use captain::ops::{Command, Confirmation, Confirmed};
use captain::sim::{Scenario, World};
use chrono::Utc;
use tokio::sync::mpsc;

#[tokio::test]
async fn an_unstarted_train_is_retried_refuses_commands_and_still_measures_the_slos() {
    let clock = ManualClock::new(Utc::now());
    let world = World::new(Scenario::Steady, 1, Arc::new(clock.clone()));
    let tries = Arc::new(AtomicUsize::new(0));
    let counted = tries.clone();
    let start: Start = Box::new(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Err("reading the release history: unreachable: refused".to_string()) })
    });
    let slo = Box::new(Slos {
        metrics: world.backends().metrics,
        config: captain::sim::demo_slo(),
    });
    let (request_tx, request_rx) = mpsc::channel(8);
    let (update_tx, mut updates) = mpsc::channel(64);
    let task = tokio::spawn(starting::run(
        start,
        "reading the release history: unreachable: refused".into(),
        slo,
        Arc::new(clock.clone()) as Arc<dyn Clock>,
        Duration::from_secs(1),
        request_rx,
        update_tx,
    ));

    let first = updates.recv().await.expect("an update");
    let Update::Unstarted { why, retry_at } = first else {
        panic!("{first:?}")
    };
    assert!(why.contains("unreachable"), "{why}");
    assert_eq!(retry_at, clock.now() + chrono::Duration::seconds(2));

    let mut analysed = false;
    while !analysed {
        match updates.recv().await.expect("an update") {
            Update::Analysis(a) => {
                assert!(!a.objectives.is_empty());
                analysed = true;
            }
            Update::Sample(_) => {}
            other => panic!("{other:?}"),
        }
    }

    request_tx
        .send(Confirmed {
            seen: None,
            command: Command::Train(TrainCommand::Rollback { to_revision: None }),
            reason: Some("p99".into()),
            confirmation: Confirmation::Typed,
        })
        .await
        .unwrap();
    let refused = loop {
        match updates.recv().await.expect("an update") {
            Update::Outcome(o) => break o,
            Update::Analysis(_) | Update::Sample(_) => {}
            other => panic!("{other:?}"),
        }
    };
    assert!(!refused.ok);
    assert_eq!(refused.action, "rollback");
    assert!(
        refused.message.contains("the train is not started"),
        "{}",
        refused.message
    );

    // The next try, after the wait, fails again: the wait doubles.
    let next = loop {
        match updates.recv().await.expect("an update") {
            Update::Unstarted { retry_at, .. } => break retry_at,
            Update::Analysis(_) | Update::Sample(_) => {}
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(tries.load(Ordering::SeqCst), 1);
    assert_eq!(next, clock.now() + chrono::Duration::seconds(4));
    task.abort();
}

#[tokio::test]
async fn the_canary_panel_says_why_there_is_no_train_and_shows_the_slos_verdict() {
    let mut d = support::Demo::new(Scenario::Steady, true).await;
    d.run_for(30).await;
    d.app.train = None;
    let retry_at = d.now() + chrono::Duration::seconds(8);
    d.app.apply(Update::Unstarted {
        why: "reading the release history: unreachable: connection refused".into(),
        retry_at,
    });
    let screen = d.screen(140, 40).backend().to_string();
    assert!(
        screen.contains("the train cannot be read: reading the release history: unreachable"),
        "{screen}"
    );
    assert!(screen.contains("trying again in 8s"), "{screen}");
    assert!(screen.contains("verdict PASS"), "{screen}");
}
