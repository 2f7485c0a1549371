//! `slo.yml` at load time: the repository's files parse, and every broken file in
//! `fixtures/slo/broken/` is rejected with its path, the line and column of its defect and
//! what was expected there.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use captain::config::slo::{RollbackTo, SloConfig};

const BROKEN: &str = "fixtures/slo/broken";

/// File in `fixtures/slo/broken/` → line, column, a part of the message. Line 1 of each file
/// is a comment saying what is wrong with it.
#[rustfmt::skip]
const REJECTED: &[(&str, usize, usize, &str)] = &[
    // Syntax: libyaml's own position, and what it was reading.
    ("syntax_flow_mapping_closed_by_bracket", 9, 31, "did not find expected ',' or '}', while parsing a flow mapping"),
    ("syntax_tab_indentation", 11, 1, "found character that cannot start any token"),
    ("syntax_unclosed_quote", 5, 12, "did not find expected key"),
    // Types, unknown and missing keys: serde's position, with the path to the value.
    ("type_weight_not_a_number", 9, 16, "rollout.steps[1].weight: invalid type: string \"half\", expected u8"),
    ("type_weight_beyond_u8", 9, 16, "rollout.steps[1].weight: invalid value: integer `300`, expected u8"),
    ("type_failure_limit_negative", 16, 18, "defaults.failure_limit: invalid type: integer `-2`, expected u32"),
    ("unknown_key_in_step", 9, 20, "unknown field `obsrve`, expected one of `weight`, `observe`, `gate`"),
    ("unknown_key_at_top_level", 31, 1, "unknown field `notify`"),
    ("missing_interval", 7, 3, "rollout: missing field `interval`"),
    ("bad_duration", 9, 29, "rollout.steps[1].observe: `soon` is not a duration such as 30s, 10m or 3d"),
    ("bad_relative_bound", 25, 34, "objectives[0].pass.vs_stable: expected a bound relative to stable such as \"<=+20%\", found `<+20%`"),
    ("bad_relative_bound_no_percent", 25, 34, "found `<=+20`"),
    ("bad_rollback_to", 14, 16, "rollout.rollback_to: expected previous, last_passing or a revision number, found `latest`"),
    ("bad_rollback_to_revision_zero", 14, 16, "a revision number from 1, found 0"),
    ("bad_on_fail", 13, 12, "rollout.on_fail: unknown variant `retry`, expected `rollback` or `pause`"),
    // Whole-file rules: the position of the offending node.
    ("version_not_1", 2, 10, "version: expected 1"),
    ("selector_empty", 5, 11, "selectors.stable: expected label matchers"),
    ("steps_empty", 7, 10, "rollout.steps: at least one step is required"),
    ("weight_zero", 8, 16, "rollout.steps[0].weight: expected a weight from 1 to 100"),
    ("weight_over_100", 10, 16, "rollout.steps[2].weight: expected a weight from 1 to 100 (percent of traffic), found 120"),
    ("weights_not_increasing", 10, 16, "rollout.steps[2].weight: weights must be strictly increasing, but 50 follows 50"),
    ("weights_decreasing", 9, 16, "rollout.steps[1].weight: weights must be strictly increasing, but 5 follows 50"),
    ("last_weight_not_100", 10, 16, "rollout.steps[2].weight: the last step must have weight 100, found 90"),
    ("interval_zero", 11, 13, "rollout.interval: expected a measurement interval of more than 0s"),
    ("failure_limit_zero", 16, 18, "defaults.failure_limit: expected at least 1"),
    ("error_limit_zero", 17, 16, "defaults.error_limit: expected at least 1"),
    ("window_too_short", 9, 29, "rollout.steps[1].observe: the 50 % window (1m 30s) is shorter than initial_delay + failure_limit × interval (2m)"),
    ("query_without_selector", 20, 24, "slis.latency_p99.query: the query must use $selector"),
    ("requests_query_without_selector", 21, 19, "requests.query: the query must use $selector"),
    ("golden_unknown_sli", 36, 22, "golden[1]: `latency_p90` is not one of the slis (error_rate, latency_p99)"),
    ("golden_duplicate", 36, 35, "golden[2]: `error_rate` is already charted (golden[0]); name each SLI once"),
    ("golden_too_many", 36, 160, "golden[12]: at most 12 golden signals (six pairs of charts), found 13"),
    ("sli_unit_unknown", 20, 136, "unknown variant `milliseconds`, expected one of `ratio`, `percent`, `seconds`, `per_second`, `number`"),
    ("objective_unknown_sli", 27, 10, "objectives[1].sli: `latency_p90` is not one of the slis (error_rate, latency_p99)"),
    ("objective_duplicate_sli", 27, 10, "objectives[1].sli: `error_rate` already has an objective (objectives[0])"),
    ("objective_weight_zero", 24, 13, "objectives[0].weight: expected a weight of at least 1, found 0"),
    ("pass_without_bound", 28, 5, "objectives[1].pass: expected at least one of lte, gte, vs_stable"),
    ("pass_bound_not_finite", 28, 17, "objectives[1].pass.lte: expected a finite number, found NaN"),
    ("warn_without_bound", 29, 5, "objectives[1].warn: expected at least one of lte, gte, vs_stable"),
    ("warn_lte_tighter_than_pass", 29, 5, "objectives[1].warn: warn must be looser than pass, but warn.lte (0.4) < pass.lte (0.5)"),
    ("warn_gte_tighter_than_pass", 29, 5, "objectives[1].warn: warn must be looser than pass, but warn.gte (0.3) > pass.gte (0.2)"),
    ("warn_vs_stable_tighter_upper", 26, 5, "objectives[0].warn: warn must be looser than pass, but warn.vs_stable (<=+10%) < pass.vs_stable (<=+20%)"),
    ("warn_vs_stable_tighter_lower", 29, 5, "objectives[1].warn: warn must be looser than pass, but warn.vs_stable (>=-5%) > pass.vs_stable (>=-10%)"),
    ("warn_vs_stable_other_side", 26, 5, "warn.vs_stable (>=-50%) bounds the other side from pass.vs_stable (<=+20%)"),
    ("score_warn_above_pass", 30, 1, "score: expected 0 <= warn <= pass <= 100, found warn 95 and pass 90"),
    ("score_pass_over_100", 30, 1, "score: expected 0 <= warn <= pass <= 100, found warn 75 and pass 110"),
    ("score_warn_negative", 30, 1, "found warn -5 and pass 90"),
    ("burn_rate_target_100", 32, 11, "burn_rate.target: expected an SLO target in percent, more than 0 and less than 100, found 100"),
    ("burn_rate_period_zero", 33, 11, "burn_rate.period: expected a period of more than 0s"),
    ("burn_rate_short_not_shorter", 35, 41, "burn_rate.alerts[0].short: the short window (1h) must be shorter than the long window (1h)"),
    ("burn_rate_factor_zero", 35, 53, "burn_rate.alerts[0].factor: expected a burn-rate factor of more than 0, found 0"),
    // Before parsing (UTF-8, nesting, one document, no tags), and numbers that are not finite.
    ("burn_rate_factor_inf", 35, 53, "burn_rate.alerts[0].factor: expected a burn-rate factor of more than 0, found inf"),
    ("burn_rate_long_not_a_duration", 35, 30, "burn_rate.alerts[0].long: `hourly` is not a duration such as 30s, 10m or 3d (expected number at 0)"),
    ("burn_rate_short_zero", 35, 41, "burn_rate.alerts[0].short: expected a window of more than 0s"),
    ("burn_rate_target_nan", 32, 11, "burn_rate.target: expected an SLO target in percent, more than 0 and less than 100, found NaN"),
    ("deep_block_mappings", 81, 66, "nesting deeper than 64 levels; expected at most 64 levels of [ ], { } and indentation together"),
    ("deep_flow_mappings", 19, 511, "nesting deeper than 64 levels; expected at most 64 levels of [ ], { } and indentation together"),
    ("deep_flow_mixed", 14, 171, "nesting deeper than 64 levels; expected at most 64 levels of [ ], { } and indentation together"),
    ("deep_flow_sequences", 19, 84, "nesting deeper than 64 levels; expected at most 64 levels of [ ], { } and indentation together"),
    ("deep_flow_unclosed", 13, 74, "nesting deeper than 64 levels; expected at most 64 levels of [ ], { } and indentation together"),
    ("deep_sequence_dashes", 10, 129, "nesting deeper than 64 levels; expected at most 64 levels of [ ], { } and indentation together"),
    ("duplicate_key", 7, 3, "rollout: duplicate field `interval`"),
    ("gate_unknown", 9, 39, "rollout.steps[1].gate: unknown variant `later`, expected `auto` or `manual`"),
    ("initial_delay_not_a_duration", 12, 18, "rollout.initial_delay: `a minute` is not a duration such as 30s, 10m or 3d (expected number at 0)"),
    ("key_not_a_bool", 23, 10, "objectives[0].key: invalid type: string \"yes\", expected a boolean"),
    ("min_requests_negative", 18, 17, "defaults.min_requests: invalid type: integer `-200`, expected u64"),
    ("no_data_unknown", 18, 12, "defaults.no_data: unknown variant `ignore`, expected one of `pass`, `fail`, `inconclusive`"),
    ("non_utf8_continuation_alone", 17, 3, "byte 0x80 is not UTF-8; expected UTF-8 text"),
    ("non_utf8_cut_short", 36, 3, "byte 0xf0 is not UTF-8; expected UTF-8 text"),
    ("non_utf8_in_selector", 4, 22, "byte 0xff is not UTF-8; expected UTF-8 text"),
    ("non_utf8_latin1_comment", 15, 4, "byte 0xe9 is not UTF-8; expected UTF-8 text"),
    ("non_utf8_overlong", 13, 16, "byte 0xc0 is not UTF-8; expected UTF-8 text"),
    ("non_utf8_surrogate", 35, 19, "byte 0xed is not UTF-8; expected UTF-8 text"),
    ("observe_zero", 8, 28, "rollout.steps[0].observe: the 5 % window (0s) is shorter than initial_delay + failure_limit ×"),
    ("only_a_comment", 2, 1, "missing field `version`"),
    ("pass_gte_nan", 28, 17, "objectives[1].pass.gte: expected a finite number, found NaN"),
    ("score_pass_nan", 30, 1, "score: expected 0 <= warn <= pass <= 100, found warn 75 and pass NaN"),
    ("score_warn_negative_inf", 30, 1, "score: expected 0 <= warn <= pass <= 100, found warn -inf and pass 90"),
    ("selectors_missing_stable", 4, 3, "selectors: missing field `stable`"),
    ("steps_a_map", 7, 10, "rollout.steps: invalid type: map, expected a sequence"),
    ("tag_after_anchor", 12, 26, "the YAML tag `!Dur` is not read by captain; expected a plain value"),
    ("tag_dur_on_interval", 11, 13, "the YAML tag `!Dur` is not read by captain; expected a plain value"),
    ("tag_in_flow_mapping", 9, 16, "the YAML tag `!!int` is not read by captain; expected a plain value"),
    ("tag_on_criterion", 28, 11, "the YAML tag `!Bound` is not read by captain; expected a plain value"),
    ("tag_on_document", 2, 5, "the YAML tag `!slo` is not read by captain; expected a plain value"),
    ("tag_on_step", 8, 7, "the YAML tag `!step` is not read by captain; expected a plain value"),
    ("tag_str_on_selector", 4, 11, "the YAML tag `!!str` is not read by captain; expected a plain value"),
    ("tag_verbatim", 13, 12, "the YAML tag `!<tag:yaml.org,2002:str>` is not read by captain; expected a plain value"),
    ("top_level_sequence", 2, 1, "invalid type: sequence, expected struct SloConfig"),
    ("two_documents", 36, 1, "a second YAML document starts here; expected one document"),
    ("two_documents_after_end", 37, 1, "a second YAML document starts here, after `...`; expected one document"),
    ("two_documents_both_marked", 37, 1, "a second YAML document starts here; expected one document"),
    ("two_documents_empty_second", 36, 1, "a second YAML document starts here; expected one document"),
    ("version_a_string", 2, 10, "version: invalid type: string \"one\", expected u32"),
    ("warn_lte_inf", 29, 17, "objectives[1].warn.lte: expected a finite number, found inf"),
];

fn broken(name: &str) -> PathBuf {
    Path::new(BROKEN).join(format!("{name}.yml"))
}

#[test]
fn every_broken_file_is_rejected_with_its_path_line_column_and_what_was_expected() {
    let mut wrong = Vec::new();
    for &(name, line, column, expected) in REJECTED {
        let path = broken(name);
        match SloConfig::load(&path) {
            Ok(_) => wrong.push(format!("{name}: accepted")),
            Err(e) => {
                let right = e.file == path
                    && e.line == Some(line)
                    && e.column == Some(column)
                    && e.message.contains(expected);
                if !right {
                    wrong.push(format!(
                        "{name}: expected {}:{line}:{column}: …{expected}…\n    got {e}",
                        path.display()
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_file_in_the_broken_corpus_has_an_expected_error() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(BROKEN)
        .expect("fixtures/slo/broken is readable")
        .map(|entry| {
            let path = entry.expect("a directory entry").path();
            path.file_stem()
                .and_then(|s| s.to_str())
                .expect("a UTF-8 file name")
                .to_string()
        })
        .collect();
    let in_table: BTreeSet<String> = REJECTED.iter().map(|r| r.0.to_string()).collect();
    assert_eq!(on_disk, in_table);
    assert!(
        on_disk.len() >= 20,
        "the corpus has {} files",
        on_disk.len()
    );
}

#[test]
fn a_rejected_node_is_found_by_its_path_not_by_searching_for_its_text() {
    // Steps 50, 5, 100: the text `weight: 5` first appears inside `weight: 50`, on the first
    // step; the rule is broken by the second.
    let text = std::fs::read_to_string("fixtures/slo/minimal.yml")
        .expect("minimal.yml is readable")
        .replace(
            "{weight: 5, observe: 5m}\n    - {weight: 50, observe: 5m}",
            "{weight: 50, observe: 5m}\n    - {weight: 5, observe: 5m}",
        );
    let e = SloConfig::parse(Path::new("steps.yml"), &text).expect_err("5 follows 50");
    assert_eq!((e.line, e.column), (Some(10), Some(16)), "{e}");
    assert!(e.message.starts_with("rollout.steps[1].weight:"), "{e}");
}

#[test]
fn the_error_prints_as_file_line_column_message() {
    let e = SloConfig::load(&broken("version_not_1")).expect_err("version 2 is rejected");
    assert_eq!(
        e.to_string(),
        "fixtures/slo/broken/version_not_1.yml:2:10: version: expected 1, the only format version captain reads, found 2"
    );
}

#[test]
fn the_repository_slo_files_and_the_fixtures_parse() {
    for path in [
        ".ci/config/slo.yml",
        "src/sim/slo.yml",
        "fixtures/slo/example.yml",
        "fixtures/slo/minimal.yml",
    ] {
        if let Err(e) = SloConfig::load(Path::new(path)) {
            panic!("{e}");
        }
    }
}

#[test]
fn the_example_keeps_what_it_writes() {
    let cfg = SloConfig::load(Path::new("fixtures/slo/example.yml")).expect("the example parses");
    assert_eq!(cfg.weights(), vec![5, 25, 50, 100]);
    assert_eq!(cfg.rollout.rollback_to, RollbackTo::LastPassing);
    assert_eq!(
        cfg.requests_query(),
        "sum(increase(http_requests_total{$selector}[$window]))"
    );
    let traffic = &cfg.objectives[2];
    assert_eq!(traffic.sli, "traffic");
    assert_eq!(
        traffic
            .warn
            .as_ref()
            .and_then(|w| w.vs_stable)
            .map(|r| r.to_string()),
        Some(">=-25%".to_string())
    );
    // A query without `$window` is allowed.
    assert!(!cfg.slis["saturation"].query.contains("$window"));
}

#[test]
fn a_revision_number_is_a_rollback_target_written_bare_or_quoted() {
    let minimal = std::fs::read_to_string("fixtures/slo/minimal.yml").expect("readable");
    for (written, revision) in [("7", 7), ("\"12\"", 12)] {
        let text = minimal.replace("rollback_to: previous", &format!("rollback_to: {written}"));
        let cfg = SloConfig::parse(Path::new("t.yml"), &text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cfg.rollout.rollback_to, RollbackTo::Revision(revision));
    }
}
