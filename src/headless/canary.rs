//! `captain canary …`: the train, headless. `run` drives it to its end with the console's
//! engine: exit 0 promoted, 1 rolled back or aborted, 2 paused for a human.

use std::process::ExitCode;

use color_eyre::eyre::Result;
use serde_json::json;

use super::out::{self, Format, Table};
use super::{confirm, report};
use crate::cli::{CanaryCmd, Cli};
use crate::engine::train::{Status, TrainCommand};
use crate::launch::Session;
use crate::ops::Command;

pub fn summary(op: &crate::ops::Operator) -> serde_json::Value {
    let t = &op.train;
    json!({
        "drift": op.drift,
        "auto_rollback_off": op.auto_rollback_off(),
        "release": t.release,
        "revision": t.revisions.current,
        "previous": t.revisions.previous,
        "image": t.revisions.image,
        "weight": t.weight,
        "step": t.step,
        "status": t.status,
        "last_verdict": t.last.as_ref().map(|a| json!({"at": a.at, "verdict": a.verdict, "score": a.score, "reason": a.reason})),
        "timeline": t.timeline,
    })
}

/// The train as a one-row table (`-o wide` adds the previous revision, the step and the
/// last verdict), then what the reader must know beside it: drift, auto-rollback off.
pub fn status_lines(op: &crate::ops::Operator, format: Format) -> Vec<String> {
    let t = &op.train;
    let mut table = Table::new(
        format,
        &[
            ("RELEASE", false),
            ("REVISION", false),
            ("PREVIOUS", true),
            ("IMAGE", false),
            ("WEIGHT", false),
            ("STEP", true),
            ("VERDICT", true),
            ("STATUS", false),
        ],
    );
    table.row(vec![
        t.release.clone(),
        t.revisions.current.to_string(),
        t.revisions.previous.to_string(),
        t.revisions.image.clone(),
        format!("{} %", t.weight),
        t.step.to_string(),
        t.last
            .as_ref()
            .map_or("-".into(), |a| a.verdict.label().to_string()),
        t.status.label().to_string(),
    ]);
    let mut lines = table.lines();
    if let Some(drift) = &op.drift {
        lines.push(format!("drift: {drift}; shown as the cluster has it"));
    }
    if let Some(why) = op.auto_rollback_off() {
        lines.push(format!("auto-rollback OFF: {why}"));
    }
    lines
}

pub fn exit_code(status: &Status) -> u8 {
    match status {
        Status::Promoted => 0,
        Status::RolledBack { .. } | Status::Aborted { .. } => 1,
        Status::Paused { .. } | Status::AwaitingGate | Status::Progressing | Status::NotStarted => {
            2
        }
        // Decided but not seen through: the cluster may still send traffic to the canary.
        Status::RollingBack { .. } => 3,
    }
}

pub async fn run(cli: &Cli, cmd: &CanaryCmd) -> Result<ExitCode> {
    let session = Session::open(cli).await?;
    if let CanaryCmd::Status { j, .. } = cmd {
        let op = session.observer().await?;
        if !out::structured(j.format(), &summary(&op))? {
            for line in status_lines(&op, j.format()) {
                say!("{line}");
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let (mut op, _) = session.operator().await?;
    let command = |c: TrainCommand| Command::Train(c);
    let (cmd, m, format) = match cmd {
        CanaryCmd::Status { .. } => unreachable!("answered above"),
        CanaryCmd::Run(j) => return drive(&session, &mut op, j.format()).await,
        CanaryCmd::Promote { full, m, j } => (
            command(if *full {
                TrainCommand::PromoteFull
            } else {
                TrainCommand::Promote
            }),
            m,
            j.format(),
        ),
        CanaryCmd::Pause { m, j } => (command(TrainCommand::Pause), m, j.format()),
        CanaryCmd::Resume { m, j } => (command(TrainCommand::Resume), m, j.format()),
        CanaryCmd::Rollback { to_revision, m, j } => (
            command(TrainCommand::Rollback {
                to_revision: *to_revision,
            }),
            m,
            j.format(),
        ),
        CanaryCmd::Abort { m, j } => (command(TrainCommand::Abort), m, j.format()),
    };
    let proposal = cmd.propose(Some(&op.train));
    let confirmed = confirm(cmd, &proposal, m)?;
    let outcome = op.execute(confirmed, session.clock.now()).await?;
    op.notifications_sent().await;
    report(&outcome, format)
}

/// Measure at every interval until the train ends or needs a human.
async fn drive(
    session: &Session,
    op: &mut crate::ops::Operator,
    format: Format,
) -> Result<ExitCode> {
    let json = format.is_structured();
    if let Some(drift) = &op.drift {
        say_err!("drift: {drift}; following the cluster");
    }
    if op.train.status == Status::NotStarted {
        match op.start_new(session.clock.now()).await? {
            Ok(o) if !o.ok => {
                say_err!("{} {}: FAILED: {}", o.action, o.target, o.message);
                return Ok(ExitCode::from(3));
            }
            Ok(_) => {}
            // Another console started it first: drive what it started.
            Err(why) if op.train.status != Status::NotStarted => log::info!("{why}"),
            Err(why) => {
                say_err!("{}: {why}", op.train.release);
                return Ok(ExitCode::from(exit_code(&op.train.status)));
            }
        }
    }
    let mut printed = 0;
    let mut ticker = tokio::time::interval(session.tick);
    loop {
        ticker.tick().await;
        let report = op.tick(session.clock.now()).await?;
        if !json {
            if let Some(a) = report.analysis.as_ref().filter(|a| !a.verdict.is_passing()) {
                say!(
                    "{}       verdict {}: {}",
                    a.at.format("%H:%M:%S"),
                    a.verdict.label(),
                    a.reason
                );
            }
            // A train adopted from another console may have a shorter timeline.
            for e in op.train.timeline.get(printed..).unwrap_or_default() {
                say!("{} {:>3} % {}", e.at.format("%H:%M:%S"), e.weight, e.event);
            }
        }
        printed = op.train.timeline.len();
        for o in report.outcomes.iter().filter(|o| !o.ok) {
            say_err!("{} {}: FAILED: {}", o.action, o.target, o.message);
        }
        if let Some(revision) = op.overtaken {
            // Its own pipeline's `canary run` drives the new revision.
            say_err!(
                "revision {revision} was deployed while this run drove revision {}: this train is over",
                op.train.revisions.current
            );
            op.release_shared().await;
            op.notifications_sent().await;
            return Ok(ExitCode::from(2));
        }
        let done = op.train.status.is_terminal()
            || matches!(
                op.train.status,
                Status::Paused { .. } | Status::AwaitingGate
            );
        if done {
            break;
        }
    }
    // Another console may drive at once rather than after the lease expires.
    op.release_shared().await;
    op.notifications_sent().await;
    if !out::structured(format, &summary(op))? {
        say!("{}: {}", op.train.release, op.train.status.label());
    }
    Ok(ExitCode::from(exit_code(&op.train.status)))
}
