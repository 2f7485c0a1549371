//! `captain main sentinel`: the seed's clean-main-sentinel, from a terminal or from CI.
//! It needs the forge and the journal, nothing of the cluster.

use std::process::ExitCode;

use color_eyre::eyre::{Result, WrapErr};
use serde_json::json;

use super::{confirm, report};
use crate::cli::{Cli, Json, Mutate};
use crate::engine::sentinel;
use crate::launch::Settings;
use crate::ops::Command;
use crate::ops::audit::{Actor, Journal};
use crate::sources::first_reading;

pub async fn run(cli: &Cli, dry_run: bool, m: &Mutate, j: &Json) -> Result<ExitCode> {
    let settings = crate::launch::Settings::load(cli)?;
    let forge = match crate::launch::forge(cli, &settings).await? {
        Ok(f) => f,
        Err(e) => {
            say_err!("sentinel: could not evaluate: {e}");
            return Ok(ExitCode::from(3));
        }
    };
    let within = crate::launch::budget(cli, &settings.config)?.limit();
    let health = match first_reading(forge.main_health(), within).await {
        Ok(h) => h,
        Err(e) => {
            say_err!("sentinel: could not read main: {e}");
            return Ok(ExitCode::from(3));
        }
    };
    // Asked now rather than taken from main's reading: the labels are what is changed.
    let pulls = match forge.open_pulls().await {
        Ok(p) => p,
        Err(e) => {
            say_err!("sentinel: could not list open pull requests: {e}");
            return Ok(ExitCode::from(3));
        }
    };
    let (why, relabel) = sentinel::plan(health.overall(), &pulls);
    if dry_run || relabel.is_empty() {
        let out = json!({"dry_run": dry_run, "why": why, "relabel": relabel});
        if super::out::structured(j.format(), &out)? {
        } else if relabel.is_empty() {
            say!("{}: no label to change", why.label());
        } else {
            for n in &relabel.label {
                say!("would label #{n} freeze/main-red ({})", why.label());
            }
            for n in &relabel.unlabel {
                say!("would take freeze/main-red off #{n} ({})", why.label());
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let command = Command::Sentinel {
        why,
        relabel: relabel.clone(),
    };
    let settings = Settings::load(cli)?;
    if settings.read_only {
        say_err!("sentinel: read-only: no label is changed");
        return Ok(ExitCode::from(1));
    }
    let proposal = command.propose(None);
    let confirmed = confirm(command, &proposal, m)?;
    let path = settings.audit_path();
    let mut journal = Journal::open(&path)
        .wrap_err_with(|| format!("the audit journal {} cannot be used", path.display()))?;
    let outcome = crate::ops::sentinel::execute(
        forge.as_ref(),
        &mut journal,
        &Actor::local(),
        &relabel,
        &confirmed,
    )
    .await?;
    report(&outcome, j.format())
}
