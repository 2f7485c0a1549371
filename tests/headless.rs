//! The subcommands, run as CI runs them: the real binary, no terminal, exit codes and JSON.

mod cli_support;

use std::path::Path;
use std::process::{Command, Stdio};

use cli_support::{captain, captain_with, text};

#[test]
fn canary_run_on_a_breach_exits_1_after_the_automatic_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let o = captain(
        dir.path(),
        &["--demo=breach", "canary", "run", "--speed", "100"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("promoted to 50 %"), "{}", text(&o));
    assert!(
        out.contains("rolled back to revision 41: automatic"),
        "{}",
        text(&o)
    );
    let audit = std::fs::read_to_string(dir.path().join("demo-audit.jsonl")).unwrap();
    let rollback: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|r: &serde_json::Value| r["action"] == "rollback")
        .collect();
    assert_eq!(rollback.len(), 2, "an intent and an outcome: {audit}");
    assert_eq!(rollback[0]["phase"], "intent");
    assert_eq!(rollback[1]["phase"], "outcome");
    assert_eq!(rollback[0]["confirmation"], "automatic");
    assert_eq!(rollback[0]["slo"]["verdict"], "fail");
}

#[test]
fn canary_run_on_a_steady_canary_exits_0_at_100_percent() {
    let dir = tempfile::tempdir().unwrap();
    let o = captain(
        dir.path(),
        &["--demo=steady", "canary", "run", "--speed", "100", "--json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["status"]["state"], "promoted");
    assert_eq!(v["weight"], 100);
}

#[test]
fn demo_without_a_value_leaves_the_subcommand_alone() {
    let dir = tempfile::tempdir().unwrap();
    let o = captain(dir.path(), &["--demo", "canary", "status", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["release"], "summit");
    assert_eq!(v["weight"], 5);
    let audit = std::fs::read_to_string(dir.path().join("demo-audit.jsonl")).unwrap_or_default();
    assert_eq!(audit, "", "status only looks: it writes no audit record");
}

#[test]
fn previews_list_json_has_eight_to_fifteen_previews_with_stale_and_orphaned_flags() {
    let dir = tempfile::tempdir().unwrap();
    let o = captain(dir.path(), &["--demo", "previews", "list", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert!((8..=15).contains(&rows.len()), "{}", rows.len());
    assert!(
        rows.iter()
            .all(|r| r["namespace"].as_str().unwrap().starts_with("pr-"))
    );
    let ages: Vec<i64> = rows
        .iter()
        .map(|r| r["age_seconds"].as_i64().unwrap())
        .collect();
    assert!(
        ages.windows(2).all(|w| w[0] >= w[1]),
        "oldest first: {ages:?}"
    );
    for r in &rows {
        let stale = r["age_seconds"].as_i64().unwrap() > 3 * 86_400;
        assert_eq!(r["stale"], stale, "{r}");
    }
    assert!(rows.iter().any(|r| r["orphaned"] == true));
}

#[test]
fn previews_clean_dry_run_lists_exactly_the_stale_ones_and_deletes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let list = captain(
        dir.path(),
        &[
            "--demo=stale-previews",
            "previews",
            "list",
            "--json",
            "--older-than",
            "5d",
        ],
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&list.stdout).unwrap();
    let mut expected: Vec<String> = rows
        .iter()
        .filter(|r| r["stale"] == true)
        .map(|r| r["namespace"].as_str().unwrap().to_string())
        .collect();
    let o = captain(
        dir.path(),
        &[
            "--demo=stale-previews",
            "previews",
            "clean",
            "--older-than",
            "5d",
            "--dry-run",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut listed: Vec<String> = serde_json::from_value(v["stale"].clone()).unwrap();
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected);
    assert!(
        !dir.path().join("demo-audit.jsonl").exists() || {
            let a = std::fs::read_to_string(dir.path().join("demo-audit.jsonl")).unwrap();
            !a.contains("clean-stale")
        }
    );
}

#[test]
fn previews_clean_with_yes_deletes_and_audits() {
    let dir = tempfile::tempdir().unwrap();
    let o = captain(
        dir.path(),
        &[
            "--demo=stale-previews",
            "previews",
            "clean",
            "--yes",
            "--reason",
            "weekly clean",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert!(v["message"].as_str().unwrap().contains(": deleted"), "{v}");
    let audit = std::fs::read_to_string(dir.path().join("demo-audit.jsonl")).unwrap();
    assert!(audit.contains("\"clean-stale\"") && audit.contains("weekly clean"));
}

#[test]
fn a_mutating_subcommand_without_a_terminal_or_yes_refuses_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let o = captain(
        dir.path(),
        &["--demo", "canary", "rollback", "--reason", "test"],
    );
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("refusing to rollback without a terminal"),
        "{}",
        text(&o)
    );
    assert!(err.contains("--yes"), "{}", text(&o));
    let audit = std::fs::read_to_string(dir.path().join("demo-audit.jsonl")).unwrap_or_default();
    assert!(!audit.contains("\"rollback\""), "nothing was done: {audit}");
}

#[test]
fn rollback_with_yes_but_no_reason_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let o = captain(dir.path(), &["--demo", "canary", "rollback", "--yes"]);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("needs a reason"),
        "{}",
        text(&o)
    );
}

#[test]
fn rollback_with_yes_and_reason_is_done_and_audited_as_yes_flag() {
    let dir = tempfile::tempdir().unwrap();
    let o = captain(
        dir.path(),
        &[
            "--demo",
            "canary",
            "rollback",
            "--yes",
            "--reason",
            "bad deploy",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let audit = std::fs::read_to_string(dir.path().join("demo-audit.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(last["action"], "rollback");
    assert_eq!(last["phase"], "outcome");
    assert_eq!(last["confirmation"], "--yes");
    assert_eq!(last["reason"], "bad deploy");
    assert!(
        last["result"].as_str().unwrap().starts_with("ok:"),
        "{last}"
    );
}

#[test]
fn an_action_without_user_in_the_environment_is_journalled_by_the_systems_user() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_captain"))
        .args(["--demo", "canary", "pause", "--yes", "--reason", "cron job"])
        .env("CAPTAIN_STATE_DIR", dir.path())
        .env_remove("CAPTAIN_CONFIG")
        .env_remove("USER")
        .env_remove("USERNAME")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("the captain binary runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let audit = std::fs::read_to_string(dir.path().join("demo-audit.jsonl")).unwrap();
    let uid = nix::unistd::Uid::effective();
    let expected = nix::unistd::User::from_uid(uid)
        .unwrap()
        .map_or(format!("uid {uid}"), |u| u.name);
    for line in audit.lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(record["actor"]["os_user"], expected.as_str(), "{record}");
    }
    assert!(audit.lines().count() >= 2, "intent and outcome: {audit}");
}

#[test]
fn main_status_exit_codes_say_green_and_red() {
    let dir = tempfile::tempdir().unwrap();
    let green = captain(dir.path(), &["--demo=steady", "main", "status"]);
    assert_eq!(green.status.code(), Some(0), "{}", text(&green));
    let red = captain(dir.path(), &["--demo=main-red", "main", "status", "--json"]);
    assert_eq!(red.status.code(), Some(1), "{}", text(&red));
    let v: serde_json::Value = serde_json::from_slice(&red.stdout).unwrap();
    assert_eq!(v["overall"]["state"], "red");
}

#[test]
fn audit_verify_passes_then_fails_after_any_line_is_edited() {
    let dir = tempfile::tempdir().unwrap();
    let run = captain(
        dir.path(),
        &["--demo=breach", "canary", "run", "--speed", "200"],
    );
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let ok = captain(dir.path(), &["--demo", "audit", "verify"]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    let path = dir.path().join("demo-audit.jsonl");
    let original = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    assert!(lines.len() >= 4);
    for i in 0..lines.len() {
        let mut edited: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        edited[i] = edited[i].replacen("\"summit\"", "\"summat\"", 1);
        std::fs::write(&path, edited.join("\n") + "\n").unwrap();
        let bad = captain(dir.path(), &["--demo", "audit", "verify"]);
        assert_eq!(
            bad.status.code(),
            Some(1),
            "line {} edited: {}",
            i + 1,
            text(&bad)
        );
        assert!(
            String::from_utf8_lossy(&bad.stderr).contains(&format!(":{}:", i + 1)),
            "{}",
            text(&bad)
        );
    }
}

/// A journal written by a real drill: its path and its lines.
fn drilled_journal(state: &Path) -> (std::path::PathBuf, Vec<String>) {
    let run = captain(state, &["--demo=breach", "canary", "run", "--speed", "200"]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let path = state.join("demo-audit.jsonl");
    let lines: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert!(lines.len() >= 6, "{lines:?}");
    (path, lines)
}

/// `audit verify` on the journal as `tampered`: exit 1, and what it said on stderr.
fn verify_fails(state: &Path, path: &Path, tampered: &[u8]) -> String {
    std::fs::write(path, tampered).unwrap();
    let o = captain(state, &["--demo", "audit", "verify"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.starts_with("audit journal BROKEN: "), "{}", text(&o));
    err
}

fn joined(lines: &[String]) -> Vec<u8> {
    lines
        .iter()
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        .into_bytes()
}

#[test]
fn audit_verify_names_a_deleted_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let (path, lines) = drilled_journal(dir.path());
    let n = lines.len();
    let err = verify_fails(dir.path(), &path, &joined(&lines[..n - 1]));
    assert!(
        err.contains(&format!(
            ":{n}: the last record is missing: the head ({}.head) says seq {n}, the file ends at {}",
            path.display(),
            n - 1
        )),
        "{err}"
    );
}

#[test]
fn audit_verify_counts_the_last_two_lines_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let (path, lines) = drilled_journal(dir.path());
    let n = lines.len();
    let err = verify_fails(dir.path(), &path, &joined(&lines[..n - 2]));
    assert!(
        err.contains(&format!(":{}: the last 2 records are missing", n - 1))
            && err.contains(&format!("says seq {n}, the file ends at {}", n - 2)),
        "{err}"
    );
}

#[test]
fn audit_verify_counts_half_the_file_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let (path, lines) = drilled_journal(dir.path());
    let n = lines.len();
    let kept = n / 2;
    let err = verify_fails(dir.path(), &path, &joined(&lines[..kept]));
    assert!(
        err.contains(&format!(
            ":{}: the last {} records are missing",
            kept + 1,
            n - kept
        )) && err.contains(&format!("says seq {n}, the file ends at {kept}")),
        "{err}"
    );
}

#[test]
fn audit_verify_says_an_emptied_journal_lost_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let (path, lines) = drilled_journal(dir.path());
    let n = lines.len();
    let err = verify_fails(dir.path(), &path, b"");
    assert!(
        err.contains(&format!(
            ":1: the journal is empty, but its head ({}.head) says seq {n}: all {n} records are missing",
            path.display()
        )),
        "{err}"
    );
    std::fs::remove_file(&path).unwrap();
    let o = captain(dir.path(), &["--demo", "audit", "verify"]);
    assert_eq!(o.status.code(), Some(1), "a deleted journal: {}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(&format!("all {n} records are missing")),
        "{}",
        text(&o)
    );
}

#[test]
fn audit_verify_names_the_line_a_field_was_added_to() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut lines) = drilled_journal(dir.path());
    let last = lines.len() - 1;
    lines[last] = lines[last].replacen(",\"prev\":", ",\"approved_by\":\"cto\",\"prev\":", 1);
    assert!(lines[last].contains("approved_by"));
    let err = verify_fails(dir.path(), &path, &joined(&lines));
    assert!(
        err.contains(&format!(
            ":{}: its content does not match its hash",
            last + 1
        )) && err.contains("added"),
        "{err}"
    );
}

#[test]
fn audit_verify_names_the_first_of_two_swapped_lines() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut lines) = drilled_journal(dir.path());
    lines.swap(2, 3);
    let err = verify_fails(dir.path(), &path, &joined(&lines));
    assert!(
        err.contains(":3: record 4 follows record 2: a record was removed or reordered"),
        "{err}"
    );
}

#[test]
fn audit_verify_names_the_line_column_and_byte_of_invalid_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let (path, lines) = drilled_journal(dir.path());
    let mut bytes = joined(&lines[..2]);
    let mut third = lines[2].clone().into_bytes();
    third.insert(10, 0xc3); // a lead byte with no continuation after it
    bytes.extend(third);
    bytes.push(b'\n');
    bytes.extend(joined(&lines[3..]));
    let err = verify_fails(dir.path(), &path, &bytes);
    assert!(
        err.contains(":3:11: not UTF-8: byte 11 of the line (0xc3)"),
        "{err}"
    );
}

#[test]
fn audit_verify_notes_that_a_journal_without_a_head_has_a_tail_it_cannot_vouch_for() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo-audit.jsonl");
    // A record exactly as captain wrote it before records had a form number or a head.
    let record = concat!(
        r#"{"seq":1,"time":"2026-11-29T03:00:00Z","phase":"intent","trace_id":"t1","#,
        r#""actor":{"os_user":"captain"},"action":"pause","target":"summit","from":"25 %","#,
        r#""to":"paused","confirmation":"typed","prev":"0000000000000000000000000000000000000000000000000000000000000000","#,
        r#""hash":"HASH"}"#
    );
    let unhashed = record.replace("HASH", "");
    let hash = hex_sha256(unhashed.as_bytes());
    std::fs::write(&path, format!("{}\n", record.replace("HASH", &hash))).unwrap();
    let o = captain(dir.path(), &["--demo", "audit", "verify"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("1 records, chain intact"), "{}", text(&o));
    assert!(
        out.contains("note: no head file") && out.contains("its tail cannot be vouched for"),
        "{}",
        text(&o)
    );
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[test]
fn info_prints_every_path() {
    let dir = tempfile::tempdir().unwrap();
    let o = captain(dir.path(), &["info"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for key in [
        "config:",
        "state dir:",
        "audit:",
        "demo audit:",
        "log:",
        "themes:",
    ] {
        assert!(out.contains(key), "{out}");
    }
    assert!(
        out.contains(&dir.path().join("demo-audit.jsonl").display().to_string()),
        "{out}"
    );
}

#[test]
fn a_bad_config_file_is_rejected_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("captain.toml");
    std::fs::write(&cfg, "[release]\nname = \"summit\"\nnamespce = \"prod\"\n").unwrap();
    let o = captain(dir.path(), &["--demo", "main", "status"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("captain.toml:3:1"), "{err}");
    assert!(err.contains("unknown field `namespce`"), "{err}");
}

#[test]
fn an_unknown_scenario_names_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let o = captain(dir.path(), &["--demo=chaos", "main", "status"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("drill, steady, breach, stale-previews, main-red")
    );
}

#[test]
fn a_bad_theme_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let theme = dir.path().join("mine.toml");
    std::fs::write(&theme, "text = \"white\"\npass = \"greenish\"\n").unwrap();
    let o = captain(dir.path(), &["--demo", "--theme", theme.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("mine.toml:2:"), "{err}");
    assert!(err.contains("not a colour"), "{err}");
}

#[test]
fn slo_check_on_the_demo_passes_with_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let o = captain(dir.path(), &["--demo=steady", "slo", "check", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verdict"], "pass");
    let error_rate = &v["objectives"][0];
    assert_eq!(error_rate["sli"], "error_rate");
    assert!(
        error_rate["query"]
            .as_str()
            .unwrap()
            .contains("track=\"canary\"")
    );
    let audit = std::fs::read_to_string(dir.path().join("demo-audit.jsonl")).unwrap_or_default();
    assert_eq!(audit, "", "a check changes nothing");
}

#[test]
fn slo_check_without_its_file_could_not_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let o = captain(dir.path(), &["slo", "check"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("slo.yml"),
        "{}",
        text(&o)
    );
}

#[test]
fn the_demo_answers_command_probes_itself_and_runs_nothing_on_the_machine() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    // A helm that would fail, and leave a mark, if the demo ran it.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let helm = bin.join("helm");
    std::fs::write(
        &helm,
        format!(
            "#!/bin/sh\ntouch '{}'\nexit 1\n",
            dir.path().join("helm-ran").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = captain_with(
        dir.path(),
        &["--demo", "plan", "validate", "--phase", "0", "--json"],
        &[("PATH", bin.as_path())],
    );
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    let checks = v[0]["checks"].as_array().unwrap();
    let template = checks
        .iter()
        .find(|c| c["probe"] == "command")
        .unwrap_or_else(|| panic!("phase 0 renders the chart: {v}"));
    assert_eq!(template["status"], "pass", "{template}");
    assert!(
        template["evidence"]
            .as_str()
            .unwrap()
            .contains("demo world: `helm template summit ./chart`"),
        "{template}"
    );
    assert!(!dir.path().join("helm-ran").exists(), "helm was run");
}

#[test]
fn plan_validate_reports_each_probe_and_exits_by_the_worst() {
    let dir = tempfile::tempdir().unwrap();
    let before = captain(
        dir.path(),
        &["--demo", "plan", "validate", "--phase", "8", "--json"],
    );
    assert_eq!(
        before.status.code(),
        Some(1),
        "no drill yet: {}",
        text(&before)
    );
    let v: serde_json::Value = serde_json::from_slice(&before.stdout).unwrap();
    assert_eq!(v[0]["checks"][0]["probe"], "canary.drill_passed");
    assert_eq!(v[0]["checks"][0]["status"], "fail");

    let promoted = captain(
        dir.path(),
        &["--demo=steady", "canary", "run", "--speed", "200"],
    );
    assert_eq!(promoted.status.code(), Some(0), "{}", text(&promoted));
    let rolled_back = captain(
        dir.path(),
        &["--demo=breach", "canary", "run", "--speed", "200"],
    );
    assert_eq!(rolled_back.status.code(), Some(1), "{}", text(&rolled_back));
    let after = captain(dir.path(), &["--demo", "plan", "validate", "--phase", "8"]);
    assert_eq!(after.status.code(), Some(0), "{}", text(&after));
    assert!(String::from_utf8_lossy(&after.stdout).contains("automatic rollback (record"));

    // The demo's registry holds main's head image, signed.
    let signed = captain(dir.path(), &["--demo", "plan", "validate", "--phase", "6"]);
    assert_eq!(signed.status.code(), Some(0), "{}", text(&signed));
    // A check that waits for a person, and none failing.
    let own = tempfile::tempdir().unwrap();
    std::fs::write(
        own.path().join("captain.toml"),
        "[plan]\nfile = \"plan.yml\"\n",
    )
    .unwrap();
    std::fs::write(
        own.path().join("plan.yml"),
        "version: 1\nphases:\n  - id: 0\n    title: Publish\n    owner: CI/CD\n    days: [1]\n    \
         steps: [push]\n    rollback: none\n    validation:\n      - \"Terraform plan is clean.\"\n      \
         - check: The image is there.\n        probe: {kind: oci.image, image: \"ghcr.io/<org>/<repo>:sha-<sha>\"}\n",
    )
    .unwrap();
    let manual = captain(own.path(), &["--demo", "plan", "validate"]);
    assert_eq!(
        manual.status.code(),
        Some(2),
        "a manual check, the rest passed: {}",
        text(&manual)
    );
    assert!(String::from_utf8_lossy(&manual.stdout).contains("sha256:"));
    let bad = captain(dir.path(), &["--demo", "plan", "validate", "--phase", "12"]);
    assert_ne!(bad.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no phase 12"));
}

#[test]
fn init_writes_a_config_and_slo_file_that_load_and_never_overwrites_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let o = captain(dir.path(), &["init"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let cfg = dir.path().join("captain.toml");
    captain::config::app::AppConfig::load(&cfg).unwrap();
    captain::config::slo::SloConfig::load(&dir.path().join(".ci/config/slo.yml")).unwrap();
    std::fs::write(&cfg, "# mine\n").unwrap();
    let again = captain(dir.path(), &["init"]);
    assert_ne!(again.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exist"),
        "{}",
        text(&again)
    );
    assert_eq!(
        std::fs::read_to_string(&cfg).unwrap(),
        "# mine\n",
        "nothing overwritten"
    );
    let forced = captain(dir.path(), &["init", "--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));
    assert!(std::fs::read_to_string(&cfg).unwrap().contains("[release]"));
}

#[test]
fn usage_errors_exit_64_never_a_verdict_and_help_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--no-such-flag"][..],
        &["--demo", "slo", "check", "--bogus"],
        &["--demo", "--speed", "abc", "info"],
        &["--demo", "--speed", "1e20", "info"],
        &["--demo", "--speed", "1e-20", "info"],
        &["--demo", "--speed", "NaN", "info"],
        &["--demo", "canary"],
        &["--demo", "previews", "clean", "--older-than", "soon"],
    ] {
        let o = captain(dir.path(), args);
        assert_eq!(o.status.code(), Some(64), "{args:?}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.starts_with("error: ") || err.contains("Usage: captain"),
            "clap's message for {args:?}: {err}"
        );
        assert!(o.stdout.is_empty(), "{args:?}: {}", text(&o));
    }
    for args in [&["--help"][..], &["slo", "check", "--help"], &["--version"]] {
        let o = captain(dir.path(), args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o));
        assert!(!o.stdout.is_empty(), "{args:?} prints to stdout");
    }
    let o = captain(dir.path(), &["--demo", "--speed", "10000", "info"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn a_malformed_kubeconfig_is_reported_by_file_and_position_without_its_token() {
    let dir = tempfile::tempdir().unwrap();
    let token = "kube-s3cr3tT0k3nThatMustNeverBePrinted";
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: prod\nclusters:\n- name: prod\n  \
             cluster:\n    server: https://127.0.0.1:9\ncontexts:\n- name: prod\n  context:\n    \
             cluster: prod\n    user: admin\nusers:\n- name: admin\n  user:\n    token: [{token}]\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("captain.toml"),
        "[release]\nname = \"summit\"\nnamespace = \"prod\"\n[slo]\nfile = \"slo.yml\"\n",
    )
    .unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/config/slo.yml"),
        dir.path().join("slo.yml"),
    )
    .unwrap();
    for args in [
        &["previews", "list"][..],
        &["--context", "prod", "canary", "status"][..],
    ] {
        let o = captain_with(dir.path(), args, &[("KUBECONFIG", &kubeconfig)]);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!(
                "{}:16:12: not valid kubeconfig YAML",
                kubeconfig.display()
            )),
            "{args:?}: {}",
            text(&o)
        );
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path != kubeconfig && path.is_file() {
                let written = std::fs::read_to_string(&path).unwrap_or_default();
                assert!(!written.contains(token), "the token in {}", path.display());
            }
        }
        assert!(
            !text(&o).contains(token),
            "{args:?}: the token leaked: {}",
            text(&o)
        );
        assert!(!text(&o).contains("kube-s3cr3t"), "{}", text(&o));
    }
}

#[test]
fn an_slo_file_that_is_a_device_is_refused_without_being_read() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("captain.toml");
    std::fs::write(&cfg, "[slo]\nfile = \"/dev/zero\"\n").unwrap();
    let o = captain(dir.path(), &["slo", "check"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("/dev/zero: is a device, not a file; expected a regular file"),
        "{err}"
    );
}

#[test]
fn an_slo_file_of_200_kb_of_nested_brackets_is_refused_where_it_gets_too_deep() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("captain.toml"),
        "[slo]\nfile = \"slo.yml\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("slo.yml"), "[".repeat(200 * 1024)).unwrap();
    let o = captain(dir.path(), &["slo", "check"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("slo.yml:1:64: nesting deeper than 64 levels"),
        "{err}"
    );
}

#[test]
fn a_config_file_over_1_mib_is_refused_with_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let line = "# comment\n";
    let big = line.repeat(10 * 1024 * 1024 / line.len());
    std::fs::write(dir.path().join("captain.toml"), &big).unwrap();
    let o = captain(dir.path(), &["--demo", "main", "status"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "captain.toml:104858:7: is {} bytes; at most 1 MiB",
            big.len()
        )),
        "{err}"
    );
}
