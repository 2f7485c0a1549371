//! `captain slo rules`, `captain slo dashboard` and `captain slo burn-drill`: the
//! Prometheus rules and the Grafana dashboard slo.yml makes, written beside it (or where
//! `--out` says, or to stdout with `-`) and never over a file that differs without
//! `--force`; and the synthetic burn drill that proves the page alert fires
//! (`docs/slo.md`, "Rules and dashboards"; `docs/runbook.md`, "The burn drill").

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use color_eyre::eyre::{Result, WrapErr};

use crate::cli::{BurnDrill, Cli, Generate};
use crate::config::slo::SloConfig;
use crate::launch::{Session, Settings};
use crate::ops::audit::{self, Actor, Entry, Journal, Phase};
use crate::ops::probes::alerting::{Expected, alert_firing, group_loaded};
use crate::slo_rules::{BURN_ALERT, GROUP, dashboard, rules};
use crate::sources::Metrics;
use crate::sources::alerting::LoadedGroup;

/// The names written beside slo.yml.
pub const RULES_FILE: &str = "slo-rules.yml";
pub const DASHBOARD_FILE: &str = "slo-dashboard.json";

pub fn rules(cli: &Cli, g: &Generate) -> Result<ExitCode> {
    let (slo, origin, dir) = source(cli)?;
    if let Some(why) = rules::alerts_left_out(&slo) {
        say_err!("slo rules: {why}");
    }
    write(&rules::text(&slo, &origin)?, g, dir, RULES_FILE)
}

pub fn dashboard(cli: &Cli, g: &Generate) -> Result<ExitCode> {
    let (slo, _, dir) = source(cli)?;
    write(&dashboard::text(&slo)?, g, dir, DASHBOARD_FILE)
}

/// The slo.yml to generate from, its name for the header, and the directory it is in; the
/// demo world's embedded file is in none, so what it makes goes to stdout unless `--out`
/// says where.
fn source(cli: &Cli) -> Result<(SloConfig, String, Option<PathBuf>)> {
    let settings = Settings::load(cli)?;
    if settings.demo.is_some() {
        return Ok((
            crate::sim::demo_slo(),
            "the demo world's slo.yml".into(),
            None,
        ));
    }
    let path = settings.slo_path();
    let slo = SloConfig::load(&path)?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok((slo, name, Some(dir)))
}

/// Write `text` where `--out` says: `-` is stdout, a directory gets `name` in it. A file
/// that already holds `text` is left alone; one that differs is kept unless `--force`.
fn write(text: &str, g: &Generate, dir: Option<PathBuf>, name: &str) -> Result<ExitCode> {
    let path = match (&g.out, dir) {
        (Some(p), _) if p.as_os_str() == "-" => None,
        // A directory, or one still to be made (`--out monitoring/`).
        (Some(p), _) if p.is_dir() || p.as_os_str().to_string_lossy().ends_with('/') => {
            Some(p.join(name))
        }
        (Some(p), _) => Some(p.clone()),
        (None, Some(d)) => Some(d.join(name)),
        (None, None) => None,
    };
    let Some(path) = path else {
        say!("{}", text.trim_end_matches('\n'));
        return Ok(ExitCode::SUCCESS);
    };
    let existed = match std::fs::read(&path) {
        Ok(old) if old == text.as_bytes() => {
            say!(
                "{} is already what slo.yml makes: unchanged",
                path.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        Ok(_) if !g.force => {
            say_err!(
                "{} exists and differs from what slo.yml makes now: not overwritten (--force overwrites it)",
                path.display()
            );
            return Ok(ExitCode::from(1));
        }
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(e).wrap_err_with(|| format!("reading {}", path.display())),
    };
    if let Some(parent) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .wrap_err_with(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(&path, text).wrap_err_with(|| format!("writing {}", path.display()))?;
    say!(
        "{} {}",
        if existed { "overwrote" } else { "wrote" },
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// What the drill found, for `--json`.
#[derive(serde::Serialize)]
struct DrillReport {
    group: String,
    alert: String,
    fired: bool,
    evidence: String,
    waited_seconds: u64,
}

/// Check that the rule group slo.yml makes is loaded and healthy, journal the drill's
/// start, wait for the alert while the team burns the budget, and journal what fired.
pub async fn burn_drill(cli: &Cli, d: &BurnDrill) -> Result<ExitCode> {
    let settings = Settings::load(cli)?;
    let (slo, metrics): (SloConfig, Arc<dyn Metrics>) = if settings.demo.is_some() {
        let session = Session::open(cli).await?;
        (session.slo.clone(), session.backends.metrics.clone())
    } else {
        let slo = settings.slo()?;
        match crate::launch::live_metrics(&settings, &slo) {
            Ok(m) => (slo, m),
            Err(e) => {
                say_err!("burn drill: could not evaluate: {e:#}");
                return Ok(ExitCode::from(3));
            }
        }
    };
    let expected = Expected::of(&slo);
    let labels = BTreeMap::from([("severity".to_string(), d.severity.clone())]);
    let wanted = format!("{BURN_ALERT}{{severity={:?}}}", d.severity);
    let poll = slo
        .rollout
        .interval
        .0
        .clamp(Duration::from_secs(1), Duration::from_secs(5));
    let started = Instant::now();
    // With --json, stdout holds the report alone: the progress goes to stderr.
    let progress = |line: String| {
        if d.j.format().is_structured() {
            say_err!("{line}");
        } else {
            say!("{line}");
        }
    };

    // The group first: a drill against rules that are not loaded proves nothing.
    let groups = loop {
        let groups = match metrics.rule_groups(chrono::Utc::now()).await {
            Ok(g) => g,
            Err(e) => {
                say_err!("burn drill: could not evaluate: {e}");
                return Ok(ExitCode::from(3));
            }
        };
        let loaded = group_loaded(&groups, GROUP, &expected);
        if loaded.passed {
            progress(format!("rule group {GROUP}: {}", loaded.evidence));
            break groups;
        }
        // Rules loaded a moment ago have not been evaluated yet: that settles by itself.
        if !settling(&groups) || started.elapsed() >= d.wait.0 {
            say_err!("burn drill: {}", loaded.evidence);
            return report(d, &wanted, false, loaded.evidence, started);
        }
        tokio::time::sleep(poll).await;
    };

    let path = settings.audit_path();
    let mut journal = Journal::open(&path)
        .wrap_err_with(|| format!("the audit journal {} cannot be used", path.display()))?;
    let begun = journal.begin(Entry {
        phase: Phase::Intent,
        trace_id: audit::trace_id(),
        actor: Actor::local(),
        action: "burn-drill".into(),
        target: format!("rule group {GROUP}"),
        from: format!("{wanted} calm"),
        to: format!("{wanted} firing"),
        reason: Some("synthetic error-budget burn: the generated alerts must fire".into()),
        confirmation: "none: it changes nothing".into(),
        slo: None,
        result: None,
    })?;
    progress(format!(
        "waiting up to {} for {wanted} to fire: burn the error budget now (docs/runbook.md, \"The burn drill\")",
        d.wait
    ));
    let mut finding = alert_firing(&groups, BURN_ALERT, &labels);
    let mut last = String::new();
    while !finding.passed && started.elapsed() < d.wait.0 {
        if finding.evidence != last {
            progress(format!("  {}", finding.evidence));
            last = finding.evidence.clone();
        }
        tokio::time::sleep(poll.min(d.wait.0.saturating_sub(started.elapsed()))).await;
        finding = match metrics.rule_groups(chrono::Utc::now()).await {
            Ok(groups) => alert_firing(&groups, BURN_ALERT, &labels),
            // A failed read is not the end of a drill that may take minutes: the next
            // poll may answer, and the deadline still holds.
            Err(e) => crate::sources::Finding::fail(format!("could not read the rules: {e}")),
        };
    }
    let outcome = if finding.passed {
        Ok(format!("fired: {}", finding.evidence))
    } else {
        Err(format!(
            "{wanted} did not fire within {}: {}",
            d.wait, finding.evidence
        ))
    };
    let outcome = journal.settle(begun, outcome)?;
    progress(format!(
        "burn drill {}: {} (journalled in {})",
        if outcome.ok { "passed" } else { "FAILED" },
        outcome.message,
        path.display()
    ));
    report(d, &wanted, outcome.ok, outcome.message, started)
}

/// Some rule of the group has not been evaluated since it was loaded.
fn settling(groups: &[LoadedGroup]) -> bool {
    groups
        .iter()
        .filter(|g| g.name == GROUP)
        .flat_map(|g| &g.rules)
        .any(|r| r.health == "unknown")
}

fn report(
    d: &BurnDrill,
    wanted: &str,
    fired: bool,
    evidence: String,
    started: Instant,
) -> Result<ExitCode> {
    let r = DrillReport {
        group: GROUP.into(),
        alert: wanted.into(),
        fired,
        evidence,
        waited_seconds: started.elapsed().as_secs(),
    };
    super::out::structured(d.j.format(), &r)?;
    Ok(ExitCode::from(if fired { 0 } else { 1 }))
}
