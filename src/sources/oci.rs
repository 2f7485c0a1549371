//! The OCI distribution API as far as the probes need it: an image reference, its
//! manifest and its blobs, read with the token challenge a registry such as ghcr.io asks
//! for (docs/plan.md, `oci.image`). Reads only; never pushes.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, WWW_AUTHENTICATE};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use super::SourceError;

/// The manifest types a registry may answer with: OCI and Docker, single and index.
pub const MANIFEST_TYPES: &str = "application/vnd.oci.image.manifest.v1+json, \
     application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.list.v2+json";

/// Docker Hub's name for itself in references, and where its API is.
const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// `[registry/]name[:tag][@digest]`, as `docker pull` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub registry: String,
    pub name: String,
    /// A tag, or a digest (`sha256:…`).
    pub reference: String,
}

impl ImageRef {
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::parse_as(s, s)
    }

    /// Whether a reference with `<org>`, `<repo>` and `<sha>` in it parses once they are
    /// filled in; the error names the reference as written.
    pub fn check_template(template: &str) -> Result<(), String> {
        let filled = template
            .replace("<org>", "org")
            .replace("<repo>", "repo")
            .replace("<sha>", "0");
        Self::parse_as(&filled, template).map(|_| ())
    }

    fn parse_as(s: &str, written: &str) -> Result<Self, String> {
        let s = s.trim();
        let bad = |why: &str| {
            Err(format!(
                "expected an image reference, found {written:?} ({why})"
            ))
        };
        if s.is_empty() || s.chars().any(char::is_whitespace) {
            return bad("empty or with spaces");
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) if d.starts_with("sha256:") && d.len() == 71 => (r, Some(d)),
            Some(_) => return bad("a digest is sha256: and 64 hex digits"),
            None => (s, None),
        };
        let (registry, path) = match rest.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), path)
            }
            _ => (DOCKER_HUB.to_string(), rest),
        };
        // A tag's colon comes after the last slash; a port's before it.
        let (name, tag) = match path.rsplit_once(':') {
            Some((n, t)) if !t.contains('/') => (n, Some(t)),
            _ => (path, None),
        };
        let name_ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c);
        if name.is_empty() || !name.chars().all(name_ok) {
            return bad("the repository name is lower-case letters, digits and . _ - /");
        }
        let tag_ok = |t: &str| {
            !t.is_empty()
                && t.len() <= 128
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        };
        if tag.is_some_and(|t| !tag_ok(t)) {
            return bad("a tag is up to 128 letters, digits, . _ -");
        }
        let name = if registry == DOCKER_HUB && !name.contains('/') {
            format!("library/{name}")
        } else {
            name.to_string()
        };
        Ok(ImageRef {
            registry,
            name,
            reference: digest
                .map(str::to_string)
                .or(tag.map(str::to_string))
                .unwrap_or_else(|| "latest".into()),
        })
    }

    /// The same repository, another tag or digest.
    pub fn with_reference(&self, reference: &str) -> Self {
        ImageRef {
            reference: reference.to_string(),
            ..self.clone()
        }
    }

    /// Where the registry's API is: plain HTTP on this machine's loopback, as docker
    /// treats it, HTTPS anywhere else.
    pub fn base(&self) -> String {
        let host = self
            .registry
            .rsplit_once(':')
            .map_or(&*self.registry, |h| h.0);
        let local = host == "localhost" || host.starts_with("127.") || host == "[::1]";
        let host = if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        };
        format!("{}://{host}", if local { "http" } else { "https" })
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = if self.reference.contains(':') {
            '@'
        } else {
            ':'
        };
        write!(f, "{}/{}{sep}{}", self.registry, self.name, self.reference)
    }
}

/// A manifest as the registry sent it: the digest of its bytes.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub digest: String,
    pub media_type: String,
    pub body: Vec<u8>,
}

/// `sha256:<hex>` of the bytes.
pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// A registry reader: anonymous, or with a user and token to trade for a bearer token.
pub struct Registry {
    http: reqwest::Client,
    credentials: Option<(String, SecretString)>,
}

impl Registry {
    pub fn new(credentials: Option<(String, SecretString)>) -> Result<Self, SourceError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| SourceError::Unconfigured(format!("an HTTP client: {e}")))?;
        Ok(Registry { http, credentials })
    }

    /// The manifest `image` names; `None` when the registry has none by that reference.
    pub async fn manifest(&self, image: &ImageRef) -> Result<Option<Manifest>, SourceError> {
        let url = format!(
            "{}/v2/{}/manifests/{}",
            image.base(),
            image.name,
            image.reference
        );
        let Some(resp) = self.get(&url, MANIFEST_TYPES).await? else {
            return Ok(None);
        };
        let media_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let sent = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = resp
            .bytes()
            .await
            .map_err(|e| SourceError::Unreachable(format!("reading {url}: {e}")))?
            .to_vec();
        let digest = digest_of(&body);
        if let Some(sent) = sent.filter(|s| *s != digest) {
            return Err(SourceError::Rejected(format!(
                "{image}: the registry says the manifest is {sent}, its bytes are {digest}"
            )));
        }
        Ok(Some(Manifest {
            digest,
            media_type,
            body,
        }))
    }

    /// A blob of the repository, checked against its digest.
    pub async fn blob(&self, image: &ImageRef, digest: &str) -> Result<Vec<u8>, SourceError> {
        let url = format!("{}/v2/{}/blobs/{digest}", image.base(), image.name);
        let Some(resp) = self.get(&url, "*/*").await? else {
            return Err(SourceError::Rejected(format!(
                "{image}: blob {digest} is not in the registry"
            )));
        };
        let body = resp
            .bytes()
            .await
            .map_err(|e| SourceError::Unreachable(format!("reading {url}: {e}")))?
            .to_vec();
        if digest_of(&body) != digest {
            return Err(SourceError::Rejected(format!(
                "{image}: blob {digest} does not have that digest"
            )));
        }
        Ok(body)
    }

    /// GET, answering one authentication challenge; `None` for a 404.
    async fn get(&self, url: &str, accept: &str) -> Result<Option<reqwest::Response>, SourceError> {
        let first = self.send(url, accept, None).await?;
        let resp = if first.status() == StatusCode::UNAUTHORIZED {
            let challenge = first
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let auth = self.authorization(&challenge).await?;
            self.send(url, accept, Some(auth)).await?
        } else {
            first
        };
        match resp.status() {
            s if s.is_success() => Ok(Some(resp)),
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_server_error() => Err(SourceError::Unreachable(format!("GET {url}: {s}"))),
            s => Err(SourceError::Rejected(format!("GET {url}: {s}"))),
        }
    }

    async fn send(
        &self,
        url: &str,
        accept: &str,
        auth: Option<SecretString>,
    ) -> Result<reqwest::Response, SourceError> {
        let mut req = self.http.get(url).header(ACCEPT, accept);
        if let Some(a) = auth {
            req = req.header(AUTHORIZATION, a.expose_secret());
        }
        req.send()
            .await
            .map_err(|e| SourceError::Unreachable(chain(&e)))
    }

    /// The `Authorization` a challenge asks for: a bearer token from its realm (with the
    /// credentials, if any, as basic auth there), or basic auth itself.
    async fn authorization(&self, challenge: &str) -> Result<SecretString, SourceError> {
        let basic = self.credentials.as_ref().map(|(user, token)| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .encode(format!("{user}:{}", token.expose_secret()))
        });
        let Some(params) = challenge.strip_prefix("Bearer ") else {
            return match basic {
                Some(b) if challenge.starts_with("Basic") => {
                    Ok(SecretString::from(format!("Basic {b}")))
                }
                _ => Err(SourceError::Rejected(format!(
                    "the registry wants credentials ({challenge}): set REGISTRY_USER and \
                     REGISTRY_TOKEN"
                ))),
            };
        };
        let params = challenge_params(params);
        let Some(realm) = params.iter().find(|(k, _)| k == "realm").map(|p| &p.1) else {
            return Err(SourceError::Rejected(format!(
                "the registry's challenge has no realm: {challenge}"
            )));
        };
        let query: Vec<(&str, &str)> = params
            .iter()
            .filter(|(k, _)| k == "service" || k == "scope")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut req = self.http.get(realm).query(&query);
        if let Some(b) = basic {
            req = req.header(AUTHORIZATION, format!("Basic {b}"));
        }
        let resp = req
            .send()
            .await
            .map_err(|e| SourceError::Unreachable(chain(&e)))?;
        if !resp.status().is_success() {
            return Err(SourceError::Rejected(format!(
                "token from {realm}: {}",
                resp.status()
            )));
        }
        #[derive(serde::Deserialize)]
        struct Token {
            token: Option<String>,
            access_token: Option<String>,
        }
        let t: Token = resp
            .json()
            .await
            .map_err(|e| SourceError::Rejected(format!("token from {realm}: {e}")))?;
        t.token
            .or(t.access_token)
            .map(|t| SecretString::from(format!("Bearer {t}")))
            .ok_or_else(|| SourceError::Rejected(format!("token from {realm}: none in the answer")))
    }
}

/// `realm="…",service="…",scope="…"` as pairs; a scope may hold commas inside its quotes.
fn challenge_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while let Some((key, after)) = rest.split_once('=') {
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let (value, next) = match after.strip_prefix('"') {
            Some(quoted) => quoted.split_once('"').unwrap_or((quoted, "")),
            None => after.split_once(',').unwrap_or((after, "")),
        };
        out.push((key, value.to_string()));
        rest = next.trim_start_matches(',').trim();
    }
    out
}

/// reqwest's error and its causes (a refused connection says so only in its cause).
pub(crate) fn chain(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s = format!("{s}: {inner}");
        source = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_as_docker_reads_them() {
        let r = ImageRef::parse("ghcr.io/acme/summit:sha-abc123").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.name.as_str(), r.reference.as_str()),
            ("ghcr.io", "acme/summit", "sha-abc123")
        );
        assert_eq!(r.base(), "https://ghcr.io");
        let local = ImageRef::parse("127.0.0.1:5000/demo/app").unwrap();
        assert_eq!(
            (local.registry.as_str(), local.reference.as_str()),
            ("127.0.0.1:5000", "latest")
        );
        assert_eq!(local.base(), "http://127.0.0.1:5000");
        let hub = ImageRef::parse("nginx:1.27").unwrap();
        assert_eq!(hub.name, "library/nginx");
        assert_eq!(hub.base(), "https://registry-1.docker.io");
        let pinned = format!("ghcr.io/acme/summit@sha256:{}", "a".repeat(64));
        assert_eq!(ImageRef::parse(&pinned).unwrap().to_string(), pinned);
        for bad in [
            "",
            "ghcr.io/Acme/summit",
            "a b",
            "x@sha256:12",
            "ghcr.io/a:b!c",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn a_challenge_keeps_commas_inside_quotes() {
        let p = challenge_params(
            r#"realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(
            p,
            vec![
                ("realm".into(), "https://ghcr.io/token".into()),
                ("service".into(), "ghcr.io".into()),
                ("scope".into(), "repository:a/b:pull,push".into()),
            ]
        );
    }
}
