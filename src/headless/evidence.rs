//! `captain evidence export --out DIR`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{Duration, Utc};
use color_eyre::eyre::{Result, WrapErr, eyre};

use crate::cli::{Cli, EvidenceCmd};
use crate::clock::{Clock, ManualClock};
use crate::engine::phases::PhaseState;
use crate::engine::signals::GoldenSample;
use crate::launch::Settings;
use crate::ops::audit::{self, Actor, Journal};
use crate::ops::evidence::{self, Evidence, Run};
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
            // A whole run on a clock that jumps from one measurement to the next.
            let start = Utc::now();
            let clock = ManualClock::new(start);
            let world = World::new(scenario, cli.seed, Arc::new(clock.clone()));
            let slo = sim::demo_slo();
            let phases = sim::phase_states(&plan, start);
            let journal = Journal::open(&settings.audit_path())?;
            let setup = Setup {
                release: release.clone(),
                preview_prefix: settings.config.previews.prefix.clone(),
                actor: Actor::local(),
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
            let records = audit::verify(&settings.audit_path())?;
            let label = format!("the {scenario} demo, rehearsed");
            let phases: Vec<PhaseState> = op.phases();
            let e = Evidence {
                release: &release,
                generated: Utc::now(),
                plan: &plan,
                phases: &phases,
                records: &records,
                run: Some(Run {
                    label: &label,
                    slo: &slo,
                    timeline: &op.train.timeline,
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

fn relative<'a>(f: &'a Path, dir: &Path) -> &'a Path {
    f.strip_prefix(dir).unwrap_or(f)
}
