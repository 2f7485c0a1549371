//! `captain.toml`: where the release, cluster, forge and metrics are, and local preferences.
//! The keys documented in `docs/configuration.md` are the stable core of this schema.

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
    pub lease: LeaseConfig,
    pub grafana: GrafanaConfig,
    pub cosign: CosignConfig,
    /// Where breaches, rollbacks, pauses and resumes are posted, if anywhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify: Option<NotifyConfig>,
    /// Where every action's span is exported (OTLP/HTTP), if anywhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otel: Option<OtelConfig>,
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

/// Where `grafana.dashboard` probes look; the token comes from `$GRAFANA_TOKEN`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GrafanaConfig {
    #[serde(deserialize_with = "super::checks::some_url")]
    pub url: Option<String>,
}

/// What `cosign.verified` probes verify with unless they name it: a public key, or for
/// keyless signatures the identity and OIDC issuer that must have signed, Fulcio's roots
/// and Rekor's key. Files are relative to the config file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CosignConfig {
    pub public_key: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fulcio_roots: Option<toml::Spanned<PathBuf>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rekor_public_key: Option<toml::Spanned<PathBuf>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_identity: Option<toml::Spanned<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_identity_regexp: Option<toml::Spanned<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_oidc_issuer: Option<toml::Spanned<String>>,
}

impl CosignConfig {
    /// The keyless identity probes expect unless they name one.
    pub fn identity(&self) -> Option<crate::sources::cosign::keyless::Identity> {
        use crate::sources::cosign::keyless::{Identity, Subject};
        let subject = match (
            &self.certificate_identity,
            &self.certificate_identity_regexp,
        ) {
            (Some(i), _) => Subject::Exact(i.get_ref().clone()),
            (None, Some(r)) => Subject::Pattern(r.get_ref().clone()),
            (None, None) => return None,
        };
        Some(Identity {
            subject,
            issuer: self.certificate_oidc_issuer.as_ref()?.get_ref().clone(),
        })
    }

    /// The checks that need more than one key, or the files the keys name (read relative to
    /// `dir`, when given): each error points at its key in `text`.
    fn check(&self, origin: &Path, text: &str, dir: Option<&Path>) -> Result<(), ConfigError> {
        let at = |span: std::ops::Range<usize>, message: String| {
            let (line, column) = super::error::line_column(text, span.start);
            ConfigError::new(origin, message).at(line, column)
        };
        if let Some(r) = &self.certificate_identity_regexp {
            if let Err(e) = regex::Regex::new(r.get_ref()) {
                let why = e.to_string();
                let why = why.lines().last().unwrap_or("").trim();
                return Err(at(
                    r.span(),
                    format!(
                        "expected a regular expression, found {:?} ({why})",
                        r.get_ref()
                    ),
                ));
            }
            if let Some(i) = &self.certificate_identity {
                return Err(at(
                    i.span(),
                    "expected certificate_identity or certificate_identity_regexp, not both".into(),
                ));
            }
        }
        let subject = self
            .certificate_identity
            .as_ref()
            .or(self.certificate_identity_regexp.as_ref());
        match (subject, &self.certificate_oidc_issuer) {
            (Some(s), None) => {
                return Err(at(
                    s.span(),
                    "expected certificate_oidc_issuer too: keyless verification checks both".into(),
                ));
            }
            (None, Some(i)) => {
                return Err(at(
                    i.span(),
                    "expected certificate_identity (or certificate_identity_regexp) too: \
                     keyless verification checks both"
                        .into(),
                ));
            }
            _ => {}
        }
        let Some(dir) = dir else {
            return Ok(());
        };
        use crate::sources::cosign::keyless::Trust;
        for (key, check) in [
            (
                &self.fulcio_roots,
                (|pem: &str| Trust::check_roots(pem).map(drop)) as fn(&str) -> Result<(), String>,
            ),
            (&self.rekor_public_key, Trust::check_rekor_key),
        ] {
            let Some(path) = key else { continue };
            let file = dir.join(path.get_ref());
            let result = std::fs::read_to_string(&file)
                .map_err(|e| e.to_string())
                .and_then(|pem| check(&pem));
            if let Err(e) = result {
                return Err(at(path.span(), format!("{}: {e}", file.display())));
            }
        }
        Ok(())
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
    /// A regular expression: its first match in a pull request's description (its first
    /// group, when it has one) is the preview's URL.
    #[serde(
        deserialize_with = "url_pattern",
        skip_serializing_if = "Option::is_none"
    )]
    pub url_pattern: Option<String>,
    /// The preview's URL when the description has none: `{number}` is the pull request's.
    #[serde(
        deserialize_with = "url_template",
        skip_serializing_if = "Option::is_none"
    )]
    pub url_template: Option<String>,
}

fn url_pattern<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let pattern = String::deserialize(d)?;
    crate::engine::preview_links::UrlRule::new(Some(&pattern), None)
        .map_err(serde::de::Error::custom)?;
    Ok(Some(pattern))
}

fn url_template<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let template = String::deserialize(d)?;
    let url = template.replace("{number}", "1");
    if !template.contains("{number}")
        || !(url.starts_with("https://") || url.starts_with("http://"))
    {
        return Err(serde::de::Error::custom(format!(
            "url_template {template:?} is not an http(s) URL with {{number}} in it; expected something such as \"https://pr-{{number}}.preview.example.com\""
        )));
    }
    Ok(Some(template))
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
            url_pattern: None,
            url_template: None,
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

/// The driver's lease, as leader election times it (see `docs/configuration.md`): how long
/// it outlives a console that stopped renewing it, how often its holder renews it, how
/// often a console that does not hold it looks whether it is free. What is left out is
/// derived from the measurement interval when the console starts
/// (`ops::coordination::LeaseTimings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "LeaseFields")]
pub struct LeaseConfig {
    pub duration: Option<Span>,
    pub renew_every: Option<Span>,
    pub retry: Option<Span>,
}

/// `[lease]` as written, before the checks that need more than one of its keys.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LeaseFields {
    #[serde(default, deserialize_with = "lease_span")]
    duration: Option<Span>,
    #[serde(default, deserialize_with = "lease_span")]
    renew_every: Option<Span>,
    #[serde(default, deserialize_with = "lease_span")]
    retry: Option<Span>,
}

fn lease_span<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Span>, D::Error> {
    let span = Span::deserialize(d)?;
    // A Lease counts whole seconds, and a holder renewing without pause is a busy loop.
    if span.0 < std::time::Duration::from_secs(1) {
        return Err(serde::de::Error::custom(format!(
            "a lease timing of {span} is too short; expected at least 1s"
        )));
    }
    Ok(Some(span))
}

impl TryFrom<LeaseFields> for LeaseConfig {
    type Error = String;

    fn try_from(f: LeaseFields) -> Result<Self, String> {
        if let (Some(duration), Some(renew)) = (f.duration, f.renew_every)
            && renew >= duration
        {
            return Err(format!(
                "renew_every ({renew}) must be shorter than duration ({duration}), or the lease \
                 runs out before its holder renews it"
            ));
        }
        Ok(LeaseConfig {
            duration: f.duration,
            renew_every: f.renew_every,
            retry: f.retry,
        })
    }
}

/// `[notify]`: a Slack-compatible incoming webhook (see `docs/configuration.md`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// The webhook's URL, its secret in it: checked, never echoed in an error or the log.
    #[serde(deserialize_with = "webhook_url")]
    pub url: String,
    /// What is posted; every event when left out.
    #[serde(default, deserialize_with = "notify_events")]
    pub events: Vec<crate::ops::notify::Event>,
}

impl std::fmt::Debug for NotifyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifyConfig")
            .field("url", &"(secret)")
            .field("events", &self.events)
            .finish()
    }
}

/// `[otel]`: an OTLP/HTTP collector that receives one span per journalled action (see
/// `docs/configuration.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtelConfig {
    /// The collector's base URL; spans are posted to `<endpoint>/v1/traces`.
    #[serde(deserialize_with = "super::checks::url")]
    pub endpoint: String,
    /// `KEY=VALUE` lines of resource attributes, relative to the config file.
    #[serde(default = "default_resource_attrs")]
    pub resource_attrs: PathBuf,
    #[serde(default = "default_service_name")]
    pub service_name: String,
}

fn default_resource_attrs() -> PathBuf {
    ".ci/otel/resource-attrs.env".into()
}

fn default_service_name() -> String {
    "captain".into()
}

fn webhook_url<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let url = String::deserialize(d)?;
    match reqwest::Url::parse(&url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(url),
        Ok(u) => Err(serde::de::Error::custom(format!(
            "the webhook URL is not an http(s) URL with a host (scheme {:?}); expected such as \"https://hooks.slack.com/services/…\"",
            u.scheme()
        ))),
        Err(e) => Err(serde::de::Error::custom(format!(
            "the webhook URL is not a URL ({e}); expected such as \"https://hooks.slack.com/services/…\""
        ))),
    }
}

fn notify_events<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<crate::ops::notify::Event>, D::Error> {
    let events = Vec::<crate::ops::notify::Event>::deserialize(d)?;
    if events.is_empty() {
        return Err(serde::de::Error::custom(
            "events is empty, so nothing would be posted; expected some of \"breach\", \"rollback\", \"pause\", \"resume\", or no events key for all of them",
        ));
    }
    Ok(events)
}

impl AppConfig {
    /// Parsed, and the files it names that must be read up front (`[cosign]`'s PEMs) read.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = super::source::read(path)?;
        let cfg: Self =
            toml::from_str(&text).map_err(|e| ConfigError::from_toml(path, &text, &e))?;
        let dir = path.parent().unwrap_or(Path::new(""));
        cfg.cosign.check(path, &text, Some(dir))?;
        Ok(cfg)
    }

    pub fn parse(origin: &Path, text: &str) -> Result<Self, ConfigError> {
        let cfg: Self =
            toml::from_str(text).map_err(|e| ConfigError::from_toml(origin, text, &e))?;
        cfg.cosign.check(origin, text, None)?;
        Ok(cfg)
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
    fn a_preview_url_pattern_or_template_that_cannot_work_is_rejected_at_its_value() {
        let text = "[previews]\nurl_pattern = 'https://pr-(\\d+'\n";
        let err = AppConfig::parse(Path::new("captain.toml"), text).unwrap_err();
        assert_eq!((err.line, err.column), (Some(2), Some(15)), "{err}");
        assert!(err.message.contains("not a regular expression"), "{err}");
        let text = "[previews]\nurl_template = \"https://preview.example.com\"\n";
        let err = AppConfig::parse(Path::new("captain.toml"), text).unwrap_err();
        assert_eq!((err.line, err.column), (Some(2), Some(16)), "{err}");
        assert!(err.message.contains("{number}"), "{err}");
        let text = "[previews]\nurl_pattern = 'https://pr-[0-9]+\\.preview\\.acme\\.dev'\nurl_template = \"https://pr-{number}.preview.acme.dev\"\n";
        let cfg = AppConfig::parse(Path::new("captain.toml"), text).unwrap();
        assert_eq!(
            cfg.previews.url_template.as_deref(),
            Some("https://pr-{number}.preview.acme.dev")
        );
        assert!(cfg.previews.url_pattern.is_some());
    }

    #[test]
    fn a_misspelt_key_is_rejected_with_line_and_column() {
        let text = "[release]\nname = \"summit\"\nnamespce = \"prod\"\n";
        let err = AppConfig::parse(Path::new("captain.toml"), text).unwrap_err();
        assert_eq!((err.line, err.column), (Some(3), Some(1)), "{err}");
        assert!(err.message.contains("unknown field `namespce`"), "{err}");
    }

    #[test]
    fn lease_timings_are_read_and_a_bad_one_is_pointed_at() {
        let none = AppConfig::parse(Path::new("captain.toml"), "").unwrap();
        assert_eq!(none.lease, LeaseConfig::default());
        let text = "[lease]\nduration = \"30s\"\nrenew_every = \"10s\"\nretry = \"2s\"\n";
        let set = AppConfig::parse(Path::new("captain.toml"), text).unwrap();
        assert_eq!(
            set.lease,
            LeaseConfig {
                duration: Some(Span::secs(30)),
                renew_every: Some(Span::secs(10)),
                retry: Some(Span::secs(2)),
            }
        );

        for (text, at, says) in [
            ("[lease]\nduration = \"0s\"\n", (2, 12), "at least 1s"),
            ("[lease]\nretry = \"500ms\"\n", (2, 9), "at least 1s"),
            (
                "[lease]\nrenew_every = \"soon\"\n",
                (2, 15),
                "not a duration",
            ),
            ("[lease]\nrenw_every = \"5s\"\n", (2, 1), "unknown field"),
        ] {
            let err = AppConfig::parse(Path::new("captain.toml"), text).unwrap_err();
            assert_eq!((err.line, err.column), (Some(at.0), Some(at.1)), "{err}");
            assert!(err.message.contains(says), "{err}");
        }

        let text = "[ui]\nbell = false\n[lease]\nduration = \"15s\"\nrenew_every = \"15s\"\n";
        let err = AppConfig::parse(Path::new("captain.toml"), text).unwrap_err();
        assert_eq!((err.line, err.column), (Some(3), Some(1)), "{err}");
        assert!(
            err.message
                .contains("renew_every (15s) must be shorter than duration (15s)"),
            "{err}"
        );
    }

    #[test]
    fn notify_is_read_and_a_bad_url_or_event_is_pointed_at_without_echoing_the_url() {
        use crate::ops::notify::Event;
        let none = AppConfig::parse(Path::new("captain.toml"), "").unwrap();
        assert_eq!(none.notify, None);
        let text = "[notify]\nurl = \"https://hooks.slack.com/services/T0/B0/s3cret\"\nevents = [\"breach\", \"rollback\"]\n";
        let set = AppConfig::parse(Path::new("captain.toml"), text).unwrap();
        let notify = set.notify.unwrap();
        assert_eq!(notify.events, [Event::Breach, Event::Rollback]);
        assert!(!format!("{notify:?}").contains("s3cret"));
        for (text, at, says) in [
            (
                "[notify]\nurl = \"hooks.slack.com/s3cret\"\n",
                (2, 7),
                "not a URL",
            ),
            (
                "[notify]\nurl = \"ftp://hooks/s3cret\"\n",
                (2, 7),
                "http(s)",
            ),
            (
                "[notify]\nurl = \"https://h/s3cret\"\nevents = [\"rollback\", \"brech\"]\n",
                (3, 23),
                "unknown variant `brech`",
            ),
            (
                "[notify]\nurl = \"https://h/s3cret\"\nevents = []\n",
                (3, 10),
                "empty",
            ),
            (
                "[notify]\nevents = [\"pause\"]\n",
                (1, 1),
                "missing field `url`",
            ),
            (
                "[notify]\nurl = \"https://h/s3cret\"\nchannel = \"#x\"\n",
                (3, 1),
                "unknown field",
            ),
        ] {
            let err = AppConfig::parse(Path::new("captain.toml"), text).unwrap_err();
            assert_eq!(
                (err.line, err.column),
                (Some(at.0), Some(at.1)),
                "{text}: {err}"
            );
            assert!(err.message.contains(says), "{err}");
            assert!(!err.to_string().contains("s3cret"), "{err}");
        }
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

    #[test]
    fn keyless_cosign_keys_are_checked_at_load_with_their_position() {
        let issuer = "certificate_oidc_issuer = \"https://token.actions.githubusercontent.com\"";
        for (text, line, column, says) in [
            (
                "[cosign]\ncertificate_identity_regexp = \"^https://(\"\n".to_string(),
                2,
                31,
                "expected a regular expression",
            ),
            (
                "[cosign]\ncertificate_identity = \"ci@acme.dev\"\n".into(),
                2,
                24,
                "certificate_oidc_issuer too",
            ),
            (
                format!("[cosign]\n{issuer}\n"),
                2,
                27,
                "certificate_identity",
            ),
            (
                format!(
                    "[cosign]\ncertificate_identity = \"a\"\ncertificate_identity_regexp = \"b\"\n{issuer}\n"
                ),
                2,
                24,
                "not both",
            ),
        ] {
            let err = AppConfig::parse(Path::new("captain.toml"), &text).unwrap_err();
            assert_eq!(
                (err.line, err.column),
                (Some(line), Some(column)),
                "{text}: {err}"
            );
            assert!(err.message.contains(says), "{err}");
        }

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("captain.toml");
        std::fs::write(dir.path().join("fulcio.pem"), "not a certificate").unwrap();
        std::fs::write(
            &path,
            "[cosign]\nrekor_public_key = \"missing.pub\"\nfulcio_roots = \"fulcio.pem\"\n",
        )
        .unwrap();
        let err = AppConfig::load(&path).unwrap_err();
        assert_eq!((err.line, err.column), (Some(3), Some(16)), "{err}");
        assert!(
            err.message
                .contains("fulcio.pem: expected PEM certificates"),
            "{err}"
        );
        std::fs::write(&path, "[cosign]\nrekor_public_key = \"missing.pub\"\n").unwrap();
        let err = AppConfig::load(&path).unwrap_err();
        assert_eq!((err.line, err.column), (Some(2), Some(20)), "{err}");
        assert!(err.message.contains("missing.pub"), "{err}");
        // Only `load` reads files; the keys themselves parse.
        assert!(AppConfig::parse(&path, "[cosign]\nfulcio_roots = \"gone.pem\"\n").is_ok());
    }
}
