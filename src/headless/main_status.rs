//! `captain main status` (exit 0 green, 1 red, 3 could not evaluate) and `captain main
//! sentinel`.

use std::process::ExitCode;

use color_eyre::eyre::Result;

use crate::cli::{Cli, Json, MainCmd};
use crate::engine::main_health::Overall;
use crate::launch::Settings;
use crate::sources::first_reading;

pub async fn run(cli: &Cli, cmd: &MainCmd) -> Result<ExitCode> {
    match cmd {
        MainCmd::Status(j) => status(cli, j).await,
        MainCmd::Sentinel { dry_run, m, j } => super::sentinel::run(cli, *dry_run, m, j).await,
    }
}

async fn status(cli: &Cli, j: &Json) -> Result<ExitCode> {
    let settings = Settings::load(cli)?;
    let forge = match crate::launch::forge(cli, &settings).await? {
        Ok(f) => f,
        Err(e) => {
            say_err!("main: could not evaluate: {e}");
            return Ok(ExitCode::from(3));
        }
    };
    let within = crate::launch::budget(cli, &settings.config)?.limit();
    let health = match first_reading(forge.main_health(), within).await {
        Ok(h) => h,
        Err(e) => {
            say_err!("main: could not evaluate: GitHub: {e}");
            return Ok(ExitCode::from(3));
        }
    };
    let overall = health.overall();
    let out = serde_json::json!({ "overall": overall, "health": &*health });
    if !super::out::structured(j.format(), &out)? {
        let word = match overall {
            Overall::Green => "green",
            Overall::Pending => "pending",
            Overall::Red { .. } => "RED",
        };
        say!(
            "main {} at {}: {word}",
            &health.head.sha[..7.min(health.head.sha.len())],
            health.head.at
        );
        let mut checks = super::out::Table::new(
            j.format(),
            &[("CHECK", false), ("STATE", false), ("SINCE", true)],
        );
        for c in &health.checks {
            checks.row(vec![
                c.name.clone(),
                c.state.label().to_string(),
                c.since.map_or("-".into(), |t| t.to_rfc3339()),
            ]);
        }
        checks.print("no required checks");
        if health.frozen.is_some() {
            say!("  frozen/rollback present: the train is paused");
        }
    }
    Ok(ExitCode::from(match overall {
        Overall::Green => 0,
        Overall::Red { .. } => 1,
        Overall::Pending => 3,
    }))
}
