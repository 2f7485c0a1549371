//! What a release publishes beyond the cluster and the forge: its image and the image's
//! cosign signature in a registry, its dashboards in Grafana. The live source reads them
//! over HTTP; the demo world answers the same trait.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use secrecy::SecretString;

use super::grafana::{self, Grafana};
use super::oci::{ImageRef, Registry};
use super::{Finding, SourceError, cosign};
use crate::config::Span;

#[async_trait]
pub trait Published: Send + Sync {
    /// `owner/name` of the release's repository: what `<org>/<repo>` in an image
    /// reference stands for.
    fn repo(&self) -> String;
    /// The digest of the image's manifest; `None` when the registry has no such image.
    async fn image(&self, image: &ImageRef) -> Result<Option<String>, SourceError>;
    /// Whether a cosign signature of the image verifies as `expected`: with a public key,
    /// or keyless under an identity.
    async fn signed(
        &self,
        image: &ImageRef,
        expected: &cosign::Expected,
    ) -> Result<Finding, SourceError>;
    /// Whether dashboard `uid` has a panel titled `panel` whose queries return data over
    /// the last `within`.
    async fn dashboard(&self, uid: &str, panel: &str, within: Span)
    -> Result<Finding, SourceError>;
}

/// The registries an image reference names and the Grafana of `[grafana] url`.
pub struct LivePublished {
    repo: String,
    registry: Result<Registry, SourceError>,
    key: Option<PathBuf>,
    keyless: Keyless,
    grafana: Result<Grafana, SourceError>,
}

/// `[cosign]`'s keyless trust (the files, relative paths already resolved) and the identity
/// probes expect unless they name one.
#[derive(Debug, Clone, Default)]
pub struct Keyless {
    pub fulcio_roots: Option<PathBuf>,
    pub rekor_public_key: Option<PathBuf>,
    pub identity: Option<cosign::keyless::Identity>,
}

impl LivePublished {
    /// Registry credentials come from `REGISTRY_USER` and `REGISTRY_TOKEN` (none:
    /// anonymous), Grafana's token from `GRAFANA_TOKEN`, each as `env` reads them (the
    /// process environment: `|k| std::env::var(k).ok()`).
    pub fn new(
        repo: &str,
        grafana_url: Option<&str>,
        key: Option<PathBuf>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let credentials = var("REGISTRY_USER")
            .zip(var("REGISTRY_TOKEN"))
            .map(|(user, token)| (user, SecretString::from(token)));
        let grafana = match (grafana_url, var(grafana::TOKEN_VAR)) {
            (None, _) => Err(SourceError::Unconfigured(
                "no Grafana: set [grafana] url in captain.toml".into(),
            )),
            (Some(_), None) => Err(SourceError::Unconfigured(format!(
                "no Grafana token: set ${} to a service account's token",
                grafana::TOKEN_VAR
            ))),
            (Some(url), Some(token)) => Grafana::new(url, SecretString::from(token)),
        };
        LivePublished {
            repo: repo.to_string(),
            registry: Registry::new(credentials),
            key,
            keyless: Keyless::default(),
            grafana,
        }
    }

    /// With `[cosign]`'s keyless trust.
    pub fn with_keyless(self, keyless: Keyless) -> Self {
        LivePublished { keyless, ..self }
    }

    fn verifier(&self, expected: &cosign::Expected) -> Result<cosign::Verifier, SourceError> {
        use cosign::Expected;
        let identity = match (expected, &self.keyless.identity) {
            (Expected::Key(path), _) => return key_verifier(path),
            (Expected::Keyless(identity), _) | (Expected::Configured, Some(identity)) => identity,
            (Expected::Configured, None) => {
                return match &self.key {
                    Some(path) => key_verifier(path),
                    None => Err(SourceError::Unconfigured(
                        "no public key: give the probe a `key` or set [cosign] public_key in \
                         captain.toml (or certificate_identity and certificate_oidc_issuer for \
                         keyless signatures)"
                            .into(),
                    )),
                };
            }
        };
        let file = |path: &Option<PathBuf>, key: &str| match path {
            Some(p) => std::fs::read_to_string(p)
                .map_err(|e| SourceError::Rejected(format!("{}: {e}", p.display()))),
            None => Err(SourceError::Unconfigured(format!(
                "keyless verification needs [cosign] {key} in captain.toml"
            ))),
        };
        let roots = file(&self.keyless.fulcio_roots, "fulcio_roots")?;
        let rekor = file(&self.keyless.rekor_public_key, "rekor_public_key")?;
        let trust = cosign::keyless::Trust::new(&roots, &rekor)
            .map_err(|e| SourceError::Rejected(format!("[cosign] keyless trust: {e}")))?;
        Ok(cosign::Verifier::Keyless {
            trust,
            identity: identity.clone(),
        })
    }

    fn registry(&self) -> Result<&Registry, SourceError> {
        self.registry.as_ref().map_err(Clone::clone)
    }
}

#[async_trait]
impl Published for LivePublished {
    fn repo(&self) -> String {
        self.repo.clone()
    }

    async fn image(&self, image: &ImageRef) -> Result<Option<String>, SourceError> {
        Ok(self.registry()?.manifest(image).await?.map(|m| m.digest))
    }

    async fn signed(
        &self,
        image: &ImageRef,
        expected: &cosign::Expected,
    ) -> Result<Finding, SourceError> {
        let verifier = self.verifier(expected)?;
        let registry = self.registry()?;
        let Some(manifest) = registry.manifest(image).await? else {
            return Ok(Finding::fail(format!("no image {image} in the registry")));
        };
        cosign::verify(registry, image, &manifest.digest, &verifier).await
    }

    async fn dashboard(
        &self,
        uid: &str,
        panel: &str,
        within: Span,
    ) -> Result<Finding, SourceError> {
        match &self.grafana {
            Ok(g) => g.panel_has_data(uid, panel, within).await,
            Err(e) => Err(e.clone()),
        }
    }
}

fn key_verifier(path: &Path) -> Result<cosign::Verifier, SourceError> {
    let pem = std::fs::read_to_string(path)
        .map_err(|e| SourceError::Rejected(format!("the key {}: {e}", path.display())))?;
    cosign::public_key(&pem)
        .map(cosign::Verifier::Key)
        .map_err(|e| SourceError::Rejected(format!("the key {}: {e}", path.display())))
}
