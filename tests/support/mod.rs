//! A demo world on a manual clock, and the console state fed from it exactly as the live
//! loop feeds it: for snapshot and behaviour tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use captain::clock::{Clock, ManualClock};
use captain::config::plan::Plan;
use captain::ops::audit::{Actor, Journal};
use captain::ops::progress::Progress;
use captain::ops::{Operator, Setup, driver};
use captain::sim::{self, Scenario, World};
use captain::sources::Backends;
use captain::tui::App;
use captain::tui::keymap::Keymap;
use chrono::{DateTime, Duration, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// A console of release `summit` on the demo world's backends, sharing its train through
/// `shared`, journalling to `<dir>/<user>-audit.jsonl`: as the console opens one.
pub async fn console(
    world: &World,
    clock: &ManualClock,
    shared: Arc<dyn captain::sources::SharedState>,
    dir: &std::path::Path,
    user: &str,
    read_only: bool,
) -> Operator {
    joining(world, clock, shared, dir, user, read_only, false).await
}

/// As [`console`]; `adopt`: take the train where the world's cluster has it, as a live
/// console does, instead of starting one.
pub async fn joining(
    world: &World,
    clock: &ManualClock,
    shared: Arc<dyn captain::sources::SharedState>,
    dir: &std::path::Path,
    user: &str,
    read_only: bool,
    adopt: bool,
) -> Operator {
    let setup = Setup {
        release: "summit".into(),
        preview_prefix: "pr-".into(),
        actor: Actor {
            os_user: user.into(),
            ..Actor::default()
        },
        read_only,
        adopt,
        needs: Vec::new(),
        shared: Some(shared),
        lease: None,
    };
    let plan = Plan::builtin();
    let progress =
        Progress::open(plan.clone(), sim::phase_states(&plan, clock.now()), None).unwrap();
    let journal = Journal::open(&dir.join(format!("{user}-audit.jsonl"))).unwrap();
    let (op, _) = Operator::start(
        world.backends(),
        sim::demo_slo(),
        journal,
        setup,
        progress,
        clock.now(),
    )
    .await
    .expect("a console starts");
    op
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 2, 47, 0).unwrap()
}

pub struct Demo {
    pub app: App,
    pub clock: ManualClock,
    pub op: Operator,
    pub world: World,
    pub dir: tempfile::TempDir,
}

impl Demo {
    pub async fn new(scenario: Scenario, read_only: bool) -> Demo {
        Self::with(scenario, read_only, |b| b).await
    }

    /// A demo whose backends pass through `wrap` first (to put a failing or refusing
    /// source in front of the world), with the access needs of the default config.
    pub async fn with(
        scenario: Scenario,
        read_only: bool,
        wrap: impl FnOnce(Backends) -> Backends,
    ) -> Demo {
        Self::with_plan(scenario, read_only, wrap, Plan::builtin()).await
    }

    /// As [`Demo::with`], running `plan` instead of the built-in one.
    pub async fn with_plan(
        scenario: Scenario,
        read_only: bool,
        wrap: impl FnOnce(Backends) -> Backends,
        plan: Plan,
    ) -> Demo {
        let clock = ManualClock::new(t0());
        let world = World::new(scenario, 1, Arc::new(clock.clone()));
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(&dir.path().join("demo-audit.jsonl")).unwrap();
        let setup = Setup {
            release: "summit".into(),
            preview_prefix: "pr-".into(),
            actor: Actor {
                os_user: "captain-test".into(),
                ..Actor::default()
            },
            read_only,
            adopt: false,
            needs: captain::ops::access::requirements(&Default::default(), &Default::default()),
            shared: None,
            lease: None,
        };
        let phases = sim::phase_states(&plan, t0());
        let progress = Progress::open(plan.clone(), phases.clone(), None).unwrap();
        let (op, _) = Operator::start(
            wrap(world.backends()),
            sim::demo_slo(),
            journal,
            setup,
            progress,
            t0(),
        )
        .await
        .unwrap();
        let keymap = Keymap::new(read_only, &BTreeMap::new()).unwrap();
        let app = App::new(
            keymap,
            format!("demo: {scenario}"),
            "summit".into(),
            plan,
            phases,
        );
        let mut demo = Demo {
            app,
            clock,
            op,
            world,
            dir,
        };
        demo.sync();
        demo
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Let `seconds` of demo time pass, measuring at every 5 s interval as the driver does.
    pub async fn run_for(&mut self, seconds: i64) {
        for _ in 0..seconds / 5 {
            self.clock.advance(Duration::seconds(5));
            let report = self.op.tick(self.clock.now()).await.unwrap();
            for u in driver::updates(report) {
                self.app.apply(u);
            }
            self.sync();
        }
    }

    /// Bring the console's view of the train and the feeds up to date.
    pub fn sync(&mut self) {
        self.app.apply(driver::train(&self.op));
        self.app.apply(driver::Update::Phases(self.op.phases()));
        self.app
            .apply(driver::Update::Denied(self.op.denied.clone()));
        self.app.apply(driver::Update::Notes(self.op.notes()));
        self.world.heartbeat();
        let b = self.world.backends();
        self.app.set_previews(b.cluster.previews().borrow().clone());
        self.app.set_main(b.forge.main_health().borrow().clone());
    }

    pub fn screen(&self, w: u16, h: u16) -> Terminal<TestBackend> {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        let theme = captain::tui::Theme::default_theme();
        t.draw(|f| captain::tui::draw(f, &self.app, self.clock.now(), &theme))
            .unwrap();
        t
    }

    pub fn audit_lines(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.dir.path().join("demo-audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}
