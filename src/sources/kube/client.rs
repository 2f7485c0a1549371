//! Connecting to the cluster the way `kubectl` does, and turning the API's answers into
//! [`SourceError`]s.
//!
//! The kubeconfig is `--kubeconfig` when given, else `$KUBECONFIG` (a list of files, merged
//! by kubectl's rules), else `~/.kube/config`; the context is `--context` when given, else
//! the kubeconfig's `current-context`. With no kubeconfig at all and no context asked for,
//! the in-cluster service account is used, as kubectl does inside a pod. The context's name
//! is kept, so that `helm` is pointed at exactly the cluster captain reads.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Client, Config};

use crate::sources::SourceError;
use crate::sources::deadline::Budget;

/// A connected client and where it points.
#[derive(Clone)]
pub struct KubeTarget {
    pub client: Client,
    /// The kubeconfig context in use, by name; `None` in-cluster.
    pub context: Option<String>,
    /// The kubeconfig file read, when one was named explicitly rather than found through
    /// `$KUBECONFIG` or the default path (so `helm --kubeconfig` reads the same file).
    pub kubeconfig: Option<PathBuf>,
}

impl std::fmt::Debug for KubeTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeTarget")
            .field("context", &self.context)
            .field("kubeconfig", &self.kubeconfig)
            .finish_non_exhaustive()
    }
}

/// Connect to the cluster of `context` (or the current context) in `kubeconfig` (or the
/// kubeconfig kubectl would read). Fails on a configuration that cannot work: a missing
/// file, an unknown context, bad credentials files. The cluster being down is not an error
/// here; it shows on the first request. Every request keeps to the default budget.
pub async fn connect(
    context: Option<&str>,
    kubeconfig: Option<&Path>,
) -> Result<KubeTarget, SourceError> {
    connect_within(context, kubeconfig, Budget::default()).await
}

/// [`connect`], with every request kept to `budget` (see [`super::deadline`]).
pub async fn connect_within(
    context: Option<&str>,
    kubeconfig: Option<&Path>,
    budget: Budget,
) -> Result<KubeTarget, SourceError> {
    // Both rustls providers are linked; the binary installs aws-lc-rs first thing, and a
    // library user (a test) gets the same one here. A provider already installed stays.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let (config, context) = match resolve(context, kubeconfig).await? {
        Some(found) => found,
        None => return in_cluster(budget).await,
    };
    let client = super::deadline::client(config, budget).map_err(|e| {
        SourceError::Rejected(format!(
            "kube context {}: {e}",
            context.as_deref().unwrap_or("?")
        ))
    })?;
    Ok(KubeTarget {
        client,
        context,
        kubeconfig: kubeconfig.map(Path::to_path_buf),
    })
}

/// The client configuration of `context` in `kubeconfig` (as [`connect`] finds them) and
/// the context's name; `None` when there is no kubeconfig and no context was asked for
/// (in a pod: the service account).
pub async fn resolve(
    context: Option<&str>,
    kubeconfig: Option<&Path>,
) -> Result<Option<(Config, Option<String>)>, SourceError> {
    let loaded = match kubeconfig {
        Some(path) => Kubeconfig::read_from(path)
            .map_err(|e| SourceError::Rejected(redacted(&e, &path.display().to_string())))?,
        None => match Kubeconfig::read() {
            Ok(found) => found,
            Err(e) if context.is_none() && !matches!(e, KubeconfigError::Parse(_)) => {
                log::info!(
                    "kube: no kubeconfig ({}); trying the in-cluster service account",
                    redacted(&e, &found_where())
                );
                return Ok(None);
            }
            Err(e) => return Err(SourceError::Rejected(redacted(&e, &found_where()))),
        },
    };
    let name = context
        .map(str::to_string)
        .or_else(|| loaded.current_context.clone());
    let Some(name) = name else {
        return Err(SourceError::Rejected(
            "kubeconfig: no current-context set and no --context given".into(),
        ));
    };
    let options = KubeConfigOptions {
        context: Some(name.clone()),
        ..KubeConfigOptions::default()
    };
    let mut config = Config::from_custom_kubeconfig(loaded, &options)
        .await
        .map_err(|e| {
            SourceError::Rejected(redacted(&e, &format!("{}, context {name}", found_where())))
        })?;
    usable_token(&mut config, &name)?;
    Ok(Some((config, Some(name))))
}

/// Where kube looks for a kubeconfig when none is named.
fn found_where() -> String {
    match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        Some(list) if std::env::split_paths(&list).count() == 1 => {
            list.to_string_lossy().into_owned()
        }
        Some(list) => format!("$KUBECONFIG ({})", list.to_string_lossy()),
        None => "~/.kube/config".into(),
    }
}

/// What is wrong with a kubeconfig, without its text: the YAML parser quotes the lines
/// around a mistake, and a kubeconfig holds tokens, passwords and keys. A parse error says
/// where; the others name the setting that is wrong and never echo its value.
fn redacted(e: &KubeconfigError, file: &str) -> String {
    match e {
        KubeconfigError::Parse(inner) => match inner.location() {
            Some(at) => format!(
                "kubeconfig {file}:{}:{}: not valid kubeconfig YAML (its text is not shown: \
                 it may hold credentials)",
                at.line(),
                at.column()
            ),
            None => format!(
                "kubeconfig {file}: not valid kubeconfig YAML (its text is not shown: it may \
                 hold credentials)"
            ),
        },
        KubeconfigError::ReadConfig(source, path) => {
            format!("kubeconfig {}: cannot read: {source}", path.display())
        }
        KubeconfigError::LoadCertificateAuthority(_) => {
            format!("kubeconfig {file}: the cluster's certificate-authority cannot be loaded")
        }
        KubeconfigError::LoadClientCertificate(_) => {
            format!("kubeconfig {file}: the user's client-certificate cannot be loaded")
        }
        KubeconfigError::LoadClientKey(_) => {
            format!("kubeconfig {file}: the user's client-key cannot be loaded")
        }
        KubeconfigError::ParseCertificates(_) => {
            format!("kubeconfig {file}: a certificate is not valid PEM")
        }
        other => format!(
            "kubeconfig {file}: {}",
            crate::text::sanitize(&other.to_string())
        ),
    }
}

/// A token pasted with its newline (`kubectl create token … | pbcopy`) cannot go in an HTTP
/// header, and the client would panic building one: surrounding whitespace is trimmed, as
/// client-go trims a token file. A token with other characters a header cannot carry is
/// refused, and the message never shows it.
fn usable_token(config: &mut Config, context: &str) -> Result<(), SourceError> {
    use secrecy::ExposeSecret;
    let Some(token) = config.auth_info.token.as_ref() else {
        return Ok(());
    };
    let raw = token.expose_secret();
    let trimmed = raw.trim();
    if trimmed.bytes().any(|b| !(0x21..0x7f).contains(&b)) {
        return Err(SourceError::Rejected(format!(
            "kube context {context}: the user's token has characters a bearer token cannot have (spaces or control characters inside it); the token is not shown"
        )));
    }
    if trimmed.len() != raw.len() {
        let trimmed = secrecy::SecretString::from(trimmed.to_string());
        config.auth_info.token = Some(trimmed);
    }
    Ok(())
}

async fn in_cluster(budget: Budget) -> Result<KubeTarget, SourceError> {
    let config = Config::incluster()
        .map_err(|e| SourceError::Rejected(format!("no kubeconfig, and not in a cluster ({e})")))?;
    let client = super::deadline::client(config, budget)
        .map_err(|e| SourceError::Rejected(format!("in-cluster config: {e}")))?;
    Ok(KubeTarget {
        client,
        context: None,
        kubeconfig: None,
    })
}

/// What a failed request means for the console: `what` names the request ("delete
/// namespace pr-12"), so the message says what failed and where.
pub fn source_error(e: &kube::Error, what: &str, now: DateTime<Utc>) -> SourceError {
    match e {
        kube::Error::Api(status) => {
            let said = if status.message.is_empty() {
                status.reason.clone()
            } else {
                status.message.clone()
            };
            match status.code {
                429 => {
                    let wait = status
                        .details
                        .as_ref()
                        .map(|d| i64::from(d.retry_after_seconds))
                        .filter(|s| *s > 0)
                        .unwrap_or(5);
                    SourceError::RateLimited(now + Duration::seconds(wait))
                }
                500..=599 => SourceError::Unreachable(format!("{what}: {} {said}", status.code)),
                code => SourceError::Rejected(format!("{what}: {code} {said}")),
            }
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_) => {
            SourceError::Unreachable(format!("{what}: {}", root_cause(e)))
        }
        other => SourceError::Rejected(format!("{what}: {}", root_cause(other))),
    }
}

/// The innermost cause, which is the one that says what happened ("connection refused").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        text = inner.to_string();
        source = inner.source();
    }
    text
}

/// The API's status code when the request reached it.
pub fn status_code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn api(code: u16, message: &str) -> kube::Error {
        kube::Error::Api(Box::new(Status {
            code,
            message: message.into(),
            ..Status::default()
        }))
    }

    #[test]
    fn refusals_are_rejections_and_server_errors_are_unreachable() {
        let now = Utc::now();
        assert_eq!(
            source_error(&api(403, "forbidden"), "patch route", now),
            SourceError::Rejected("patch route: 403 forbidden".into())
        );
        assert!(matches!(
            source_error(&api(503, "down"), "list", now),
            SourceError::Unreachable(_)
        ));
        assert_eq!(
            source_error(&api(429, "slow down"), "list", now),
            SourceError::RateLimited(now + Duration::seconds(5))
        );
    }

    #[tokio::test]
    async fn the_current_context_is_the_default_and_an_unknown_one_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters:\n- name: a\n  cluster: {server: 'http://127.0.0.1:1'}\nusers:\n- name: a\n  user: {}\ncontexts:\n- name: a\n  context: {cluster: a, user: a}\n",
        )
        .unwrap();
        let (config, name) = resolve(None, Some(&path)).await.unwrap().unwrap();
        assert_eq!(name.as_deref(), Some("a"));
        assert_eq!(config.cluster_url.to_string(), "http://127.0.0.1:1/");
        let err = resolve(Some("prod-admin"), Some(&path)).await.unwrap_err();
        assert!(err.to_string().contains("prod-admin"), "{err}");
    }
}
