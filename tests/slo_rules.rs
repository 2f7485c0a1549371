//! `captain slo rules`, `slo dashboard` and `slo burn-drill`, the real binary against real
//! parts (`docs/architecture.md`, "Testing"): Debian's `promtool` checks the rule files,
//! a real Prometheus loads them, records every SLI, and fires the page alert on a
//! synthetic burn the exporter serves; every panel of the dashboard reads series from it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use captain::config::probe::Probe;
use captain::config::slo::SloConfig;
use captain::engine::phases::ProbeStatus;
use captain::ops::probes::{ProbeContext, run};
use captain::sources::prometheus::PrometheusMetrics;
use captain_testkit::prometheus::{Stack, Track, Traffic, promtool};
use chrono::Utc;

/// Windows of seconds, so a burn shows within a test: the page alert (factor 10 on a 1 %
/// budget) fires above a 10 % error ratio over both 20 s and 5 s; the ticket (factor 2)
/// above 2 % over 40 s and 10 s.
const SLO: &str = r#"version: 1
selectors: {canary: 'track="canary"', stable: 'track="stable"'}
rollout:
  steps:
    - {weight: 5,   observe: 6s}
    - {weight: 50,  observe: 6s}
    - {weight: 100, observe: 6s}
  interval: 1s
  initial_delay: 2s
defaults: {failure_limit: 2, error_limit: 4, min_requests: 20}
slis:
  error_rate:  {query: 'sum(rate(http_requests_total{code=~"5..",$selector}[$window])) / sum(rate(http_requests_total{$selector}[$window]))'}
  latency_p99: {query: 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{$selector}[$window])))'}
  traffic:     {query: 'sum(rate(http_requests_total{$selector}[$window]))'}
objectives:
  - {sli: error_rate,  key: true, weight: 2, pass: {lte: 0.05}, warn: {lte: 0.08}}
  - {sli: latency_p99, weight: 1, pass: {lte: 0.5}}
score: {pass: 90, warn: 75}
burn_rate:
  target: 99
  period: 30d
  alerts:
    - {severity: page,   long: 20s, short: 5s,  factor: 10}
    - {severity: ticket, long: 40s, short: 10s, factor: 2}
"#;

fn healthy() -> Traffic {
    Traffic {
        rps: 50.0,
        error_ratio: 0.001,
        latency: 0.08,
    }
}

/// A directory with `slo.yml` and a captain.toml naming it and `prometheus_url`.
fn setup(slo: &str, prometheus_url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("slo.yml"), slo).unwrap();
    std::fs::write(
        dir.path().join("captain.toml"),
        format!("[prometheus]\nurl = \"{prometheus_url}\"\n[slo]\nfile = \"slo.yml\"\n"),
    )
    .unwrap();
    dir
}

fn captain_cmd(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_captain"));
    c.arg("--config")
        .arg(dir.join("captain.toml"))
        .args(args)
        .env("CAPTAIN_STATE_DIR", dir.join("state"))
        .env_remove("CAPTAIN_CONFIG")
        .current_dir(dir)
        .stdin(Stdio::null());
    c
}

fn captain(dir: &Path, args: &[&str]) -> Output {
    captain_cmd(dir, args)
        .output()
        .expect("the captain binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `captain slo rules` beside slo.yml: the rule file's path.
fn write_rules(dir: &Path) -> PathBuf {
    let o = captain(dir, &["slo", "rules"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    dir.join("slo-rules.yml")
}

#[test]
fn promtool_passes_the_rules_made_from_the_repository_the_demo_and_the_test_slo_files() {
    let Some(promtool) = promtool() else {
        return;
    };
    let repo =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/config/slo.yml"))
            .unwrap();
    for (what, slo) in [("repository", repo.as_str()), ("test", SLO)] {
        let dir = setup(slo, "http://127.0.0.1:9");
        let rules = write_rules(dir.path());
        let o = Command::new(&promtool)
            .arg("check")
            .arg("rules")
            .arg(&rules)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{what}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("SUCCESS"),
            "{}",
            text(&o)
        );
    }
    // The demo world's, to stdout.
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_captain"))
        .args(["--demo", "slo", "rules", "--out", "-"])
        .env("CAPTAIN_STATE_DIR", dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let demo = dir.path().join("demo-rules.yml");
    std::fs::write(&demo, &o.stdout).unwrap();
    let o = Command::new(&promtool)
        .args(["check", "rules"])
        .arg(&demo)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "demo: {}", text(&o));
}

#[test]
fn a_file_that_differs_is_never_overwritten_without_force() {
    let dir = setup(SLO, "http://127.0.0.1:9");
    let rules = write_rules(dir.path());
    let written = std::fs::read_to_string(&rules).unwrap();

    let o = captain(dir.path(), &["slo", "rules"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("unchanged"),
        "{}",
        text(&o)
    );

    let stdout = captain(dir.path(), &["slo", "rules", "--out", "-"]);
    assert_eq!(
        String::from_utf8_lossy(&stdout.stdout),
        written,
        "`-` prints the same file"
    );

    std::fs::write(&rules, "# my own edits\n").unwrap();
    let o = captain(dir.path(), &["slo", "rules"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(
            "differs from what slo.yml makes now: not overwritten (--force overwrites it)"
        ),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read_to_string(&rules).unwrap(), "# my own edits\n");

    let o = captain(dir.path(), &["slo", "rules", "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&rules).unwrap(), written);

    // --out a directory: the default name in it.
    std::fs::create_dir(dir.path().join("grafana")).unwrap();
    let o = captain(dir.path(), &["slo", "dashboard", "--out", "grafana"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let d: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("grafana/slo-dashboard.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(d["schemaVersion"], 39);
    // A directory still to be made.
    let o = captain(dir.path(), &["slo", "rules", "--out", "monitoring/"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("monitoring/slo-rules.yml")).unwrap(),
        written
    );
}

#[test]
fn a_broken_slo_file_is_reported_at_its_position_and_nothing_is_written() {
    let dir = setup(
        &SLO.replace("interval: 1s", "interval: soon"),
        "http://127.0.0.1:9",
    );
    let o = captain(dir.path(), &["slo", "rules"]);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("slo.yml:8:"), "{}", text(&o));
    assert!(!dir.path().join("slo-rules.yml").exists());
}

/// The probes against `stack`'s Prometheus, as `plan validate` runs them.
fn context(stack: &Stack, dir: &Path) -> ProbeContext {
    context_for(stack, dir, SLO)
}

/// As [`context`], with another slo.yml.
fn context_for(stack: &Stack, dir: &Path, slo: &str) -> ProbeContext {
    let slo = SloConfig::parse(Path::new("slo.yml"), slo).unwrap();
    let metrics = PrometheusMetrics::new(&stack.prometheus.url, &slo).unwrap();
    ProbeContext {
        audit_path: dir.join("audit.jsonl"),
        metrics: Some((Arc::new(metrics), slo)),
        forge: None,
        cluster: None,
        host: std::sync::Arc::new(captain::sources::host::LocalHost),
        published: None,
        now: Utc::now(),
    }
}

fn page() -> Probe {
    Probe::PrometheusAlert {
        alert: "ErrorBudgetBurn".into(),
        labels: [("severity".to_string(), "page".to_string())].into(),
    }
}

/// Wait until `probe` reports `want`; panics with its last evidence after `timeout`.
async fn wait_for_probe(
    stack: &Stack,
    dir: &Path,
    probe: &Probe,
    want: ProbeStatus,
    timeout: Duration,
) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        let r = run(probe, &context(stack, dir)).await;
        if r.status == want {
            return r.evidence;
        }
        assert!(
            Instant::now() < deadline,
            "waited {timeout:?} for {probe} to be {want:?}: {r:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_loads_the_rules_and_every_dashboard_panel_reads_series_from_it() {
    let dir = setup(SLO, "http://127.0.0.1:9");
    let rules = write_rules(dir.path());
    let Some(stack) = Stack::start_with_rules(healthy(), healthy(), &[rules]).await else {
        return;
    };
    stack.wait_for_history(6).await;

    let group = Probe::PrometheusRules {
        group: "captain-slo".into(),
    };
    let evidence = wait_for_probe(
        &stack,
        dir.path(),
        &group,
        ProbeStatus::Pass,
        Duration::from_secs(60),
    )
    .await;
    assert!(evidence.contains("every one healthy"), "{evidence}");
    let other = run(
        &Probe::PrometheusRules {
            group: "nobody".into(),
        },
        &context(&stack, dir.path()),
    )
    .await;
    assert_eq!(other.status, ProbeStatus::Fail, "{other:?}");
    assert!(other.evidence.contains("loaded: captain-slo"), "{other:?}");

    // Rules made from another slo.yml (a faster page) are not what this one makes.
    let edited = SLO.replace("factor: 10}", "factor: 12}");
    let stale = run(&group, &context_for(&stack, dir.path(), &edited)).await;
    assert_eq!(stale.status, ProbeStatus::Fail, "{stale:?}");
    assert!(
        stale.evidence.contains("made from another slo.yml"),
        "{stale:?}"
    );

    // Healthy traffic burns at 0.1×: nothing fires.
    let calm = run(&page(), &context(&stack, dir.path())).await;
    assert_eq!(calm.status, ProbeStatus::Fail, "{calm:?}");
    assert!(calm.evidence.contains("calm"), "{calm:?}");

    // The recorded SLI is what the verdict's own query reads.
    let p = &stack.prometheus;
    p.wait_for(
        "the recorded canary error rate",
        r#"captain:sli_error_rate{track="canary"}"#,
        |v| (v - 0.001).abs() < 0.0005,
        Duration::from_secs(60),
    )
    .await;

    let o = captain(dir.path(), &["slo", "dashboard", "--out", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let dashboard: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let panels = dashboard["panels"].as_array().unwrap();
    assert_eq!(panels.len(), 5, "3 SLIs, burn rates, step weight");
    for panel in panels {
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{}", panel["title"]);
        for t in targets {
            let expr = t["expr"].as_str().unwrap();
            p.wait_for(
                &format!("panel {} to read a series", panel["title"]),
                expr,
                f64::is_finite,
                Duration::from_secs(60),
            )
            .await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_burn_drill_passes_once_the_page_alert_fires_on_a_synthetic_burn_and_journals_it() {
    let dir = setup(SLO, "http://127.0.0.1:9");
    let rules = write_rules(dir.path());
    let Some(stack) = Stack::start_with_rules(healthy(), healthy(), &[rules]).await else {
        return;
    };
    stack.wait_for_history(6).await;
    std::fs::write(
        dir.path().join("captain.toml"),
        format!(
            "[prometheus]\nurl = \"{}\"\n[slo]\nfile = \"slo.yml\"\n",
            stack.prometheus.url
        ),
    )
    .unwrap();

    // Nothing burns: the drill waits, and fails when its time is up.
    let o = captain(dir.path(), &["slo", "burn-drill", "--wait", "3s", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["fired"], false);
    assert!(
        report["evidence"]
            .as_str()
            .unwrap()
            .contains("did not fire within 3s"),
        "{report}"
    );

    let drill = captain_cmd(dir.path(), &["slo", "burn-drill", "--wait", "3m", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The synthetic burn: half the canary's requests fail.
    stack.exporter.set(
        Track::Canary,
        Traffic {
            error_ratio: 0.5,
            ..healthy()
        },
    );
    let o = tokio::task::spawn_blocking(move || drill.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    assert_eq!(report["fired"], true);
    let evidence = report["evidence"].as_str().unwrap();
    assert!(
        evidence.contains(r#"severity="page""#) && evidence.contains(r#"track="canary""#),
        "{evidence}"
    );
    assert!(
        !evidence.contains(r#"track="stable""#),
        "stable does not burn: {evidence}"
    );

    // The drill is journalled: its start, and what fired.
    let journal = std::fs::read_to_string(dir.path().join("state/audit.jsonl")).unwrap();
    let records: Vec<serde_json::Value> = journal
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|r: &serde_json::Value| r["action"] == "burn-drill")
        .collect();
    let last = records.last().unwrap();
    assert_eq!(last["phase"], "outcome");
    assert!(
        last["result"]
            .as_str()
            .unwrap()
            .starts_with("ok: fired: ErrorBudgetBurn{"),
        "{last}"
    );
    let o = captain(dir.path(), &["audit", "verify", "--local"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // Phase 11's probe sees it while it fires.
    let evidence = wait_for_probe(
        &stack,
        dir.path(),
        &page(),
        ProbeStatus::Pass,
        Duration::from_secs(30),
    )
    .await;
    assert!(evidence.contains("firing since"), "{evidence}");
}

#[test]
fn the_demo_world_answers_phase_11s_probes_without_a_network() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_captain"))
        .args(["--demo", "plan", "validate", "--phase", "11", "--json"])
        .env("CAPTAIN_STATE_DIR", dir.path())
        .env_remove("CAPTAIN_CONFIG")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "the alert is calm: {}", text(&o));
    let phases: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let checks = phases[0]["checks"].as_array().unwrap();
    let by_probe = |kind: &str| checks.iter().find(|c| c["probe"] == kind).unwrap();
    let rules = by_probe("prometheus.rules");
    assert_eq!(rules["status"], "pass", "{rules}");
    assert!(
        rules["evidence"]
            .as_str()
            .unwrap()
            .contains("group captain-slo"),
        "{rules}"
    );
    let alert = by_probe("prometheus.alert");
    assert_eq!(alert["status"], "fail", "{alert}");
    assert!(
        alert["evidence"]
            .as_str()
            .unwrap()
            .contains(r#"ErrorBudgetBurn{severity="page"} is not firing"#),
        "{alert}"
    );
}

const PLAN: &str = r#"version: 1
phases:
  - id: 0
    title: "Dashboards-as-Code"
    owner: "Platform"
    days: [1]
    steps:
      - "Load the rules."
    validation:
      - check: "rules loaded"
        probe: {kind: prometheus.rules}
      - check: "page fires"
        probe: {kind: prometheus.alert, labels: {severity: page}}
    rollback: "Silence the group."
"#;

#[test]
fn a_plan_names_the_probes_with_the_generated_group_and_alert_by_default() {
    use captain::config::plan::Plan;
    let plan = Plan::parse(Path::new("plan.yml"), PLAN).unwrap();
    let probes: Vec<&Probe> = plan.phases[0].validation.iter().map(|c| &c.probe).collect();
    assert_eq!(
        probes[0],
        &Probe::PrometheusRules {
            group: "captain-slo".into()
        }
    );
    assert_eq!(probes[1], &page());
    let bad = PLAN.replace("labels: {severity: page}", "labels: [severity, page]");
    let e = Plan::parse(Path::new("plan.yml"), &bad)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("plan.yml:12:9: "), "{e}");
    assert!(e.contains("expected a map"), "{e}");
    let bad = PLAN.replace(
        "{kind: prometheus.rules}",
        "{kind: prometheus.rules, name: x}",
    );
    let e = Plan::parse(Path::new("plan.yml"), &bad)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `name`, expected `group`"), "{e}");
}

#[test]
fn init_writes_the_rules_and_dashboard_that_slo_rules_and_slo_dashboard_would() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_captain"))
            .args(args)
            .env("CAPTAIN_STATE_DIR", dir.path().join("state"))
            .env_remove("CAPTAIN_CONFIG")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let o = run(&["init"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(".ci/config/slo-rules.yml") && out.contains(".ci/config/slo-dashboard.json"),
        "{out}"
    );
    for cmd in ["rules", "dashboard"] {
        let o = run(&["slo", cmd]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("is already what slo.yml makes: unchanged"),
            "{cmd}: {}",
            text(&o)
        );
    }
}

#[test]
fn the_burn_drill_without_an_answering_prometheus_could_not_evaluate_and_journals_nothing() {
    let dir = setup(SLO, "http://127.0.0.1:9");
    let o = captain(dir.path(), &["slo", "burn-drill", "--wait", "1s"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("burn drill: could not evaluate: unreachable"),
        "{}",
        text(&o)
    );
    assert!(!dir.path().join("state/audit.jsonl").exists());
}
