//! The evidence export on the breach demo: every SVG parses as XML, index.md's phase table
//! says what the phases are, the audit trail verifies.

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
