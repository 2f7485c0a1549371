//! `captain evidence export --out DIR`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use color_eyre::eyre::{Result, WrapErr, eyre};

use crate::cli::{Cli, EvidenceCmd};
use crate::clock::{Clock, ManualClock};
use crate::config::plan::Plan;
use crate::config::slo::SloConfig;
use crate::engine::phases::{PhaseState, PhaseStatus};
use crate::engine::signals::GoldenSample;
use crate::engine::train::TimelineEntry;
use crate::launch::Settings;
use crate::ops::audit::{self, Actor, Journal};
use crate::ops::command::{Command, Confirmation, Confirmed, PhaseCommand};
use crate::ops::evidence::{self, Evidence, Run};
use crate::ops::probes;
use crate::ops::progress::Progress;
use crate::ops::{Operator, Setup};
use crate::sim::{self, World};

/// The longest rehearsal: enough for every demo scenario to end.
const REHEARSAL_TICKS: usize = 2_000;

pub async fn run(cli: &Cli, cmd: &EvidenceCmd) -> Result<ExitCode> {
    let EvidenceCmd::Export { out } = cmd;
    let settings = Settings::load(cli)?;
    let plan = settings.plan()?;
    let release = settings.config.release.name.clone();
    std::fs::create_dir_all(out).wrap_err_with(|| format!("creating {}", out.display()))?;
    let written = match settings.demo {
        Some(scenario) => {
            let rehearsal = rehearse(&settings, &plan, scenario, cli.seed, out).await?;
            let Rehearsal {
                records,
                phases,
                timeline,
                samples,
                slo,
                ended,
            } = rehearsal;
            let label = format!("the {scenario} demo, rehearsed");
            let e = Evidence {
                release: &release,
                generated: ended,
                plan: &plan,
                phases: &phases,
                records: &records,
                run: Some(Run {
                    label: &label,
                    slo: &slo,
                    timeline: &timeline,
                    samples: &samples,
                }),
            };
            evidence::write(out, &e)?
        }
        None => {
            let store = crate::paths::plan_state_file();
            let progress = Progress::open(
                plan.clone(),
                crate::ops::progress::pending(&plan),
                Some(store),
            )
            .map_err(|e| eyre!(e))?;
            let path = settings.audit_path();
            let records = if path.exists() {
                audit::verify(&path)?
            } else {
                Vec::new()
            };
            let e = Evidence {
                release: &release,
                generated: Utc::now(),
                plan: &plan,
                phases: progress.states(),
                records: &records,
                run: None,
            };
            evidence::write(out, &e)?
        }
    };
    for f in &written {
        say!("{}", relative(f, out).display());
    }
    Ok(ExitCode::SUCCESS)
}

/// One rehearsed run, everything in it on the rehearsal's clock.
struct Rehearsal {
    records: Vec<audit::Record>,
    phases: Vec<PhaseState>,
    timeline: Vec<TimelineEntry>,
    samples: Vec<GoldenSample>,
    slo: SloConfig,
    ended: DateTime<Utc>,
}

/// A whole demo run on a clock that jumps from one measurement to the next, journalled
/// afresh into `out` on that same clock, and the canary phase validated when the train
/// has ended: the export's phases, timeline and trail are one run that agrees with itself
/// (`docs/runbook.md`, section 11).
async fn rehearse(
    settings: &Settings,
    plan: &Plan,
    scenario: sim::Scenario,
    seed: u64,
    out: &Path,
) -> Result<Rehearsal> {
    let start = Utc::now();
    let clock = ManualClock::new(start);
    let world = World::new(scenario, seed, Arc::new(clock.clone()));
    let slo = sim::demo_slo();
    let phases = sim::phase_states(plan, start);
    // Not the demo's own journal: that one holds every earlier drill.
    let journal_path = out.join("audit.jsonl");
    for stale in [journal_path.clone(), audit::head_path(&journal_path)] {
        match std::fs::remove_file(&stale) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).wrap_err_with(|| format!("removing {}", stale.display()));
            }
            _ => {}
        }
    }
    let mut journal = Journal::open(&journal_path)?.stamped_by(Arc::new(clock.clone()));
    // A rehearsal acts on nothing: its steps are no spans in a team's traces.
    journal.trace_to(None);
    let setup = Setup {
        release: settings.config.release.name.clone(),
        preview_prefix: settings.config.previews.prefix.clone(),
        // Nobody presses a key in a rehearsal: every record in it is captain's own.
        actor: Actor::automatic(&Actor::local()),
        read_only: false,
        adopt: false,
        needs: Vec::new(),
        shared: None,
        lease: None,
    };
    let progress = Progress::open(plan.clone(), phases, None).map_err(|e| eyre!(e))?;
    let (mut op, _) = Operator::start(
        world.backends(),
        slo.clone(),
        journal,
        setup,
        progress,
        start,
    )
    .await?;
    let mut samples: Vec<GoldenSample> = Vec::new();
    let step = slo.rollout.interval.chrono().max(Duration::seconds(1));
    for _ in 0..REHEARSAL_TICKS {
        clock.advance(step);
        let report = op.tick(clock.now()).await?;
        samples.extend(report.sample);
        if op.train.status.is_terminal() {
            break;
        }
    }
    let in_progress: Vec<usize> = op
        .phases()
        .iter()
        .enumerate()
        .filter(|(_, p)| p.status == PhaseStatus::InProgress)
        .map(|(i, _)| i)
        .collect();
    for phase in in_progress {
        clock.advance(step);
        let confirmed = Confirmed {
            command: Command::Phase(PhaseCommand::Validate { phase }),
            reason: Some("rehearsal: the run has ended".into()),
            confirmation: Confirmation::Automatic,
            seen: None,
        };
        if let Ok(v) = op.begin_validation(&confirmed, clock.now())? {
            let results = probes::run_all(&v.checks, &v.context).await;
            op.finish_validation(v, results, clock.now()).await?;
        }
    }
    Ok(Rehearsal {
        records: audit::verify(&journal_path)?,
        phases: op.phases(),
        timeline: op.train.timeline.clone(),
        samples,
        slo,
        ended: clock.now(),
    })
}

fn relative<'a>(f: &'a Path, dir: &Path) -> &'a Path {
    f.strip_prefix(dir).unwrap_or(f)
}
