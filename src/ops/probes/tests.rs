use super::*;
use chrono::TimeZone;

fn ctx(dir: &std::path::Path) -> ProbeContext {
    ProbeContext {
        audit_path: dir.join("audit.jsonl"),
        metrics: None,
        forge: None,
        cluster: None,
        host: Arc::new(crate::sources::host::LocalHost),
        published: None,
        now: Utc.with_ymd_and_hms(2026, 11, 29, 9, 0, 0).unwrap(),
    }
}

fn cmd(argv: &[&str], timeout: u64, expect_exit: i32) -> Probe {
    Probe::Command {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        timeout: crate::config::Span::secs(timeout),
        expect_exit,
    }
}

#[tokio::test]
async fn a_command_passes_on_its_expected_exit_code_with_its_output_as_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(
        &cmd(&["sh", "-c", "echo rendered; exit 0"], 10, 0),
        &ctx(dir.path()),
    )
    .await;
    assert_eq!(r.status, ProbeStatus::Pass, "{r:?}");
    assert!(r.evidence.contains("rendered"));
    let r = run(&cmd(&["sh", "-c", "exit 3"], 10, 0), &ctx(dir.path())).await;
    assert_eq!(r.status, ProbeStatus::Fail);
    assert!(
        r.evidence.contains("expected exit 0") && r.evidence.contains("exit 3"),
        "{r:?}"
    );
    let r = run(&cmd(&["sh", "-c", "exit 3"], 10, 3), &ctx(dir.path())).await;
    assert_eq!(r.status, ProbeStatus::Pass);
}

#[tokio::test]
async fn a_hung_command_is_killed_at_its_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("still-running");
    let script = format!("sleep 2; touch {}", marker.display());
    let r = run(&cmd(&["sh", "-c", &script], 1, 0), &ctx(dir.path())).await;
    assert_eq!(r.status, ProbeStatus::Fail);
    assert!(
        r.evidence.contains("timed out after 1s and was killed"),
        "{r:?}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert!(
        !marker.exists(),
        "the command kept running after its timeout"
    );
}

#[tokio::test]
async fn a_missing_program_fails_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(&cmd(&["no-such-tool-here"], 5, 0), &ctx(dir.path())).await;
    assert_eq!(r.status, ProbeStatus::Fail);
    assert!(r.evidence.contains("cannot run no-such-tool-here"), "{r:?}");
}

#[tokio::test]
async fn probes_without_their_source_are_unavailable_never_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    for p in [
        Probe::GithubSecretScanningEnabled,
        Probe::KubeNamespaceExists {
            namespace: "stage".into(),
        },
        Probe::SloCheck,
    ] {
        let r = run(&p, &ctx(dir.path())).await;
        assert_eq!(r.status, ProbeStatus::Unavailable, "{p:?}");
    }
    assert_eq!(
        run(&Probe::Manual, &ctx(dir.path())).await.status,
        ProbeStatus::Manual
    );
}

#[tokio::test]
async fn the_drill_probe_reads_the_journal() {
    use crate::ops::audit::{Actor, Entry, Journal, Phase};
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(dir.path());
    // A fresh state directory has no journal yet: that is no drill, not an I/O fault.
    let r = run(&Probe::CanaryDrillPassed, &c).await;
    assert_eq!(r.status, ProbeStatus::Fail, "no journal");
    assert!(
        r.evidence.starts_with("not yet: no drill in the journal")
            && !r.evidence.contains("No such file"),
        "{r:?}"
    );
    let mut j = Journal::open(&c.audit_path).unwrap();
    let r = run(&Probe::CanaryDrillPassed, &c).await;
    assert!(
        r.evidence.starts_with("not yet: no drill in the journal"),
        "an empty journal: {r:?}"
    );
    let entry = |action: &str, to: &str, confirmation: &str| Entry {
        phase: Phase::Outcome,
        trace_id: "t".into(),
        actor: Actor::default(),
        action: action.into(),
        target: "summit".into(),
        from: "x".into(),
        to: to.into(),
        reason: None,
        confirmation: confirmation.into(),
        slo: None,
        result: Some("ok: done".into()),
    };
    j.append(entry("promote", "promoted at 100 %", "automatic"), c.now)
        .unwrap();
    let r = run(&Probe::CanaryDrillPassed, &c).await;
    assert_eq!(r.status, ProbeStatus::Fail);
    assert!(r.evidence.contains("no automatic rollback drill"), "{r:?}");
    j.append(entry("rollback", "rolled back at 0 %", "typed"), c.now)
        .unwrap();
    assert_eq!(
        run(&Probe::CanaryDrillPassed, &c).await.status,
        ProbeStatus::Fail,
        "a human rollback is not the drill"
    );
    j.append(entry("rollback", "rolled back at 0 %", "automatic"), c.now)
        .unwrap();
    let r = run(&Probe::CanaryDrillPassed, &c).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{r:?}");
}

#[tokio::test]
async fn checks_run_concurrently_and_come_back_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    // Each probe marks its start, waits, then counts the starts it can see: run one at a
    // time, the first would see only itself.
    let checks: Vec<Check> = (0..4)
        .map(|i| Check {
            check: format!("c{i}"),
            probe: cmd(
                &[
                    "sh",
                    "-c",
                    &format!("touch {d}/start-{i}; sleep 1; echo {i} $(ls {d} | grep -c start-)"),
                ],
                10,
                0,
            ),
        })
        .collect();
    let results = run_all(&checks, &ctx(dir.path())).await;
    for (i, r) in results.iter().enumerate() {
        assert!(r.evidence.contains(&format!("stdout: {i} ")), "{r:?}");
    }
    assert!(
        results[0]
            .evidence
            .contains(&format!("stdout: 0 {CONCURRENCY}")),
        "the first probe saw the others start while it ran: {:?}",
        results[0]
    );
}

/// A metrics source that answers one query with one value, and nothing else.
struct OneSeries(&'static str, Option<f64>);

#[async_trait::async_trait]
impl Metrics for OneSeries {
    async fn measure(
        &self,
        _q: &Queries,
        _now: DateTime<Utc>,
    ) -> Result<crate::engine::analysis::Measurement, SourceError> {
        Err(SourceError::Unreachable("not used".into()))
    }

    async fn golden(
        &self,
        _now: DateTime<Utc>,
    ) -> Result<crate::engine::signals::GoldenSample, SourceError> {
        Err(SourceError::Unreachable("not used".into()))
    }

    async fn value(&self, query: &str, _now: DateTime<Utc>) -> Result<Option<f64>, SourceError> {
        if query == self.0 {
            Ok(self.1)
        } else {
            Err(SourceError::Rejected(format!(
                "bad_data: parse error in {query}"
            )))
        }
    }
}

fn query(q: &str, op: crate::config::probe::Comparison, value: f64) -> Probe {
    Probe::PrometheusQuery {
        query: q.into(),
        op,
        value,
    }
}

#[tokio::test]
async fn a_prometheus_query_compares_its_value_and_no_series_or_an_error_is_a_fail() {
    use crate::config::probe::Comparison::{Gte, Lt};
    let dir = tempfile::tempdir().unwrap();
    let with = |v: Option<f64>| ProbeContext {
        metrics: Some((
            Arc::new(OneSeries("up", v)) as Arc<dyn Metrics>,
            crate::sim::demo_slo(),
        )),
        ..ctx(dir.path())
    };
    let r = run(&query("up", Gte, 1.0), &with(Some(1.0))).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{r:?}");
    assert_eq!(r.evidence, "up = 1; holds: 1 >= 1");
    let r = run(&query("up", Lt, 0.5), &with(Some(1.0))).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    let r = run(&query("up", Gte, 1.0), &with(None)).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(r.evidence.contains("no series"), "{r:?}");
    let r = run(&query("up{", Gte, 1.0), &with(Some(1.0))).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(r.evidence.contains("parse error"), "{r:?}");
    let r = run(&query("up", Gte, 1.0), &ctx(dir.path())).await;
    assert_eq!(r.status, ProbeStatus::Unavailable, "{r:?}");
}

#[tokio::test]
async fn a_forge_or_cluster_that_is_not_set_up_makes_its_probes_unavailable_never_passed() {
    let dir = tempfile::tempdir().unwrap();
    let env = Probe::GithubEnvironmentProtected {
        environment: "prod".into(),
    };
    let ns = Probe::KubeNamespaceExists {
        namespace: "stage".into(),
    };
    let r = run(&env, &ctx(dir.path())).await;
    assert_eq!(r.status, ProbeStatus::Unavailable, "{r:?}");
    let r = run(&ns, &ctx(dir.path())).await;
    assert_eq!(r.status, ProbeStatus::Unavailable, "{r:?}");
    let no_token = ProbeContext {
        forge: Some(Arc::new(
            crate::sources::unavailable::UnavailableForge::new(
                "no GitHub token: set $GITHUB_TOKEN",
            ),
        )),
        ..ctx(dir.path())
    };
    let r = run(&env, &no_token).await;
    assert_eq!(r.status, ProbeStatus::Unavailable, "{r:?}");
    assert_eq!(r.evidence, "no GitHub token: set $GITHUB_TOKEN");
    let no_kubeconfig = ProbeContext {
        cluster: Some(Arc::new(
            crate::sources::unavailable::UnavailableCluster::new("Kubernetes: no kubeconfig"),
        )),
        ..ctx(dir.path())
    };
    let r = run(&ns, &no_kubeconfig).await;
    assert_eq!(r.status, ProbeStatus::Unavailable, "{r:?}");
    assert_eq!(r.evidence, "Kubernetes: no kubeconfig");
}

#[tokio::test]
async fn each_github_kube_and_helm_probe_reaches_its_source_and_fails_on_what_it_finds() {
    let dir = tempfile::tempdir().unwrap();
    let clock: Arc<dyn crate::clock::Clock> = Arc::new(crate::clock::ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 29, 9, 0, 0).unwrap(),
    ));
    let world = crate::sim::World::new(crate::sim::Scenario::MainRed, 1, clock);
    let b = world.backends();
    let c = ProbeContext {
        forge: Some(b.forge.clone()),
        cluster: Some(b.cluster.clone()),
        ..ctx(dir.path())
    };
    let cases = [
        (
            Probe::GithubEnvironmentProtected {
                environment: "qa".into(),
            },
            ProbeStatus::Fail,
        ),
        (
            Probe::GithubBranchRequiresCheck {
                branch: "main".into(),
                check: "scan".into(),
            },
            ProbeStatus::Pass,
        ),
        (
            Probe::GithubRulesetActive {
                name: Some("legacy".into()),
            },
            ProbeStatus::Fail,
        ),
        (
            Probe::GithubSecretPresent {
                name: "RENOVATE_TOKEN".into(),
            },
            ProbeStatus::Fail,
        ),
        (
            Probe::GithubFileExists {
                path: ".github/workflows/pr.yml".into(),
                branch: "main".into(),
            },
            ProbeStatus::Pass,
        ),
        (Probe::GithubNoCriticalAlerts, ProbeStatus::Fail),
        (Probe::GithubSecretScanningEnabled, ProbeStatus::Pass),
        (
            Probe::KubeNamespaceExists {
                namespace: "prod".into(),
            },
            ProbeStatus::Pass,
        ),
        (
            Probe::KubeDeploymentReady {
                namespace: "prod".into(),
                name: "checkout".into(),
            },
            ProbeStatus::Fail,
        ),
        (
            Probe::HelmReleaseStatus {
                release: "summit".into(),
                namespace: "prod".into(),
                status: "failed".into(),
            },
            ProbeStatus::Fail,
        ),
    ];
    for (probe, want) in cases {
        let r = run(&probe, &c).await;
        assert_eq!(r.status, want, "{probe}: {r:?}");
        assert!(
            !r.evidence.is_empty(),
            "{probe}: evidence says what was found"
        );
    }
}

#[tokio::test]
async fn a_prometheus_query_against_the_demo_world_reads_its_series_and_finds_no_other() {
    use crate::config::probe::Comparison::Lt;
    let dir = tempfile::tempdir().unwrap();
    let clock: Arc<dyn crate::clock::Clock> = Arc::new(crate::clock::ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 29, 9, 0, 0).unwrap(),
    ));
    let world = crate::sim::World::new(crate::sim::Scenario::Steady, 1, clock);
    let slo = crate::sim::demo_slo();
    let c = ProbeContext {
        metrics: Some((world.backends().metrics.clone(), slo.clone())),
        ..ctx(dir.path())
    };
    let error_rate = Queries::resolve(&slo).slis[0].stable.clone();
    let r = run(&query(&error_rate, Lt, 0.01), &c).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{r:?}");
    let r = run(&query("up{job=\"nowhere\"}", Lt, 1.0), &c).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(r.evidence.contains("no series"), "{r:?}");
}

#[tokio::test]
async fn rule_and_alert_probes_need_a_metrics_source_and_fail_when_it_does_not_answer() {
    let dir = tempfile::tempdir().unwrap();
    let probes = [
        Probe::PrometheusRules {
            group: "captain-slo".into(),
        },
        Probe::PrometheusAlert {
            alert: "ErrorBudgetBurn".into(),
            labels: Default::default(),
        },
    ];
    for p in &probes {
        let r = run(p, &ctx(dir.path())).await;
        assert_eq!(r.status, ProbeStatus::Unavailable, "{p:?}");
        assert!(r.evidence.contains("metrics source"), "{r:?}");
    }
    // Nothing listens on the discard port: not knowing is never a pass.
    let slo = crate::sim::demo_slo();
    let down =
        crate::sources::prometheus::PrometheusMetrics::new("http://127.0.0.1:9", &slo).unwrap();
    let ctx = ProbeContext {
        metrics: Some((Arc::new(down), slo)),
        ..ctx(dir.path())
    };
    for p in &probes {
        let r = run(p, &ctx).await;
        assert_eq!(r.status, ProbeStatus::Fail, "{p:?}");
        assert!(
            r.evidence.starts_with("could not check: unreachable"),
            "{r:?}"
        );
    }
}
