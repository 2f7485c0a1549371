//! Tests for the SLO analysis: criteria, warn band, key objectives, the weighted score, the
//! `no_data` policies, query errors and the evidence each verdict carries.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::config::slo::SloConfig;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 3, 0, 0).unwrap()
}

const SLIS: &str = r#"slis:
  error_rate:  {query: 'sum(rate(http_requests_total{code=~"5..",$selector}[$window])) / sum(rate(http_requests_total{$selector}[$window]))'}
  latency_p99: {query: 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{$selector}[$window])))'}
  traffic:     {query: 'sum(rate(http_requests_total{$selector}[$window]))'}
  saturation:  {query: 'avg(rate(container_cpu_usage_seconds_total{$selector}[$window]))'}
  queue_depth: {query: 'max(queue_depth{$selector})'}
"#;

/// A whole `slo.yml` around the given objectives (YAML list items, already indented).
fn config_with(objectives: &str, no_data: &str, min_requests: u64, score: (f64, f64)) -> SloConfig {
    let (pass, warn) = score;
    let yaml = format!(
        r#"version: 1
selectors: {{canary: 'track="canary"', stable: 'track="stable"'}}
rollout:
  steps:
    - {{weight: 5,   observe: 10m}}
    - {{weight: 100, observe: 10m}}
  interval: 30s
  initial_delay: 60s
defaults:
  failure_limit: 2
  error_limit: 4
  no_data: {no_data}
  min_requests: {min_requests}
{SLIS}objectives:
{objectives}
score: {{pass: {pass}, warn: {warn}}}
"#
    );
    SloConfig::parse(Path::new("t.yml"), &yaml).unwrap_or_else(|e| panic!("{e}\n---\n{yaml}"))
}

/// Objectives with the usual policy: inconclusive on no data, min_requests 100, score 90/75.
fn config(objectives: &str) -> SloConfig {
    config_with(objectives, "inconclusive", 100, (90.0, 75.0))
}

/// One objective on `sli`, with the given pass criterion and optional warn criterion.
fn single(sli: &str, pass: &str, warn: Option<&str>) -> SloConfig {
    let warn = warn.map(|w| format!(", warn: {w}")).unwrap_or_default();
    config(&format!("  - {{sli: {sli}, pass: {pass}{warn}}}"))
}

/// The seed's objectives: error_rate key (weight 2, <= 1% and <= stable +20%, warn <= 2%),
/// latency_p99 (weight 1, <= 500ms, warn <= 800ms).
fn seed_objectives() -> SloConfig {
    config(
        r#"  - {sli: error_rate,  key: true, weight: 2, pass: {lte: 0.01, vs_stable: "<=+20%"}, warn: {lte: 0.02}}
  - {sli: latency_p99, weight: 1, pass: {lte: 0.5}, warn: {lte: 0.8}}"#,
    )
}

fn vals(canary: f64, stable: f64) -> SliReading {
    SliReading::Values {
        canary: Some(canary),
        stable: Some(stable),
    }
}

fn measurement(requests: Option<u64>, readings: &[(&str, SliReading)]) -> Measurement {
    Measurement {
        at: t0(),
        canary_requests: requests,
        stable_requests: Some(5000),
        readings: readings
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect(),
    }
}

fn judge_one(cfg: &SloConfig, sli: &str, reading: SliReading) -> Analysis {
    analyse(
        cfg,
        &measurement(Some(1000), &[(sli, reading)]),
        &BTreeMap::new(),
    )
}

fn objective<'a>(a: &'a Analysis, sli: &str) -> &'a ObjectiveVerdict {
    a.objectives
        .iter()
        .find(|o| o.sli == sli)
        .unwrap_or_else(|| panic!("no objective {sli} in {a:#?}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

// ---------------------------------------------------------------------------------------
// Verdict basics

#[test]
fn only_pass_and_warn_let_the_train_go_on() {
    assert!(Verdict::Pass.is_passing());
    assert!(Verdict::Warn.is_passing());
    assert!(!Verdict::Fail.is_passing());
    assert!(!Verdict::NoData.is_passing());
    assert!(!Verdict::Error.is_passing());
}

#[test]
fn verdict_labels_shout_only_on_failure() {
    assert_eq!(Verdict::Pass.label(), "pass");
    assert_eq!(Verdict::Warn.label(), "warn");
    assert_eq!(Verdict::Fail.label(), "FAIL");
    assert_eq!(Verdict::NoData.label(), "no data");
    assert_eq!(Verdict::Error.label(), "error");
}

// ---------------------------------------------------------------------------------------
// Criterion forms

#[test]
fn lte_passes_at_or_below_the_bound_and_fails_above_it() {
    let cfg = single("latency_p99", "{lte: 0.5}", None);
    assert_eq!(
        judge_one(&cfg, "latency_p99", vals(0.3, 0.3)).verdict,
        Verdict::Pass
    );
    assert_eq!(
        judge_one(&cfg, "latency_p99", vals(0.5, 0.3)).verdict,
        Verdict::Pass
    );
    let a = judge_one(&cfg, "latency_p99", vals(0.51, 0.3));
    assert_eq!(a.verdict, Verdict::Fail);
    assert_eq!(objective(&a, "latency_p99").verdict, Verdict::Fail);
    assert_eq!(objective(&a, "latency_p99").threshold, Some(0.5));
}

#[test]
fn gte_passes_at_or_above_the_bound_and_fails_below_it() {
    let cfg = single("traffic", "{gte: 10}", None);
    assert_eq!(
        judge_one(&cfg, "traffic", vals(12.0, 50.0)).verdict,
        Verdict::Pass
    );
    assert_eq!(
        judge_one(&cfg, "traffic", vals(10.0, 50.0)).verdict,
        Verdict::Pass
    );
    let a = judge_one(&cfg, "traffic", vals(9.9, 50.0));
    assert_eq!(a.verdict, Verdict::Fail);
    let o = objective(&a, "traffic");
    assert_eq!(o.threshold, Some(10.0));
    assert!(o.reason.contains(">= 10.0rps"), "{}", o.reason);
}

#[test]
fn vs_stable_at_most_20_percent_above_stable_bounds_the_canary_by_stable_times_1_2() {
    let cfg = single("error_rate", r#"{vs_stable: "<=+20%"}"#, None);
    // stable 0.005 -> bound 0.006
    let ok = judge_one(&cfg, "error_rate", vals(0.0059, 0.005));
    assert_eq!(ok.verdict, Verdict::Pass);
    assert!(close(
        objective(&ok, "error_rate").threshold.unwrap(),
        0.006
    ));
    let bad = judge_one(&cfg, "error_rate", vals(0.0061, 0.005));
    assert_eq!(bad.verdict, Verdict::Fail);
    let o = objective(&bad, "error_rate");
    assert!(close(o.threshold.unwrap(), 0.006));
    assert!(o.reason.contains("stable <=+20%"), "{}", o.reason);
    assert!(
        o.reason.contains("(= 0.60%)"),
        "bound missing: {}",
        o.reason
    );
}

#[test]
fn vs_stable_at_least_10_percent_below_stable_bounds_the_canary_by_stable_times_0_9() {
    let cfg = single("traffic", r#"{vs_stable: ">=-10%"}"#, None);
    // stable 100 -> bound 90
    assert_eq!(
        judge_one(&cfg, "traffic", vals(91.0, 100.0)).verdict,
        Verdict::Pass
    );
    assert_eq!(
        judge_one(&cfg, "traffic", vals(150.0, 100.0)).verdict,
        Verdict::Pass
    );
    let bad = judge_one(&cfg, "traffic", vals(89.0, 100.0));
    assert_eq!(bad.verdict, Verdict::Fail);
    let o = objective(&bad, "traffic");
    assert!(close(o.threshold.unwrap(), 90.0));
    assert!(o.reason.contains("stable >=-10%"), "{}", o.reason);
}

#[test]
fn lte_and_vs_stable_must_both_hold_and_the_threshold_is_the_tighter_bound() {
    let cfg = single("error_rate", r#"{lte: 0.01, vs_stable: "<=+20%"}"#, None);

    // Stable low: the relative bound (0.006) is tighter than 1 %.
    let a = judge_one(&cfg, "error_rate", vals(0.008, 0.005));
    assert_eq!(a.verdict, Verdict::Fail, "under 1 % but 60 % above stable");
    let o = objective(&a, "error_rate");
    assert!(close(o.threshold.unwrap(), 0.006));
    assert!(o.reason.contains("stable <=+20%"), "{}", o.reason);

    // Stable high: 1 % is tighter than stable +20 % (0.024).
    let a = judge_one(&cfg, "error_rate", vals(0.012, 0.02));
    assert_eq!(
        a.verdict,
        Verdict::Fail,
        "within stable +20 % but above 1 %"
    );
    let o = objective(&a, "error_rate");
    assert_eq!(o.threshold, Some(0.01));
    assert!(o.reason.contains("<= 1.00%"), "{}", o.reason);

    // Both hold.
    let a = judge_one(&cfg, "error_rate", vals(0.005, 0.005));
    assert_eq!(a.verdict, Verdict::Pass);
}

#[test]
fn gte_and_lte_together_accept_only_the_range_between_them() {
    let cfg = single("saturation", "{gte: 0.1, lte: 0.8}", None);
    assert_eq!(
        judge_one(&cfg, "saturation", vals(0.5, 0.5)).verdict,
        Verdict::Pass
    );
    assert_eq!(
        judge_one(&cfg, "saturation", vals(0.05, 0.5)).verdict,
        Verdict::Fail
    );
    assert_eq!(
        judge_one(&cfg, "saturation", vals(0.9, 0.5)).verdict,
        Verdict::Fail
    );
    let a = judge_one(&cfg, "saturation", vals(0.5, 0.5));
    assert_eq!(
        objective(&a, "saturation").threshold,
        Some(0.8),
        "the upper bound is shown"
    );
}

#[test]
fn gte_and_vs_stable_below_together_use_the_higher_lower_bound() {
    let cfg = single("traffic", r#"{gte: 10, vs_stable: ">=-10%"}"#, None);
    // stable 100 -> relative bound 90, absolute 10: 90 binds.
    let a = judge_one(&cfg, "traffic", vals(50.0, 100.0));
    assert_eq!(a.verdict, Verdict::Fail);
    assert!(close(objective(&a, "traffic").threshold.unwrap(), 90.0));
    // stable 5 -> relative bound 4.5, absolute 10: 10 binds.
    let a = judge_one(&cfg, "traffic", vals(8.0, 5.0));
    assert_eq!(a.verdict, Verdict::Fail);
    assert_eq!(objective(&a, "traffic").threshold, Some(10.0));
    let a = judge_one(&cfg, "traffic", vals(11.0, 5.0));
    assert_eq!(a.verdict, Verdict::Pass);
}

// ---------------------------------------------------------------------------------------
// Warn band

#[test]
fn a_value_between_pass_and_warn_is_warn_and_says_within_warn() {
    let cfg = single("latency_p99", "{lte: 0.5}", Some("{lte: 0.8}"));
    let a = judge_one(&cfg, "latency_p99", vals(0.6, 0.3));
    let o = objective(&a, "latency_p99");
    assert_eq!(o.verdict, Verdict::Warn);
    assert!(o.reason.contains("within warn"), "{}", o.reason);
    assert!(o.reason.contains("600ms"), "{}", o.reason);
    assert_eq!(o.threshold, Some(0.5), "the threshold stays the pass bound");
    // One objective at warn earns half: 50 %, under the warn score 75 -> the train fails.
    assert_eq!(a.score, Some(50.0));
    assert_eq!(a.verdict, Verdict::Fail);
}

#[test]
fn a_value_beyond_the_warn_bound_fails() {
    let cfg = single("latency_p99", "{lte: 0.5}", Some("{lte: 0.8}"));
    let a = judge_one(&cfg, "latency_p99", vals(0.9, 0.3));
    let o = objective(&a, "latency_p99");
    assert_eq!(o.verdict, Verdict::Fail);
    assert!(!o.reason.contains("within warn"), "{}", o.reason);
}

#[test]
fn without_a_warn_criterion_breaking_pass_is_a_fail() {
    let cfg = single("latency_p99", "{lte: 0.5}", None);
    let a = judge_one(&cfg, "latency_p99", vals(0.51, 0.3));
    assert_eq!(objective(&a, "latency_p99").verdict, Verdict::Fail);
}

#[test]
fn a_warn_criterion_relative_to_stable_is_judged_against_stable() {
    let cfg = single(
        "latency_p99",
        "{lte: 0.5}",
        Some(r#"{vs_stable: "<=+50%"}"#),
    );
    // stable 0.6 -> warn bound 0.9
    let a = judge_one(&cfg, "latency_p99", vals(0.7, 0.6));
    assert_eq!(objective(&a, "latency_p99").verdict, Verdict::Warn);
    let a = judge_one(&cfg, "latency_p99", vals(0.95, 0.6));
    assert_eq!(objective(&a, "latency_p99").verdict, Verdict::Fail);
}

#[test]
fn a_warn_criterion_relative_to_stable_is_not_met_when_the_stable_value_is_missing() {
    let cfg = single(
        "latency_p99",
        "{lte: 0.5}",
        Some(r#"{vs_stable: "<=+50%"}"#),
    );
    // The canary is far outside pass; without stable there is nothing to say it is within warn.
    for stable in [None, Some(f64::NAN)] {
        let a = judge_one(
            &cfg,
            "latency_p99",
            SliReading::Values {
                canary: Some(5.0),
                stable,
            },
        );
        let o = objective(&a, "latency_p99");
        assert_ne!(o.verdict, Verdict::Warn, "stable {stable:?}: {o:#?}");
        assert!(!a.verdict.is_passing(), "stable {stable:?}: {a:#?}");
    }
    // The same at 100 %, where stable serves nothing and the relative bound is skipped.
    let mut m = measurement(Some(1000), &[("latency_p99", vals(5.0, 0.3))]);
    m.stable_requests = Some(0);
    let a = analyse(&cfg, &m, &BTreeMap::new());
    assert_ne!(
        objective(&a, "latency_p99").verdict,
        Verdict::Warn,
        "{a:#?}"
    );
}

// ---------------------------------------------------------------------------------------
// Key objectives and the weighted score

#[test]
fn a_failing_key_objective_fails_the_verdict_even_with_a_passing_score() {
    let cfg = config(
        r#"  - {sli: error_rate,  key: true, weight: 1, pass: {lte: 0.01}}
  - {sli: latency_p99, weight: 99, pass: {lte: 0.5}}"#,
    );
    let m = measurement(
        Some(1000),
        &[
            ("error_rate", vals(0.05, 0.001)),
            ("latency_p99", vals(0.2, 0.2)),
        ],
    );
    let a = analyse(&cfg, &m, &BTreeMap::new());
    assert_eq!(a.score, Some(99.0), "the score alone would pass");
    assert_eq!(a.verdict, Verdict::Fail);
    assert!(
        a.reason.starts_with("key objective error_rate"),
        "{}",
        a.reason
    );
}

#[test]
fn a_key_objective_within_warn_does_not_fail_the_verdict_by_itself() {
    let cfg = config(
        r#"  - {sli: error_rate,  key: true, weight: 1, pass: {lte: 0.01}, warn: {lte: 0.02}}
  - {sli: latency_p99, weight: 9, pass: {lte: 0.5}}"#,
    );
    let m = measurement(
        Some(1000),
        &[
            ("error_rate", vals(0.015, 0.001)),
            ("latency_p99", vals(0.2, 0.2)),
        ],
    );
    let a = analyse(&cfg, &m, &BTreeMap::new());
    assert_eq!(objective(&a, "error_rate").verdict, Verdict::Warn);
    assert_eq!(a.score, Some(95.0));
    assert_eq!(a.verdict, Verdict::Pass);
}

#[test]
fn a_failing_non_key_objective_only_costs_its_weight_and_is_named() {
    let cfg = config(
        r#"  - {sli: error_rate,  weight: 9, pass: {lte: 0.01}}
  - {sli: latency_p99, weight: 1, pass: {lte: 0.5}}"#,
    );
    let m = measurement(
        Some(1000),
        &[
            ("error_rate", vals(0.001, 0.001)),
            ("latency_p99", vals(2.0, 0.2)),
        ],
    );
    let a = analyse(&cfg, &m, &BTreeMap::new());
    assert_eq!(a.score, Some(90.0));
    assert_eq!(
        a.verdict,
        Verdict::Pass,
        "a score equal to score.pass passes"
    );
    assert!(a.reason.contains("failing: latency_p99"), "{}", a.reason);
}

#[test]
fn a_score_between_warn_and_pass_thresholds_is_warn_and_below_warn_is_fail() {
    let cfg = config(
        r#"  - {sli: error_rate,  weight: 3, pass: {lte: 0.01}}
  - {sli: latency_p99, weight: 1, pass: {lte: 0.5}}"#,
    );
    let m = measurement(
        Some(1000),
        &[
            ("error_rate", vals(0.001, 0.001)),
            ("latency_p99", vals(2.0, 0.2)),
        ],
    );
    let a = analyse(&cfg, &m, &BTreeMap::new());
    assert_eq!(a.score, Some(75.0));
    assert_eq!(
        a.verdict,
        Verdict::Warn,
        "a score equal to score.warn is warn"
    );
    assert!(a.reason.contains("warn 75%"), "{}", a.reason);

    let m = measurement(
        Some(1000),
        &[
            ("error_rate", vals(0.5, 0.001)),
            ("latency_p99", vals(0.2, 0.2)),
        ],
    );
    let a = analyse(&cfg, &m, &BTreeMap::new());
    assert_eq!(a.score, Some(25.0));
    assert_eq!(a.verdict, Verdict::Fail);
    assert!(a.reason.contains("< 75%"), "{}", a.reason);
}

#[test]
fn a_warn_objective_earns_half_its_weight_in_the_score() {
    let cfg = config(
        r#"  - {sli: error_rate,  weight: 2, pass: {lte: 0.01}}
  - {sli: latency_p99, weight: 1, pass: {lte: 0.5}, warn: {lte: 0.8}}
  - {sli: saturation,  weight: 1, pass: {lte: 0.9}}"#,
    );
    let m = measurement(
        Some(1000),
        &[
            ("error_rate", vals(0.001, 0.001)),
            ("latency_p99", vals(0.6, 0.2)),
            ("saturation", vals(0.5, 0.5)),
        ],
    );
    let a = analyse(&cfg, &m, &BTreeMap::new());
    // (2 + 0.5 + 1) / 4 = 87.5 %: >= warn 75, < pass 90.
    assert_eq!(a.score, Some(87.5));
    assert_eq!(a.verdict, Verdict::Warn);
}

#[test]
fn the_seed_objectives_pass_a_healthy_canary_and_fail_a_breach() {
    let cfg = seed_objectives();
    let healthy = measurement(
        Some(1000),
        &[
            ("error_rate", vals(0.004, 0.004)),
            ("latency_p99", vals(0.3, 0.3)),
        ],
    );
    let a = analyse(&cfg, &healthy, &BTreeMap::new());
    assert_eq!(a.verdict, Verdict::Pass);
    assert_eq!(a.score, Some(100.0));

    // latency at warn: (2 + 0.5) / 3 = 83 % -> warn.
    let slow = measurement(
        Some(1000),
        &[
            ("error_rate", vals(0.004, 0.004)),
            ("latency_p99", vals(0.6, 0.3)),
        ],
    );
    let a = analyse(&cfg, &slow, &BTreeMap::new());
    assert_eq!(a.verdict, Verdict::Warn);
    assert!(close(a.score.unwrap(), 250.0 / 3.0));

    // error-rate breach beyond warn: key objective fails.
    let breach = measurement(
        Some(1000),
        &[
            ("error_rate", vals(0.08, 0.004)),
            ("latency_p99", vals(0.3, 0.3)),
        ],
    );
    let a = analyse(&cfg, &breach, &BTreeMap::new());
    assert_eq!(a.verdict, Verdict::Fail);
    assert!(
        a.reason.contains("key objective error_rate"),
        "{}",
        a.reason
    );
}

#[test]
fn no_objectives_is_no_data_not_a_pass() {
    let cfg = config("  []");
    let a = analyse(&cfg, &measurement(Some(1000), &[]), &BTreeMap::new());
    assert_eq!(a.verdict, Verdict::NoData);
    assert_eq!(a.score, None);
}

// ---------------------------------------------------------------------------------------
// min_requests and the no_data policies

fn starved(policy: &str) -> Analysis {
    let cfg = config_with(
        r#"  - {sli: error_rate,  key: true, weight: 2, pass: {lte: 0.01}}
  - {sli: latency_p99, weight: 1, pass: {lte: 0.5}}"#,
        policy,
        100,
        (90.0, 75.0),
    );
    // Values that would pass easily, but only 42 requests in the window.
    let m = measurement(
        Some(42),
        &[
            ("error_rate", vals(0.0, 0.001)),
            ("latency_p99", vals(0.1, 0.2)),
        ],
    );
    analyse(&cfg, &m, &BTreeMap::new())
}

#[test]
fn below_min_requests_with_no_data_inconclusive_is_no_data_without_a_score() {
    let a = starved("inconclusive");
    assert_eq!(a.verdict, Verdict::NoData);
    assert_eq!(a.score, None);
    for o in &a.objectives {
        assert_eq!(o.verdict, Verdict::NoData);
        assert!(
            o.reason.contains("42 canary requests < min_requests 100"),
            "{}",
            o.reason
        );
        assert!(o.reason.contains("no_data: inconclusive"), "{}", o.reason);
        assert_eq!(o.requests, Some(42));
    }
}

#[test]
fn below_min_requests_with_no_data_fail_is_a_fail() {
    let a = starved("fail");
    assert_eq!(a.verdict, Verdict::Fail);
    assert!(a.objectives.iter().all(|o| o.verdict == Verdict::Fail));
    assert!(a.reason.contains("min_requests"), "{}", a.reason);
    assert!(a.reason.contains("no_data: fail"), "{}", a.reason);
}

#[test]
fn below_min_requests_with_no_data_pass_is_a_pass_by_explicit_policy() {
    let a = starved("pass");
    assert_eq!(a.verdict, Verdict::Pass);
    assert!(a.objectives.iter().all(|o| o.verdict == Verdict::Pass));
    assert!(
        a.objectives
            .iter()
            .all(|o| o.reason.contains("no_data: pass"))
    );
}

#[test]
fn exactly_min_requests_is_enough_to_judge() {
    let cfg = single("latency_p99", "{lte: 0.5}", None);
    let m = measurement(Some(100), &[("latency_p99", vals(0.9, 0.2))]);
    let a = analyse(&cfg, &m, &BTreeMap::new());
    assert_eq!(a.verdict, Verdict::Fail, "judged on its value, not starved");
}

#[test]
fn below_min_requests_overrides_even_a_breaching_value_under_inconclusive() {
    let cfg = single("latency_p99", "{lte: 0.5}", None);
    let m = measurement(Some(10), &[("latency_p99", vals(9.0, 0.2))]);
    let a = analyse(&cfg, &m, &BTreeMap::new());
    assert_eq!(a.verdict, Verdict::NoData);
    let o = objective(&a, "latency_p99");
    assert_eq!(o.canary, Some(9.0), "the value is still shown as evidence");
}

#[test]
fn an_unknown_request_count_is_not_taken_as_enough_requests() {
    let cfg = single("latency_p99", "{lte: 0.5}", None);
    let m = measurement(None, &[("latency_p99", vals(0.1, 0.2))]);
    let a = analyse(&cfg, &m, &BTreeMap::new());
    assert!(
        !a.verdict.is_passing(),
        "min_requests 100 cannot be confirmed: {a:#?}"
    );
}

// ---------------------------------------------------------------------------------------
// A missing value is never a pass

fn missing_canary(policy: &str) -> Analysis {
    let cfg = config_with(
        "  - {sli: error_rate, key: true, pass: {lte: 0.01}}",
        policy,
        0,
        (90.0, 75.0),
    );
    let m = measurement(
        Some(1000),
        &[(
            "error_rate",
            SliReading::Values {
                canary: None,
                stable: Some(0.001),
            },
        )],
    );
    analyse(&cfg, &m, &BTreeMap::new())
}

#[test]
fn a_missing_canary_value_is_no_data_under_inconclusive() {
    let a = missing_canary("inconclusive");
    assert_eq!(a.verdict, Verdict::NoData);
    assert_eq!(a.score, None);
    let o = objective(&a, "error_rate");
    assert!(o.reason.contains("no series"), "{}", o.reason);
    assert_eq!(o.threshold, None);
}

#[test]
fn a_missing_canary_value_is_a_fail_under_no_data_fail() {
    let a = missing_canary("fail");
    assert_eq!(a.verdict, Verdict::Fail);
}

/// `no_data: pass` is the one, explicit, way a missing value passes; the reason says so.
#[test]
fn a_missing_canary_value_passes_only_by_the_explicit_no_data_pass_policy() {
    let a = missing_canary("pass");
    assert_eq!(a.verdict, Verdict::Pass, "{a:#?}");
    assert!(a.objectives[0].reason.contains("no_data: pass"), "{a:#?}");
    assert!(!missing_canary("inconclusive").verdict.is_passing());
}

#[test]
fn a_non_finite_canary_value_is_not_a_pass() {
    let cfg = single("latency_p99", "{lte: 0.5}", None);
    let a = judge_one(&cfg, "latency_p99", vals(f64::NAN, 0.2));
    assert_eq!(a.verdict, Verdict::NoData, "NaN is no answer");
    let a = judge_one(&cfg, "latency_p99", vals(f64::INFINITY, 0.2));
    assert_eq!(
        a.verdict,
        Verdict::Fail,
        "+Inf latency breaks an upper bound"
    );
    let floor = single("latency_p99", "{gte: 0.1}", None);
    let a = judge_one(&floor, "latency_p99", vals(f64::NEG_INFINITY, 0.2));
    assert_eq!(a.verdict, Verdict::Fail, "-Inf breaks a lower bound");
}

#[test]
fn an_sli_that_was_not_measured_is_no_data() {
    let cfg = seed_objectives();
    let m = measurement(Some(1000), &[("error_rate", vals(0.001, 0.001))]);
    let a = analyse(&cfg, &m, &BTreeMap::new());
    assert_eq!(a.verdict, Verdict::NoData);
    let o = objective(&a, "latency_p99");
    assert_eq!(o.verdict, Verdict::NoData);
    assert!(o.reason.contains("not measured"), "{}", o.reason);
    assert_eq!(a.score, None);
}

#[test]
fn a_relative_criterion_without_a_stable_value_is_no_data() {
    let cfg = single("error_rate", r#"{lte: 0.01, vs_stable: "<=+20%"}"#, None);
    for stable in [None, Some(f64::NAN)] {
        let a = judge_one(
            &cfg,
            "error_rate",
            SliReading::Values {
                canary: Some(0.001),
                stable,
            },
        );
        assert_eq!(a.verdict, Verdict::NoData, "stable {stable:?}");
        assert!(
            objective(&a, "error_rate")
                .reason
                .contains("no stable value"),
            "{a:#?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// At 100 %: stable serves no traffic

fn at_full_weight(cfg: &SloConfig, sli: &str, reading: SliReading) -> Analysis {
    let mut m = measurement(Some(1000), &[(sli, reading)]);
    m.stable_requests = Some(0);
    analyse(cfg, &m, &BTreeMap::new())
}

#[test]
fn with_no_stable_traffic_a_relative_only_objective_has_no_data() {
    let cfg = single("error_rate", r#"{vs_stable: "<=+20%"}"#, None);
    let a = at_full_weight(&cfg, "error_rate", vals(0.001, 0.0));
    assert_eq!(a.verdict, Verdict::NoData);
    let o = objective(&a, "error_rate");
    assert!(
        o.reason.contains("stable serves no traffic"),
        "{}",
        o.reason
    );
    assert!(o.reason.contains("no_data: inconclusive"), "{}", o.reason);
}

#[test]
fn with_no_stable_traffic_the_relative_bound_is_skipped_and_the_absolute_bound_judges() {
    let cfg = single("error_rate", r#"{lte: 0.01, vs_stable: "<=+20%"}"#, None);
    // 0.8 % would break stable +20 % (0.6 %) but stable has no traffic: only <= 1 % applies.
    let a = at_full_weight(&cfg, "error_rate", vals(0.008, 0.005));
    assert_eq!(a.verdict, Verdict::Pass);
    let o = objective(&a, "error_rate");
    assert_eq!(o.threshold, Some(0.01));
    assert!(
        o.comparator.contains("relative bound skipped"),
        "{}",
        o.comparator
    );
    // The absolute bound still fails a breach.
    let a = at_full_weight(&cfg, "error_rate", vals(0.05, 0.005));
    assert_eq!(a.verdict, Verdict::Fail);
}

#[test]
fn an_unknown_stable_request_count_does_not_skip_the_relative_bound() {
    let cfg = single("error_rate", r#"{lte: 0.01, vs_stable: "<=+20%"}"#, None);
    let mut m = measurement(Some(1000), &[("error_rate", vals(0.008, 0.005))]);
    m.stable_requests = None;
    let a = analyse(&cfg, &m, &BTreeMap::new());
    assert_eq!(a.verdict, Verdict::Fail, "0.8 % is 60 % above stable");
}

#[test]
fn an_absolute_criterion_does_not_need_a_stable_value() {
    let cfg = single("latency_p99", "{lte: 0.5}", None);
    let a = judge_one(
        &cfg,
        "latency_p99",
        SliReading::Values {
            canary: Some(0.2),
            stable: None,
        },
    );
    assert_eq!(a.verdict, Verdict::Pass);
}

// ---------------------------------------------------------------------------------------
// Query errors

#[test]
fn a_query_error_makes_the_verdict_error_even_when_everything_else_passes() {
    let cfg = seed_objectives();
    let m = measurement(
        Some(1000),
        &[
            ("error_rate", vals(0.001, 0.001)),
            (
                "latency_p99",
                SliReading::Error("connection refused".into()),
            ),
        ],
    );
    let a = analyse(&cfg, &m, &BTreeMap::new());
    assert_eq!(a.verdict, Verdict::Error);
    assert!(!a.verdict.is_passing());
    assert_eq!(a.score, None);
    let o = objective(&a, "latency_p99");
    assert_eq!(o.verdict, Verdict::Error);
    assert_eq!(o.reason, "query failed: connection refused");
    assert!(a.reason.contains("latency_p99"), "{}", a.reason);
    assert!(a.reason.contains("connection refused"), "{}", a.reason);
}

#[test]
fn a_query_error_is_never_a_pass_under_any_no_data_policy() {
    for policy in ["pass", "fail", "inconclusive"] {
        let cfg = config_with(
            "  - {sli: latency_p99, pass: {lte: 0.5}}",
            policy,
            100,
            (90.0, 75.0),
        );
        for requests in [Some(1000), Some(0), None] {
            let m = measurement(
                requests,
                &[("latency_p99", SliReading::Error("timeout".into()))],
            );
            let a = analyse(&cfg, &m, &BTreeMap::new());
            assert_eq!(
                a.verdict,
                Verdict::Error,
                "policy {policy}, requests {requests:?}"
            );
        }
    }
}

#[test]
fn a_failing_key_objective_outranks_a_query_error() {
    let cfg = seed_objectives();
    let m = measurement(
        Some(1000),
        &[
            ("error_rate", vals(0.5, 0.001)),
            ("latency_p99", SliReading::Error("timeout".into())),
        ],
    );
    assert_eq!(analyse(&cfg, &m, &BTreeMap::new()).verdict, Verdict::Fail);
}

#[test]
fn a_query_error_outranks_missing_data_and_a_failing_non_key_objective() {
    let cfg = config(
        r#"  - {sli: error_rate,  pass: {lte: 0.01}}
  - {sli: latency_p99, pass: {lte: 0.5}}
  - {sli: saturation,  pass: {lte: 0.5}}"#,
    );
    let m = measurement(
        Some(1000),
        &[
            ("error_rate", vals(0.5, 0.001)),
            ("latency_p99", SliReading::Error("timeout".into())),
        ],
    );
    let a = analyse(&cfg, &m, &BTreeMap::new());
    assert_eq!(a.verdict, Verdict::Error);
    assert_eq!(objective(&a, "saturation").verdict, Verdict::NoData);
}

// ---------------------------------------------------------------------------------------
// Evidence

#[test]
fn each_objective_carries_its_evidence_query_window_values_comparator_threshold_requests() {
    let cfg = seed_objectives();
    let m = measurement(
        Some(1234),
        &[
            ("error_rate", vals(0.02, 0.004)),
            ("latency_p99", vals(0.3, 0.25)),
        ],
    );
    let queries: BTreeMap<String, String> = [
        ("error_rate".to_string(), "resolved error query".to_string()),
        (
            "latency_p99".to_string(),
            "resolved latency query".to_string(),
        ),
    ]
    .into_iter()
    .collect();
    let a = analyse(&cfg, &m, &queries);
    assert_eq!(a.at, t0());

    let e = objective(&a, "error_rate");
    assert!(e.key);
    assert_eq!(e.weight, 2);
    assert_eq!(e.canary, Some(0.02));
    assert_eq!(e.stable, Some(0.004));
    assert_eq!(e.comparator, "<= 1.00% and stable <=+20%");
    // stable 0.004 * 1.2 = 0.0048 is tighter than 1 %.
    assert!(close(e.threshold.unwrap(), 0.0048));
    assert_eq!(e.query, "resolved error query");
    assert_eq!(e.window, "30s");
    assert_eq!(e.requests, Some(1234));
    assert_eq!(e.verdict, Verdict::Warn, "2 % is within warn <= 2 %");
    // The reason names the value and the bound it breaks.
    assert!(e.reason.contains("2.00%"), "{}", e.reason);
    assert!(e.reason.contains("breaks"), "{}", e.reason);
    assert!(e.reason.contains("<= 1.00%"), "{}", e.reason);

    let l = objective(&a, "latency_p99");
    assert!(!l.key);
    assert_eq!(l.comparator, "<= 500ms");
    assert_eq!(l.threshold, Some(0.5));
    assert_eq!(l.reason, "300ms meets <= 500ms");
    assert_eq!(l.query, "resolved latency query");
}

#[test]
fn an_sli_without_a_resolved_query_has_empty_query_evidence() {
    let cfg = single("latency_p99", "{lte: 0.5}", None);
    let a = judge_one(&cfg, "latency_p99", vals(0.2, 0.2));
    assert_eq!(objective(&a, "latency_p99").query, "");
}

#[test]
fn a_relative_breach_reason_names_the_computed_stable_bound() {
    let cfg = single("error_rate", r#"{vs_stable: "<=+20%"}"#, None);
    let a = judge_one(&cfg, "error_rate", vals(0.01, 0.005));
    let o = objective(&a, "error_rate");
    assert_eq!(o.reason, "1.00% breaks stable <=+20% (= 0.60%)");
}

#[test]
fn a_custom_sli_is_shown_with_four_decimals() {
    let cfg = single("queue_depth", "{lte: 5}", None);
    let a = judge_one(&cfg, "queue_depth", vals(7.0, 3.0));
    let o = objective(&a, "queue_depth");
    assert_eq!(o.comparator, "<= 5.0000");
    assert_eq!(o.reason, "7.0000 breaks <= 5.0000");
}

#[test]
fn objectives_are_reported_in_config_order() {
    let cfg = seed_objectives();
    let a = analyse(&cfg, &measurement(Some(1000), &[]), &BTreeMap::new());
    let names: Vec<&str> = a.objectives.iter().map(|o| o.sli.as_str()).collect();
    assert_eq!(names, ["error_rate", "latency_p99"]);
}
