//! The plan file at load time: the built-in plan and `fixtures/plan/minimal.yml` parse, the
//! built-in plan survives a YAML round trip, and every broken file in `fixtures/plan/broken/`
//! is rejected with its path, the line and column of its defect (where one is known) and
//! what was expected.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use captain::config::plan::{Plan, Role};
use captain::config::probe::{Comparison, Probe};

const BROKEN: &str = "fixtures/plan/broken";
const MINIMAL: &str = "fixtures/plan/minimal.yml";

/// Line and column of a defect; `None` where the error has no position.
type Position = Option<(usize, usize)>;

/// File in `fixtures/plan/broken/` → line and column (`None` where the error has no
/// position), a part of the message. Line 1 of each file is a comment saying what is wrong
/// with it; the rest is `minimal.yml` (less its two comment lines) with that one defect.
#[rustfmt::skip]
const REJECTED: &[(&str, Position, &str)] = &[
    // Syntax: libyaml's own position, and what it was reading.
    ("syntax_flow_sequence_closed_by_brace", Some((19, 16)), "did not find expected ',' or ']', while parsing a flow sequence at line 19 column 11"),
    ("syntax_tab_indentation", Some((9, 1)), "found character that cannot start any token"),
    ("syntax_unclosed_quote", Some((18, 13)), "did not find expected key, while parsing a block mapping at line 16 column 5"),
    // Unknown keys: the key's position.
    ("unknown_key_at_top_level", Some((3, 1)), "unknown field `owners`, expected `version` or `phases`"),
    ("unknown_key_in_phase", Some((31, 5)), "phases[1]: unknown field `rollbak`, expected one of `id`, `title`, `owner`, `days`, `effort`, `risk`, `steps`, `validation`, `rollback`, `evidence`"),
    // Missing keys: the position of the map that lacks them.
    ("missing_phases", Some((2, 1)), "missing field `phases`"),
    ("missing_title", Some((16, 5)), "phases[1]: missing field `title`"),
    ("missing_owner", Some((16, 5)), "phases[1]: missing field `owner`"),
    ("missing_days", Some((16, 5)), "phases[1]: missing field `days`"),
    ("missing_steps", Some((4, 5)), "phases[0]: missing field `steps`"),
    ("missing_validation", Some((4, 5)), "phases[0]: missing field `validation`"),
    ("missing_rollback", Some((16, 5)), "phases[1]: missing field `rollback`"),
    // Types and values: the value's position, with the path to it.
    ("type_days_a_string", Some((19, 11)), "phases[1].days: invalid type: string \"2-3\", expected a sequence"),
    ("type_id_not_a_number", Some((16, 9)), "phases[1].id: invalid type: string \"one\", expected u8"),
    ("owner_not_a_role", Some((18, 12)), "phases[1].owner: unknown variant `Intern`, expected one of `Platform`, `CI/CD`, `SecOps`, `Data`, `Release Captain`"),
    ("owner_wrong_case", Some((18, 12)), "phases[1].owner: unknown variant `platform`"),
    // Whole-file rules checked by `Plan::parse` after deserializing: no position today.
    ("phase_ids_out_of_order", Some((16, 9)), "phases[1].id: expected phase id 1 in position 1, found 2"),
    ("phase_ids_start_at_1", Some((4, 9)), "phases[0].id: expected phase id 0 in position 0, found 1"),
    ("days_three_numbers", Some((19, 11)), "phases[1].days: expected one or two day numbers"),
    ("days_empty", Some((7, 11)), "phases[0].days: expected one or two day numbers"),
    // Checks and probes. An unknown kind is found while the tag is read: its exact position.
    ("probe_unknown_kind", Some((30, 23)), "phases[1].validation[2].probe.kind: unknown variant `github.vibes`, expected one of `manual`, `command`"),
    ("check_map_without_check", Some((29, 9)), "phases[1].validation[2]: missing field `check`"),
    ("check_map_unknown_key", Some((30, 9)), "phases[1].validation[2]: unknown field `owner`, expected `check` or `probe`"),
    // Any other probe error is found after the probe map was buffered (`#[serde(tag = "kind")]`),
    // so it carries the position and path of the check item (`- check:`), not of the field.
    ("probe_unknown_field", Some((12, 9)), "phases[0].validation[1]: unknown field `shell`, expected one of `argv`, `timeout`, `expect_exit`"),
    ("probe_command_without_argv", Some((12, 9)), "phases[0].validation[1]: missing field `argv`"),
    ("probe_bad_timeout", Some((12, 9)), "phases[0].validation[1]: `soon` is not a duration such as 30s, 10m or 3d"),
    ("probe_http_status_not_a_number", Some((25, 9)), "phases[1].validation[0]: invalid type: string \"ok\", expected u16"),
    ("probe_http_status_beyond_u16", Some((25, 9)), "phases[1].validation[0]: invalid value: integer `70000`, expected u16"),
    ("probe_prometheus_op_unknown", Some((27, 9)), "phases[1].validation[1]: unknown variant `le`, expected one of `lt`, `lte`, `gt`, `gte`, `eq`"),
    ("probe_prometheus_value_missing", Some((27, 9)), "phases[1].validation[1]: missing field `value`"),
    // Rollbacks: a plain string, or `{text, actions}` with typed actions.
    ("rollback_action_unknown_kind", Some((34, 18)), "phases[1].rollback.actions[0].kind: unknown variant `kubectl.delete`, expected one of `command`, `helm.rollback`, `train.rollback`, `train.pause`"),
    ("rollback_map_without_text", Some((32, 7)), "phases[1].rollback: missing field `text`"),
    ("rollback_helm_without_namespace", Some((34, 9)), "phases[1].rollback.actions: missing field `namespace`"),
    // Before parsing (UTF-8, nesting, one document, no tags), the format version, at least one
    // phase, days in order, commands with something to run and time to run it, finite numbers.
    ("day_beyond_u8", Some((19, 15)), "phases[1].days[1]: invalid value: integer `300`, expected u8"),
    ("day_negative", Some((7, 12)), "phases[0].days[0]: invalid type: integer `-1`, expected u8"),
    ("days_descending", Some((19, 15)), "phases[1].days: expected the first and last day in ascending order, such as [3, 4], found [3, 1]"),
    ("days_equal", Some((19, 15)), "phases[1].days: expected the first and last day in ascending order, such as [2, 3], found [2, 2]"),
    ("deep_block_mappings", Some((77, 68)), "nesting deeper than 64 levels; expected at most 64 levels of [ ], { } and indentation together"),
    ("deep_flow_mappings", Some((9, 245)), "nesting deeper than 64 levels; expected at most 64 levels of [ ], { } and indentation together"),
    ("deep_flow_mixed", Some((9, 155)), "nesting deeper than 64 levels; expected at most 64 levels of [ ], { } and indentation together"),
    ("deep_flow_sequences", Some((9, 68)), "nesting deeper than 64 levels; expected at most 64 levels of [ ], { } and indentation together"),
    ("deep_flow_unclosed", Some((9, 68)), "nesting deeper than 64 levels; expected at most 64 levels of [ ], { } and indentation together"),
    ("deep_sequence_dashes", Some((9, 129)), "nesting deeper than 64 levels; expected at most 64 levels of [ ], { } and indentation together"),
    ("duplicate_key", Some((16, 5)), "phases[1]: duplicate field `title`"),
    ("evidence_a_string", Some((15, 15)), "phases[0].evidence: invalid type: string \"screenshot\", expected a sequence"),
    ("id_beyond_u8", Some((16, 9)), "phases[1].id: invalid value: integer `300`, expected u8"),
    ("non_utf8_cut_short", Some((34, 3)), "byte 0xe2 is not UTF-8; expected UTF-8 text"),
    ("non_utf8_in_comment", Some((16, 13)), "byte 0xfc is not UTF-8; expected UTF-8 text"),
    ("non_utf8_in_title", Some((17, 16)), "byte 0xff is not UTF-8; expected UTF-8 text"),
    ("non_utf8_latin1", Some((5, 15)), "byte 0xe9 is not UTF-8; expected UTF-8 text"),
    ("non_utf8_overlong", Some((23, 17)), "byte 0xc0 is not UTF-8; expected UTF-8 text"),
    ("non_utf8_surrogate", Some((9, 18)), "byte 0xed is not UTF-8; expected UTF-8 text"),
    ("only_a_comment", Some((2, 1)), "missing field `version`"),
    ("phases_empty", Some((3, 9)), "phases: expected at least one phase"),
    ("phases_null", Some((3, 7)), "phases: expected at least one phase"),
    ("probe_argv_empty", Some((13, 38)), "phases[0].validation[1].probe.argv: expected a program and its arguments, such as [helm, test,"),
    ("probe_argv_empty_program", Some((13, 38)), "phases[0].validation[1].probe.argv: expected a program and its arguments, such as [helm, test,"),
    ("probe_http_status_negative", Some((25, 9)), "phases[1].validation[0]: invalid value: integer `-1`, expected u16"),
    ("probe_kind_missing", Some((13, 16)), "phases[0].validation[1].probe: missing field `kind`"),
    ("probe_timeout_zero", Some((13, 72)), "phases[0].validation[1].probe.timeout: expected a timeout of more than 0s"),
    ("probe_value_a_string", Some((27, 9)), "phases[1].validation[1]: invalid type: string \"low\", expected f64"),
    ("probe_value_inf", Some((28, 88)), "phases[1].validation[1].probe.value: expected a finite number, found inf"),
    ("probe_value_nan", Some((28, 88)), "phases[1].validation[1].probe.value: expected a finite number, found NaN"),
    ("probe_value_negative_inf", Some((28, 88)), "phases[1].validation[1].probe.value: expected a finite number, found -inf"),
    ("probe_pattern_not_a_regex", Some((28, 51)), "phases[1].validation[1].probe.pattern: expected a regular expression, found \"https://pr-[0-9+\" (error: unclosed character class)"),
    ("probe_branch_and_pull", Some((28, 82)), "phases[1].validation[1].probe.pull: expected `branch` or `pull`, not both"),
    ("probe_image_not_a_reference", Some((28, 47)), "phases[1].validation[1].probe.image: expected an image reference, found \"ghcr.io/Acme/summit:sha-<sha>\" (the repository name is lower-case letters, digits and . _ - /)"),
    ("probe_paths_empty", Some((28, 49)), "phases[1].validation[1].probe.paths: expected at least one path glob"),
    ("rollback_command_argv_empty", Some((31, 68)), "phases[1].rollback.actions[0].argv: expected a program and its arguments, such as [helm, test,"),
    ("rollback_command_timeout_zero", Some((31, 103)), "phases[1].rollback.actions[0].timeout: expected a timeout of more than 0s"),
    ("rollback_helm_revision_negative", Some((31, 45)), "phases[1].rollback.actions: invalid value: integer `-2`, expected u32"),
    ("steps_a_map", Some((8, 12)), "phases[0].steps: invalid type: map, expected a sequence"),
    ("tag_on_document", Some((2, 5)), "the YAML tag `!plan` is not read by captain; expected a plain value"),
    ("tag_on_probe", Some((26, 16)), "the YAML tag `!http` is not read by captain; expected a plain value"),
    ("tag_on_step", Some((23, 9)), "the YAML tag `!note` is not read by captain; expected a plain value"),
    ("tag_on_timeout", Some((13, 72)), "the YAML tag `!Dur` is not read by captain; expected a plain value"),
    ("tag_on_title", Some((17, 12)), "the YAML tag `!!str` is not read by captain; expected a plain value"),
    ("top_level_sequence", Some((2, 1)), "invalid type: sequence, expected struct Plan"),
    ("two_documents", Some((34, 1)), "a second YAML document starts here; expected one document"),
    ("two_documents_after_end", Some((35, 1)), "a second YAML document starts here, after `...`; expected one document"),
    ("two_documents_both_marked", Some((35, 1)), "a second YAML document starts here; expected one document"),
    ("unclosed_flow_at_end", Some((14, 1)), "did not find expected ',' or '}', while parsing a flow mapping at line 13 column 16"),
    ("version_0", Some((2, 10)), "version: expected 1, the only plan format captain reads, found 0"),
    ("version_2", Some((2, 10)), "version: expected 1, the only plan format captain reads, found 2"),
    ("version_a_string", Some((2, 10)), "version: invalid type: string \"one\", expected u32"),
    ("version_negative", Some((2, 10)), "version: invalid type: integer `-1`, expected u32"),
];

fn broken(name: &str) -> PathBuf {
    Path::new(BROKEN).join(format!("{name}.yml"))
}

fn load(path: &str) -> Plan {
    Plan::load(Path::new(path)).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_broken_file_is_rejected_with_its_path_line_column_and_what_was_expected() {
    let mut wrong = Vec::new();
    for &(name, position, expected) in REJECTED {
        let path = broken(name);
        match Plan::load(&path) {
            Ok(_) => wrong.push(format!("{name}: accepted")),
            Err(e) => {
                let (line, column) = (position.map(|p| p.0), position.map(|p| p.1));
                let right = e.file == path
                    && e.line == line
                    && e.column == column
                    && e.message.contains(expected);
                if !right {
                    wrong.push(format!(
                        "{name}: expected {}:{line:?}:{column:?}: …{expected}…\n    got {e}",
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
        .expect("fixtures/plan/broken is readable")
        .map(|entry| {
            let path = entry.expect("a directory entry").path();
            assert_eq!(
                path.extension().and_then(|e| e.to_str()),
                Some("yml"),
                "{}",
                path.display()
            );
            path.file_stem()
                .and_then(|s| s.to_str())
                .expect("a UTF-8 file name")
                .to_string()
        })
        .collect();
    let in_table: BTreeSet<String> = REJECTED.iter().map(|r| r.0.to_string()).collect();
    assert_eq!(
        in_table.len(),
        REJECTED.len(),
        "a file is in the table twice"
    );
    assert_eq!(on_disk, in_table);
    assert!(
        on_disk.len() >= 15,
        "the corpus has {} files",
        on_disk.len()
    );
}

#[test]
fn every_broken_file_says_what_is_wrong_on_its_first_line() {
    for &(name, ..) in REJECTED {
        // Read as bytes: some files are broken by not being UTF-8 after their first line.
        let bytes = std::fs::read(broken(name)).expect("readable");
        let text = String::from_utf8_lossy(&bytes);
        let first = text.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("# minimal.yml, broken on purpose: "),
            "{name}: {first}"
        );
    }
}

#[test]
fn the_error_prints_as_file_line_column_message() {
    let e = Plan::load(&broken("owner_not_a_role")).expect_err("Intern is not a role");
    assert!(
        e.to_string()
            .starts_with("fixtures/plan/broken/owner_not_a_role.yml:18:12: phases[1].owner: unknown variant `Intern`"),
        "{e}"
    );
    let e = Plan::load(&broken("days_empty")).expect_err("no days");
    assert_eq!(
        e.to_string(),
        "fixtures/plan/broken/days_empty.yml:7:11: phases[0].days: expected one or two day numbers"
    );
}

#[test]
fn the_minimal_plan_parses_and_keeps_what_it_writes() {
    let plan = load(MINIMAL);
    assert_eq!(plan.version, 1);
    assert_eq!(plan.phases.len(), 2);
    let (p0, p1) = (&plan.phases[0], &plan.phases[1]);
    assert_eq!((p0.owner, p1.owner), (Role::ReleaseCaptain, Role::Platform));
    assert_eq!(
        (p0.days_label(), p1.days_label()),
        ("D1".into(), "D2–3".into())
    );
    assert_eq!(
        (p0.effort.as_deref(), p1.effort.as_deref()),
        (None, Some("1 h"))
    );
    assert_eq!(p0.validation[0].probe, Probe::Manual);
    assert!(matches!(&p0.validation[1].probe,
        Probe::Command { argv, timeout, expect_exit: 0 } if argv == &["helm", "template", "chart"] && timeout.as_secs() == 30));
    assert!(matches!(
        &p1.validation[0].probe,
        Probe::HttpGet {
            status: 200,
            body_contains: None,
            ..
        }
    ));
    assert!(matches!(&p1.validation[1].probe,
        Probe::PrometheusQuery { op: Comparison::Lt, value, .. } if *value == 0.01));
    assert_eq!(
        p1.validation[2].probe.kind(),
        "github.environment_protected"
    );
}

#[test]
fn the_builtin_plan_parses_from_its_file() {
    let from_file = load("src/config/builtin_plan.yml");
    assert_eq!(from_file, Plan::builtin());
    assert_eq!(from_file.phases.len(), 12);
}

fn round_trip(plan: &Plan) {
    let text = serde_yaml_ng::to_string(plan).expect("a plan serializes");
    let back = Plan::parse(Path::new("<round trip>"), &text)
        .unwrap_or_else(|e| panic!("{e}\n--- serialized ---\n{text}"));
    if back != *plan {
        for (a, b) in plan.phases.iter().zip(&back.phases) {
            assert_eq!(a, b, "phase {} changed in the round trip", a.id);
        }
        assert_eq!(back, *plan);
    }
}

#[test]
fn the_builtin_plan_round_trips_through_yaml() {
    let plan = Plan::builtin();
    // The round trip must carry typed probes, not only manual checks.
    let kinds: BTreeSet<&str> = plan
        .phases
        .iter()
        .flat_map(|p| &p.validation)
        .map(|c| c.probe.kind())
        .collect();
    assert!(
        kinds.contains("command") && kinds.contains("manual"),
        "{kinds:?}"
    );
    round_trip(&plan);
}

#[test]
fn the_minimal_plan_round_trips_through_yaml() {
    round_trip(&load(MINIMAL));
}
