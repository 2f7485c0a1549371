//! The plan's progress from the console: start (and force), validate, confirm, roll back —
//! each through its dialog, each audited.

mod support;

use captain::engine::phases::{PhaseStatus, ProbeStatus};
use captain::ops::Command;
use captain::ops::command::PhaseCommand;
use captain::ops::probes;
use captain::sim::Scenario;
use captain::tui::input::handle_key;
use captain::tui::state::{Mode, Panel};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use support::Demo;

fn keys(d: &mut Demo, s: &str) -> Option<captain::ops::Confirmed> {
    let now = d.now();
    let mut last = None;
    for c in s.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            '\t' => KeyCode::Tab,
            c => KeyCode::Char(c),
        };
        last = handle_key(&mut d.app, KeyEvent::new(code, KeyModifiers::NONE), now);
    }
    last
}

fn select_phase(d: &mut Demo, phase: usize) {
    keys(d, "1");
    assert_eq!(d.app.ui.focus, Panel::Phases);
    d.app.ui.selected[Panel::Phases.index()] = phase;
}

fn actions(d: &Demo, action: &str) -> Vec<serde_json::Value> {
    d.audit_lines()
        .into_iter()
        .filter(|r| r["action"] == action)
        .collect()
}

#[tokio::test]
async fn a_phase_does_not_start_before_its_predecessor_is_validated() {
    let mut d = Demo::new(Scenario::Drill, false).await;
    select_phase(&mut d, 9);
    let c = keys(&mut d, "s\n").expect("the dialog confirms");
    assert_eq!(
        c.command,
        Command::Phase(PhaseCommand::Start {
            phase: 9,
            force: false
        })
    );
    let outcome = d.op.execute(c, d.now()).await.unwrap();
    assert!(!outcome.ok);
    assert!(
        outcome.message.contains("phase 8 is in progress"),
        "{outcome:?}"
    );
    assert!(
        actions(&d, "phase-start").is_empty(),
        "a refusal writes nothing"
    );
}

#[tokio::test]
async fn a_forced_start_needs_a_reason_and_the_phase_number_and_is_audited() {
    let mut d = Demo::new(Scenario::Drill, false).await;
    select_phase(&mut d, 9);
    assert!(keys(&mut d, "S\n").is_none(), "no reason yet");
    let Mode::Confirm(dialog) = &d.app.ui.mode else {
        panic!("no dialog")
    };
    assert_eq!(dialog.proposal.typed.as_deref(), Some("9"));
    let c = keys(&mut d, "governance cannot wait\n9\n").expect("confirmed");
    let outcome = d.op.execute(c, d.now()).await.unwrap();
    assert!(outcome.ok, "{outcome:?}");
    d.sync();
    assert_eq!(d.app.phases[9].status, PhaseStatus::InProgress);
    let records = actions(&d, "phase-force-start");
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["reason"], "governance cannot wait");
    assert_eq!(
        records[1]["result"],
        "ok: phase 9 Governance as Code in progress (forced)"
    );
}

#[tokio::test]
async fn validating_runs_the_probes_and_records_what_they_found() {
    let mut d = Demo::new(Scenario::Drill, false).await;
    select_phase(&mut d, 8);
    let outcome = validate(&mut d).await;
    assert!(outcome.ok, "{outcome:?}");
    assert_eq!(outcome.message, "failed (0/1 probes passed)");
    assert_eq!(d.app.phases[8].status, PhaseStatus::Failed);
    let evidence = &d.app.phases[8].checks[0].result.as_ref().unwrap().evidence;
    assert!(
        evidence.contains("no automatic rollback drill"),
        "{evidence}"
    );
    assert_eq!(actions(&d, "phase-validate").len(), 2);
}

async fn validate(d: &mut Demo) -> captain::ops::Outcome {
    let c = keys(d, "v\n").expect("confirmed");
    let v = d.op.begin_validation(&c, d.now()).unwrap().expect("begun");
    let results = probes::run_all(&v.checks, &v.context).await;
    let outcome = d.op.finish_validation(v, results, d.now()).await.unwrap();
    d.sync();
    outcome
}

/// A plan whose last phase (8, past the demo's validated 0–7) has a probe and a check only
/// a person can make.
const MANUAL_PLAN: &str = r#"version: 1
phases:
  - {id: 0, title: "Phase 0", owner: "Release Captain", days: [1], steps: ["Do it."], validation: ["Looked at."], rollback: "none", evidence: []}
  - {id: 1, title: "Phase 1", owner: "Release Captain", days: [1], steps: ["Do it."], validation: ["Looked at."], rollback: "none", evidence: []}
  - {id: 2, title: "Phase 2", owner: "Release Captain", days: [1], steps: ["Do it."], validation: ["Looked at."], rollback: "none", evidence: []}
  - {id: 3, title: "Phase 3", owner: "Release Captain", days: [1], steps: ["Do it."], validation: ["Looked at."], rollback: "none", evidence: []}
  - {id: 4, title: "Phase 4", owner: "Release Captain", days: [1], steps: ["Do it."], validation: ["Looked at."], rollback: "none", evidence: []}
  - {id: 5, title: "Phase 5", owner: "Release Captain", days: [1], steps: ["Do it."], validation: ["Looked at."], rollback: "none", evidence: []}
  - {id: 6, title: "Phase 6", owner: "Release Captain", days: [1], steps: ["Do it."], validation: ["Looked at."], rollback: "none", evidence: []}
  - {id: 7, title: "Phase 7", owner: "Release Captain", days: [1], steps: ["Do it."], validation: ["Looked at."], rollback: "none", evidence: []}
  - id: 8
    title: "Stage dashboards"
    owner: "Release Captain"
    days: [2]
    steps: ["Deploy to stage."]
    rollback: "none"
    evidence: []
    validation:
      - check: "The SLO script returns zero."
        probe: {kind: slo.check}
      - "The Grafana overview dashboard shows traffic."
"#;

#[tokio::test]
async fn manual_checks_are_confirmed_by_a_person_and_then_the_phase_is_validated() {
    let plan = captain::config::plan::Plan::parse(std::path::Path::new("plan.yml"), MANUAL_PLAN)
        .expect("the test's plan");
    let mut d = Demo::with_plan(Scenario::Drill, false, |b| b, plan).await;
    select_phase(&mut d, 8);
    // The demo has phase 8 under way.
    assert_eq!(d.app.phases[8].status, PhaseStatus::InProgress);
    let outcome = validate(&mut d).await;
    assert_eq!(outcome.message, "in progress (1/2 probes passed)");
    assert_eq!(d.app.phases[8].status, PhaseStatus::InProgress);
    let c = keys(&mut d, "m\n").unwrap();
    let outcome = d.op.execute(c, d.now()).await.unwrap();
    assert!(outcome.message.contains("1 manual checks"), "{outcome:?}");
    d.sync();
    assert_eq!(d.app.phases[8].status, PhaseStatus::Validated);
    let confirmed = d.app.phases[8].checks[1].confirmed.as_ref().unwrap();
    assert_eq!(confirmed.by, "captain-test");
}

#[tokio::test]
async fn github_probes_ask_the_forge_and_validate_the_phase_on_its_settings() {
    let mut d = Demo::new(Scenario::Drill, false).await;
    select_phase(&mut d, 9);
    let c = keys(&mut d, "S\nforce for the test\n9\n").unwrap();
    assert!(d.op.execute(c, d.now()).await.unwrap().ok);
    let outcome = validate(&mut d).await;
    assert_eq!(
        d.app.phases[9].status,
        PhaseStatus::Validated,
        "{outcome:?}"
    );
    let evidence: Vec<_> = d.app.phases[9]
        .checks
        .iter()
        .map(|c| c.result.as_ref().unwrap().evidence.clone())
        .collect();
    assert!(evidence[0].contains("main requires ci-pr"), "{evidence:?}");
    assert!(
        evidence[2].contains("ruleset main-guard: active"),
        "{evidence:?}"
    );
}

#[tokio::test]
async fn a_critical_code_scanning_alert_fails_the_security_phase() {
    let mut d = Demo::new(Scenario::MainRed, false).await;
    select_phase(&mut d, 4);
    // Validated on its day; rolled back and started again, it is checked as things are now.
    keys(&mut d, "u");
    let c = keys(&mut d, "scan turned red\n").expect("confirmed");
    assert!(d.op.execute(c, d.now()).await.unwrap().ok);
    d.sync();
    let c = keys(&mut d, "s\n").expect("confirmed");
    let started = d.op.execute(c, d.now()).await.unwrap();
    assert!(started.ok, "{started:?}");
    d.sync();
    validate(&mut d).await;
    assert_eq!(d.app.phases[4].status, PhaseStatus::Failed);
    let first = d.app.phases[4].checks[0].result.as_ref().unwrap();
    assert_eq!(first.status, ProbeStatus::Fail);
    assert!(first.evidence.contains("1 critical open"), "{first:?}");
}

#[tokio::test]
async fn rolling_back_a_phase_needs_a_reason_and_shows_the_rollback() {
    let mut d = Demo::new(Scenario::Drill, false).await;
    select_phase(&mut d, 7);
    keys(&mut d, "u");
    let Mode::Confirm(dialog) = &d.app.ui.mode else {
        panic!("no dialog")
    };
    assert!(
        dialog.proposal.effects[0].contains("`helm rollback` in stage"),
        "{:?}",
        dialog.proposal
    );
    assert_eq!(
        dialog.proposal.effects[1],
        "Run: helm rollback stage/summit to its previous revision."
    );
    assert!(keys(&mut d, "\n").is_none(), "a reason is required");
    let c = keys(&mut d, "stage broke\n").expect("confirmed");
    let out = d.op.execute(c, d.now()).await.unwrap();
    assert!(out.ok, "{out:?}");
    assert!(
        out.message.starts_with(
            "helm rollback stage/summit to its previous revision: Rollback was a success!"
        ),
        "{out:?}"
    );
    d.sync();
    assert_eq!(d.app.phases[7].status, PhaseStatus::RolledBack);
}

#[tokio::test]
async fn the_canary_phase_rolls_back_by_pausing_and_rolling_the_train_back() {
    let mut d = Demo::new(Scenario::Steady, false).await;
    select_phase(&mut d, 8);
    keys(&mut d, "u");
    let c = keys(&mut d, "drill over\n").expect("confirmed");
    let out = d.op.execute(c, d.now()).await.unwrap();
    assert!(out.ok, "{out:?}");
    assert!(
        matches!(
            d.op.train.status,
            captain::engine::train::Status::RolledBack { .. }
        ),
        "{:?}",
        d.op.train.status
    );
    let main = d.world.backends().forge.main_health().borrow().clone();
    assert!(
        main.value.unwrap().frozen.is_some(),
        "frozen/rollback tagged"
    );
    assert_eq!(
        d.world.backends().cluster.canary_weight().await.unwrap(),
        0,
        "no traffic to the canary"
    );
    d.sync();
    assert_eq!(d.app.phases[8].status, PhaseStatus::RolledBack);
    let outcome = actions(&d, "phase-rollback").pop().unwrap();
    assert!(
        outcome["result"].as_str().unwrap().contains(
            "roll the canary train back: canary weight 0 %; helm rolled back to revision 41"
        ),
        "{outcome}"
    );
}

#[tokio::test]
async fn a_rollback_action_that_fails_leaves_the_phase_as_it_was_and_says_why() {
    // A rollback whose helm step fails stops there: the phase is not marked.
    let mut d = Demo::new(Scenario::Steady, false).await;
    let plan_text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/config/builtin_plan.yml"
    ))
    .unwrap()
    .replace(
        "{kind: helm.rollback, release: summit, namespace: stage}",
        "{kind: helm.rollback, release: summit, namespace: qa}",
    );
    let plan =
        captain::config::plan::Plan::parse(std::path::Path::new("plan.yml"), &plan_text).unwrap();
    d.op.progress =
        captain::ops::progress::Progress::open(plan.clone(), d.op.progress.states().to_vec(), None)
            .unwrap();
    d.app.plan = plan;
    select_phase(&mut d, 7);
    keys(&mut d, "u");
    let c = keys(&mut d, "stage broke\n").expect("confirmed");
    let out = d.op.execute(c, d.now()).await.unwrap();
    assert!(!out.ok);
    assert!(
        out.message.contains(
            "helm rollback qa/summit to its previous revision FAILED: Error: release: not found"
        ),
        "{out:?}"
    );
    d.sync();
    assert_eq!(d.app.phases[7].status, PhaseStatus::Validated);
}

#[tokio::test]
async fn read_only_offers_no_phase_action() {
    let mut d = Demo::new(Scenario::Drill, true).await;
    select_phase(&mut d, 8);
    for k in ["s", "S", "v", "m", "u"] {
        keys(&mut d, k);
        assert_eq!(d.app.ui.mode, Mode::Normal, "{k}");
    }
}
