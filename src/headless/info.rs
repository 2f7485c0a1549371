//! `captain info`: every path captain reads and writes.

use std::process::ExitCode;

use color_eyre::eyre::Result;

use crate::cli::Cli;
use crate::launch::Settings;
use crate::paths;

pub fn run(cli: &Cli) -> Result<ExitCode> {
    let s = Settings::load(cli)?;
    let show = |p: &std::path::Path| p.display().to_string();
    println!(
        "config:      {}",
        s.config_path
            .as_deref()
            .map_or("(none found: defaults)".into(), show)
    );
    println!("state dir:   {}", show(&paths::state_dir()));
    println!("audit:       {}", show(&paths::audit_file(false)));
    println!("demo audit:  {}", show(&paths::audit_file(true)));
    println!("log:         {}", show(&paths::log_file()));
    println!("plan state:  {}", show(&paths::plan_state_file()));
    println!(
        "themes:      built-in default, light, high-contrast; user themes in {}",
        paths::user_theme_dir()
            .as_deref()
            .map_or("(no config dir)".into(), show)
    );
    println!("slo file:    {}", show(&s.config.slo.file));
    println!("plan:        {}", s.config.plan.file);
    Ok(ExitCode::SUCCESS)
}
