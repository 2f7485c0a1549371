//! Keyless signatures as `cosign verify --certificate-identity … --certificate-oidc-issuer …`
//! judges them, offline: the Fulcio roots and the Rekor key are configured files, never
//! fetched. A signature layer carries the Fulcio leaf, its chain and the Rekor bundle in
//! annotations (docs/plan.md, `cosign.verified`). Never performs I/O.

use base64::Engine;
use serde_json::Value;
use sha2::Digest;
use x509_cert::Certificate;
use x509_cert::der::asn1::{ObjectIdentifier, Utf8StringRef};
use x509_cert::der::{Decode, DecodePem, Encode};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, SubjectAltName};

use super::canonical::canonical;

/// The layer annotation holding the Fulcio leaf (PEM).
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// The layer annotation holding the leaf's intermediates and root (PEM).
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// The layer annotation holding the Rekor bundle (JSON).
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";

/// Fulcio's OIDC issuer extension: a DER UTF8String.
pub const ISSUER_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
/// The deprecated form, still in older certificates: the issuer's bytes, not DER.
pub const ISSUER_V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");

const SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");

/// A chain longer than this is refused rather than walked.
const MAX_CHAIN: usize = 8;

/// Who must have signed: the certificate's email or URI, and the OIDC issuer of the token
/// Fulcio exchanged for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub subject: Subject,
    pub issuer: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// The SAN equals this.
    Exact(String),
    /// The SAN matches this regular expression (unanchored, as cosign's
    /// `--certificate-identity-regexp`).
    Pattern(String),
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::Exact(s) => f.write_str(s),
            Subject::Pattern(p) => write!(f, "/{p}/"),
        }
    }
}

/// The configured trust: Fulcio's roots and Rekor's public key.
pub struct Trust {
    roots: Vec<Certificate>,
    rekor: EcKey,
    /// Rekor's log ID: the hex SHA-256 of its key's DER.
    log_id: String,
}

impl Trust {
    /// `roots`: one or more PEM certificates; `rekor`: a PEM public key.
    pub fn new(roots: &str, rekor: &str) -> Result<Trust, String> {
        let roots = Certificate::load_pem_chain(roots.as_bytes())
            .map_err(|e| format!("expected PEM certificates ({e})"))?;
        if roots.is_empty() {
            return Err("expected at least one PEM certificate".into());
        }
        let (rekor, der) = EcKey::from_pem(rekor)?;
        Ok(Trust {
            roots,
            rekor,
            log_id: hex::encode(sha2::Sha256::digest(&der)),
        })
    }

    /// Only the roots, for checking a `fulcio_roots` file on its own.
    pub fn check_roots(pem: &str) -> Result<usize, String> {
        let roots = Certificate::load_pem_chain(pem.as_bytes())
            .map_err(|e| format!("expected PEM certificates ({e})"))?;
        match roots.len() {
            0 => Err("expected at least one PEM certificate".into()),
            n => Ok(n),
        }
    }

    /// Only the key, for checking a `rekor_public_key` file on its own.
    pub fn check_rekor_key(pem: &str) -> Result<(), String> {
        EcKey::from_pem(pem).map(drop)
    }
}

/// What a keyless signature layer carries besides its payload.
pub struct Layer<'a> {
    pub signature: &'a str,
    pub certificate: &'a str,
    pub chain: Option<&'a str>,
    pub bundle: Option<&'a str>,
}

/// What a verified signature is known by: the evidence names them.
#[derive(Debug, PartialEq)]
pub struct Signed {
    pub identity: String,
    pub issuer: String,
    pub log_index: i64,
}

/// Each check in the order `cosign verify` makes them; the first that fails names why.
pub fn judge(
    layer: &Layer,
    payload: &[u8],
    digest: &str,
    trust: &Trust,
    identity: &Identity,
) -> Result<Signed, String> {
    let leaf = Certificate::from_pem(layer.certificate.trim().as_bytes())
        .map_err(|e| format!("the certificate is not a PEM certificate ({e})"))?;
    let chain = match layer.chain {
        Some(pem) if !pem.trim().is_empty() => Certificate::load_pem_chain(pem.as_bytes())
            .map_err(|e| format!("the chain is not PEM certificates ({e})"))?,
        _ => Vec::new(),
    };
    let issuers = chains_to_a_root(&leaf, &chain, &trust.roots)?;
    let extensions = leaf.tbs_certificate.extensions.as_deref().unwrap_or(&[]);
    // As cosign: Fulcio's leaves are for code signing, and nothing else signs images.
    let code_signing = extensions
        .iter()
        .filter(|e| e.extn_id == EXTENDED_KEY_USAGE)
        .any(|e| {
            ExtendedKeyUsage::from_der(e.extn_value.as_bytes())
                .is_ok_and(|u| u.0.contains(&CODE_SIGNING))
        });
    if !code_signing {
        return Err("the certificate is not for code signing (no such extended key usage)".into());
    }
    let names = subject_names(extensions)?;
    let Some(name) = names.iter().find(|n| identity.subject.matches(n)) else {
        return Err(format!(
            "the certificate is for {}, not {}",
            if names.is_empty() {
                "no email or URI".to_string()
            } else {
                names.join(", ")
            },
            identity.subject
        ));
    };
    let issuer = oidc_issuer(extensions)?
        .ok_or("the certificate has no Fulcio OIDC issuer extension (1.3.6.1.4.1.57264.1.8)")?;
    if issuer != identity.issuer {
        return Err(format!(
            "the certificate's OIDC issuer is {issuer}, not {}",
            identity.issuer
        ));
    }
    let raw_signature = base64::engine::general_purpose::STANDARD
        .decode(layer.signature.trim())
        .map_err(|e| format!("the signature is not base64 ({e})"))?;
    let key = EcKey::from_spki(&der(&leaf.tbs_certificate.subject_public_key_info)?)?;
    if !key.verifies(&sha2::Sha256::digest(payload), &raw_signature) {
        return Err(
            "does not verify with the certificate's key (tampered, or signed by another key)"
                .into(),
        );
    }
    super::names_digest(payload, digest)?;
    let bundle = layer
        .bundle
        .ok_or("no Rekor bundle: the signature was not logged in Rekor")?;
    let (log_index, at) = logged(bundle, &leaf, &raw_signature, payload, trust)?;
    // As cosign: the whole chain is judged at the time Rekor vouches for, not now (a
    // leaf lives ten minutes), and an intermediate or root must have been valid then too.
    for ca in issuers {
        let (from, to) = valid(ca);
        if at < from || at > to {
            return Err(format!(
                "the chain's {} was not valid when Rekor took the entry in at {} (valid {} to {})",
                ca.tbs_certificate.subject,
                when(at),
                when(from),
                when(to)
            ));
        }
    }
    Ok(Signed {
        identity: name.clone(),
        issuer,
        log_index,
    })
}

impl Subject {
    pub fn matches(&self, name: &str) -> bool {
        match self {
            Subject::Exact(s) => s == name,
            Subject::Pattern(p) => regex::Regex::new(p).is_ok_and(|r| r.is_match(name)),
        }
    }
}

/// Up from the leaf through the annotation's chain until a configured root signed one;
/// the certificates that vouch for the leaf, the root last.
fn chains_to_a_root<'a>(
    leaf: &'a Certificate,
    chain: &'a [Certificate],
    roots: &'a [Certificate],
) -> Result<Vec<&'a Certificate>, String> {
    let unchained =
        |why: String| format!("the certificate does not chain to a configured Fulcio root ({why})");
    let mut current = leaf;
    let mut path = Vec::new();
    for _ in 0..MAX_CHAIN {
        let issuer = &current.tbs_certificate.issuer;
        if let Some(root) = roots
            .iter()
            .find(|r| &r.tbs_certificate.subject == issuer && signed_by(current, r))
        {
            path.push(root);
            return Ok(path);
        }
        let Some(next) = chain
            .iter()
            .find(|c| &c.tbs_certificate.subject == issuer && is_ca(c) && signed_by(current, c))
        else {
            return Err(unchained(format!("no certificate of {issuer} signed it")));
        };
        if next.tbs_certificate.issuer == next.tbs_certificate.subject {
            return Err(unchained(format!("its root is {issuer}")));
        }
        path.push(next);
        current = next;
    }
    Err(unchained("its chain is longer than captain follows".into()))
}

fn is_ca(cert: &Certificate) -> bool {
    cert.tbs_certificate
        .extensions
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .filter(|e| e.extn_id == BASIC_CONSTRAINTS)
        .any(|e| BasicConstraints::from_der(e.extn_value.as_bytes()).is_ok_and(|b| b.ca))
}

/// Whether `issuer`'s key made `cert`'s signature.
fn signed_by(cert: &Certificate, issuer: &Certificate) -> bool {
    let (Ok(tbs), Ok(spki)) = (
        cert.tbs_certificate.to_der(),
        der(&issuer.tbs_certificate.subject_public_key_info),
    ) else {
        return false;
    };
    let Ok(key) = EcKey::from_spki(&spki) else {
        return false;
    };
    let Some(signature) = cert.signature.as_bytes() else {
        return false;
    };
    let algorithm = cert.signature_algorithm.oid;
    if algorithm == ECDSA_SHA256 {
        key.verifies(&sha2::Sha256::digest(&tbs), signature)
    } else if algorithm == ECDSA_SHA384 {
        key.verifies(&sha2::Sha384::digest(&tbs), signature)
    } else {
        false
    }
}

fn der(value: &impl Encode) -> Result<Vec<u8>, String> {
    value
        .to_der()
        .map_err(|e| format!("the certificate does not encode ({e})"))
}

/// The emails and URIs of the subject alternative name extension.
pub fn subject_names(extensions: &[Extension]) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for e in extensions.iter().filter(|e| e.extn_id == SUBJECT_ALT_NAME) {
        let san = SubjectAltName::from_der(e.extn_value.as_bytes())
            .map_err(|e| format!("the certificate's subject alternative name is not DER ({e})"))?;
        for name in san.0 {
            match name {
                GeneralName::Rfc822Name(s) => names.push(s.to_string()),
                GeneralName::UniformResourceIdentifier(s) => names.push(s.to_string()),
                _ => {}
            }
        }
    }
    Ok(names)
}

/// Fulcio's OIDC issuer: the DER extension, else the deprecated raw one.
pub fn oidc_issuer(extensions: &[Extension]) -> Result<Option<String>, String> {
    if let Some(e) = extensions.iter().find(|e| e.extn_id == ISSUER_V2) {
        return Utf8StringRef::from_der(e.extn_value.as_bytes())
            .map(|s| Some(s.as_str().to_string()))
            .map_err(|e| format!("the certificate's OIDC issuer is not a UTF8String ({e})"));
    }
    match extensions.iter().find(|e| e.extn_id == ISSUER_V1) {
        Some(e) => std::str::from_utf8(e.extn_value.as_bytes())
            .map(|s| Some(s.to_string()))
            .map_err(|_| "the certificate's OIDC issuer is not UTF-8".into()),
        None => Ok(None),
    }
}

/// The bundle's SignedEntryTimestamp is Rekor's over this entry, the entry is this
/// signature of this payload by this certificate, and Rekor took it in while the
/// certificate was valid. The log index and that time, when all of that holds.
fn logged(
    bundle: &str,
    leaf: &Certificate,
    signature: &[u8],
    payload: &[u8],
    trust: &Trust,
) -> Result<(i64, u64), String> {
    let b64 = &base64::engine::general_purpose::STANDARD;
    let bundle: Value =
        serde_json::from_str(bundle).map_err(|e| format!("the Rekor bundle is not JSON ({e})"))?;
    let entry = &bundle["Payload"];
    let (Some(body), Some(integrated), Some(index), Some(log_id)) = (
        entry["body"].as_str(),
        entry["integratedTime"].as_i64(),
        entry["logIndex"].as_i64(),
        entry["logID"].as_str(),
    ) else {
        return Err(
            "the Rekor bundle lacks Payload.body, integratedTime, logIndex or logID".into(),
        );
    };
    let set = bundle["SignedEntryTimestamp"]
        .as_str()
        .and_then(|s| b64.decode(s).ok())
        .ok_or("the Rekor bundle has no base64 SignedEntryTimestamp")?;
    if !trust
        .rekor
        .verifies(&sha2::Sha256::digest(canonical(entry)?.as_bytes()), &set)
    {
        return Err(
            "the Rekor bundle's SignedEntryTimestamp does not verify with the Rekor key".into(),
        );
    }
    if log_id != trust.log_id {
        return Err(format!(
            "the entry is in log {log_id}, not the configured Rekor's"
        ));
    }
    let body: Value = b64
        .decode(body)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("the Rekor entry's body is not base64 JSON")?;
    if body["kind"] != "hashedrekord" {
        return Err(format!(
            "the Rekor entry is a {}, not a hashedrekord",
            body["kind"]
        ));
    }
    let spec = &body["spec"];
    let logged_signature = spec["signature"]["content"]
        .as_str()
        .and_then(|s| b64.decode(s).ok());
    if logged_signature.as_deref() != Some(signature) {
        return Err("the Rekor entry logs another signature".into());
    }
    let hash = hex::encode(sha2::Sha256::digest(payload));
    if spec["data"]["hash"]["algorithm"] != "sha256" || spec["data"]["hash"]["value"] != hash {
        return Err(format!(
            "the Rekor entry logs another payload than this one (sha256 {hash})"
        ));
    }
    let logged_certificate = spec["signature"]["publicKey"]["content"]
        .as_str()
        .and_then(|s| b64.decode(s).ok())
        .and_then(|pem| Certificate::from_pem(pem.trim_ascii()).ok());
    if logged_certificate.as_ref() != Some(leaf) {
        return Err("the Rekor entry logs another certificate".into());
    }
    let (from, to) = valid(leaf);
    let at = u64::try_from(integrated).unwrap_or(0);
    if at < from || at > to {
        return Err(format!(
            "Rekor took the entry in at {} (integratedTime), outside the certificate's \
             validity ({} to {})",
            when(at),
            when(from),
            when(to)
        ));
    }
    Ok((index, at))
}

/// A certificate's validity, in Unix seconds.
fn valid(cert: &Certificate) -> (u64, u64) {
    let validity = &cert.tbs_certificate.validity;
    (
        validity.not_before.to_unix_duration().as_secs(),
        validity.not_after.to_unix_duration().as_secs(),
    )
}

fn when(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map_or(unix.to_string(), |t| {
            t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
        })
}

/// An ECDSA public key on P-256 or P-384: Fulcio's roots are P-384, its leaves and Rekor's
/// key P-256.
enum EcKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
}

impl EcKey {
    fn from_spki(der: &[u8]) -> Result<EcKey, String> {
        use p256::pkcs8::DecodePublicKey;
        if let Ok(k) = p256::PublicKey::from_public_key_der(der) {
            return Ok(EcKey::P256(k.into()));
        }
        p384::PublicKey::from_public_key_der(der)
            .map(|k| EcKey::P384(k.into()))
            .map_err(|_| "the key is not an ECDSA P-256 or P-384 public key".into())
    }

    /// The key and its DER (what a log ID is the hash of).
    fn from_pem(pem: &str) -> Result<(EcKey, Vec<u8>), String> {
        let (label, der) = x509_cert::der::pem::decode_vec(pem.trim().as_bytes())
            .map_err(|e| format!("expected a PEM public key ({e})"))?;
        if label != "PUBLIC KEY" {
            return Err(format!("expected a PEM PUBLIC KEY, found {label}"));
        }
        Ok((EcKey::from_spki(&der)?, der))
    }

    /// Whether `signature` (DER, or the fixed-size form) is this key's over `prehash`.
    fn verifies(&self, prehash: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        match self {
            EcKey::P256(k) => p256::ecdsa::Signature::from_der(signature)
                .or_else(|_| p256::ecdsa::Signature::from_slice(signature))
                .is_ok_and(|s| k.verify_prehash(prehash, &s).is_ok()),
            EcKey::P384(k) => p384::ecdsa::Signature::from_der(signature)
                .or_else(|_| p384::ecdsa::Signature::from_slice(signature))
                .is_ok_and(|s| k.verify_prehash(prehash, &s).is_ok()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_cert::der::asn1::{Ia5String, OctetString};

    fn extension(oid: ObjectIdentifier, value: Vec<u8>) -> Extension {
        Extension {
            extn_id: oid,
            critical: false,
            extn_value: OctetString::new(value).unwrap(),
        }
    }

    #[test]
    fn the_issuer_is_read_from_the_der_extension_before_the_deprecated_one() {
        let v2 = Utf8StringRef::new("https://token.actions.githubusercontent.com")
            .unwrap()
            .to_der()
            .unwrap();
        let v1 = b"https://accounts.google.com".to_vec();
        assert_eq!(
            oidc_issuer(&[extension(ISSUER_V1, v1.clone()), extension(ISSUER_V2, v2)]),
            Ok(Some("https://token.actions.githubusercontent.com".into()))
        );
        assert_eq!(
            oidc_issuer(&[extension(ISSUER_V1, v1)]),
            Ok(Some("https://accounts.google.com".into()))
        );
        assert_eq!(oidc_issuer(&[]), Ok(None));
        // The raw form in the DER extension's place is refused, not read as garbage.
        assert!(oidc_issuer(&[extension(ISSUER_V2, b"https://x".to_vec())]).is_err());
    }

    #[test]
    fn subject_names_are_the_emails_and_uris_of_the_san() {
        let uri = "https://github.com/acme/summit/.github/workflows/release.yml@refs/heads/main";
        let san = SubjectAltName(vec![
            GeneralName::DnsName(Ia5String::new("example.com").unwrap()),
            GeneralName::Rfc822Name(Ia5String::new("ci@acme.dev").unwrap()),
            GeneralName::UniformResourceIdentifier(Ia5String::new(uri).unwrap()),
        ]);
        let names = subject_names(&[extension(SUBJECT_ALT_NAME, san.to_der().unwrap())]).unwrap();
        assert_eq!(names, vec!["ci@acme.dev".to_string(), uri.to_string()]);
        assert!(Subject::Pattern("^https://github\\.com/acme/".into()).matches(uri));
        assert!(!Subject::Pattern("^https://github\\.com/evil/".into()).matches(uri));
        assert!(!Subject::Exact("ci@acme.dev ".into()).matches("ci@acme.dev"));
        assert!(subject_names(&[extension(SUBJECT_ALT_NAME, vec![1, 2, 3])]).is_err());
    }
}
