//! The Prometheus metrics source against a real Prometheus server scraping a synthetic
//! exporter the tests control (`docs/architecture.md`, "Testing"): what it measures, how it
//! fails, and the real train (the operator, on the demo world's cluster and deployer)
//! promoting and rolling back on what it reads. Ticks are counted, never wall-clock durations asserted.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use captain::clock::SystemClock;
use captain::config::plan::Plan;
use captain::config::slo::SloConfig;
use captain::engine::analysis::{Analysis, SliReading, Verdict};
use captain::engine::signals::{GoldenSet, Track};
use captain::engine::train::Status;
use captain::ops::audit::{Actor, Journal};
use captain::ops::operator::TickReport;
use captain::ops::progress::Progress;
use captain::ops::{Operator, Setup};
use captain::sim::{self, Scenario, World};
use captain::sources::prometheus::PrometheusMetrics;
use captain::sources::{Metrics, Queries, SourceError};
use captain_testkit::prometheus::{Stack, Track as Served, Traffic};
use chrono::Utc;

const ERROR_RATE: &str = r#"sum(rate(http_requests_total{code=~"5..",$selector}[$window])) / sum(rate(http_requests_total{$selector}[$window]))"#;
const LATENCY_P99: &str = r#"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{$selector}[$window])))"#;
const LATENCY_P50: &str = r#"histogram_quantile(0.50, sum by (le) (rate(http_request_duration_seconds_bucket{$selector}[$window])))"#;
const TRAFFIC: &str = r#"sum(rate(http_requests_total{$selector}[$window]))"#;

/// The error-rate objective's bound: a canary above it fails the key objective.
const ERROR_RATE_LIMIT: f64 = 0.05;

/// A train short enough for a test: 1 s measurements, 2 s warm-up, windows of a few
/// seconds. The query window is still 30 s (`query_window` never goes below it).
fn slo(extra_slis: &str) -> SloConfig {
    let yaml = slo_yaml(extra_slis, 20);
    SloConfig::parse(Path::new("test-slo.yml"), &yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
}

fn slo_yaml(extra_slis: &str, min_requests: u64) -> String {
    format!(
        r#"version: 1
selectors: {{canary: 'track="canary"', stable: 'track="stable"'}}
rollout:
  steps:
    - {{weight: 5,   observe: 6s}}
    - {{weight: 25,  observe: 12s}}
    - {{weight: 50,  observe: 6s}}
    - {{weight: 100, observe: 6s}}
  interval: 1s
  initial_delay: 2s
  on_fail: rollback
  rollback_to: previous
defaults:
  failure_limit: 2
  error_limit: 4
  no_data: inconclusive
  min_requests: {min_requests}
slis:
  error_rate:  {{query: '{ERROR_RATE}'}}
  latency_p99: {{query: '{LATENCY_P99}'}}
  traffic:     {{query: '{TRAFFIC}'}}
{extra_slis}objectives:
  - {{sli: error_rate,  key: true, weight: 2, pass: {{lte: {ERROR_RATE_LIMIT}}}}}
  - {{sli: latency_p99, weight: 1, pass: {{lte: 0.5}}, warn: {{lte: 0.8}}}}
score: {{pass: 90, warn: 75}}
"#
    )
}

fn healthy() -> Traffic {
    Traffic {
        rps: 20.0,
        error_ratio: 0.01,
        latency: 0.08,
    }
}

fn values(r: Option<&SliReading>) -> (f64, f64) {
    match r {
        Some(SliReading::Values {
            canary: Some(c),
            stable: Some(s),
        }) => (*c, *s),
        other => panic!("expected both tracks measured, got {other:?}"),
    }
}

fn assert_close(what: &str, got: f64, want: f64, tolerance: f64) {
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: measured {got}, the exporter serves {want} (± {tolerance})"
    );
}

/// The source as the console builds it.
fn source(stack: &Stack, slo: &SloConfig) -> PrometheusMetrics {
    PrometheusMetrics::new(&stack.prometheus.url, slo).expect("a usable Prometheus URL")
}

/// A real operator: the demo world's cluster, forge and deployer, metrics from Prometheus.
async fn operator(stack: &Stack, slo: &SloConfig, dir: &Path) -> Operator {
    let world = World::new(Scenario::Steady, 1, Arc::new(SystemClock));
    let mut backends = world.backends();
    backends.metrics = Arc::new(source(stack, slo));
    let journal = Journal::open(&dir.join("audit.jsonl")).expect("opening the journal");
    let setup = Setup {
        release: "summit".into(),
        preview_prefix: "pr-".into(),
        actor: Actor {
            os_user: "captain-test".into(),
            ..Actor::default()
        },
        read_only: false,
        adopt: false,
        needs: Vec::new(),
        shared: None,
        lease: None,
    };
    let now = Utc::now();
    let plan = Plan::builtin();
    let phases = sim::phase_states(&plan, now);
    let progress = Progress::open(plan, phases, None).expect("the built-in plan's progress");
    let (op, _) = Operator::start(backends, slo.clone(), journal, setup, progress, now)
        .await
        .expect("starting the train");
    op
}

fn objective_canary(a: &Analysis, sli: &str) -> Option<f64> {
    a.objectives
        .iter()
        .find(|o| o.sli == sli)
        .and_then(|o| o.canary)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn measure_reads_each_tracks_error_rate_p99_traffic_and_requests_close_to_what_the_exporter_serves()
 {
    let canary = Traffic {
        rps: 10.0,
        error_ratio: 0.2,
        latency: 0.2,
    };
    let stable = Traffic {
        rps: 40.0,
        error_ratio: 0.01,
        latency: 0.08,
    };
    let Some(stack) = Stack::start(canary, stable).await else {
        return;
    };
    // rate() divides by the whole 30 s window: wait until it holds 30 s of scrapes.
    stack.wait_for_history(33).await;
    let slo = slo("");
    let m = source(&stack, &slo)
        .measure(&Queries::resolve(&slo), Utc::now())
        .await
        .expect("a measurement");

    let (c, s) = values(m.readings.get("error_rate"));
    assert_close("canary error rate", c, 0.2, 0.01);
    assert_close("stable error rate", s, 0.01, 0.002);
    let (c, s) = values(m.readings.get("latency_p99"));
    assert_close("canary p99", c, canary.expected_quantile(0.99), 0.005);
    assert_close("stable p99", s, stable.expected_quantile(0.99), 0.005);
    let (c, s) = values(m.readings.get("traffic"));
    assert_close("canary traffic", c, 10.0, 1.5);
    assert_close("stable traffic", s, 40.0, 6.0);
    let (c, s) = (m.canary_requests.unwrap(), m.stable_requests.unwrap());
    assert!(
        (255..=345).contains(&c),
        "canary requests over 30 s: {c}, about 300 served"
    );
    assert!(
        (1020..=1380).contains(&s),
        "stable requests over 30 s: {s}, about 1200 served"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_at_the_same_now_reuses_what_measure_fetched_and_asks_only_for_unmeasured_golden_slis()
 {
    let Some(stack) = Stack::start(healthy(), healthy()).await else {
        return;
    };
    let prom = &stack.prometheus;
    let slo = slo(&format!("  latency_p50: {{query: '{LATENCY_P50}'}}\n"));
    let source = source(&stack, &slo);
    // A measurement that leaves latency_p50 out, as one whose SLIs differ from the charts'.
    let mut queries = Queries::resolve(&slo);
    queries.slis.retain(|q| q.name != "latency_p50");
    assert_eq!(queries.slis.len(), 3);

    let now = Utc::now();
    let before = prom.instant_queries_served().await;
    let m = source.measure(&queries, now).await.expect("a measurement");
    let after_measure = prom.instant_queries_served().await;
    let g = source.golden(now).await.expect("golden signals");
    let after_golden = prom.instant_queries_served().await;
    let again = source.golden(now).await.expect("golden signals");
    let after_again = prom.instant_queries_served().await;

    assert_eq!(
        after_measure - before,
        2 * (3 + 1),
        "3 SLIs and requests, per track"
    );
    assert_eq!(
        after_golden - after_measure,
        2,
        "only latency_p50, per track"
    );
    assert_eq!(after_again, after_golden, "nothing new at the same now");
    assert_eq!(g, again);
    let (c, s) = values(m.readings.get("error_rate"));
    let set = GoldenSet::of(&slo);
    assert_eq!(set.value(&g, "error_rate", Track::Canary), Some(c));
    assert_eq!(set.value(&g, "error_rate", Track::Stable), Some(s));
    assert!(set.value(&g, "latency_p50", Track::Canary).is_some());
    assert_eq!(
        set.value(&g, "saturation", Track::Canary),
        None,
        "no SLI of that name"
    );

    source.golden(Utc::now()).await.expect("golden signals");
    let later = prom.instant_queries_served().await;
    assert_eq!(
        later - after_again,
        2 * 4,
        "a new now asks every golden SLI again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promql_syntax_error_in_one_sli_is_an_error_for_that_sli_and_the_others_are_still_measured()
 {
    let Some(stack) = Stack::start(healthy(), healthy()).await else {
        return;
    };
    // The closing parenthesis of sum( is missing.
    let slo = slo("  broken: {query: 'sum(rate(http_requests_total{$selector}[$window])'}\n");
    let m = source(&stack, &slo)
        .measure(&Queries::resolve(&slo), Utc::now())
        .await
        .expect("the other SLIs are measured");
    match m.readings.get("broken") {
        Some(SliReading::Error(msg)) => {
            assert!(msg.contains("parse error"), "Prometheus' reason: {msg}")
        }
        other => panic!("the broken SLI is an error, got {other:?}"),
    }
    for sli in ["error_rate", "latency_p99", "traffic"] {
        values(m.readings.get(sli));
    }
    assert!(m.canary_requests.is_some() && m.stable_requests.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prometheus_query_probe_compares_what_the_server_answers() {
    use captain::config::probe::{Comparison, Probe};
    use captain::engine::phases::ProbeStatus;
    use captain::ops::probes::{ProbeContext, run};
    let Some(stack) = Stack::start(healthy(), healthy()).await else {
        return;
    };
    let slo = slo("");
    let dir = tempfile::tempdir().unwrap();
    let ctx = ProbeContext {
        audit_path: dir.path().join("audit.jsonl"),
        metrics: Some((Arc::new(source(&stack, &slo)), slo.clone())),
        forge: None,
        cluster: None,
        host: std::sync::Arc::new(captain::sources::host::LocalHost),
        published: None,
        now: Utc::now(),
    };
    let probe = |query: &str, op, value| Probe::PrometheusQuery {
        query: query.into(),
        op,
        value,
    };
    let r = run(&probe("count(up == 1)", Comparison::Gte, 1.0), &ctx).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{r:?}");
    let r = run(&probe("count(up == 1)", Comparison::Gt, 100.0), &ctx).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(r.evidence.contains("does not hold"), "{r:?}");
    let r = run(&probe("up{job=\"nowhere\"}", Comparison::Eq, 1.0), &ctx).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(r.evidence.contains("no series"), "{r:?}");
    let r = run(&probe("sum(up", Comparison::Eq, 1.0), &ctx).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(
        r.evidence.contains("parse error"),
        "Prometheus' reason: {r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_down_is_unreachable_and_the_operators_verdict_is_error_never_pass() {
    let Some(mut stack) = Stack::start(healthy(), healthy()).await else {
        return;
    };
    let slo = slo("");
    let dir = tempfile::tempdir().unwrap();
    let mut op = operator(&stack, &slo, dir.path()).await;
    let up = op.tick(Utc::now()).await.unwrap();
    let verdict = up.analysis.expect("an analysis").verdict;
    assert!(verdict.is_passing(), "healthy while up: {verdict:?}");

    stack.prometheus.stop();
    let direct = source(&stack, &slo)
        .measure(&Queries::resolve(&slo), Utc::now())
        .await;
    match &direct {
        Err(SourceError::Unreachable(why)) => {
            assert!(
                why.contains(&stack.prometheus.url),
                "names the server: {why}"
            )
        }
        other => panic!("expected unreachable, got {other:?}"),
    }
    let down = op.tick(Utc::now()).await.unwrap();
    let a = down.analysis.expect("an analysis");
    assert_eq!(a.verdict, Verdict::Error, "{}", a.reason);
    println!("verdict with Prometheus down: {}", a.reason);
    assert!(a.objectives.iter().all(|o| o.verdict == Verdict::Error));
    assert!(down.sample.is_none(), "no golden signals either");
    assert_eq!(op.train.status, Status::Progressing);
    assert_eq!(op.train.weight, 5, "never promoted on an error");
}

/// The operator ticked once a second, as the console's driver does.
struct Run {
    op: Operator,
    ticks: u32,
    ticker: tokio::time::Interval,
}

impl Run {
    fn new(op: Operator) -> Self {
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Run {
            op,
            ticks: 0,
            ticker,
        }
    }

    /// Wait for the next second.
    async fn next(&mut self) {
        self.ticker.tick().await;
        self.ticks += 1;
    }

    async fn tick(&mut self) -> TickReport {
        self.op.tick(Utc::now()).await.expect("auditing")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_canary_is_promoted_through_every_step_to_100_percent() {
    let Some(stack) = Stack::start(healthy(), healthy()).await else {
        return;
    };
    let slo = slo("");
    let dir = tempfile::tempdir().unwrap();
    let mut run = Run::new(operator(&stack, &slo, dir.path()).await);
    let mut weights = vec![run.op.train.weight];
    while !run.op.train.status.is_terminal() && run.ticks < 90 {
        run.next().await;
        let report = run.tick().await;
        if let Some(a) = &report.analysis {
            assert_ne!(a.verdict, Verdict::Fail, "tick {}: {}", run.ticks, a.reason);
        }
        if weights.last() != Some(&run.op.train.weight) {
            weights.push(run.op.train.weight);
        }
    }
    assert_eq!(
        run.op.train.status,
        Status::Promoted,
        "after {} ticks: {:?}",
        run.ticks,
        run.op.train.timeline
    );
    assert_eq!(weights, [5, 25, 50, 100]);
    println!("promoted to 100 % in {} ticks", run.ticks);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_breach_is_rolled_back_within_failure_limit_ticks_of_becoming_visible() {
    let Some(stack) = Stack::start(healthy(), healthy()).await else {
        return;
    };
    let prom = &stack.prometheus;
    // A full 30 s query window of healthy history, as in steady state, so the breach takes
    // as long to show as it would in production.
    stack.wait_for_history(31).await;
    let slo = slo("");
    let failure_limit = slo.defaults.failure_limit;
    let dir = tempfile::tempdir().unwrap();
    let mut run = Run::new(operator(&stack, &slo, dir.path()).await);

    let mut breach: Option<(u32, Instant)> = None;
    let mut visible: Option<(u32, Instant)> = None;
    let mut rolled_back: Option<(u32, Instant)> = None;
    let mut served = prom.instant_queries_served().await;
    let mut per_tick = Vec::new();
    while rolled_back.is_none() && run.ticks < 90 {
        run.next().await;
        // Read between two ticks, so every answer of the last one has been counted.
        let now_served = prom.instant_queries_served().await;
        if run.ticks > 1 {
            per_tick.push(now_served - served);
        }
        served = now_served;
        let report = run.tick().await;
        let at = Instant::now();

        let train = &run.op.train;
        let a = report.analysis.as_ref().expect("an analysis every tick");
        let counted = train.recent.back().is_some_and(|s| s.counted);
        let canary_errors = objective_canary(a, "error_rate");
        if breach.is_some()
            && visible.is_none()
            && counted
            && canary_errors.is_some_and(|e| e > ERROR_RATE_LIMIT)
        {
            visible = Some((run.ticks, at));
        }
        if breach.is_none() {
            assert_ne!(a.verdict, Verdict::Fail, "before the breach: {}", a.reason);
        }
        if report
            .outcomes
            .iter()
            .any(|o| o.action == "rollback" && o.automatic && o.ok)
        {
            rolled_back = Some((run.ticks, at));
        }
        // The breach starts at 25 %, once the warm-up is over, so it is scored at once.
        if breach.is_none() && train.weight >= 25 && Utc::now() >= train.warmup_end() {
            let bad = Traffic {
                error_ratio: 0.6,
                ..healthy()
            };
            stack.exporter.set(Served::Canary, bad);
            breach = Some((run.ticks, Instant::now()));
        }
    }

    tokio::time::sleep(Duration::from_millis(500)).await;
    per_tick.push(prom.instant_queries_served().await - served);
    let (breach_tick, breach_at) = breach.expect("the train reached 25 %");
    let (visible_tick, visible_at) = visible.expect("the breach became visible");
    let (rollback_tick, rollback_at) = rolled_back.expect("the train rolled back");
    assert!(
        matches!(
            run.op.train.status,
            Status::RolledBack {
                to_revision: 41,
                ..
            }
        ),
        "{:?}",
        run.op.train.status
    );
    assert_eq!(run.op.train.weight, 0);
    // The measurement that shows the breach is the first failed one; the rollback comes at
    // the failure_limit-th, so at most failure_limit ticks after (here, fewer).
    let after = rollback_tick - visible_tick;
    assert!(
        after < failure_limit,
        "rolled back {after} ticks after the breach was visible; failure_limit is {failure_limit}"
    );
    // Every tick here measured (the train was progressing): one request per SLI per
    // track and the request count per track, the golden signals reusing them.
    let expected = 2 * (slo.slis.len() as u64 + 1);
    assert!(
        per_tick.iter().all(|&n| n == expected),
        "Prometheus requests per tick: {per_tick:?}, expected {expected}"
    );
    println!(
        "breach at tick {breach_tick}; visible at tick {visible_tick} ({:.1} s after the breach); \
         rolled back at tick {rollback_tick} ({:.1} s after visible, {:.1} s after the breach)",
        (visible_at - breach_at).as_secs_f64(),
        (rollback_at - visible_at).as_secs_f64(),
        (rollback_at - breach_at).as_secs_f64(),
    );
    println!("Prometheus instant queries per tick: {expected} ({per_tick:?})");
}

/// `captain slo check`, the real binary, configured for this Prometheus.
fn slo_check(dir: &Path, url: &str, min_requests: u64) -> (i32, String) {
    std::fs::write(dir.join("slo.yml"), slo_yaml("", min_requests)).unwrap();
    std::fs::write(
        dir.join("captain.toml"),
        format!("[prometheus]\nurl = \"{url}\"\n[slo]\nfile = \"slo.yml\"\n"),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_captain"))
        .arg("--config")
        .arg(dir.join("captain.toml"))
        .args(["slo", "check"])
        .env("CAPTAIN_STATE_DIR", dir)
        .output()
        .expect("the captain binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slo_check_exits_0_pass_1_fail_2_inconclusive_3_could_not_evaluate() {
    let Some(mut stack) = Stack::start(healthy(), healthy()).await else {
        return;
    };
    stack.wait_for_history(5).await;
    let dir = tempfile::tempdir().unwrap();
    let url = stack.prometheus.url.clone();

    let (code, text) = slo_check(dir.path(), &url, 20);
    assert_eq!(code, 0, "healthy: {text}");
    assert!(text.contains("verdict PASS"), "{text}");

    let (code, text) = slo_check(dir.path(), &url, 1_000_000);
    assert_eq!(code, 2, "too few requests is no data: {text}");
    assert!(text.contains("min_requests 1000000"), "{text}");

    stack.exporter.set(
        Served::Canary,
        Traffic {
            error_ratio: 0.6,
            ..healthy()
        },
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    let (code, text) = loop {
        let (code, text) = slo_check(dir.path(), &url, 20);
        if code != 0 || Instant::now() > deadline {
            break (code, text);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    assert_eq!(code, 1, "a breach fails: {text}");
    assert!(
        text.contains("key objective error_rate"),
        "the verdict says why: {text}"
    );
    assert!(
        text.contains(r#"track="canary""#),
        "with the resolved query: {text}"
    );

    stack.prometheus.stop();
    let (code, text) = slo_check(dir.path(), &url, 20);
    assert_eq!(code, 3, "Prometheus down: {text}");
    assert!(text.contains("could not evaluate"), "{text}");
}

/// A canary failing one request in five beside a healthy stable, with a few seconds of
/// scrapes for range queries to read; `None` where no Prometheus can be run.
async fn failing_canary_with_history() -> Option<Stack> {
    let canary = Traffic {
        rps: 10.0,
        error_ratio: 0.2,
        latency: 0.2,
    };
    let stack = Stack::start(canary, healthy()).await?;
    stack.wait_for_history(8).await;
    Some(stack)
}

/// The charts' backfill of the last minute, a sample every 2 s, as the console asks for it.
async fn last_minute(metrics: &PrometheusMetrics) -> Vec<captain::engine::signals::GoldenSample> {
    let now = Utc::now();
    metrics
        .history(
            now - chrono::Duration::seconds(60),
            now,
            Duration::from_secs(2),
        )
        .await
        .expect("Prometheus answers range queries")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_backfills_the_charts_from_range_queries() {
    let Some(stack) = failing_canary_with_history().await else {
        return;
    };
    let slo = slo("");
    let set = GoldenSet::of(&slo);
    let metrics = source(&stack, &slo);
    let samples = last_minute(&metrics).await;
    assert!(samples.len() >= 3, "{samples:?}");
    assert!(
        samples.windows(2).all(|w| w[0].at < w[1].at),
        "oldest first"
    );
    let last = samples.last().unwrap();
    let error_rate = set
        .value(last, "error_rate", Track::Canary)
        .expect("canary error rate");
    assert_close(
        "canary error rate from the range query",
        error_rate,
        0.2,
        0.05,
    );
    assert!(set.value(last, "error_rate", Track::Stable).is_some());
    assert_eq!(
        set.value(last, "saturation", Track::Canary),
        None,
        "no SLI, no line"
    );
}

/// The screen of an app holding `train`, `samples` of `set` and `analysis`, at 120×40.
fn charted(
    set: &GoldenSet,
    samples: &[captain::engine::signals::GoldenSample],
    train: &captain::engine::train::Train,
    analysis: Option<Analysis>,
    pair: usize,
) -> String {
    use captain::tui::keymap::Keymap;
    use captain::tui::state::App;
    let plan = Plan::builtin();
    let phases = sim::phase_states(&plan, Utc::now());
    let keymap = Keymap::new(false, &Default::default()).expect("the default keymap");
    let mut app = App::new(keymap, "test".into(), "summit".into(), plan, phases);
    app.series.chart(set.clone());
    for s in samples {
        app.series.push(s.clone());
    }
    app.analysis = analysis.map(Box::new);
    app.train = Some(Box::new(train.clone()));
    app.ui.chart_pair = pair;
    let now = samples.last().map_or_else(Utc::now, |s| s.at);
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    let theme = captain::tui::theme::Theme::default_theme();
    let frame = terminal
        .draw(|f| captain::tui::draw(f, &app, now, &theme))
        .unwrap();
    let area = frame.area;
    (0..area.height)
        .map(|y| {
            (0..area.width)
                .map(|x| frame.buffer[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_golden_signal_slo_yml_names_is_measured_and_charted_in_its_place() {
    let Some(stack) = failing_canary_with_history().await else {
        return;
    };
    // A signal of the team's own, first, beside error rate; p99 alone on the second page.
    let slo = slo(&format!(
        "  throughput: {{query: '{TRAFFIC}', unit: per_second, label: \"served\"}}\n\
         golden: [throughput, error_rate, latency_p99]\n"
    ));
    let set = GoldenSet::of(&slo);
    assert_eq!(set.pairs(), 2);
    let dir = tempfile::tempdir().unwrap();
    let mut op = operator(&stack, &slo, dir.path()).await;
    let metrics = source(&stack, &slo);
    let mut samples = last_minute(&metrics).await;
    let report = op.tick(Utc::now()).await.expect("a tick");
    let sample = report.sample.clone().expect("the golden signals measured");
    assert_eq!(sample.canary.len(), 3, "one value per golden signal");
    let served = set
        .value(&sample, "throughput", Track::Canary)
        .expect("the canary's throughput");
    assert_eq!(
        sample.get(0, Track::Canary),
        Some(served),
        "first, as named"
    );
    let stable = set.value(&sample, "throughput", Track::Stable).unwrap();
    // rate() over a window not yet full of scrapes reads low on both tracks alike: stable
    // serves twice the canary's requests.
    assert!(served > 0.0, "{sample:?}");
    assert_close("stable ÷ canary throughput", stable / served, 2.0, 0.5);
    assert!(
        set.value(&samples[samples.len() - 1], "throughput", Track::Canary)
            .is_some(),
        "the backfill holds it too"
    );
    samples.push(sample);

    let first = charted(&set, &samples, &op.train, report.analysis.clone(), 0);
    assert!(
        first.contains(" served ") && first.contains(" error rate slo 5.00% "),
        "{first}"
    );
    assert!(first.contains("rps"), "in its unit: {first}");
    let second = charted(&set, &samples, &op.train, report.analysis, 1);
    assert!(
        second.contains(" latency p99 slo 500ms ") && !second.contains(" served "),
        "{second}"
    );
}
