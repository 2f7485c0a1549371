//! `captain plan show`.

use std::process::ExitCode;

use color_eyre::eyre::Result;

use crate::cli::{Cli, PlanCmd};
use crate::launch::Settings;

pub fn run(cli: &Cli, cmd: &PlanCmd) -> Result<ExitCode> {
    let PlanCmd::Show(j) = cmd;
    let plan = Settings::load(cli)?.plan()?;
    if j.json {
        println!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        for p in &plan.phases {
            println!(
                "{:>2} {:<45} {:<16} {}",
                p.id,
                p.title,
                p.owner.label(),
                p.days_label()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
