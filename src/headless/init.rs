//! `captain init`: a starter `captain.toml` and `.ci/config/slo.yml`, each checked by the
//! same loaders the console uses, never overwriting a file without `--force`.

use std::path::Path;
use std::process::ExitCode;

use color_eyre::eyre::{Result, WrapErr, bail};

use crate::config::app::AppConfig;
use crate::config::slo::SloConfig;

const CAPTAIN_TOML: &str = include_str!("starter.toml");
const SLO_YML: &str = include_str!("../../.ci/config/slo.yml");

pub fn run(force: bool) -> Result<ExitCode> {
    let files = [
        (Path::new("captain.toml"), CAPTAIN_TOML),
        (Path::new(".ci/config/slo.yml"), SLO_YML),
    ];
    // Both checked before either is written: init never leaves half a setup behind.
    AppConfig::parse(Path::new("captain.toml"), CAPTAIN_TOML)?;
    SloConfig::parse(Path::new(".ci/config/slo.yml"), SLO_YML)?;
    if !force {
        let present: Vec<String> = files
            .iter()
            .filter(|(p, _)| p.exists())
            .map(|(p, _)| p.display().to_string())
            .collect();
        if !present.is_empty() {
            bail!(
                "{} already exist: nothing written (--force overwrites)",
                present.join(" and ")
            );
        }
    }
    for (path, text) in files {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).wrap_err_with(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(path, text).wrap_err_with(|| format!("writing {}", path.display()))?;
        say!("wrote {}", path.display());
    }
    say!(
        "edit [release], [traffic], [github] and [prometheus] in captain.toml, then run `captain`"
    );
    Ok(ExitCode::SUCCESS)
}
