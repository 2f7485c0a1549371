//! How long one frame takes to draw: the demo as it stands after a couple of minutes, and a
//! big world (10,000 previews, six hours of one-second samples) on a big terminal.
//!
//! `cargo bench --bench frame`

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use captain::clock::{Clock, ManualClock};
use captain::config::plan::Plan;
use captain::engine::previews::{PrState, Preview, PullRequest, UrlHealth};
use captain::engine::signals::GoldenSample;
use captain::ops::audit::{Actor, Journal};
use captain::ops::driver::{self, Update};
use captain::ops::{Operator, Setup};
use captain::sim::{self, Scenario, World};
use captain::sources::Reading;
use captain::tui::keymap::Keymap;
use captain::tui::state::Series;
use captain::tui::{App, Theme};

/// Ticks of the operator before the frame is drawn, and the clock's step between them.
const TICKS: usize = 30;
const STEP_SECS: i64 = 5;

/// The demo console after `TICKS` measurements, deterministically; and its `now`. The
/// temporary directory holds the audit journal and must outlive the operator.
fn demo_app() -> (App, DateTime<Utc>, tempfile::TempDir) {
    let origin = Utc
        .with_ymd_and_hms(2026, 11, 29, 3, 0, 0)
        .single()
        .expect("a valid time");
    let manual = ManualClock::new(origin);
    let clock: Arc<dyn Clock> = Arc::new(manual.clone());
    let world = World::new(Scenario::Drill, 1, clock.clone());
    let backends = world.backends();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let journal = Journal::open(&dir.path().join("demo-audit.jsonl")).expect("the journal");
    let plan = Plan::builtin();
    let phases = sim::phase_states(&plan, origin);
    let keymap = Keymap::new(false, &BTreeMap::new()).expect("the default keymap");
    let progress = captain::ops::progress::Progress::open(plan.clone(), phases.clone(), None)
        .expect("the demo progress");
    let mut app = App::new(
        keymap,
        format!("demo: {}", Scenario::Drill),
        "summit".into(),
        plan,
        phases,
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let setup = Setup {
            release: "summit".into(),
            preview_prefix: "pr-".into(),
            actor: Actor::local(),
            read_only: false,
            adopt: false,
            needs: Vec::new(),
            shared: None,
            lease: None,
        };
        let (mut op, outcomes) = Operator::start(
            backends.clone(),
            sim::demo_slo(),
            journal,
            setup,
            progress,
            clock.now(),
        )
        .await
        .expect("the operator starts");
        for o in outcomes {
            app.apply(Update::Outcome(o));
        }
        app.apply(driver::train(&op));
        let mut previews = backends.cluster.previews();
        let mut main = backends.forge.main_health();
        for _ in 0..TICKS {
            manual.advance(Duration::seconds(STEP_SECS));
            world.heartbeat();
            let report = op.tick(clock.now()).await.expect("the journal takes it");
            for u in driver::updates(report) {
                app.apply(u);
            }
            app.apply(driver::train(&op));
            app.set_previews(previews.borrow_and_update().clone());
            app.set_main(main.borrow_and_update().clone());
        }
    });
    (app, clock.now(), dir)
}

/// 10,000 previews `pr-1`..`pr-10000`, up to ten days old, two in three with a pull request.
fn many_previews(now: DateTime<Utc>) -> Vec<Preview> {
    const AUTHORS: [&str; 5] = ["ada", "grace", "linus", "margaret", "dennis"];
    (1..=10_000u32)
        .map(|i| {
            let age = Duration::seconds(i64::from(i.wrapping_mul(7919) % (10 * 86_400)));
            let pr = (i % 3 != 0).then(|| PullRequest {
                number: i,
                title: format!("Fix flaky checkout test #{i} in the payments service"),
                author: AUTHORS[i as usize % AUTHORS.len()].into(),
                state: match i % 7 {
                    0 => PrState::Merged,
                    1 => PrState::Closed,
                    _ => PrState::Open,
                },
            });
            Preview {
                namespace: format!("pr-{i}"),
                created: now - age,
                terminating: i % 97 == 0,
                pr,
                url: Some(format!("https://pr-{i}.preview.summit.example")),
                health: match i % 11 {
                    0 => UrlHealth::Down,
                    1 => UrlHealth::Unknown,
                    _ => UrlHealth::Up,
                },
            }
        })
        .collect()
}

/// Six hours of one-second golden samples ending at `now`, gently wavy.
fn six_hours(now: DateTime<Utc>) -> Series {
    let mut series = Series::new(Series::CAP);
    let n = Series::CAP as i64;
    for k in 0..n {
        let t = k as f64;
        let wave = (t / 600.0).sin();
        let jitter = ((t * 12.9898).sin() * 43_758.547).fract().abs();
        let stable = [
            0.002 + 0.001 * jitter,
            0.42 + 0.05 * wave + 0.02 * jitter,
            0.21 + 0.03 * wave + 0.01 * jitter,
            0.08 + 0.01 * wave,
            120.0 + 30.0 * wave + 5.0 * jitter,
            0.55 + 0.1 * wave,
        ];
        let mut canary = stable;
        canary[0] *= 1.1;
        canary[1] *= 1.05;
        canary[4] *= 0.5;
        series.push(GoldenSample {
            at: now - Duration::seconds(n - 1 - k),
            canary: canary.map(Some).into(),
            stable: stable.map(Some).into(),
        });
    }
    series
}

fn frame(c: &mut Criterion) {
    let theme = Theme::default_theme();
    let mut group = c.benchmark_group("draw");

    let (app, now, _dir) = demo_app();
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("a test terminal");
    group.bench_function("120x40 demo", |b| {
        b.iter(|| {
            terminal
                .draw(|f| captain::tui::draw(f, black_box(&app), now, &theme))
                .map(|_| ())
                .expect("drawn")
        })
    });

    let (mut big, now, _big_dir) = demo_app();
    big.set_previews(Reading::fresh(many_previews(now), now));
    big.series = six_hours(now);
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("a test terminal");
    group.bench_function("200x60 10k previews 6h series", |b| {
        b.iter(|| {
            terminal
                .draw(|f| captain::tui::draw(f, black_box(&big), now, &theme))
                .map(|_| ())
                .expect("drawn")
        })
    });

    group.finish();
}

criterion_group!(benches, frame);
criterion_main!(benches);
