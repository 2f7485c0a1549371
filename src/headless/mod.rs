//! The subcommands: the same engine as the console, for CI and scripts. Each returns its
//! exit code; text goes to stdout, or JSON or YAML with `-o` (`out.rs`).

/// `println!` for the subcommands: a closed pipe ends the output, not the process
/// (see `out`).
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::headless::out::stdout_line(format_args!($($arg)*))
    };
}

/// `eprintln!` that never panics.
macro_rules! say_err {
    ($($arg:tt)*) => {
        $crate::headless::out::stderr_line(format_args!($($arg)*))
    };
}

mod audit;
mod audit_head;
mod canary;
mod canary_watch;
mod drive;
mod evidence;
mod info;
mod init;
mod init_targets;
mod logging;
mod main_status;
mod manual;
pub mod out;
mod plan;
mod previews;
mod sentinel;
mod slo;
mod slo_rules;

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use color_eyre::eyre::{Result, bail};

use crate::cli::{CanaryCmd, Cli, Cmd, Mutate};
use crate::ops::{Command, Confirmation, Confirmed, Outcome, Proposal};

pub async fn run(cli: &Cli, cmd: &Cmd) -> Result<ExitCode> {
    logging::init();
    match cmd {
        Cmd::Canary {
            action: CanaryCmd::Status { watch: true, j },
        } => canary_watch::run(cli, j.format()).await,
        Cmd::Canary { action } => canary::run(cli, action).await,
        Cmd::Previews { action } => previews::run(cli, action).await,
        Cmd::Main { action } => main_status::run(cli, action).await,
        Cmd::Slo { action } => slo::run(cli, action).await,
        Cmd::Plan { action } => plan::run(cli, action).await,
        Cmd::Evidence { action } => evidence::run(cli, action).await,
        Cmd::Audit { action } => audit::run(cli, action).await,
        Cmd::Drive { health, releases } => drive::run(cli, *health, releases).await,
        Cmd::Init { force } => init::run(cli, *force).await,
        Cmd::Completions { shell } => manual::completions(*shell),
        Cmd::Man { out } => manual::man(out.as_deref()),
        Cmd::Info(j) => info::run(cli, j).await,
    }
}

/// Turn a command into a confirmed one: `--yes`, or a human at a terminal who says yes
/// (typing the release or the count where the console would ask for it). Without either,
/// refuse: a script must say `--yes` to change anything.
pub fn confirm(command: Command, proposal: &Proposal, m: &Mutate) -> Result<Confirmed> {
    let mut reason = m.reason.clone().filter(|r| !r.trim().is_empty());
    if m.yes {
        if proposal.reason_required && reason.is_none() {
            bail!("{} needs a reason: pass --reason TEXT", proposal.action);
        }
        return Ok(Confirmed {
            command,
            reason,
            confirmation: Confirmation::YesFlag,
            seen: Some(proposal.from.clone()),
        });
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!(
            "refusing to {} without a terminal to confirm on: pass --yes{} to do it anyway",
            proposal.action,
            if proposal.reason_required && reason.is_none() {
                " --reason TEXT"
            } else {
                ""
            }
        );
    }
    let mut out = std::io::stderr();
    writeln!(
        out,
        "{}\n  target: {}\n  change: {} → {}",
        proposal.title, proposal.target, proposal.from, proposal.to
    )?;
    for e in &proposal.effects {
        writeln!(out, "  - {e}")?;
    }
    let mut ask = |q: &str| -> Result<String> {
        write!(out, "{q}")?;
        out.flush()?;
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        Ok(line.trim().to_string())
    };
    if proposal.reason_required && reason.is_none() {
        let r = ask("reason (required): ")?;
        if r.is_empty() {
            bail!("{} needs a reason", proposal.action);
        }
        reason = Some(r);
    }
    let confirmation = match &proposal.typed {
        Some(expected) => {
            if ask(&format!("type {expected} to confirm: "))? != *expected {
                bail!("not confirmed: nothing was done");
            }
            Confirmation::Typed
        }
        None => {
            if !matches!(ask("proceed? [y/N] ")?.as_str(), "y" | "Y" | "yes") {
                bail!("not confirmed: nothing was done");
            }
            Confirmation::Dialog
        }
    };
    Ok(Confirmed {
        command,
        reason,
        confirmation,
        seen: Some(proposal.from.clone()),
    })
}

/// Print an action's outcome; exit 0 when it was done, 1 when it failed or was refused.
pub fn report(outcome: &Outcome, format: out::Format) -> Result<ExitCode> {
    if !out::structured(format, outcome)? {
        let verdict = if outcome.ok { "done" } else { "FAILED" };
        say!(
            "{} {}: {verdict}: {}",
            outcome.action,
            outcome.target,
            outcome.message
        );
    }
    Ok(ExitCode::from(if outcome.ok { 0 } else { 1 }))
}
