//! `captain info`: every path captain reads and writes.

use std::process::ExitCode;

use color_eyre::eyre::Result;

use crate::cli::Cli;
use crate::launch::Settings;
use crate::paths;

pub fn run(cli: &Cli) -> Result<ExitCode> {
    let s = Settings::load(cli)?;
    let show = |p: &std::path::Path| p.display().to_string();
    say!(
        "config:      {}",
        s.config_path
            .as_deref()
            .map_or("(none found: defaults)".into(), show)
    );
    say!("state dir:   {}", show(&paths::state_dir()));
    say!("audit:       {}", show(&paths::audit_file(false)));
    say!("demo audit:  {}", show(&paths::audit_file(true)));
    say!("log:         {}", show(&paths::log_file()));
    say!("plan state:  {}", show(&paths::plan_state_file()));
    say!(
        "themes:      built-in default, light, high-contrast; user themes in {}",
        paths::user_theme_dir()
            .as_deref()
            .map_or("(no config dir)".into(), show)
    );
    say!("slo file:    {}", show(&s.config.slo.file));
    say!("plan:        {}", s.config.plan.file);
    Ok(ExitCode::SUCCESS)
}
