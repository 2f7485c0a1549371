//! `captain.toml`: where the release, cluster, forge and metrics are, and local preferences.
//! The keys of SPEC §5 are the stable core of this schema.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{ConfigError, Span};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppConfig {
    pub kube: KubeConfig,
    pub release: ReleaseConfig,
    pub traffic: TrafficConfig,
    pub github: GithubConfig,
    pub prometheus: PrometheusConfig,
    pub slo: SloFileConfig,
    pub previews: PreviewConfig,
    pub plan: PlanConfig,
    pub ui: UiConfig,
    pub timeouts: TimeoutsConfig,
    /// Action name → key, e.g. `rollback = "ctrl-r"`; see `docs/keybindings.md`.
    #[serde(deserialize_with = "super::checks::key_bindings")]
    pub keys: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KubeConfig {
    pub context: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReleaseConfig {
    #[serde(deserialize_with = "super::checks::release_name")]
    pub name: String,
    #[serde(deserialize_with = "super::checks::namespace")]
    pub namespace: String,
    #[serde(deserialize_with = "super::checks::namespace")]
    pub stage_namespace: String,
}

impl Default for ReleaseConfig {
    fn default() -> Self {
        Self {
            name: "summit".into(),
            namespace: "prod".into(),
            stage_namespace: "stage".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrafficConfig {
    pub kind: TrafficKind,
    #[serde(deserialize_with = "super::checks::route")]
    pub route: String,
}

impl Default for TrafficConfig {
    fn default() -> Self {
        Self {
            kind: TrafficKind::GatewayApi,
            route: "summit".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrafficKind {
    GatewayApi,
    IngressNginx,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GithubConfig {
    #[serde(deserialize_with = "super::checks::repo")]
    pub repo: String,
    #[serde(deserialize_with = "super::checks::url")]
    pub api_url: String,
}

impl Default for GithubConfig {
    fn default() -> Self {
        Self {
            repo: "acme/summit".into(),
            api_url: "https://api.github.com".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrometheusConfig {
    #[serde(deserialize_with = "super::checks::url")]
    pub url: String,
}

impl Default for PrometheusConfig {
    fn default() -> Self {
        Self {
            url: "http://prometheus.monitoring:9090".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SloFileConfig {
    pub file: PathBuf,
}

impl Default for SloFileConfig {
    fn default() -> Self {
        Self {
            file: ".ci/config/slo.yml".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PreviewConfig {
    /// Previews are namespaces named exactly `<prefix><pull request number>`.
    #[serde(deserialize_with = "preview_prefix")]
    pub prefix: String,
    #[serde(deserialize_with = "preview_ttl")]
    pub ttl: Span,
}

/// Checked as it is read, so the error points at the value in the file.
fn preview_prefix<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let prefix = String::deserialize(d)?;
    match crate::engine::previews::prefix_problem(&prefix) {
        Some(problem) => Err(serde::de::Error::custom(problem)),
        None => Ok(prefix),
    }
}

fn preview_ttl<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Span, D::Error> {
    let ttl = Span::deserialize(d)?;
    let min = crate::engine::previews::MIN_TTL;
    if ttl.0 < min {
        return Err(serde::de::Error::custom(format!(
            "a preview TTL of {ttl} would clean previews still in use; expected at least {}",
            Span(min)
        )));
    }
    Ok(ttl)
}

impl Default for PreviewConfig {
    fn default() -> Self {
        Self {
            prefix: "pr-".into(),
            ttl: Span::secs(3 * 86_400),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlanConfig {
    pub file: String,
}

impl Default for PlanConfig {
    fn default() -> Self {
        Self {
            file: "builtin".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    pub theme: Option<String>,
    pub read_only: bool,
    /// Ring the terminal's bell on a breach and on any automatic action (default on).
    pub bell: bool,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            theme: None,
            read_only: false,
            bell: true,
        }
    }
}

/// How long captain waits on the cluster, GitHub and Prometheus (see
/// `docs/configuration.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeoutsConfig {
    /// A headless command that only reads gets this for all its remote calls together;
    /// the console, `canary run` and commands that change something get it per call.
    #[serde(deserialize_with = "super::checks::positive_span")]
    pub budget: Span,
}

impl Default for TimeoutsConfig {
    fn default() -> Self {
        Self {
            budget: Span(crate::sources::deadline::DEFAULT_BUDGET),
        }
    }
}

impl AppConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = super::source::read(path)?;
        Self::parse(path, &text)
    }

    pub fn parse(origin: &Path, text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::from_toml(origin, text, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specs_example_parses() {
        let text = r#"
[kube]
context = "prod-admin"
[release]
name = "summit"
namespace = "prod"
stage_namespace = "stage"
[traffic]
kind = "gateway-api"
route = "summit"
[github]
repo = "acme/summit"
api_url = "https://api.github.com"
[prometheus]
url = "http://prometheus.monitoring:9090"
[slo]
file = ".ci/config/slo.yml"
[previews]
prefix = "pr-"
ttl = "3d"
[plan]
file = "builtin"
"#;
        let cfg = AppConfig::parse(Path::new("captain.toml"), text).unwrap();
        assert_eq!(cfg.kube.context.as_deref(), Some("prod-admin"));
        assert_eq!(cfg.previews.ttl, Span::secs(3 * 86_400));
    }

    #[test]
    fn names_repositories_and_urls_are_checked_at_load_with_their_position() {
        for (table, key, value, says) in [
            ("release", "name", "", "the release"),
            ("release", "name", "Summit", "the release"),
            ("release", "namespace", "prod_eu", "the namespace"),
            ("release", "stage_namespace", "-stage", "the namespace"),
            ("traffic", "route", "summit..canary", "the route"),
            ("github", "repo", "summit", "owner/name"),
            ("github", "repo", "acme/", "owner/name"),
            ("github", "api_url", "api.github.com", "not a URL"),
            (
                "github",
                "api_url",
                "ftp://ghe.example.com/api/v3",
                "http(s)",
            ),
            ("prometheus", "url", "http://", "not a URL"),
        ] {
            let text = format!("[{table}]\n{key} = {value:?}\n");
            let err = AppConfig::parse(Path::new("captain.toml"), &text)
                .expect_err(&format!("{table}.{key} = {value:?}"));
            let column = key.len() + 4;
            assert_eq!((err.line, err.column), (Some(2), Some(column)), "{err}");
            assert!(
                err.message.contains(says),
                "{table}.{key} = {value:?}: {err}"
            );
        }
        let good = "[release]\nname = \"summit\"\nnamespace = \"prod\"\n[traffic]\nroute = \"summit\"\n\
                    [github]\nrepo = \"acme/summit.web\"\napi_url = \"https://ghe.example.com/api/v3\"\n\
                    [prometheus]\nurl = \"http://prometheus.monitoring:9090\"\n";
        AppConfig::parse(Path::new("captain.toml"), good).unwrap();
    }

    #[test]
    fn a_preview_prefix_without_a_separator_is_rejected_at_its_value() {
        for (prefix, column) in [("pr", 10), ("", 10), ("pr-x", 10)] {
            let text = format!("[previews]\nprefix = {prefix:?}\nttl = \"3d\"\n");
            let err = AppConfig::parse(Path::new("captain.toml"), &text).unwrap_err();
            assert_eq!((err.line, err.column), (Some(2), Some(column)), "{err}");
            assert!(err.message.contains("preview prefix"), "{err}");
            assert!(err.to_string().starts_with("captain.toml:2:10: "), "{err}");
        }
        let text = "[previews]\nprefix = \"preview_\"\n";
        let cfg = AppConfig::parse(Path::new("captain.toml"), text).unwrap();
        assert_eq!(cfg.previews.prefix, "preview_");
    }

    #[test]
    fn a_preview_ttl_under_an_hour_is_rejected_at_its_value() {
        for ttl in ["0s", "59m 59s"] {
            let text = format!("[previews]\nprefix = \"pr-\"\nttl = {ttl:?}\n");
            let err = AppConfig::parse(Path::new("captain.toml"), &text).unwrap_err();
            assert_eq!((err.line, err.column), (Some(3), Some(7)), "{err}");
            assert!(err.message.contains("at least 1h"), "{err}");
        }
        let text = "[previews]\nttl = \"1h\"\n";
        let cfg = AppConfig::parse(Path::new("captain.toml"), text).unwrap();
        assert_eq!(cfg.previews.ttl, Span::secs(3600));
    }

    #[test]
    fn a_misspelt_key_is_rejected_with_line_and_column() {
        let text = "[release]\nname = \"summit\"\nnamespce = \"prod\"\n";
        let err = AppConfig::parse(Path::new("captain.toml"), text).unwrap_err();
        assert_eq!((err.line, err.column), (Some(3), Some(1)), "{err}");
        assert!(err.message.contains("unknown field `namespce`"), "{err}");
    }

    #[test]
    fn the_timeout_budget_is_30s_unless_set_and_a_bad_one_is_pointed_at() {
        let none = AppConfig::parse(Path::new("captain.toml"), "").unwrap();
        assert_eq!(none.timeouts.budget, Span::secs(30));
        let set = AppConfig::parse(Path::new("captain.toml"), "[timeouts]\nbudget = \"5s\"\n");
        assert_eq!(set.unwrap().timeouts.budget, Span::secs(5));
        let text = "[timeouts]\nbudget = \"soon\"\n";
        let err = AppConfig::parse(Path::new("captain.toml"), text).unwrap_err();
        assert_eq!((err.line, err.column), (Some(2), Some(10)), "{err}");
        assert!(err.message.contains("not a duration"), "{err}");
    }
}
