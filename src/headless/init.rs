//! `captain init`: a starter `captain.toml` and `.ci/config/slo.yml`, each checked by the
//! same loaders the console uses, and beside slo.yml the Prometheus rules and the Grafana
//! dashboard it makes; never overwriting a file without `--force`. The GitHub repository
//! and the kube context and namespace are those found here (`init_targets`), placeholders
//! only where none is.

use std::path::Path;
use std::process::ExitCode;

use color_eyre::eyre::{Result, WrapErr, bail};

use super::init_targets::{self, Found};
use crate::config::app::AppConfig;
use crate::config::slo::SloConfig;

const CAPTAIN_TOML: &str = include_str!("starter.toml");
const SLO_YML: &str = include_str!("../../.ci/config/slo.yml");

/// The starter's lines each found value replaces.
const REPO_LINE: &str = "repo = \"acme/summit\"\n";
const API_LINE: &str =
    "api_url = \"https://api.github.com\"   # GitHub Enterprise: its /api/v3 URL\n";
const CONTEXT_LINE: &str =
    "# context = \"prod-admin\"          # default: the current context; KUBECONFIG is honoured\n";
const NAMESPACE_LINE: &str = "namespace = \"prod\"\n";

pub async fn run(cli: &crate::cli::Cli, force: bool) -> Result<ExitCode> {
    let (captain_toml, notes) = starter(cli.context.as_deref()).await;
    // All checked and made before any is written: init never leaves half a setup behind.
    AppConfig::parse(Path::new("captain.toml"), &captain_toml)?;
    let slo = SloConfig::parse(Path::new(".ci/config/slo.yml"), SLO_YML)?;
    // Beside slo.yml, as `slo rules` and `slo dashboard` write them.
    let rules = crate::slo_rules::rules::text(&slo, "slo.yml")?;
    let dashboard = crate::slo_rules::dashboard::text(&slo)?;
    let rules_path = Path::new(".ci/config").join(super::slo_rules::RULES_FILE);
    let dashboard_path = Path::new(".ci/config").join(super::slo_rules::DASHBOARD_FILE);
    let files = [
        (Path::new("captain.toml"), captain_toml.as_str()),
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
    for note in notes {
        say!("  {note}");
    }
    say!(
        "check [release], [traffic], [github] and [prometheus] in captain.toml, then run `captain`"
    );
    Ok(ExitCode::SUCCESS)
}

/// The starter captain.toml with what was found here in place of its placeholders, and a
/// line for each value saying where it came from (or why the placeholder stayed).
async fn starter(context: Option<&str>) -> (String, Vec<String>) {
    let mut text = CAPTAIN_TOML.to_string();
    let mut notes = Vec::new();
    let put = |text: &mut String, notes: &mut Vec<String>, old: &str, key: &str, found: &Found| {
        let value = toml_string(&found.value);
        // A context's name is the kubeconfig's: nothing in it may end the comment's line.
        let from = found.from.replace(char::is_control, " ");
        let line = format!("{key} = {value}   # found by captain init: {from}\n");
        *text = text.replacen(old, &line, 1);
        notes.push(format!("{key} = {value}: from {}", found.from));
    };
    match init_targets::repository() {
        Ok((repo, api)) => {
            put(&mut text, &mut notes, REPO_LINE, "repo", &repo);
            if let Some(api) = api {
                let from = Found {
                    value: api,
                    from: repo.from.clone(),
                };
                put(&mut text, &mut notes, API_LINE, "api_url", &from);
            }
        }
        Err(why) => notes.push(format!("repo = \"acme/summit\": a placeholder: {why}")),
    }
    match init_targets::kube_context(context).await {
        Ok((ctx, namespace)) => {
            put(&mut text, &mut notes, CONTEXT_LINE, "context", &ctx);
            match namespace {
                Some(ns) => put(&mut text, &mut notes, NAMESPACE_LINE, "namespace", &ns),
                None => notes.push(format!(
                    "namespace = \"prod\": a placeholder: kube context {} names no namespace",
                    ctx.value
                )),
            }
        }
        Err(why) => notes.push(format!(
            "context: the current one when captain runs; namespace = \"prod\": a placeholder: {why}"
        )),
    }
    (text, notes)
}

/// `value` as a TOML basic string.
fn toml_string(value: &str) -> String {
    toml::Value::String(value.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_has_every_line_init_fills_in() {
        for line in [REPO_LINE, API_LINE, CONTEXT_LINE, NAMESPACE_LINE] {
            assert_eq!(CAPTAIN_TOML.matches(line).count(), 1, "{line}");
        }
    }
}
