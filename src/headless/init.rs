//! `captain init`: a starter `captain.toml` and `.ci/config/slo.yml`, each checked by the
//! same loaders the console uses, and beside slo.yml the Prometheus rules and the Grafana
//! dashboard it makes; never overwriting a file without `--force`.

use std::path::Path;
use std::process::ExitCode;

use color_eyre::eyre::{Result, WrapErr, bail};

use crate::config::app::AppConfig;
use crate::config::slo::SloConfig;

const CAPTAIN_TOML: &str = include_str!("starter.toml");
const SLO_YML: &str = include_str!("../../.ci/config/slo.yml");

pub fn run(force: bool) -> Result<ExitCode> {
    // All checked and made before any is written: init never leaves half a setup behind.
    AppConfig::parse(Path::new("captain.toml"), CAPTAIN_TOML)?;
    let slo = SloConfig::parse(Path::new(".ci/config/slo.yml"), SLO_YML)?;
    // Beside slo.yml, as `slo rules` and `slo dashboard` write them.
    let rules = crate::slo_rules::rules::text(&slo, "slo.yml")?;
    let dashboard = crate::slo_rules::dashboard::text(&slo)?;
    let rules_path = Path::new(".ci/config").join(super::slo_rules::RULES_FILE);
    let dashboard_path = Path::new(".ci/config").join(super::slo_rules::DASHBOARD_FILE);
    let files = [
        (Path::new("captain.toml"), CAPTAIN_TOML),
        (Path::new(".ci/config/slo.yml"), SLO_YML),
        (rules_path.as_path(), rules.as_str()),
        (dashboard_path.as_path(), dashboard.as_str()),
    ];
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
