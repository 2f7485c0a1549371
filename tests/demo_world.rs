//! The demo world is deterministic for a scenario, a seed and a clock.

mod support;

use captain::sim::Scenario;
use support::Demo;

async fn fingerprint(scenario: Scenario, seed: u64) -> String {
    let clock = captain::clock::ManualClock::new(support::t0());
    let world = captain::sim::World::new(scenario, seed, std::sync::Arc::new(clock.clone()));
    let b = world.backends();
    let previews = b.cluster.previews().borrow().value.clone().unwrap();
    let mut samples = Vec::new();
    for _ in 0..10 {
        clock.advance(chrono::Duration::seconds(5));
        samples.push(
            b.metrics
                .golden(captain::clock::Clock::now(&clock))
                .await
                .unwrap(),
        );
    }
    format!("{previews:?}{samples:?}")
}

#[tokio::test]
async fn the_same_seed_gives_the_same_world_and_another_seed_another() {
    let a = fingerprint(Scenario::Drill, 7).await;
    assert_eq!(a, fingerprint(Scenario::Drill, 7).await);
    assert_ne!(a, fingerprint(Scenario::Drill, 8).await);
}

#[tokio::test]
async fn the_drill_promotes_to_50_then_rolls_back_by_itself_and_main_goes_red_then_green() {
    let mut d = Demo::new(Scenario::Drill, false).await;
    let mut weights = vec![d.op.train.weight];
    let mut main_red = Vec::new();
    for _ in 0..60 {
        d.run_for(5).await;
        if weights.last() != Some(&d.op.train.weight) {
            weights.push(d.op.train.weight);
        }
        let red = matches!(
            d.app.main.value.as_ref().unwrap().overall(),
            captain::engine::main_health::Overall::Red { .. }
        );
        if main_red.last() != Some(&red) {
            main_red.push(red);
        }
    }
    assert_eq!(weights, [5, 25, 50, 0]);
    assert!(matches!(
        d.op.train.status,
        captain::engine::train::Status::RolledBack {
            to_revision: 41,
            ..
        }
    ));
    assert_eq!(
        main_red,
        [false, true, false],
        "main goes red, then green again"
    );
    let stale = d.app.stale_previews(d.now());
    assert!(!stale.is_empty(), "the drill has stale previews");
}
