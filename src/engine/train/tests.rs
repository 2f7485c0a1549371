//! Tests for the release train: steps and windows, warm-up, fresh passing verdicts, manual
//! gates, failure and error limits, rollback targets, commands and their refusals, and the
//! estimates shown in the Canary panel. Every time is an offset from a fixed `t0`.

use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::config::Span;
use crate::config::slo::{Gate, OnFail, RollbackTo, SloConfig, Step};
use crate::engine::analysis::{Analysis, Verdict};

const CURRENT: u32 = 7;
const PREVIOUS: u32 = 6;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 3, 0, 0).unwrap()
}

/// `s` seconds after `t0`.
fn at(s: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(s)
}

fn secs(s: i64) -> Duration {
    Duration::seconds(s)
}

fn step(weight: u8, observe: u64, gate: Gate) -> Step {
    Step {
        weight,
        observe: Span::secs(observe),
        gate,
    }
}

/// The demo world's rollout: 5/25/50/100 % with 40/40/60/60 s windows, a measurement every
/// 5 s, 10 s warm-up, rollback to previous after 2 failed measurements, pause after 4
/// measurements without a verdict.
fn sim_policy() -> Policy {
    Policy {
        steps: vec![
            step(5, 40, Gate::Auto),
            step(25, 40, Gate::Auto),
            step(50, 60, Gate::Auto),
            step(100, 60, Gate::Auto),
        ],
        interval: secs(5),
        initial_delay: secs(10),
        on_fail: OnFail::Rollback,
        rollback_to: RollbackTo::Previous,
        failure_limit: 2,
        error_limit: 4,
    }
}

/// The seed's rollout: 10/10/15/30 min windows, manual gate after 50 %, 30 s interval, 60 s
/// warm-up.
fn seed_policy() -> Policy {
    Policy {
        steps: vec![
            step(5, 600, Gate::Auto),
            step(25, 600, Gate::Auto),
            step(50, 900, Gate::Manual),
            step(100, 1800, Gate::Auto),
        ],
        interval: secs(30),
        initial_delay: secs(60),
        on_fail: OnFail::Rollback,
        rollback_to: RollbackTo::Previous,
        failure_limit: 2,
        error_limit: 4,
    }
}

fn revisions() -> Revisions {
    Revisions {
        current: CURRENT,
        previous: PREVIOUS,
        last_passing: None,
        image: "sha-0123abc".into(),
    }
}

fn start(policy: Policy) -> Train {
    let first = policy.steps[0].weight;
    let (train, effects) = Train::start("web", policy, revisions(), t0());
    assert_eq!(effects, [Effect::SetWeight(first)]);
    train
}

/// An analysis with the given verdict taken at `at`.
fn analysis(verdict: Verdict, at: DateTime<Utc>) -> Analysis {
    let score = match verdict {
        Verdict::Pass => Some(100.0),
        Verdict::Warn => Some(80.0),
        Verdict::Fail => Some(10.0),
        Verdict::NoData | Verdict::Error => None,
    };
    Analysis {
        at,
        verdict,
        score,
        reason: format!("synthetic {}", verdict.label()),
        objectives: Vec::new(),
        burn: Vec::new(),
    }
}

/// A measurement taken and observed at `s` seconds.
fn measure(train: &mut Train, verdict: Verdict, s: i64) -> Vec<Effect> {
    train.observe(analysis(verdict, at(s)), at(s))
}

/// The same verdict at every interval tick in `from..=to`; the ticks that produced effects.
fn run(train: &mut Train, verdict: Verdict, from: i64, to: i64) -> Vec<(i64, Vec<Effect>)> {
    let step = train.policy.interval.num_seconds();
    let mut out = Vec::new();
    let mut s = from;
    while s <= to {
        let effects = measure(train, verdict, s);
        if !effects.is_empty() {
            out.push((s, effects));
        }
        s += step;
    }
    out
}

fn rollback(to: u32) -> Vec<Effect> {
    vec![
        Effect::SetWeight(0),
        Effect::HelmRollback { to_revision: to },
    ]
}

fn is_rolled_back_to(train: &Train, to: u32) -> bool {
    matches!(train.status, Status::RolledBack { to_revision, .. } if to_revision == to)
}

// ---------------------------------------------------------------------------------------
// Start and a healthy run

#[test]
fn a_new_train_sets_the_first_step_weight_and_progresses() {
    let train = start(sim_policy());
    assert_eq!(train.step, 0);
    assert_eq!(train.weight, 5);
    assert_eq!(train.status, Status::Progressing);
    assert_eq!(train.step_started, t0());
    assert_eq!(train.failures, 0);
    assert_eq!(train.errors, 0);
    assert!(train.last.is_none());
    assert_eq!(train.timeline.len(), 1);
    assert!(
        train.timeline[0].event.contains("revision 7 at 5 %"),
        "{:?}",
        train.timeline
    );
}

#[test]
fn a_healthy_train_promotes_at_each_window_end_with_one_set_weight_per_step_then_completes() {
    let mut train = start(sim_policy());
    let effects = run(&mut train, Verdict::Pass, 5, 400);
    assert_eq!(
        effects,
        [
            (40, vec![Effect::SetWeight(25)]),
            (80, vec![Effect::SetWeight(50)]),
            (140, vec![Effect::SetWeight(100)]),
        ]
    );
    assert_eq!(train.status, Status::Promoted);
    assert_eq!(train.step, 3);
    assert_eq!(train.weight, 100);
    assert_eq!(train.revisions.last_passing, Some(CURRENT));
    let done = train.timeline.last().unwrap();
    assert_eq!(done.at, at(200), "the 100 % window closed at 140 + 60 s");
    assert!(
        done.event.contains("promoted: revision 7 at 100 %"),
        "{}",
        done.event
    );
    let weights: Vec<u8> = train.timeline.iter().map(|e| e.weight).collect();
    assert_eq!(weights, [5, 25, 50, 100, 100]);
}

#[test]
fn warn_verdicts_promote_like_passes() {
    let mut train = start(sim_policy());
    let effects = run(&mut train, Verdict::Warn, 5, 400);
    assert_eq!(effects.len(), 3);
    assert_eq!(train.status, Status::Promoted);
}

#[test]
fn the_seed_rollout_stops_at_the_manual_gate_and_completes_after_promote() {
    let mut train = start(seed_policy());
    let effects = run(&mut train, Verdict::Pass, 30, 3000);
    assert_eq!(
        effects,
        [
            (600, vec![Effect::SetWeight(25)]),
            (1200, vec![Effect::SetWeight(50)])
        ]
    );
    assert_eq!(
        train.status,
        Status::AwaitingGate,
        "50 % window closed at 2100"
    );
    assert_eq!(train.weight, 50);

    let effects = train.command(&TrainCommand::Promote, at(3000)).unwrap();
    assert_eq!(effects, [Effect::SetWeight(100)]);
    assert_eq!(train.status, Status::Progressing);
    assert_eq!(train.step_started, at(3000));

    assert!(
        run(&mut train, Verdict::Pass, 3030, 4770).is_empty(),
        "100 % window open"
    );
    assert_eq!(train.status, Status::Progressing);
    assert!(run(&mut train, Verdict::Pass, 4800, 4800).is_empty());
    assert_eq!(train.status, Status::Promoted);
}

#[test]
fn policy_from_config_copies_the_rollout_and_the_limits() {
    let yaml = r#"version: 1
selectors: {canary: 'track="canary"', stable: 'track="stable"'}
rollout:
  steps:
    - {weight: 10,  observe: 5m}
    - {weight: 100, observe: 10m, gate: manual}
  interval: 20s
  initial_delay: 40s
  on_fail: pause
  rollback_to: 3
defaults:
  failure_limit: 3
  error_limit: 5
slis:
  latency_p99: {query: 'x{$selector}'}
objectives:
  - {sli: latency_p99, pass: {lte: 0.5}}
score: {pass: 90, warn: 75}
"#;
    let cfg = SloConfig::parse(Path::new("t.yml"), yaml).unwrap();
    let p = Policy::from_config(&cfg);
    assert_eq!(
        p.steps,
        [step(10, 300, Gate::Auto), step(100, 600, Gate::Manual)]
    );
    assert_eq!(p.interval, secs(20));
    assert_eq!(p.initial_delay, secs(40));
    assert_eq!(p.on_fail, OnFail::Pause);
    assert_eq!(p.rollback_to, RollbackTo::Revision(3));
    assert_eq!(p.failure_limit, 3);
    assert_eq!(p.error_limit, 5);
}

// ---------------------------------------------------------------------------------------
// Warm-up and windows

#[test]
fn failed_measurements_during_the_warm_up_are_not_counted() {
    let mut policy = sim_policy();
    policy.initial_delay = secs(30);
    let mut train = start(policy);
    assert!(run(&mut train, Verdict::Fail, 5, 25).is_empty());
    assert_eq!(train.status, Status::Progressing);
    assert_eq!(train.failures, 0);
    assert_eq!(train.recent.len(), 5, "remembered for the sparkline");
    assert!(train.recent.iter().all(|s| !s.counted));
    assert_eq!(train.last.as_ref().unwrap().verdict, Verdict::Fail);

    // The first measurement at the end of the warm-up counts.
    assert!(measure(&mut train, Verdict::Fail, 30).is_empty());
    assert_eq!(train.failures, 1);
    assert!(train.recent.back().unwrap().counted);
}

#[test]
fn every_step_has_its_own_warm_up() {
    let mut train = start(sim_policy());
    run(&mut train, Verdict::Pass, 5, 40);
    assert_eq!(train.weight, 25);
    assert_eq!(train.warmup_end(), at(50));
    // Failures at 45 (warm-up of the 25 % step) are ignored, even two of them.
    assert!(measure(&mut train, Verdict::Fail, 45).is_empty());
    assert!(
        train
            .observe(analysis(Verdict::Fail, at(49)), at(49))
            .is_empty()
    );
    assert_eq!(train.failures, 0);
    assert_eq!(train.status, Status::Progressing);
}

#[test]
fn a_passing_measurement_during_the_warm_up_is_not_a_fresh_pass() {
    let mut train = start(sim_policy());
    measure(&mut train, Verdict::Pass, 5);
    assert!(!train.has_fresh_pass(at(5)));
}

#[test]
fn a_late_measurement_from_the_previous_step_is_not_counted_for_the_new_step() {
    let mut train = start(sim_policy());
    run(&mut train, Verdict::Pass, 5, 40);
    assert_eq!(train.step, 1);
    // Taken at 39 s at the old weight, delivered after the promotion.
    let effects = train.observe(analysis(Verdict::Fail, at(39)), at(52));
    assert!(effects.is_empty());
    assert_eq!(train.failures, 0);
    assert!(!train.recent.back().unwrap().counted);
}

#[test]
fn no_promotion_before_the_window_ends_even_with_every_measurement_passing() {
    let mut train = start(sim_policy());
    assert!(run(&mut train, Verdict::Pass, 5, 35).is_empty());
    assert_eq!(train.step, 0);
    assert_eq!(train.weight, 5);
    // Even a measurement one second before the end.
    assert!(
        train
            .observe(analysis(Verdict::Pass, at(39)), at(39))
            .is_empty()
    );
    assert_eq!(train.weight, 5);
    assert_eq!(
        measure(&mut train, Verdict::Pass, 40),
        [Effect::SetWeight(25)]
    );
}

// ---------------------------------------------------------------------------------------
// Fresh passing verdicts

#[test]
fn no_promotion_when_the_measurement_at_window_end_is_an_error() {
    let mut train = start(sim_policy());
    run(&mut train, Verdict::Pass, 5, 35);
    assert!(measure(&mut train, Verdict::Error, 40).is_empty());
    assert_eq!(train.weight, 5);
    assert!(
        !train.has_fresh_pass(at(40)),
        "an error after passes is not a fresh pass"
    );
    // The next pass promotes, and the new window starts then.
    assert_eq!(
        measure(&mut train, Verdict::Pass, 45),
        [Effect::SetWeight(25)]
    );
    assert_eq!(train.step_started, at(45));
}

#[test]
fn no_promotion_when_the_measurement_at_window_end_is_no_data() {
    let mut train = start(sim_policy());
    run(&mut train, Verdict::Pass, 5, 35);
    assert!(run(&mut train, Verdict::NoData, 40, 50).is_empty());
    assert_eq!(train.weight, 5);
    assert_eq!(train.status, Status::Progressing, "3 of 4 allowed");
}

#[test]
fn no_promotion_when_the_measurement_at_window_end_failed() {
    let mut train = start(sim_policy());
    run(&mut train, Verdict::Pass, 5, 35);
    assert!(measure(&mut train, Verdict::Fail, 40).is_empty());
    assert_eq!(train.weight, 5);
    assert_eq!(train.failures, 1);
    // A pass after the failure clears it and promotes.
    assert_eq!(
        measure(&mut train, Verdict::Pass, 45),
        [Effect::SetWeight(25)]
    );
}

#[test]
fn no_promotion_on_a_stale_passing_measurement() {
    let mut train = start(sim_policy());
    run(&mut train, Verdict::Pass, 5, 25);
    // A pass taken at 30 s, only delivered at 50 s: 20 s old with a 5 s interval.
    let effects = train.observe(analysis(Verdict::Pass, at(30)), at(50));
    assert!(effects.is_empty());
    assert_eq!(train.weight, 5);
    assert!(!train.has_fresh_pass(at(50)));
    // A pass one interval old is still fresh.
    let effects = train.observe(analysis(Verdict::Pass, at(50)), at(55));
    assert_eq!(effects, [Effect::SetWeight(25)]);
}

#[test]
fn has_fresh_pass_allows_one_and_a_half_intervals_of_age() {
    let mut train = start(sim_policy());
    assert!(!train.has_fresh_pass(at(0)), "nothing measured yet");
    measure(&mut train, Verdict::Pass, 15);
    assert!(train.has_fresh_pass(at(15)));
    assert!(train.has_fresh_pass(at(15) + Duration::milliseconds(7500)));
    assert!(!train.has_fresh_pass(at(15) + Duration::milliseconds(7501)));
}

#[test]
fn has_fresh_pass_looks_only_at_the_latest_counted_measurement() {
    let mut train = start(sim_policy());
    measure(&mut train, Verdict::Pass, 15);
    measure(&mut train, Verdict::Error, 20);
    assert!(!train.has_fresh_pass(at(20)));
    measure(&mut train, Verdict::Warn, 25);
    assert!(train.has_fresh_pass(at(25)), "warn is passing");
    measure(&mut train, Verdict::Fail, 30);
    assert!(!train.has_fresh_pass(at(30)));
}

#[test]
fn has_fresh_pass_ignores_measurements_taken_while_paused() {
    let mut train = start(sim_policy());
    measure(&mut train, Verdict::Pass, 15);
    train.command(&TrainCommand::Pause, at(16)).unwrap();
    measure(&mut train, Verdict::Fail, 20);
    assert!(!train.recent.back().unwrap().counted);
    assert!(
        train.has_fresh_pass(at(20)),
        "the uncounted fail is skipped over"
    );
}

// ---------------------------------------------------------------------------------------
// failure_limit, on_fail and rollback_to

#[test]
fn failure_limit_consecutive_fails_set_weight_zero_and_roll_back_to_previous() {
    let mut train = start(sim_policy());
    run(&mut train, Verdict::Pass, 5, 20);
    assert!(measure(&mut train, Verdict::Fail, 25).is_empty());
    assert_eq!(measure(&mut train, Verdict::Fail, 30), rollback(PREVIOUS));
    assert_eq!(train.weight, 0);
    match &train.status {
        Status::RolledBack {
            to_revision,
            reason,
        } => {
            assert_eq!(*to_revision, PREVIOUS);
            assert!(reason.contains("automatic"), "{reason}");
            assert!(
                reason.contains("2 consecutive failed measurements"),
                "{reason}"
            );
            assert!(
                reason.contains("synthetic FAIL"),
                "the verdict's reason is kept: {reason}"
            );
        }
        other => panic!("expected rolled back, got {other:?}"),
    }
    let last = train.timeline.last().unwrap();
    assert_eq!(last.at, at(30));
    assert_eq!(last.weight, 0);
    assert!(
        last.event.contains("rolled back to revision 6"),
        "{}",
        last.event
    );
}

#[test]
fn a_failure_limit_of_one_rolls_back_on_the_first_counted_failure() {
    let mut policy = sim_policy();
    policy.failure_limit = 1;
    let mut train = start(policy);
    assert!(measure(&mut train, Verdict::Fail, 5).is_empty(), "warm-up");
    assert_eq!(measure(&mut train, Verdict::Fail, 10), rollback(PREVIOUS));
}

#[test]
fn a_passing_measurement_between_failures_resets_the_failure_count() {
    let mut policy = sim_policy();
    policy.steps[0].observe = Span::secs(120);
    let mut train = start(policy);
    for (i, s) in (10..=110).step_by(5).enumerate() {
        let v = if i % 2 == 0 {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        let effects = measure(&mut train, v, s);
        assert!(effects.is_empty(), "at {s}: {effects:?}");
        assert!(train.failures <= 1);
    }
    assert_eq!(train.status, Status::Progressing);
    // A warn resets too.
    assert_eq!(train.failures, 1, "the loop ended on a failure");
    measure(&mut train, Verdict::Warn, 112);
    assert_eq!(train.failures, 0);
    measure(&mut train, Verdict::Fail, 115);
    measure(&mut train, Verdict::Warn, 116);
    assert_eq!(train.failures, 0);
}

#[test]
fn an_inconclusive_measurement_between_two_failures_does_not_reset_the_failure_count() {
    let mut train = start(sim_policy());
    measure(&mut train, Verdict::Fail, 10);
    measure(&mut train, Verdict::Error, 15);
    measure(&mut train, Verdict::NoData, 20);
    assert_eq!(train.failures, 1);
    assert_eq!(measure(&mut train, Verdict::Fail, 25), rollback(PREVIOUS));
}

#[test]
fn on_fail_pause_pauses_and_freezes_instead_of_rolling_back() {
    let mut policy = sim_policy();
    policy.on_fail = OnFail::Pause;
    let mut train = start(policy);
    run(&mut train, Verdict::Pass, 5, 20);
    measure(&mut train, Verdict::Fail, 25);
    assert_eq!(measure(&mut train, Verdict::Fail, 30), [Effect::Freeze]);
    match &train.status {
        Status::Paused { reason } => {
            assert!(
                reason.contains("2 consecutive failed measurements"),
                "{reason}"
            );
        }
        other => panic!("expected paused, got {other:?}"),
    }
    assert_eq!(train.weight, 5, "the weight stays for a human to decide");
    // Further failures while paused change nothing.
    assert!(run(&mut train, Verdict::Fail, 35, 100).is_empty());
    assert!(matches!(train.status, Status::Paused { .. }));
}

#[test]
fn rollback_to_a_fixed_revision_uses_that_revision() {
    let mut policy = sim_policy();
    policy.rollback_to = RollbackTo::Revision(3);
    let mut train = start(policy);
    measure(&mut train, Verdict::Fail, 10);
    assert_eq!(measure(&mut train, Verdict::Fail, 15), rollback(3));
    assert!(is_rolled_back_to(&train, 3));
}

#[test]
fn rollback_to_last_passing_falls_back_to_previous_before_any_window_passed() {
    let mut policy = sim_policy();
    policy.rollback_to = RollbackTo::LastPassing;
    let mut train = start(policy);
    measure(&mut train, Verdict::Fail, 10);
    assert_eq!(measure(&mut train, Verdict::Fail, 15), rollback(PREVIOUS));
}

#[test]
fn rollback_to_last_passing_uses_the_known_passing_revision() {
    let mut policy = sim_policy();
    policy.rollback_to = RollbackTo::LastPassing;
    let mut revs = revisions();
    revs.last_passing = Some(4);
    let (mut train, _) = Train::start("web", policy, revs, t0());
    measure(&mut train, Verdict::Fail, 10);
    assert_eq!(measure(&mut train, Verdict::Fail, 15), rollback(4));
}

#[test]
fn rollback_to_last_passing_never_targets_the_failing_canary_revision() {
    let mut policy = sim_policy();
    policy.rollback_to = RollbackTo::LastPassing;
    let mut train = start(policy);
    run(&mut train, Verdict::Pass, 5, 40);
    assert_eq!(train.weight, 25, "the 5 % window passed");
    measure(&mut train, Verdict::Fail, 50);
    let effects = measure(&mut train, Verdict::Fail, 55);
    assert!(
        !effects.contains(&Effect::HelmRollback {
            to_revision: CURRENT
        }),
        "rolled back to the canary revision itself: {effects:?}"
    );
    assert_eq!(effects, rollback(PREVIOUS));
}

// ---------------------------------------------------------------------------------------
// error_limit

#[test]
fn error_limit_consecutive_errors_pause_without_rollback_or_promotion() {
    let mut train = start(sim_policy());
    run(&mut train, Verdict::Pass, 5, 25);
    let mut effects = Vec::new();
    for (s, v) in [
        (30, Verdict::Error),
        (35, Verdict::NoData),
        (40, Verdict::Error),
        (45, Verdict::Error),
    ] {
        effects.extend(measure(&mut train, v, s));
    }
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::SetWeight(_) | Effect::HelmRollback { .. })),
        "{effects:?}"
    );
    assert_eq!(
        train.weight, 5,
        "not promoted although the window ended at 40"
    );
    assert_eq!(train.step, 0);
    match &train.status {
        Status::Paused { reason } => {
            assert!(reason.contains("inconclusive"), "{reason}");
            assert!(
                reason.contains("4 consecutive measurements without a verdict"),
                "{reason}"
            );
        }
        other => panic!("expected paused, got {other:?}"),
    }
}

#[test]
fn a_pass_or_a_fail_resets_the_error_count() {
    let mut policy = sim_policy();
    policy.steps[0].observe = Span::secs(200);
    let mut train = start(policy);
    run(&mut train, Verdict::Error, 10, 20);
    assert_eq!(train.errors, 3);
    measure(&mut train, Verdict::Pass, 25);
    assert_eq!(train.errors, 0);
    run(&mut train, Verdict::NoData, 30, 40);
    measure(&mut train, Verdict::Fail, 45);
    assert_eq!(train.errors, 0);
    run(&mut train, Verdict::Error, 50, 60);
    assert_eq!(train.status, Status::Progressing);
}

// ---------------------------------------------------------------------------------------
// Manual gates

fn gated_policy() -> Policy {
    let mut policy = sim_policy();
    policy.steps[0].gate = Gate::Manual;
    policy
}

#[test]
fn a_manual_gate_waits_for_a_human_after_the_window_passes() {
    let mut train = start(gated_policy());
    assert_eq!(
        train.next_action(at(5)),
        NextAction::AwaitHuman("manual gate after the 5 % window".into())
    );
    assert!(run(&mut train, Verdict::Pass, 5, 40).is_empty());
    assert_eq!(train.status, Status::AwaitingGate);
    assert_eq!(train.weight, 5);
    assert_eq!(
        train.revisions.last_passing, None,
        "a passed window does not make the canary a last passing revision"
    );
    assert!(
        train
            .timeline
            .last()
            .unwrap()
            .event
            .contains("awaiting manual gate")
    );
    assert_eq!(
        train.next_action(at(41)),
        NextAction::AwaitHuman("promote to continue".into())
    );
    // More passes do not go through the gate by themselves.
    assert!(run(&mut train, Verdict::Pass, 45, 200).is_empty());
    assert_eq!(train.status, Status::AwaitingGate);
    assert_eq!(
        train.failure_action_within(at(200)),
        Some(train.policy.interval * train.policy.failure_limit as i32),
        "a breach at the gate still rolls back"
    );
}

#[test]
fn promote_at_a_manual_gate_moves_to_the_next_step_and_the_train_continues() {
    let mut train = start(gated_policy());
    run(&mut train, Verdict::Pass, 5, 40);
    let effects = train.command(&TrainCommand::Promote, at(100)).unwrap();
    assert_eq!(effects, [Effect::SetWeight(25)]);
    assert_eq!(train.status, Status::Progressing);
    assert_eq!(train.step, 1);
    assert_eq!(train.step_started, at(100));
    assert_eq!(train.window_end(), at(140));
    let effects = run(&mut train, Verdict::Pass, 105, 140);
    assert_eq!(effects, [(140, vec![Effect::SetWeight(50)])]);
}

#[test]
fn measurements_while_awaiting_the_gate_are_counted() {
    let mut train = start(gated_policy());
    run(&mut train, Verdict::Pass, 5, 40);
    assert!(run(&mut train, Verdict::Fail, 45, 45).is_empty());
    assert_eq!(train.failures, 1);
    assert!(train.recent.back().unwrap().counted);
    assert_eq!(
        train.status,
        Status::AwaitingGate,
        "one failure is not a breach yet"
    );
}

#[test]
fn a_breach_while_awaiting_the_manual_gate_still_rolls_back() {
    let mut train = start(gated_policy());
    run(&mut train, Verdict::Pass, 5, 40);
    assert_eq!(train.status, Status::AwaitingGate);
    let effects = run(&mut train, Verdict::Fail, 45, 100);
    assert!(
        effects.iter().any(|(_, e)| *e == rollback(PREVIOUS)),
        "the canary kept its traffic through a breach: {effects:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Commands

#[test]
fn promote_skips_the_rest_of_the_window_and_restarts_the_next_one() {
    let mut train = start(sim_policy());
    run(&mut train, Verdict::Pass, 5, 15);
    let effects = train.command(&TrainCommand::Promote, at(17)).unwrap();
    assert_eq!(effects, [Effect::SetWeight(25)]);
    assert_eq!(train.step, 1);
    assert_eq!(train.weight, 25);
    assert_eq!(train.step_started, at(17));
    assert_eq!(train.window_end(), at(57));
    assert!(
        train
            .timeline
            .last()
            .unwrap()
            .event
            .contains("manual promote")
    );
}

#[test]
fn promote_is_accepted_even_while_verdicts_fail_because_a_human_decided() {
    let mut train = start(sim_policy());
    measure(&mut train, Verdict::Fail, 10);
    let effects = train.command(&TrainCommand::Promote, at(12)).unwrap();
    assert_eq!(effects, [Effect::SetWeight(25)]);
    assert_eq!(train.failures, 0, "the new step starts clean");
}

#[test]
fn promote_at_the_last_step_completes_without_another_weight_change() {
    let mut train = start(sim_policy());
    for s in [1, 2, 3] {
        train.command(&TrainCommand::Promote, at(s)).unwrap();
    }
    assert_eq!(train.weight, 100);
    let effects = train.command(&TrainCommand::Promote, at(4)).unwrap();
    assert!(effects.is_empty());
    assert_eq!(train.status, Status::Promoted);
}

#[test]
fn promote_full_goes_straight_to_100_and_completes() {
    let mut train = start(sim_policy());
    let effects = train.command(&TrainCommand::PromoteFull, at(12)).unwrap();
    assert_eq!(effects, [Effect::SetWeight(100)]);
    assert_eq!(train.status, Status::Promoted);
    assert_eq!(train.weight, 100);
    assert_eq!(train.step, 3);
}

#[test]
fn promote_full_is_accepted_at_a_manual_gate() {
    let mut train = start(gated_policy());
    run(&mut train, Verdict::Pass, 5, 40);
    let effects = train.command(&TrainCommand::PromoteFull, at(50)).unwrap();
    assert_eq!(effects, [Effect::SetWeight(100)]);
    assert_eq!(train.status, Status::Promoted);
}

#[test]
fn pause_freezes_and_measurements_are_not_counted_until_resume() {
    let mut train = start(sim_policy());
    measure(&mut train, Verdict::Fail, 10);
    let effects = train.command(&TrainCommand::Pause, at(12)).unwrap();
    assert_eq!(effects, [Effect::Freeze]);
    assert_eq!(
        train.status,
        Status::Paused {
            reason: "paused by hand".into()
        }
    );
    assert!(
        run(&mut train, Verdict::Fail, 15, 100).is_empty(),
        "no rollback while paused"
    );
    assert!(matches!(train.status, Status::Paused { .. }));
    assert_eq!(train.failure_action_within(at(100)), None);
}

#[test]
fn resume_unfreezes_and_restarts_the_window_and_its_warm_up() {
    let mut train = start(sim_policy());
    measure(&mut train, Verdict::Fail, 10);
    train.command(&TrainCommand::Pause, at(12)).unwrap();
    let effects = train.command(&TrainCommand::Resume, at(100)).unwrap();
    assert_eq!(effects, [Effect::Unfreeze]);
    assert_eq!(train.status, Status::Progressing);
    assert_eq!(train.step_started, at(100));
    assert_eq!(train.window_end(), at(140));
    assert_eq!(train.time_left(at(100)), secs(40));
    assert_eq!(
        train.failures, 0,
        "the failure before the pause is forgotten"
    );
    // Warm-up again: a failure at 105 is not counted.
    assert!(measure(&mut train, Verdict::Fail, 105).is_empty());
    assert_eq!(train.failures, 0);
    // A full new window is needed.
    assert!(run(&mut train, Verdict::Pass, 110, 135).is_empty());
    assert_eq!(
        measure(&mut train, Verdict::Pass, 140),
        [Effect::SetWeight(25)]
    );
}

#[test]
fn resume_after_an_error_limit_pause_clears_the_error_count() {
    let mut train = start(sim_policy());
    run(&mut train, Verdict::Error, 10, 25);
    assert!(matches!(train.status, Status::Paused { .. }));
    train.command(&TrainCommand::Resume, at(30)).unwrap();
    assert_eq!(train.errors, 0);
    assert_eq!(train.status, Status::Progressing);
}

/// The tag `frozen/rollback` is the release train's switch: settable and removable in any
/// state. Where the train cannot move (a second pause, a resume of a running train), the
/// command sets or deletes the tag and leaves the train exactly as it was.
#[test]
fn pause_and_resume_in_any_state_set_or_delete_the_tag_and_leave_a_train_that_cannot_move() {
    let mut train = start(sim_policy());
    let running = train.clone();
    assert_eq!(
        train.command(&TrainCommand::Resume, at(5)),
        Ok(vec![Effect::Unfreeze])
    );
    assert_eq!(train, running, "a resume of a running train moves nothing");
    train.command(&TrainCommand::Pause, at(6)).unwrap();
    assert!(matches!(train.status, Status::Paused { .. }));
    let paused = train.clone();
    assert_eq!(
        train.command(&TrainCommand::Pause, at(7)),
        Ok(vec![Effect::Freeze]),
        "a second pause is a success"
    );
    assert_eq!(train, paused);
    let mut gated = start(gated_policy());
    run(&mut gated, Verdict::Pass, 5, 40);
    let awaiting = gated.clone();
    assert_eq!(
        gated.command(&TrainCommand::Resume, at(45)),
        Ok(vec![Effect::Unfreeze])
    );
    assert_eq!(gated, awaiting);
    assert_eq!(
        gated.command(&TrainCommand::Pause, at(46)),
        Ok(vec![Effect::Freeze])
    );
    assert!(matches!(gated.status, Status::Paused { .. }));
}

#[test]
fn promote_is_refused_while_paused() {
    let mut train = start(sim_policy());
    train.command(&TrainCommand::Pause, at(6)).unwrap();
    assert_eq!(
        train.command(&TrainCommand::Promote, at(7)),
        Err(Refused("cannot promote while the train is paused".into()))
    );
    assert_eq!(
        train.command(&TrainCommand::PromoteFull, at(7)),
        Err(Refused(
            "cannot promote fully while the train is paused".into()
        ))
    );
    assert_eq!(train.weight, 5);
}

#[test]
fn abort_sets_weight_zero_without_a_helm_rollback() {
    let mut train = start(sim_policy());
    let effects = train.command(&TrainCommand::Abort, at(12)).unwrap();
    assert_eq!(effects, [Effect::SetWeight(0)]);
    assert_eq!(train.weight, 0);
    assert_eq!(
        train.status,
        Status::Aborted {
            reason: "aborted by hand".into()
        }
    );
}

#[test]
fn abort_is_accepted_while_paused() {
    let mut train = start(sim_policy());
    train.command(&TrainCommand::Pause, at(6)).unwrap();
    assert_eq!(
        train.command(&TrainCommand::Abort, at(7)),
        Ok(vec![Effect::SetWeight(0)])
    );
    assert!(train.status.is_terminal());
}

#[test]
fn a_manual_rollback_goes_to_the_policy_target_or_the_chosen_revision() {
    let mut train = start(sim_policy());
    assert_eq!(
        train.command(&TrainCommand::Rollback { to_revision: None }, at(12)),
        Ok(rollback(PREVIOUS))
    );
    match &train.status {
        Status::RolledBack {
            to_revision,
            reason,
        } => {
            assert_eq!(*to_revision, PREVIOUS);
            assert_eq!(reason, "by hand");
        }
        other => panic!("expected rolled back, got {other:?}"),
    }

    let mut train = start(sim_policy());
    assert_eq!(
        train.command(
            &TrainCommand::Rollback {
                to_revision: Some(3)
            },
            at(12)
        ),
        Ok(rollback(3))
    );
    assert!(is_rolled_back_to(&train, 3));
}

#[test]
fn a_rollback_to_the_current_revision_is_refused_and_changes_nothing() {
    let mut train = start(sim_policy());
    let before = train.clone();
    assert_eq!(
        train.command(
            &TrainCommand::Rollback {
                to_revision: Some(CURRENT)
            },
            at(12)
        ),
        Err(Refused("revision 7 is the current revision".into()))
    );
    assert_eq!(train, before);
}

#[test]
fn a_rollback_by_policy_that_resolves_to_the_current_revision_is_refused() {
    let mut policy = sim_policy();
    policy.rollback_to = RollbackTo::Revision(CURRENT);
    let mut train = start(policy);
    assert_eq!(
        train.command(&TrainCommand::Rollback { to_revision: None }, at(12)),
        Err(Refused("revision 7 is the current revision".into()))
    );
    assert_eq!(train.status, Status::Progressing);
}

/// Every command an ended train refuses, with the verb its refusal uses.
fn refused_once_ended() -> [(TrainCommand, &'static str); 3] {
    [
        (TrainCommand::Promote, "promote"),
        (TrainCommand::PromoteFull, "promote fully"),
        (TrainCommand::Abort, "abort"),
    ]
}

fn assert_refuses_all_but_rollback(train: &mut Train, label: &str) {
    let before = train.clone();
    for (cmd, verb) in refused_once_ended() {
        assert_eq!(command_verb(&cmd), verb);
        assert_eq!(
            train.command(&cmd, at(1000)),
            Err(Refused(format!("cannot {verb} while the train is {label}"))),
            "{cmd:?}"
        );
        assert_eq!(*train, before, "a refused {cmd:?} changed the train");
    }
    // The freeze tag is still a switch of its own: set or deleted, the train unchanged.
    for (cmd, effect) in [
        (TrainCommand::Pause, Effect::Freeze),
        (TrainCommand::Resume, Effect::Unfreeze),
    ] {
        assert_eq!(train.command(&cmd, at(1000)), Ok(vec![effect]), "{cmd:?}");
        assert_eq!(*train, before, "{cmd:?} changed an ended train");
    }
}

#[test]
fn commands_are_refused_with_a_message_once_promoted() {
    let mut train = start(sim_policy());
    train.command(&TrainCommand::PromoteFull, at(5)).unwrap();
    assert!(train.status.is_terminal());
    assert_refuses_all_but_rollback(&mut train, "promoted");
    assert!(
        run(&mut train, Verdict::Fail, 10, 300).is_empty(),
        "verdicts no longer act"
    );
}

#[test]
fn commands_are_refused_with_a_message_once_rolled_back() {
    let mut train = start(sim_policy());
    measure(&mut train, Verdict::Fail, 10);
    measure(&mut train, Verdict::Fail, 15);
    assert!(is_rolled_back_to(&train, PREVIOUS));
    assert_refuses_all_but_rollback(&mut train, "rolled back");
    assert_eq!(
        train.command(&TrainCommand::Rollback { to_revision: None }, at(20)),
        Err(Refused("already rolled back to revision 6".into()))
    );
    assert_eq!(
        train.command(
            &TrainCommand::Rollback {
                to_revision: Some(PREVIOUS)
            },
            at(20)
        ),
        Err(Refused("already rolled back to revision 6".into()))
    );
    assert!(
        run(&mut train, Verdict::Pass, 25, 300).is_empty(),
        "verdicts no longer act"
    );
    assert_eq!(train.weight, 0);
}

#[test]
fn commands_are_refused_with_a_message_once_aborted() {
    let mut train = start(sim_policy());
    train.command(&TrainCommand::Abort, at(5)).unwrap();
    assert_refuses_all_but_rollback(&mut train, "aborted");
    assert!(
        run(&mut train, Verdict::Pass, 10, 300).is_empty(),
        "verdicts no longer act"
    );
    assert_eq!(train.weight, 0);
}

#[test]
fn status_labels_and_terminal_states() {
    let cases = [
        (Status::Progressing, "progressing", false),
        (Status::AwaitingGate, "awaiting manual gate", false),
        (Status::Paused { reason: "x".into() }, "paused", false),
        (Status::Promoted, "promoted", true),
        (
            Status::RolledBack {
                to_revision: 1,
                reason: "x".into(),
            },
            "rolled back",
            true,
        ),
        (Status::Aborted { reason: "x".into() }, "aborted", true),
    ];
    for (status, label, terminal) in cases {
        assert_eq!(status.label(), label);
        assert_eq!(status.is_terminal(), terminal, "{status:?}");
    }
    assert_eq!(
        command_verb(&TrainCommand::Rollback { to_revision: None }),
        "roll back"
    );
}

// ---------------------------------------------------------------------------------------
// Estimates for the Canary panel

#[test]
fn time_left_counts_down_to_the_window_end_and_never_goes_negative() {
    let train = start(sim_policy());
    assert_eq!(train.time_left(at(0)), secs(40));
    assert_eq!(train.time_left(at(25)), secs(15));
    assert_eq!(train.time_left(at(40)), Duration::zero());
    assert_eq!(train.time_left(at(400)), Duration::zero());
    assert_eq!(
        train.time_left(at(-10)),
        secs(50),
        "a clock behind the start"
    );
}

#[test]
fn window_progress_runs_from_zero_to_one() {
    let train = start(sim_policy());
    assert_eq!(train.window_progress(at(0)), 0.0);
    assert_eq!(train.window_progress(at(20)), 0.5);
    assert_eq!(train.window_progress(at(40)), 1.0);
    assert_eq!(train.window_progress(at(400)), 1.0);
    assert_eq!(train.window_progress(at(-5)), 0.0);
}

#[test]
fn next_action_promotes_at_the_window_end_or_now_if_overdue() {
    let mut train = start(sim_policy());
    assert_eq!(
        train.next_action(at(10)),
        NextAction::Promote {
            weight: 25,
            at: at(40)
        }
    );
    // The window ended without a fresh pass: promotion is due now.
    measure(&mut train, Verdict::Error, 40);
    assert_eq!(
        train.next_action(at(43)),
        NextAction::Promote {
            weight: 25,
            at: at(43)
        }
    );
}

#[test]
fn next_action_completes_at_the_last_window_end() {
    let mut train = start(sim_policy());
    run(&mut train, Verdict::Pass, 5, 140);
    assert_eq!(train.weight, 100);
    assert_eq!(
        train.next_action(at(150)),
        NextAction::Complete { at: at(200) }
    );
}

#[test]
fn next_action_awaits_a_human_when_paused_and_is_none_once_ended() {
    let mut train = start(sim_policy());
    train.command(&TrainCommand::Pause, at(5)).unwrap();
    assert_eq!(
        train.next_action(at(6)),
        NextAction::AwaitHuman("paused: paused by hand".into())
    );
    train.command(&TrainCommand::Abort, at(7)).unwrap();
    assert_eq!(train.next_action(at(8)), NextAction::None);

    let mut train = start(sim_policy());
    train.command(&TrainCommand::PromoteFull, at(5)).unwrap();
    assert_eq!(train.next_action(at(6)), NextAction::None);
}

#[test]
fn failure_action_within_counts_the_failed_measurements_still_needed() {
    let mut policy = sim_policy();
    policy.failure_limit = 3;
    policy.steps[0].observe = Span::secs(60);
    let mut train = start(policy);
    measure(&mut train, Verdict::Pass, 10);
    assert_eq!(train.failure_action_within(at(10)), Some(secs(15)));
    measure(&mut train, Verdict::Fail, 15);
    assert_eq!(train.failure_action_within(at(15)), Some(secs(10)));
    measure(&mut train, Verdict::Fail, 20);
    assert_eq!(train.failure_action_within(at(20)), Some(secs(5)));
    measure(&mut train, Verdict::Fail, 25);
    assert_eq!(
        train.failure_action_within(at(25)),
        None,
        "rolled back: nothing left to predict"
    );
}

#[test]
fn failure_action_within_is_an_upper_bound_even_during_the_warm_up() {
    let mut train = start(seed_policy());
    let promised = train.failure_action_within(t0()).unwrap();
    // The breach starts now and goes on: measurements every 30 s fail.
    let effects = run(&mut train, Verdict::Fail, 30, 600);
    let (rolled_back_at, e) = &effects[0];
    assert_eq!(*e, rollback(PREVIOUS));
    assert!(
        at(*rolled_back_at) - t0() <= promised,
        "promised within {promised}, rolled back after {}s",
        rolled_back_at
    );
}

// ---------------------------------------------------------------------------------------
// The breach timing bound

/// With interval `i` and failure limit `f`, a train whose measurements start failing at
/// `first_fail` (after the warm-up): when does it act, and what did it promise?
fn breach(i: i64, f: u32, on_fail: OnFail) -> (i64, i64, Duration, Vec<Effect>) {
    let delay = 2 * i;
    let mut policy = sim_policy();
    policy.interval = secs(i);
    policy.initial_delay = secs(delay);
    policy.failure_limit = f;
    policy.on_fail = on_fail;
    for s in &mut policy.steps {
        s.observe = Span::secs(3600);
    }
    let mut train = start(policy);
    let last_pass = delay + 3 * i;
    run(&mut train, Verdict::Pass, i, last_pass);
    let promised = train.failure_action_within(at(last_pass)).unwrap();
    let first_fail = last_pass + i;
    let effects = run(&mut train, Verdict::Fail, first_fail, first_fail + 100 * i);
    assert_eq!(effects.len(), 1, "{effects:?}");
    let (acted_at, e) = effects.into_iter().next().unwrap();
    (first_fail, acted_at, promised, e)
}

#[test]
fn a_sustained_breach_rolls_back_exactly_failure_limit_measurements_after_it_starts() {
    for i in [5, 30, 60] {
        for f in 1..=5 {
            let (first_fail, rolled_back_at, promised, effects) = breach(i, f, OnFail::Rollback);
            assert_eq!(effects, rollback(PREVIOUS), "i={i} f={f}");
            assert_eq!(
                rolled_back_at - first_fail,
                i * (i64::from(f) - 1),
                "i={i} f={f}: the F-th failing measurement rolls back"
            );
            // The promise made at the last passing measurement holds.
            let last_pass = first_fail - i;
            assert!(
                secs(rolled_back_at - last_pass) <= promised,
                "i={i} f={f}: promised {promised}, acted after {}s",
                rolled_back_at - last_pass
            );
            assert_eq!(promised, secs(i * i64::from(f)));
        }
    }
}

#[test]
fn a_sustained_breach_pauses_exactly_failure_limit_measurements_after_it_starts_with_on_fail_pause()
{
    for f in 1..=4 {
        let (first_fail, paused_at, _, effects) = breach(30, f, OnFail::Pause);
        assert_eq!(effects, [Effect::Freeze]);
        assert_eq!(paused_at - first_fail, 30 * (i64::from(f) - 1));
    }
}

// ---------------------------------------------------------------------------------------
// Memory

#[test]
fn recent_keeps_the_last_120_measurements_oldest_dropped_first() {
    let mut policy = sim_policy();
    policy.steps[0].observe = Span::secs(100_000);
    let mut train = start(policy);
    for k in 1..=130 {
        measure(&mut train, Verdict::Pass, 5 * k);
    }
    assert_eq!(train.recent.len(), 120);
    assert_eq!(train.recent.front().unwrap().at, at(5 * 11));
    assert_eq!(train.recent.back().unwrap().at, at(5 * 130));
    assert_eq!(train.recent.back().unwrap().score, Some(100.0));
}

#[test]
fn the_last_analysis_is_kept_whatever_its_verdict() {
    let mut train = start(sim_policy());
    measure(&mut train, Verdict::Warn, 5);
    let last = train.last.as_ref().unwrap();
    assert_eq!(last.verdict, Verdict::Warn);
    assert_eq!(last.at, at(5));
}

// ---------------------------------------------------------------------------------------
// Properties

#[derive(Debug, Clone)]
enum Op {
    /// A measurement with this verdict, taken `lag` intervals before it is observed.
    Measure {
        verdict: Verdict,
        lag: u8,
    },
    Command(TrainCommand),
    /// A missed tick.
    Skip,
}

fn verdicts() -> impl Strategy<Value = Verdict> {
    prop_oneof![
        Just(Verdict::Pass),
        Just(Verdict::Warn),
        Just(Verdict::Fail),
        Just(Verdict::NoData),
        Just(Verdict::Error),
    ]
}

fn commands() -> impl Strategy<Value = TrainCommand> {
    prop_oneof![
        Just(TrainCommand::Promote),
        Just(TrainCommand::PromoteFull),
        Just(TrainCommand::Pause),
        Just(TrainCommand::Resume),
        Just(TrainCommand::Rollback { to_revision: None }),
        Just(TrainCommand::Abort),
    ]
}

fn measurements() -> impl Strategy<Value = Op> {
    (
        verdicts(),
        prop_oneof![6 => Just(0u8), 2 => Just(1u8), 1 => 2u8..=4],
    )
        .prop_map(|(verdict, lag)| Op::Measure { verdict, lag })
}

fn ops(with_commands: bool) -> BoxedStrategy<Vec<Op>> {
    let op = if with_commands {
        prop_oneof![
            16 => measurements(),
            1 => commands().prop_map(Op::Command),
            1 => Just(Op::Skip),
        ]
        .boxed()
    } else {
        prop_oneof![16 => measurements(), 1 => Just(Op::Skip)].boxed()
    };
    prop::collection::vec(op, 1..300).boxed()
}

fn policies() -> impl Strategy<Value = Policy> {
    (
        prop_oneof![Just(5i64), Just(30i64)],
        0i64..=4,
        1u32..=4,
        1u32..=5,
        prop_oneof![Just(OnFail::Rollback), Just(OnFail::Pause)],
        prop_oneof![
            Just(RollbackTo::Previous),
            Just(RollbackTo::LastPassing),
            Just(RollbackTo::Revision(3))
        ],
        prop::collection::vec(any::<bool>(), 4),
        prop::collection::vec(0i64..=6, 4),
    )
        .prop_map(
            |(i, delay_ticks, f, e, on_fail, rollback_to, gates, extra)| {
                let delay = i * delay_ticks;
                let steps = [5u8, 25, 50, 100]
                    .iter()
                    .zip(gates.iter().zip(&extra))
                    .map(|(&weight, (&manual, &extra))| {
                        // As long as slo.yml demands: initial_delay + failure_limit × interval.
                        let observe = delay + i * (i64::from(f) + extra);
                        step(
                            weight,
                            u64::try_from(observe).unwrap(),
                            if manual { Gate::Manual } else { Gate::Auto },
                        )
                    })
                    .collect();
                Policy {
                    steps,
                    interval: secs(i),
                    initial_delay: secs(delay),
                    on_fail,
                    rollback_to,
                    failure_limit: f,
                    error_limit: e,
                }
            },
        )
}

/// Drives a train through `ops`, one per interval tick, and checks after every step that it
/// never raised the weight without a fresh counted pass at a closed window (or a human
/// promote), never rolled back twice, never sat in Progressing with the failure limit
/// reached, and that its weight is the one its effects set.
fn check_run(policy: Policy, ops: &[Op]) -> Result<(), TestCaseError> {
    let interval = policy.interval;
    let slack = interval + interval / 2;
    let f = policy.failure_limit;
    let (mut train, effects) = Train::start("web", policy, revisions(), t0());
    let mut applied = match effects.as_slice() {
        [Effect::SetWeight(w)] => *w,
        other => return Err(TestCaseError::fail(format!("start: {other:?}"))),
    };
    let mut rollbacks = 0;
    for (k, op) in ops.iter().enumerate() {
        let now = t0() + interval * (i32::try_from(k).unwrap() + 1);
        let status_before = train.status.clone();
        let weight_before = train.weight;
        let warmup_end = train.warmup_end();
        let window_end = train.window_end();
        let effects = match op {
            Op::Skip => continue,
            Op::Measure { verdict, lag } => {
                let taken = now - interval * i32::from(*lag);
                let effects = train.observe(analysis(*verdict, taken), now);
                let counted = matches!(status_before, Status::Progressing | Status::AwaitingGate)
                    && taken >= warmup_end;
                prop_assert_eq!(train.recent.back().map(|s| s.counted), Some(counted));
                if !counted {
                    prop_assert!(
                        effects.is_empty(),
                        "uncounted measurement acted: {:?}",
                        effects
                    );
                }
                for e in &effects {
                    if let Effect::SetWeight(w) = e
                        && *w > weight_before
                    {
                        prop_assert!(counted, "promoted on an uncounted measurement");
                        prop_assert!(verdict.is_passing(), "promoted on {:?}", verdict);
                        prop_assert!(now >= window_end, "promoted before the window ended");
                        prop_assert!(now - taken <= slack, "promoted on a stale pass");
                        let latest = train.recent.iter().rev().find(|s| s.counted);
                        prop_assert!(latest.is_some_and(|s| s.verdict.is_passing()));
                    }
                }
                effects
            }
            Op::Command(cmd) => match train.command(cmd, now) {
                Ok(effects) => {
                    for e in &effects {
                        if let Effect::SetWeight(w) = e
                            && *w > weight_before
                        {
                            prop_assert!(
                                matches!(cmd, TrainCommand::Promote | TrainCommand::PromoteFull),
                                "{:?} raised the weight",
                                cmd
                            );
                        }
                    }
                    effects
                }
                Err(_) => Vec::new(),
            },
        };
        if status_before.is_terminal() {
            prop_assert!(
                effects
                    .iter()
                    .all(|e| !matches!(e, Effect::SetWeight(w) if *w > 0)),
                "{:?} after the train ended",
                effects
            );
        }
        for e in &effects {
            match e {
                Effect::SetWeight(w) => applied = *w,
                Effect::HelmRollback { to_revision } => {
                    rollbacks += 1;
                    prop_assert!(is_rolled_back_to(&train, *to_revision));
                }
                Effect::Freeze | Effect::Unfreeze => {}
            }
        }
        prop_assert!(rollbacks <= 1, "rolled back {} times", rollbacks);
        prop_assert_eq!(train.weight, applied, "weight out of step with its effects");
        if train.status == Status::Progressing {
            prop_assert!(
                train.failures < f,
                "{} failures and still progressing",
                train.failures
            );
        }
    }
    Ok(())
}

/// Consoles share the train as JSON: every state it can be in reads back as it was, for
/// each way of choosing the rollback revision.
#[test]
fn a_train_reads_back_from_json_exactly_as_it_was_written() {
    for rollback_to in [
        RollbackTo::Previous,
        RollbackTo::LastPassing,
        RollbackTo::Revision(7),
    ] {
        let mut train = start(Policy {
            rollback_to,
            ..seed_policy()
        });
        let mut states = vec![train.clone()];
        for (i, verdict) in [Verdict::Pass, Verdict::Warn, Verdict::Fail, Verdict::Fail]
            .into_iter()
            .enumerate()
        {
            measure(&mut train, verdict, 90 + 30 * i as i64);
            states.push(train.clone());
            let mut paused = train.clone();
            if paused
                .command(&TrainCommand::Pause, at(95 + 30 * i as i64))
                .is_ok()
            {
                states.push(paused);
            }
        }
        assert!(
            states
                .iter()
                .any(|t| matches!(t.status, Status::Paused { .. }))
                && states
                    .iter()
                    .any(|t| matches!(t.status, Status::RolledBack { .. })),
            "paused and rolled back are among the states written"
        );
        for t in states {
            let json = serde_json::to_value(&t).unwrap();
            let back: Train =
                serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{e}: {json}"));
            assert_eq!(back, t);
        }
    }
}

proptest! {
    #[test]
    fn verdicts_alone_never_promote_without_a_fresh_pass_and_never_roll_back_twice(
        policy in policies(),
        ops in ops(false),
    ) {
        check_run(policy, &ops)?;
    }

    #[test]
    fn verdicts_and_commands_never_promote_without_a_fresh_pass_or_a_human_and_never_roll_back_twice(
        policy in policies(),
        ops in ops(true),
    ) {
        check_run(policy, &ops)?;
    }

    /// Whatever happened before, once every measurement fails the train acts on the
    /// failure_limit-th counted one: at the first tick after the warm-up, plus F-1 intervals.
    #[test]
    fn a_sustained_breach_is_acted_on_failure_limit_counted_measurements_after_it_starts(
        policy in policies(),
        before in prop::collection::vec(prop_oneof![4 => Just(Verdict::Pass), 1 => verdicts()], 0..60),
    ) {
        let i = policy.interval;
        let f = policy.failure_limit;
        let (mut train, _) = Train::start("web", policy, revisions(), t0());
        let mut k: i32 = 0;
        for v in before {
            k += 1;
            let now = t0() + i * k;
            train.observe(analysis(v, now), now);
        }
        // Bring a train that stopped for a human back to progressing, as a human would.
        match train.status {
            Status::AwaitingGate => {
                train.command(&TrainCommand::Promote, t0() + i * k).unwrap();
            }
            Status::Paused { .. } => {
                train.command(&TrainCommand::Resume, t0() + i * k).unwrap();
            }
            _ => {}
        }
        if train.status != Status::Progressing {
            return Ok(());
        }
        let already_failed = train.failures;
        let first_fail = t0() + i * (k + 1);
        let warmup_end = train.warmup_end();
        let mut first_counted = first_fail;
        while first_counted < warmup_end {
            first_counted += i;
        }
        let mut acted = None;
        for n in 1..=200 {
            let now = t0() + i * (k + n);
            let effects = train.observe(analysis(Verdict::Fail, now), now);
            if !effects.is_empty() {
                acted = Some((now, effects));
                break;
            }
        }
        let (acted_at, effects) = acted.expect("the breach was never acted on");
        prop_assert!(
            effects == rollback(train_target(&train)) || effects == [Effect::Freeze],
            "{:?}", effects
        );
        let still_needed = i32::try_from(f - already_failed).unwrap();
        prop_assert_eq!(acted_at, first_counted + i * (still_needed - 1));
    }
}

/// The revision the train rolled back to, if it did.
fn train_target(train: &Train) -> u32 {
    match train.status {
        Status::RolledBack { to_revision, .. } => to_revision,
        _ => u32::MAX,
    }
}

// --- a new revision, and a rollback seen through --------------------------------------------

#[test]
fn a_revision_found_with_no_canary_traffic_is_not_started_and_does_not_count_verdicts() {
    let mut train = Train::adopt("summit", sim_policy(), revisions(), 0, t0());
    assert_eq!(train.status, Status::NotStarted);
    assert_eq!(train.weight, 0);
    assert!(
        run(&mut train, Verdict::Fail, 1, 60)
            .iter()
            .all(|(_, e)| e.is_empty()),
        "no traffic goes to the canary: nothing to judge"
    );
    assert_eq!(train.failure_action_within(at(61)), None);
    assert!(
        matches!(train.next_action(at(61)), NextAction::AwaitHuman(why) if why.contains("not started"))
    );
}

#[test]
fn beginning_a_train_not_started_sets_the_first_step_and_a_fresh_window() {
    let mut train = Train::adopt("summit", sim_policy(), revisions(), 0, t0());
    let first = sim_policy().steps[0].weight;
    assert_eq!(
        train.begin(at(30), "a new revision"),
        vec![Effect::SetWeight(first)]
    );
    assert_eq!(train.status, Status::Progressing);
    assert_eq!((train.step, train.weight), (0, first));
    assert_eq!(train.step_started, at(30));
    assert!(train.timeline.last().unwrap().event.contains("started at"));
    assert_eq!(
        train.begin(at(31), "again"),
        Vec::new(),
        "a train under way is never begun again"
    );
}

#[test]
fn a_human_promote_starts_a_train_not_started_at_its_first_step() {
    let mut train = Train::adopt("summit", sim_policy(), revisions(), 0, t0());
    let first = sim_policy().steps[0].weight;
    assert_eq!(
        train.command(&TrainCommand::Promote, at(5)),
        Ok(vec![Effect::SetWeight(first)])
    );
    assert_eq!(
        (train.status.clone(), train.weight),
        (Status::Progressing, first)
    );
}

#[test]
fn a_rollback_not_seen_through_is_unfinished_retried_every_measurement_then_stands() {
    let mut train = start(sim_policy());
    let effects = train.command(&TrainCommand::Rollback { to_revision: None }, at(5));
    assert_eq!(effects, Ok(rollback(PREVIOUS)));
    assert!(train.settle_rollback(Err("helm: timed out".into()), at(6)));
    assert!(
        matches!(&train.status, Status::RollingBack { to_revision, error, .. }
            if *to_revision == PREVIOUS && error == "helm: timed out"),
        "{:?}",
        train.status
    );
    assert!(
        !train.status.is_terminal(),
        "never shown as ended while traffic may flow"
    );
    assert_eq!(measure(&mut train, Verdict::Pass, 7), rollback(PREVIOUS));
    assert_eq!(measure(&mut train, Verdict::Fail, 8), rollback(PREVIOUS));
    assert!(train.settle_rollback(Ok(()), at(9)));
    assert!(is_rolled_back_to(&train, PREVIOUS));
    assert!(measure(&mut train, Verdict::Fail, 10).is_empty());
    assert!(
        !train.settle_rollback(Ok(()), at(11)),
        "nothing to settle any more"
    );
}
