//! A Helm release's history, read natively from its release Secrets
//! (`sh.helm.release.v1.<release>.v<revision>`, labelled `owner=helm,name=<release>`), the
//! way Helm's Secret storage driver writes them: the release as JSON, gzipped, base64
//! encoded by Helm, and base64 encoded once more by the API as any Secret data (that layer
//! is undone by k8s-openapi's `ByteString`). Releases written without gzip (no gzip magic
//! after Helm's base64) are read as plain JSON, as Helm itself does.
//!
//! Pure decoding and one paged list; never writes.

use std::io::Read;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use flate2::read::GzDecoder;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::ListParams;
use serde::Deserialize;

use super::client::source_error;
use crate::sources::{ReleaseRevision, SourceError};

/// The first bytes of a gzip stream, as Helm checks them.
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

/// Secrets per page when listing a release's history (each can be large).
const PAGE_SIZE: u32 = 50;

/// The parts of Helm's release JSON the console shows.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Release {
    version: u32,
    info: Info,
    chart: Chart,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Info {
    status: String,
    description: String,
    first_deployed: Option<String>,
    last_deployed: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Chart {
    metadata: ChartMetadata,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ChartMetadata {
    name: String,
    version: String,
    #[serde(rename = "appVersion")]
    app_version: String,
}

/// Why a release Secret could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("no data.release")]
    Missing,
    #[error("data.release is not base64: {0}")]
    Base64(String),
    #[error("data.release is not valid gzip: {0}")]
    Gzip(String),
    #[error("the release is not Helm's JSON: {0}")]
    Json(String),
}

/// Helm's encoding of a release, as it sits in `data.release` once the API's base64 is
/// undone: base64 of gzip of JSON (or, from other writers, base64 of JSON).
pub fn decode_release(payload: &[u8]) -> Result<ReleaseRevision, DecodeError> {
    let text: Vec<u8> = payload
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let raw = STANDARD
        .decode(text)
        .map_err(|e| DecodeError::Base64(e.to_string()))?;
    let json = if raw.starts_with(&GZIP_MAGIC) {
        let mut out = Vec::new();
        GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| DecodeError::Gzip(e.to_string()))?;
        out
    } else {
        raw
    };
    let release: Release =
        serde_json::from_slice(&json).map_err(|e| DecodeError::Json(e.to_string()))?;
    let meta = &release.chart.metadata;
    let deployed = [&release.info.last_deployed, &release.info.first_deployed]
        .into_iter()
        .flatten()
        .filter_map(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .find(|t| t.timestamp() > 0)
        .unwrap_or_default();
    Ok(ReleaseRevision {
        revision: release.version,
        status: release.info.status,
        chart: if meta.version.is_empty() {
            meta.name.clone()
        } else {
            format!("{}-{}", meta.name, meta.version)
        },
        app_version: meta.app_version.clone(),
        description: release.info.description,
        deployed,
    })
}

/// A release Secret's revision.
pub fn decode_secret(secret: &Secret) -> Result<ReleaseRevision, DecodeError> {
    let payload = secret
        .data
        .as_ref()
        .and_then(|d| d.get("release"))
        .ok_or(DecodeError::Missing)?;
    let mut revision = decode_release(&payload.0)?;
    if revision.revision == 0 {
        // Helm labels every release Secret with its revision; trust that over nothing.
        revision.revision = secret
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("version"))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
    }
    Ok(revision)
}

/// The name Helm gives the Secret of `release` at `revision`.
pub fn secret_name(release: &str, revision: u32) -> String {
    format!("sh.helm.release.v1.{release}.v{revision}")
}

/// Whether a status is one of Helm's `pending-*` (an operation started and not finished:
/// Helm refuses the next upgrade or rollback until it is resolved).
pub fn is_pending(status: &str) -> bool {
    status.starts_with("pending-")
}

/// The latest revision, when it is stuck in a `pending-*` status.
pub fn stuck(history: &[ReleaseRevision]) -> Option<&ReleaseRevision> {
    history.last().filter(|r| is_pending(&r.status))
}

/// Every revision of `release` in `namespace`, oldest first. A Secret that carries the
/// labels but cannot be decoded fails the read: a history with a hole in it would point a
/// rollback at the wrong revision.
pub async fn read_history(
    secrets: &Api<Secret>,
    release: &str,
    now: DateTime<Utc>,
) -> Result<Vec<ReleaseRevision>, SourceError> {
    let selector = format!("owner=helm,name={release}");
    let prefix = format!("sh.helm.release.v1.{release}.v");
    let mut params = ListParams::default().labels(&selector).limit(PAGE_SIZE);
    let mut history = Vec::new();
    loop {
        let page = secrets
            .list(&params)
            .await
            .map_err(|e| source_error(&e, &format!("list Helm release {release}"), now))?;
        for secret in &page.items {
            let name = secret.metadata.name.as_deref().unwrap_or("");
            if !name.starts_with(&prefix) {
                continue;
            }
            let revision = decode_secret(secret)
                .map_err(|e| SourceError::Rejected(format!("Helm release Secret {name}: {e}")))?;
            history.push(revision);
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params.continue_token = Some(token),
            None => break,
        }
    }
    history.sort_by_key(|r| r.revision);
    Ok(history)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use k8s_openapi::ByteString;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use serde_json::json;
    use std::io::Write;

    fn release_json(revision: u32, status: &str, chart_version: &str) -> serde_json::Value {
        json!({
            "name": "summit",
            "info": {
                "first_deployed": "2026-11-01T09:00:00.123456789+01:00",
                "last_deployed": format!("2026-11-{:02}T10:00:00.5Z", revision + 1),
                "deleted": "",
                "description": if status == "deployed" { "Upgrade complete" } else { "Preparing upgrade" },
                "status": status,
                "notes": "summit is live"
            },
            "chart": {
                "metadata": {
                    "name": "summit",
                    "version": chart_version,
                    "description": "the summit service",
                    "apiVersion": "v2",
                    "appVersion": format!("sha-{revision:07}"),
                    "type": "application"
                },
                "lock": null,
                "templates": [{"name": "templates/deployment.yaml", "data": "YXBpVmVyc2lvbjogYXBwcy92MQ=="}],
                "values": {"replicaCount": 3},
                "schema": null,
                "files": []
            },
            "config": {"image": {"tag": format!("sha-{revision:07}")}},
            "manifest": "---\n# Source: summit/templates/deployment.yaml\napiVersion: apps/v1\n",
            "version": revision,
            "namespace": "prod"
        })
    }

    /// Helm's own encoding: JSON, gzip, base64.
    fn helm_encode(release: &serde_json::Value, gzip: bool) -> Vec<u8> {
        let json = serde_json::to_vec(release).unwrap();
        let raw = if gzip {
            let mut z = GzEncoder::new(Vec::new(), Compression::best());
            z.write_all(&json).unwrap();
            z.finish().unwrap()
        } else {
            json
        };
        STANDARD.encode(raw).into_bytes()
    }

    /// A release Secret as Helm's Secret driver creates it.
    fn release_secret(revision: u32, status: &str, gzip: bool) -> Secret {
        let release = release_json(revision, status, &format!("1.{revision}.0"));
        Secret {
            metadata: ObjectMeta {
                name: Some(secret_name("summit", revision)),
                namespace: Some("prod".into()),
                labels: Some(
                    [
                        ("owner", "helm".to_string()),
                        ("name", "summit".to_string()),
                        ("status", status.to_string()),
                        ("version", revision.to_string()),
                    ]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
                ),
                ..ObjectMeta::default()
            },
            type_: Some("helm.sh/release.v1".into()),
            data: Some(
                [(
                    "release".to_string(),
                    ByteString(helm_encode(&release, gzip)),
                )]
                .into_iter()
                .collect(),
            ),
            ..Secret::default()
        }
    }

    #[test]
    fn a_gzipped_release_secret_decodes_through_the_apis_base64() {
        // Through the wire: the API's base64 on top of Helm's, undone by ByteString.
        let wire = serde_json::to_string(&release_secret(3, "deployed", true)).unwrap();
        let secret: Secret = serde_json::from_str(&wire).unwrap();
        let r = decode_secret(&secret).unwrap();
        assert_eq!(r.revision, 3);
        assert_eq!(r.status, "deployed");
        assert_eq!(r.chart, "summit-1.3.0");
        assert_eq!(r.app_version, "sha-0000003");
        assert_eq!(r.description, "Upgrade complete");
        assert_eq!(r.deployed.to_rfc3339(), "2026-11-04T10:00:00.500+00:00");
    }

    #[test]
    fn an_uncompressed_release_decodes_too() {
        let r = decode_secret(&release_secret(2, "superseded", false)).unwrap();
        assert_eq!((r.revision, r.status.as_str()), (2, "superseded"));
        assert_eq!(r.chart, "summit-1.2.0");
    }

    #[test]
    fn a_stuck_pending_upgrade_is_visible() {
        let history: Vec<_> = [(1, "superseded"), (2, "deployed"), (3, "pending-upgrade")]
            .into_iter()
            .map(|(v, s)| decode_secret(&release_secret(v, s, true)).unwrap())
            .collect();
        let stuck = stuck(&history).unwrap();
        assert_eq!(
            (stuck.revision, stuck.status.as_str()),
            (3, "pending-upgrade")
        );
        assert_eq!(stuck.description, "Preparing upgrade");
        assert!(super::stuck(&history[..2]).is_none());
        for s in ["pending-install", "pending-upgrade", "pending-rollback"] {
            assert!(is_pending(s), "{s}");
        }
        for s in ["deployed", "superseded", "failed"] {
            assert!(!is_pending(s), "{s}");
        }
    }

    #[test]
    fn a_missing_last_deployed_falls_back_to_first_deployed() {
        let mut release = release_json(1, "failed", "1.0.0");
        release["info"]["last_deployed"] = json!("0001-01-01T00:00:00Z");
        let r = decode_release(&helm_encode(&release, true)).unwrap();
        assert_eq!(r.status, "failed");
        assert_eq!(
            r.deployed.to_rfc3339(),
            "2026-11-01T08:00:00.123456789+00:00"
        );
    }

    #[test]
    fn damaged_payloads_say_which_layer_failed() {
        assert!(matches!(
            decode_release(b"not base64!"),
            Err(DecodeError::Base64(_))
        ));
        let truncated = STANDARD.encode([0x1f, 0x8b, 0x08, 0, 0]).into_bytes();
        assert!(matches!(
            decode_release(&truncated),
            Err(DecodeError::Gzip(_))
        ));
        let not_json = STANDARD.encode(b"<html>").into_bytes();
        assert!(matches!(
            decode_release(&not_json),
            Err(DecodeError::Json(_))
        ));
        assert_eq!(decode_secret(&Secret::default()), Err(DecodeError::Missing));
    }
}
