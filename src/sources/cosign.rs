//! Cosign's signatures as cosign stores them beside an image: the manifest tagged
//! `sha256-<digest>.sig`, one layer per signature, each a simple-signing payload that names
//! the image's digest, its ECDSA signature in an annotation (docs/plan.md,
//! `cosign.verified`). Key-based signatures verify with a configured public key; keyless
//! ones ([`keyless`]) with the Fulcio certificate and Rekor bundle beside them.

mod canonical;
pub mod keyless;

use std::path::PathBuf;

use base64::Engine;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use serde_json::Value;

use super::oci::{ImageRef, Registry};
use super::{Finding, SourceError};

/// The media type of a signature layer.
pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The layer annotation holding the base64 signature of the layer's payload.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The payload's `critical.type`.
const PAYLOAD_TYPE: &str = "cosign container image signature";

/// The tag cosign puts an image's signatures under: `sha256:ab…` → `sha256-ab….sig`.
pub fn signature_tag(digest: &str) -> String {
    format!("{}.sig", digest.replace(':', "-"))
}

/// The simple-signing payload cosign signs for `image` at `digest`.
pub fn payload(image: &ImageRef, digest: &str) -> Vec<u8> {
    serde_json::json!({
        "critical": {
            "identity": {"docker-reference": format!("{}/{}", image.registry, image.name)},
            "image": {"docker-manifest-digest": digest},
            "type": PAYLOAD_TYPE,
        },
        "optional": null,
    })
    .to_string()
    .into_bytes()
}

/// A public key as `cosign generate-key-pair` writes it (PEM, ECDSA P-256).
pub fn public_key(pem: &str) -> Result<VerifyingKey, String> {
    p256::PublicKey::from_public_key_pem(pem.trim())
        .map(VerifyingKey::from)
        .map_err(|e| format!("expected an ECDSA P-256 public key in PEM ({e})"))
}

/// Who a `cosign.verified` probe expects to have signed.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// What `[cosign]` says: keyless when it names an identity and issuer, else its key.
    Configured,
    /// The holder of the private half of this public key (PEM).
    Key(PathBuf),
    /// Whoever Fulcio certified under this identity.
    Keyless(keyless::Identity),
}

/// What a signature is verified with.
pub enum Verifier {
    Key(VerifyingKey),
    Keyless {
        trust: keyless::Trust,
        identity: keyless::Identity,
    },
}

/// Whether `image` (at `digest`) has a signature that `verifier` verifies.
pub async fn verify(
    registry: &Registry,
    image: &ImageRef,
    digest: &str,
    verifier: &Verifier,
) -> Result<Finding, SourceError> {
    let tag = signature_tag(digest);
    let Some(manifest) = registry.manifest(&image.with_reference(&tag)).await? else {
        return Ok(Finding::fail(format!(
            "unsigned: {image} ({digest}) has no signature ({tag} is not in the registry)"
        )));
    };
    let body: Value = serde_json::from_slice(&manifest.body)
        .map_err(|e| SourceError::Rejected(format!("{tag}: not a manifest: {e}")))?;
    let layers = body["layers"].as_array().cloned().unwrap_or_default();
    let mut why = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        if layer["mediaType"] != SIMPLE_SIGNING {
            continue;
        }
        let annotations = &layer["annotations"];
        let (Some(blob), Some(sig)) = (
            layer["digest"].as_str(),
            annotations[SIGNATURE_ANNOTATION].as_str(),
        ) else {
            why.push(format!("layer {i}: no digest or no signature annotation"));
            continue;
        };
        let payload = registry.blob(image, blob).await?;
        let judged = match verifier {
            Verifier::Key(key) => judge(&payload, sig, digest, key).map(|()| String::new()),
            Verifier::Keyless { trust, identity } => {
                match annotations[keyless::CERTIFICATE_ANNOTATION].as_str() {
                    None => Err("no certificate: signed with a key, not keyless".to_string()),
                    Some(certificate) => keyless::judge(
                        &keyless::Layer {
                            signature: sig,
                            certificate,
                            chain: annotations[keyless::CHAIN_ANNOTATION].as_str(),
                            bundle: annotations[keyless::BUNDLE_ANNOTATION].as_str(),
                        },
                        &payload,
                        digest,
                        trust,
                        identity,
                    )
                    .map(|s| {
                        format!(
                            " by {} (issuer {}), Rekor log index {}",
                            s.identity, s.issuer, s.log_index
                        )
                    }),
                }
            }
        };
        match judged {
            Ok(by) => {
                return Ok(Finding::pass(format!(
                    "{image}: signature {} of {tag} verifies over {digest}{by}",
                    i + 1
                )));
            }
            Err(e) => why.push(format!("signature {}: {e}", i + 1)),
        }
    }
    Ok(Finding::fail(if why.is_empty() {
        format!("unsigned: {tag} holds no cosign signature layer")
    } else {
        format!("{image} ({digest}): {}", why.join("; "))
    }))
}

/// The signature verifies over the payload, and the payload names this digest.
fn judge(payload: &[u8], sig: &str, digest: &str, key: &VerifyingKey) -> Result<(), String> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(sig.trim())
        .map_err(|e| format!("the signature is not base64 ({e})"))?;
    let sig = Signature::from_der(&raw)
        .or_else(|_| Signature::from_slice(&raw))
        .map_err(|_| "the signature is not an ECDSA signature".to_string())?;
    key.verify(payload, &sig)
        .map_err(|_| "does not verify with the key (tampered, or signed by another key)")?;
    names_digest(payload, digest)
}

/// The payload is a cosign signature payload naming this digest.
fn names_digest(payload: &[u8], digest: &str) -> Result<(), String> {
    let p: Value = serde_json::from_slice(payload)
        .map_err(|e| format!("the signed payload is not JSON ({e})"))?;
    let named = p["critical"]["image"]["docker-manifest-digest"]
        .as_str()
        .unwrap_or("nothing");
    if p["critical"]["type"] != PAYLOAD_TYPE {
        return Err(format!("the payload's type is {}", p["critical"]["type"]));
    }
    if named != digest {
        return Err(format!("it signs {named}, not this image"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::SigningKey;
    use p256::ecdsa::signature::Signer;
    use p256::pkcs8::EncodePublicKey;

    fn signed(key: &SigningKey, payload: &[u8]) -> String {
        let sig: Signature = key.sign(payload);
        base64::engine::general_purpose::STANDARD.encode(sig.to_der().as_bytes())
    }

    #[test]
    fn a_signature_is_judged_by_key_payload_and_digest() {
        let key = SigningKey::from_slice(&[7; 32]).unwrap();
        let other = SigningKey::from_slice(&[9; 32]).unwrap();
        let pem = key
            .verifying_key()
            .to_public_key_pem(p256::pkcs8::LineEnding::LF)
            .unwrap();
        let verifier = public_key(&pem).unwrap();
        let image = ImageRef::parse("ghcr.io/acme/summit:sha-1").unwrap();
        let digest = format!("sha256:{}", "b".repeat(64));
        let p = payload(&image, &digest);
        assert_eq!(judge(&p, &signed(&key, &p), &digest, &verifier), Ok(()));
        let tampered = String::from_utf8(p.clone()).unwrap().replace('b', "c");
        assert!(
            judge(tampered.as_bytes(), &signed(&key, &p), &digest, &verifier)
                .unwrap_err()
                .contains("does not verify")
        );
        assert!(
            judge(&p, &signed(&other, &p), &digest, &verifier)
                .unwrap_err()
                .contains("does not verify")
        );
        let elsewhere = format!("sha256:{}", "d".repeat(64));
        assert!(
            judge(&p, &signed(&key, &p), &elsewhere, &verifier)
                .unwrap_err()
                .contains("not this image")
        );
        assert!(public_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----").is_err());
    }
}
