//! The evidence export on the breach demo: every SVG parses as XML, index.md's phase table
//! says what the phases are, the audit trail verifies; the export is one run on one clock,
//! its phases as its journal says.

use std::path::Path;
use std::process::{Command, Stdio};

use captain::config::plan::Plan;
use captain::engine::phases::PhaseStatus;

fn export(state: &Path, out: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_captain"))
        .args(["--demo=breach", "evidence", "export", "--out"])
        .arg(out)
        .env("CAPTAIN_STATE_DIR", state)
        .current_dir(state)
        .stdin(Stdio::null())
        .output()
        .expect("the captain binary runs")
}

#[test]
fn the_breach_demo_exports_parseable_charts_a_matching_phase_table_and_a_verified_trail() {
    let state = tempfile::tempdir().unwrap();
    let out = state.path().join("evidence");
    let o = export(state.path(), &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let charts: Vec<_> = std::fs::read_dir(out.join("charts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        charts.len(),
        7,
        "six golden signals and the weight: {charts:?}"
    );
    for chart in &charts {
        let text = std::fs::read_to_string(chart).unwrap();
        let doc = roxmltree::Document::parse(&text)
            .unwrap_or_else(|e| panic!("{} is not XML: {e}", chart.display()));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        let lines = doc
            .descendants()
            .filter(|n| n.has_tag_name("polyline"))
            .count();
        assert!(lines >= 1, "{} draws no line", chart.display());
    }
    let error_rate = std::fs::read_to_string(out.join("charts/error_rate.svg")).unwrap();
    assert!(error_rate.contains("SLO 1.00%"), "the threshold is drawn");

    let index = std::fs::read_to_string(out.join("index.md")).unwrap();
    let plan = Plan::builtin();
    let expected = captain::sim::phase_states(&plan, chrono::Utc::now());
    for (spec, state) in plan.phases.iter().zip(&expected) {
        let row = index
            .lines()
            .find(|l| l.starts_with(&format!("| {} | ", spec.id)))
            .unwrap_or_else(|| panic!("no row for phase {}", spec.id));
        let cells: Vec<&str> = row.split(" | ").collect();
        if state.status == PhaseStatus::InProgress {
            // The canary's phase is validated when the run ends: checked below.
            continue;
        }
        assert_eq!(cells[4], state.status.label(), "phase {}: {row}", spec.id);
        if state.status == PhaseStatus::Validated {
            let all = format!("{0}/{0}", spec.validation.len());
            assert_eq!(cells[6], all, "phase {}: {row}", spec.id);
        }
    }
    assert!(
        index.contains("rolled back to revision 41: automatic"),
        "{index}"
    );

    let trail = std::fs::read_to_string(out.join("audit.jsonl")).unwrap();
    std::fs::write(state.path().join("copy.jsonl"), &trail).unwrap();
    let head = std::fs::read(out.join("audit.jsonl.head")).unwrap();
    std::fs::write(state.path().join("copy.jsonl.head"), head).unwrap();
    let records = captain::ops::audit::verify(&state.path().join("copy.jsonl")).unwrap();
    assert!(records.iter().any(|r| r.entry.action == "rollback"));
    let train = std::fs::read_to_string(out.join("release-train.md")).unwrap();
    assert!(
        train.contains("captain (automatic)") && train.contains("rollback"),
        "{train}"
    );
}

fn records(out: &Path) -> Vec<captain::ops::audit::Record> {
    // The head travels with the trail, so the copy verifies where it lies.
    captain::ops::audit::verify(&out.join("audit.jsonl")).expect("the exported trail verifies")
}

/// The `| HH:MM:SS | weight | event |` rows of index.md's canary timeline.
fn timeline(index: &str) -> Vec<(String, String)> {
    index
        .lines()
        .skip_while(|l| !l.starts_with("| time | weight | event |"))
        .skip(2)
        .take_while(|l| l.starts_with("| "))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").collect();
            (cells[0].trim().to_string(), cells[2].trim().to_string())
        })
        .collect()
}

#[test]
fn a_rehearsed_export_is_one_run_on_one_clock_with_the_phases_its_journal_records() {
    let state = tempfile::tempdir().unwrap();
    // An earlier drill in the demo's own journal must not leak into the export.
    let earlier = Command::new(env!("CARGO_BIN_EXE_captain"))
        .args(["--demo=steady", "canary", "run", "--speed", "1000"])
        .env("CAPTAIN_STATE_DIR", state.path())
        .current_dir(state.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        earlier.status.success(),
        "{}",
        String::from_utf8_lossy(&earlier.stderr)
    );
    let demo_journal = captain::ops::audit::verify(&state.path().join("demo-audit.jsonl")).unwrap();
    assert!(
        demo_journal.iter().any(|r| r.entry.to.contains("100 %")),
        "the earlier drill promoted to 100 %"
    );

    let out = state.path().join("evidence");
    for _ in 0..2 {
        let o = export(state.path(), &out);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let trail = records(&out);
    assert_eq!(
        trail[0].seq, 1,
        "a journal of its own, from its first record"
    );
    assert!(
        !trail.iter().any(|r| r.entry.to.contains("100 %")),
        "neither the earlier drill nor the first export is mixed in: {:#?}",
        trail.iter().map(|r| &r.entry.to).collect::<Vec<_>>()
    );
    let starts = trail.iter().filter(|r| r.entry.action == "start").count();
    assert_eq!(starts, 2, "one train started (intent and outcome)");

    // One clock: each step of the timeline is journalled at the time the timeline shows.
    let index = std::fs::read_to_string(out.join("index.md")).unwrap();
    let steps = timeline(&index);
    assert_eq!(steps.len(), 4, "{index}");
    let outcomes: Vec<_> = trail
        .iter()
        .filter(|r| r.entry.phase == captain::ops::audit::Phase::Outcome)
        .filter(|r| ["start", "promote", "rollback"].contains(&r.entry.action.as_str()))
        .collect();
    assert_eq!(outcomes.len(), steps.len());
    for (step, record) in steps.iter().zip(&outcomes) {
        assert_eq!(
            step.0,
            record.time.format("%H:%M:%S").to_string(),
            "{} at {} in the timeline, {} in the journal",
            step.1,
            step.0,
            record.time
        );
    }
    let train = std::fs::read_to_string(out.join("release-train.md")).unwrap();
    let rollback = outcomes.last().unwrap();
    assert_eq!(rollback.entry.action, "rollback");
    assert!(
        train.contains(&rollback.time.format("%Y-%m-%d %H:%M:%S").to_string()),
        "{train}"
    );

    // The canary's phase is validated once the run has ended, and index.md, the probe
    // file and the journal say the same of it.
    let validation = trail
        .iter()
        .rfind(|r| r.entry.action == "phase-validate")
        .expect("the canary phase is validated");
    let result = validation.entry.result.as_deref().unwrap();
    assert!(
        result.starts_with("ok: failed (0/1"),
        "a breach without a promotion to 100 % is half a drill: {result}"
    );
    let row = index.lines().find(|l| l.starts_with("| 8 | ")).unwrap();
    let cells: Vec<&str> = row.split(" | ").collect();
    assert_eq!(cells[4], "failed", "{row}");
    assert_eq!(
        cells[7].trim_end_matches(" |"),
        validation.time.format("%Y-%m-%d %H:%M").to_string(),
        "{row}"
    );
    let probes = std::fs::read_to_string(out.join("probes/phase-08.txt")).unwrap();
    assert!(
        probes.contains(&format!(
            "result: FAIL at {}",
            validation.time.format("%Y-%m-%d %H:%M:%S UTC")
        )) && probes.contains("no train promoted to 100 %"),
        "{probes}"
    );
}
