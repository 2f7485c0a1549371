//! `oci.image` and `cosign.verified` against a real registry: Debian's `docker-registry`
//! (the CNCF distribution server) on a free loopback port with storage of its own. Each
//! test pushes its images through the distribution API and signs them as cosign does: an
//! ECDSA P-256 signature of the simple-signing payload, in the annotation of the one layer
//! of the manifest tagged `sha256-<digest>.sig`; or keylessly, with a Fulcio leaf, its chain
//! and a Rekor bundle from a test CA and log of their own.

use captain_testkit::prometheus as prom_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use captain::config::probe::Probe;
use captain::engine::phases::ProbeStatus;
use captain::ops::probes::{ProbeContext, run};
use captain::sources::cosign;
use captain::sources::cosign::keyless;
use captain::sources::oci::{ImageRef, digest_of};
use captain::sources::published::{Keyless as KeylessTrust, LivePublished};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::str::FromStr;
use x509_cert::Certificate;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::asn1::{Ia5String, ObjectIdentifier, Utf8StringRef};
use x509_cert::der::oid::AssociatedOid;
use x509_cert::der::oid::db::rfc5280::ID_KP_CODE_SIGNING;
use x509_cert::der::{self as der, EncodePem};
use x509_cert::ext::AsExtension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectAltName};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::{Time, Validity};

/// A registry server of its own, killed when dropped.
struct Registry {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// `None`: no `docker-registry` here (a failure on CI, which installs it).
    fn start() -> Option<Registry> {
        let binary = Path::new("/usr/bin/docker-registry");
        if !binary.is_file() {
            assert!(
                !std::env::var("CI").is_ok_and(|v| v == "true"),
                "docker-registry is missing and CI=true: .ci/run installs Debian's package"
            );
            eprintln!("SKIPPED: no /usr/bin/docker-registry (Debian package docker-registry)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let addr = format!("127.0.0.1:{}", prom_support::free_port());
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
                 http:\n  addr: {addr}\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let child = Command::new(binary)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("registry.log")).unwrap())
            .spawn()
            .expect("docker-registry starts");
        let mut r = Registry {
            child,
            addr,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(&r.addr).is_err() {
            let log = std::fs::read_to_string(r._dir.path().join("registry.log"));
            assert!(
                Instant::now() < deadline && r.child.try_wait().unwrap().is_none(),
                "the registry did not listen: {log:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(r)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Push through the distribution API, as `docker push` and `cosign sign` do.
struct Pusher {
    http: reqwest::Client,
    base: String,
}

impl Pusher {
    fn new(addr: &str) -> Self {
        Pusher {
            http: reqwest::Client::new(),
            base: format!("http://{addr}"),
        }
    }

    /// A monolithic upload: POST for a session, PUT the bytes with their digest.
    async fn blob(&self, name: &str, bytes: &[u8]) -> String {
        let digest = digest_of(bytes);
        let start = self
            .http
            .post(format!("{}/v2/{name}/blobs/uploads/", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(start.status(), 202, "{:?}", start.text().await);
        let location = start.headers()["location"].to_str().unwrap().to_string();
        let location = if location.starts_with('/') {
            format!("{}{location}", self.base)
        } else {
            location
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = self
            .http
            .put(format!("{location}{sep}digest={digest}"))
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 201, "{:?}", put.text().await);
        digest
    }

    /// An OCI image manifest of a config and layers, under `tag`; its digest.
    async fn manifest(&self, name: &str, tag: &str, layers: Vec<serde_json::Value>) -> String {
        let config =
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
        let config_digest = self.blob(name, config).await;
        let body = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": config.len(),
            },
            "layers": layers,
        }))
        .unwrap();
        let put = self
            .http
            .put(format!("{}/v2/{name}/manifests/{tag}", self.base))
            .header("content-type", "application/vnd.oci.image.manifest.v1+json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 201, "{:?}", put.text().await);
        assert_eq!(put.headers()["docker-content-digest"], digest_of(&body));
        digest_of(&body)
    }

    /// A one-layer image; its digest.
    async fn image(&self, name: &str, tag: &str, content: &[u8]) -> String {
        let layer = self.blob(name, content).await;
        self.manifest(
            name,
            tag,
            vec![json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": layer,
                "size": content.len(),
            })],
        )
        .await
    }

    /// Sign `digest` as cosign does; `payload` is what is stored as the layer, which a
    /// tamperer may change after signing.
    async fn signature(
        &self,
        image: &ImageRef,
        digest: &str,
        key: &SigningKey,
        tamper: impl Fn(Vec<u8>) -> Vec<u8>,
    ) {
        let signed = cosign::payload(image, digest);
        let sig: Signature = key.sign(&signed);
        let annotations = json!({
            cosign::SIGNATURE_ANNOTATION:
                base64::engine::general_purpose::STANDARD.encode(sig.to_der().as_bytes()),
        });
        self.signature_layer(image, digest, &tamper(signed), annotations)
            .await;
    }

    /// The manifest `sha256-<digest>.sig` with one signature layer: `stored` and its
    /// annotations.
    async fn signature_layer(
        &self,
        image: &ImageRef,
        digest: &str,
        stored: &[u8],
        annotations: serde_json::Value,
    ) {
        let blob = self.blob(&image.name, stored).await;
        self.manifest(
            &image.name,
            &cosign::signature_tag(digest),
            vec![json!({
                "mediaType": cosign::SIMPLE_SIGNING,
                "digest": blob,
                "size": stored.len(),
                "annotations": annotations,
            })],
        )
        .await;
    }
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).unwrap()
}

/// The public half as `cosign generate-key-pair` writes `cosign.pub`.
fn write_public(dir: &Path, key: &SigningKey) -> PathBuf {
    let path = dir.join("cosign.pub");
    let pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    std::fs::write(&path, pem).unwrap();
    path
}

fn context(dir: &Path, key: Option<PathBuf>, forge: bool) -> ProbeContext {
    let world = captain::sim::World::new(
        captain::sim::Scenario::Steady,
        1,
        Arc::new(captain::clock::SystemClock),
    );
    ProbeContext {
        audit_path: dir.join("audit.jsonl"),
        metrics: None,
        forge: forge.then(|| world.backends().forge.clone()),
        cluster: None,
        published: Some(Arc::new(LivePublished::new(
            "Acme/Summit",
            None,
            key,
            |_| None,
        ))),
        host: Arc::new(captain::sources::host::LocalHost),
        now: chrono::Utc::now(),
    }
}

fn image(reference: &str) -> Probe {
    Probe::OciImage {
        image: reference.into(),
    }
}

fn signed(reference: &str) -> Probe {
    Probe::CosignVerified {
        image: reference.into(),
        key: None,
        certificate_identity: None,
        certificate_identity_regexp: None,
        certificate_oidc_issuer: None,
    }
}

#[tokio::test]
async fn a_signed_image_passes_and_a_tampered_unsigned_or_missing_one_fails() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let push = Pusher::new(&registry.addr);
    let signer = key(7);
    let ctx = context(dir.path(), Some(write_public(dir.path(), &signer)), false);
    let at = |tag: &str| format!("{}/acme/summit:{tag}", registry.addr);

    let good = push.image("acme/summit", "good", b"layer one").await;
    push.signature(
        &ImageRef::parse(&at("good")).unwrap(),
        &good,
        &signer,
        |p| p,
    )
    .await;
    let r = run(&image(&at("good")), &ctx).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{r:?}");
    assert!(
        r.evidence.ends_with(&good),
        "the evidence is the digest: {r:?}"
    );
    let r = run(&signed(&at("good")), &ctx).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{r:?}");
    assert!(
        r.evidence.contains(&format!("verifies over {good}")),
        "{r:?}"
    );

    // The stored payload changed after signing: it now names another image.
    let tampered = push.image("acme/summit", "tampered", b"layer two").await;
    push.signature(
        &ImageRef::parse(&at("tampered")).unwrap(),
        &tampered,
        &signer,
        |p| {
            String::from_utf8(p)
                .unwrap()
                .replace("acme/summit", "acme/evil")
                .into_bytes()
        },
    )
    .await;
    let r = run(&image(&at("tampered")), &ctx).await;
    assert_eq!(
        r.status,
        ProbeStatus::Pass,
        "the image itself is there: {r:?}"
    );
    let r = run(&signed(&at("tampered")), &ctx).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(r.evidence.contains("does not verify with the key"), "{r:?}");

    // Signed, but by another key than the one configured.
    let other = push.image("acme/summit", "other", b"layer three").await;
    push.signature(
        &ImageRef::parse(&at("other")).unwrap(),
        &other,
        &key(9),
        |p| p,
    )
    .await;
    let r = run(&signed(&at("other")), &ctx).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(r.evidence.contains("does not verify with the key"), "{r:?}");

    let unsigned = push.image("acme/summit", "unsigned", b"layer four").await;
    let r = run(&signed(&at("unsigned")), &ctx).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(r.evidence.starts_with("unsigned:"), "{r:?}");
    assert!(
        r.evidence.contains(&cosign::signature_tag(&unsigned)),
        "{r:?}"
    );

    let r = run(&image(&at("never-pushed")), &ctx).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(r.evidence.starts_with("no image"), "{r:?}");
    let r = run(&signed(&at("never-pushed")), &ctx).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");

    // Without a key there is nothing to verify with: unavailable, never a pass.
    let r = run(&signed(&at("good")), &context(dir.path(), None, false)).await;
    assert_eq!(r.status, ProbeStatus::Unavailable, "{r:?}");
    assert!(r.evidence.contains("no public key"), "{r:?}");
}

#[tokio::test]
async fn org_repo_and_sha_are_the_repository_and_mains_head() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path(), None, true);
    let forge = ctx.forge.clone().unwrap();
    let head = captain::sources::first_reading(forge.main_health(), Duration::from_secs(5))
        .await
        .unwrap()
        .head
        .sha
        .clone();
    let template = format!("{}/<org>/<repo>:sha-<sha>", registry.addr);
    let r = run(&image(&template), &ctx).await;
    assert_eq!(r.status, ProbeStatus::Fail, "not pushed yet: {r:?}");
    let digest = Pusher::new(&registry.addr)
        .image("acme/summit", &format!("sha-{head}"), b"main")
        .await;
    let r = run(&image(&template), &ctx).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{r:?}");
    assert!(
        r.evidence.starts_with(&format!(
            "{}/acme/summit:sha-{head}: {digest}",
            registry.addr
        )),
        "{r:?}"
    );
    // Without a forge, main's head is not known.
    let r = run(&image(&template), &context(dir.path(), None, false)).await;
    assert_eq!(r.status, ProbeStatus::Unavailable, "{r:?}");
}

#[tokio::test]
async fn a_registry_that_is_down_is_unavailable() {
    let Some(mut registry) = Registry::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let signer = key(7);
    let ctx = context(dir.path(), Some(write_public(dir.path(), &signer)), false);
    let at = format!("{}/acme/summit:good", registry.addr);
    let push = Pusher::new(&registry.addr);
    let digest = push.image("acme/summit", "good", b"layer").await;
    push.signature(&ImageRef::parse(&at).unwrap(), &digest, &signer, |p| p)
        .await;
    assert_eq!(run(&signed(&at), &ctx).await.status, ProbeStatus::Pass);
    registry.stop();
    for p in [image(&at), signed(&at)] {
        let r = run(&p, &ctx).await;
        assert_eq!(r.status, ProbeStatus::Unavailable, "{p:?}: {r:?}");
        assert!(r.evidence.contains("unreachable"), "{r:?}");
    }
}

/// `captain plan validate` with a plan of its own and the key in captain.toml: exit 0 for
/// the signed image, 1 once the plan asks for an unsigned one.
#[tokio::test]
async fn plan_validate_checks_the_image_and_its_signature_through_the_binary() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let signer = key(7);
    write_public(dir.path(), &signer);
    let push = Pusher::new(&registry.addr);
    let at = |tag: &str| format!("{}/acme/summit:{tag}", registry.addr);
    let digest = push.image("acme/summit", "sha-1", b"release").await;
    push.signature(
        &ImageRef::parse(&at("sha-1")).unwrap(),
        &digest,
        &signer,
        |p| p,
    )
    .await;
    push.image("acme/summit", "sha-2", b"unsigned release")
        .await;
    std::fs::write(
        dir.path().join("captain.toml"),
        "[plan]\nfile = \"plan.yml\"\n\n[cosign]\npublic_key = \"cosign.pub\"\n",
    )
    .unwrap();
    let validate = |tag: &str| {
        plan_validate(
            dir.path(),
            &[
                format!("{{kind: oci.image, image: \"{}\"}}", at(tag)),
                format!("{{kind: cosign.verified, image: \"{}\"}}", at(tag)),
            ],
        )
    };
    let out = validate("sha-1");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let checks = &v[0]["checks"];
    assert_eq!(checks[0]["probe"], "oci.image");
    assert_eq!(checks[0]["status"], "pass");
    assert!(
        checks[0]["evidence"].as_str().unwrap().ends_with(&digest),
        "{text}"
    );
    assert_eq!(checks[1]["probe"], "cosign.verified");
    assert_eq!(checks[1]["status"], "pass");

    let out = validate("sha-2");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["checks"][0]["status"], "pass");
    assert_eq!(v[0]["checks"][1]["status"], "fail");
    assert!(
        v[0]["checks"][1]["evidence"]
            .as_str()
            .unwrap()
            .starts_with("unsigned:")
    );
}

/// `captain plan validate --json` in `dir` (its captain.toml names plan.yml) with one phase
/// whose checks are these probes (YAML flow mappings), in order.
fn plan_validate(dir: &Path, probes: &[String]) -> std::process::Output {
    let checks: String = probes
        .iter()
        .enumerate()
        .map(|(i, p)| format!("      - check: Check {i}.\n        probe: {p}\n"))
        .collect();
    let plan = format!(
        "version: 1\nphases:\n  - id: 0\n    title: Package, Sign, Publish\n    owner: CI/CD\n    \
         days: [7]\n    steps: [publish]\n    rollback: none\n    validation:\n{checks}"
    );
    std::fs::write(dir.join("plan.yml"), plan).unwrap();
    Command::new(env!("CARGO_BIN_EXE_captain"))
        .args(["plan", "validate", "--json"])
        .env("CAPTAIN_STATE_DIR", dir)
        .env_remove("CAPTAIN_CONFIG")
        .env_remove("GITHUB_TOKEN")
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The token challenge as ghcr.io and Docker Hub answer it, in the shapes of the
/// distribution token spec (https://distribution.github.io/distribution/spec/auth/token/):
/// a 401 whose `WWW-Authenticate: Bearer realm=…,service=…,scope=…` names where to ask,
/// and `{"token": …}` from there; the credentials go to the realm as basic auth.
#[tokio::test]
async fn a_registry_that_asks_for_a_token_gets_one_from_its_realm() {
    use wiremock::matchers::{header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let addr = server.address().to_string();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest_of(b"{}"), "size": 2},
        "layers": [],
    }))
    .unwrap();
    let digest = digest_of(&manifest);
    Mock::given(method("GET"))
        .and(path("/v2/acme/summit/manifests/sha-1"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/vnd.oci.image.manifest.v1+json")
                .insert_header("docker-content-digest", digest.as_str())
                .set_body_bytes(manifest),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    let challenge = format!(
        r#"Bearer realm="http://{addr}/token",service="ghcr.io",scope="repository:acme/summit:pull""#
    );
    Mock::given(method("GET"))
        .and(path("/v2/acme/summit/manifests/sha-1"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("www-authenticate", challenge.as_str())
                .set_body_json(json!({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]})),
        )
        .mount(&server)
        .await;
    let basic = base64::engine::general_purpose::STANDARD.encode("octocat:ghp_secret");
    Mock::given(method("GET"))
        .and(path("/token"))
        .and(query_param("service", "ghcr.io"))
        .and(query_param("scope", "repository:acme/summit:pull"))
        .and(header("authorization", format!("Basic {basic}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"token": "tok-1"})))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/token"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"errors": [{"code": "DENIED"}]})),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let with = |creds: bool| ProbeContext {
        published: Some(Arc::new(LivePublished::new(
            "acme/summit",
            None,
            None,
            move |k| match (creds, k) {
                (true, "REGISTRY_USER") => Some("octocat".into()),
                (true, "REGISTRY_TOKEN") => Some("ghp_secret".into()),
                _ => None,
            },
        ))),
        ..context(dir.path(), None, false)
    };
    let reference = format!("{addr}/acme/summit:sha-1");
    let r = run(&image(&reference), &with(true)).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{r:?}");
    assert!(r.evidence.ends_with(&digest), "{r:?}");
    let r = run(&image(&reference), &with(false)).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{r:?}");
    assert!(r.evidence.contains("token from"), "{r:?}");
    assert!(!r.evidence.contains("ghp_secret"), "{r:?}");
}

/// The workflow identity GitHub Actions' token names, as Fulcio puts it in the SAN.
const WORKFLOW: &str =
    "https://github.com/acme/summit/.github/workflows/release.yml@refs/heads/main";
const ACTIONS: &str = "https://token.actions.githubusercontent.com";

/// A Fulcio and a Rekor of the test's own: a P-384 root and intermediate, as Fulcio's
/// are, and a P-256 Rekor key. Their certificates, bundle and annotations take the shapes
/// of cosign's signature spec
/// (https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md: `certificate`,
/// `chain`, `bundle` with `SignedEntryTimestamp` over `Payload` {body, integratedTime,
/// logIndex, logID}).
struct Sigstore {
    intermediate_key: p384::ecdsa::SigningKey,
    root: Certificate,
    intermediate: Certificate,
    rekor: SigningKey,
}

/// Fulcio's OIDC issuer extension (1.3.6.1.4.1.57264.1.8): a DER UTF8String.
struct OidcIssuer(String);

impl AssociatedOid for OidcIssuer {
    const OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
}

impl der::Encode for OidcIssuer {
    fn encoded_len(&self) -> der::Result<der::Length> {
        Utf8StringRef::new(&self.0)?.encoded_len()
    }

    fn encode(&self, writer: &mut impl der::Writer) -> der::Result<()> {
        Utf8StringRef::new(&self.0)?.encode(writer)
    }
}

impl AsExtension for OidcIssuer {
    fn critical(&self, _: &Name, _: &[x509_cert::ext::Extension]) -> bool {
        false
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Valid from `from` for `secs` seconds.
fn validity(from: u64, secs: u64) -> Validity {
    let at = |t: u64| Time::try_from(std::time::UNIX_EPOCH + Duration::from_secs(t)).unwrap();
    Validity {
        not_before: at(from),
        not_after: at(from + secs),
    }
}

impl Sigstore {
    fn new(seed: u8, name: &str) -> Sigstore {
        Self::with_intermediate(seed, name, validity(unix_now() - 86_400, 365 * 86_400))
    }

    /// The Fulcio of `seed` and `name` (the same root and Rekor key each time), its
    /// intermediate valid for `intermediate` alone.
    fn with_intermediate(seed: u8, name: &str, intermediate: Validity) -> Sigstore {
        let root_key = p384::ecdsa::SigningKey::from_slice(&[seed; 48]).unwrap();
        let intermediate_key = p384::ecdsa::SigningKey::from_slice(&[seed + 1; 48]).unwrap();
        let root_name = Name::from_str(&format!("CN={name},O=sigstore.dev")).unwrap();
        let year = validity(unix_now() - 86_400, 365 * 86_400);
        let root = CertificateBuilder::new(
            Profile::Root,
            SerialNumber::from(1u32),
            year,
            root_name.clone(),
            SubjectPublicKeyInfoOwned::from_key(*root_key.verifying_key()).unwrap(),
            &root_key,
        )
        .unwrap()
        .build::<p384::ecdsa::DerSignature>()
        .unwrap();
        let intermediate = CertificateBuilder::new(
            Profile::SubCA {
                issuer: root_name,
                path_len_constraint: Some(0),
            },
            SerialNumber::from(2u32),
            intermediate,
            Name::from_str(&format!("CN={name}-intermediate,O=sigstore.dev")).unwrap(),
            SubjectPublicKeyInfoOwned::from_key(*intermediate_key.verifying_key()).unwrap(),
            &root_key,
        )
        .unwrap()
        .build::<p384::ecdsa::DerSignature>()
        .unwrap();
        Sigstore {
            intermediate_key,
            root,
            intermediate,
            rekor: key(seed + 2),
        }
    }

    /// A leaf as Fulcio issues one for a workflow's token: `identity` in the SAN, the
    /// token's issuer in its extension, for code signing unless `code_signing` is false, ten
    /// minutes from `from`.
    fn leaf(
        &self,
        key: &SigningKey,
        identity: &str,
        issuer: &str,
        code_signing: bool,
        from: u64,
    ) -> Certificate {
        let mut builder = CertificateBuilder::new(
            Profile::Leaf {
                issuer: self.intermediate.tbs_certificate.subject.clone(),
                enable_key_agreement: false,
                enable_key_encipherment: false,
            },
            SerialNumber::from(from as u32),
            validity(from, 600),
            Name::default(),
            SubjectPublicKeyInfoOwned::from_key(*key.verifying_key()).unwrap(),
            &self.intermediate_key,
        )
        .unwrap();
        builder
            .add_extension(&SubjectAltName(vec![
                GeneralName::UniformResourceIdentifier(Ia5String::new(identity).unwrap()),
            ]))
            .unwrap();
        builder
            .add_extension(&OidcIssuer(issuer.to_string()))
            .unwrap();
        if code_signing {
            builder
                .add_extension(&ExtendedKeyUsage(vec![ID_KP_CODE_SIGNING]))
                .unwrap();
        }
        builder.build::<p384::ecdsa::DerSignature>().unwrap()
    }

    /// `fulcio.pem` (the root) and `rekor.pub` in `dir`, as captain.toml names them.
    fn write_trust(&self, dir: &Path) {
        std::fs::write(
            dir.join("fulcio.pem"),
            self.root.to_pem(LineEnding::LF).unwrap(),
        )
        .unwrap();
        std::fs::write(
            dir.join("rekor.pub"),
            self.rekor
                .verifying_key()
                .to_public_key_pem(LineEnding::LF)
                .unwrap(),
        )
        .unwrap();
    }
}

/// How a keyless signature is made, and what a test breaks in it.
struct Keyless<'a> {
    fulcio: &'a Sigstore,
    identity: &'a str,
    issuer: &'a str,
    /// Signs the bundle's SignedEntryTimestamp: Rekor's key, unless a test forges it.
    rekor: &'a SigningKey,
    /// When Rekor took the entry in, from the leaf's start.
    integrated_after: u64,
    /// Whether the leaf is for code signing, as Fulcio's are.
    code_signing: bool,
    /// Changes the stored payload after signing.
    tamper: fn(Vec<u8>) -> Vec<u8>,
}

impl<'a> Keyless<'a> {
    fn by(fulcio: &'a Sigstore) -> Self {
        Keyless {
            fulcio,
            identity: WORKFLOW,
            issuer: ACTIONS,
            rekor: &fulcio.rekor,
            integrated_after: 30,
            code_signing: true,
            tamper: |p| p,
        }
    }

    /// Sign `digest` as `cosign sign` in a workflow does: an ephemeral key, a Fulcio leaf
    /// for it, the signature logged in Rekor (a hashedrekord) and the bundle beside it.
    async fn sign(&self, push: &Pusher, image: &ImageRef, digest: &str) {
        let b64 = &base64::engine::general_purpose::STANDARD;
        let ephemeral = key(42);
        let from = unix_now() - 60;
        let leaf = self.fulcio.leaf(
            &ephemeral,
            self.identity,
            self.issuer,
            self.code_signing,
            from,
        );
        let leaf_pem = leaf.to_pem(LineEnding::LF).unwrap();
        let payload = cosign::payload(image, digest);
        let sig: Signature = ephemeral.sign(&payload);
        let sig = b64.encode(sig.to_der().as_bytes());
        let body = json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(&payload))}},
                "signature": {"content": sig, "publicKey": {"content": b64.encode(&leaf_pem)}},
            },
        });
        let body = b64.encode(body.to_string());
        let log_id = hex::encode(Sha256::digest(
            self.fulcio
                .rekor
                .verifying_key()
                .to_public_key_der()
                .unwrap()
                .as_bytes(),
        ));
        let integrated = from + self.integrated_after;
        // What Rekor signs: the Payload in canonical JSON (members sorted, no spaces).
        let canonical = format!(
            r#"{{"body":"{body}","integratedTime":{integrated},"logID":"{log_id}","logIndex":42}}"#
        );
        let set: Signature = self.rekor.sign(canonical.as_bytes());
        let bundle = json!({
            "SignedEntryTimestamp": b64.encode(set.to_der().as_bytes()),
            "Payload": {"body": body, "integratedTime": integrated, "logIndex": 42, "logID": log_id},
        });
        let chain = format!(
            "{}{}",
            self.fulcio.intermediate.to_pem(LineEnding::LF).unwrap(),
            self.fulcio.root.to_pem(LineEnding::LF).unwrap()
        );
        push.signature_layer(
            image,
            digest,
            &(self.tamper)(payload),
            json!({
                cosign::SIGNATURE_ANNOTATION: sig,
                keyless::CERTIFICATE_ANNOTATION: leaf_pem,
                keyless::CHAIN_ANNOTATION: chain,
                keyless::BUNDLE_ANNOTATION: bundle.to_string(),
            }),
        )
        .await;
    }
}

fn keyless_context(dir: &Path) -> ProbeContext {
    let identity = keyless::Identity {
        subject: keyless::Subject::Exact(WORKFLOW.into()),
        issuer: ACTIONS.into(),
    };
    ProbeContext {
        published: Some(Arc::new(
            LivePublished::new("acme/summit", None, None, |_| None).with_keyless(KeylessTrust {
                fulcio_roots: Some(dir.join("fulcio.pem")),
                rekor_public_key: Some(dir.join("rekor.pub")),
                identity: Some(identity),
            }),
        )),
        ..context(dir, None, false)
    }
}

fn signed_by(reference: &str, identity: Option<&str>, regexp: Option<&str>, issuer: &str) -> Probe {
    Probe::CosignVerified {
        image: reference.into(),
        key: None,
        certificate_identity: identity.map(Into::into),
        certificate_identity_regexp: regexp.map(Into::into),
        certificate_oidc_issuer: Some(issuer.into()),
    }
}

#[tokio::test]
async fn a_keyless_signature_passes_for_its_workflow_and_fails_for_each_broken_link() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let fulcio = Sigstore::new(11, "sigstore");
    fulcio.write_trust(dir.path());
    let ctx = keyless_context(dir.path());
    let push = Pusher::new(&registry.addr);
    let at = |tag: &str| format!("{}/acme/summit:{tag}", registry.addr);
    let sign = async |tag: &str, how: Keyless<'_>| {
        let digest = push.image("acme/summit", tag, tag.as_bytes()).await;
        how.sign(&push, &ImageRef::parse(&at(tag)).unwrap(), &digest)
            .await;
        digest
    };
    let verdict = async |probe: Probe| {
        let r = run(&probe, &ctx).await;
        (r.status, r.evidence)
    };

    let good = sign("good", Keyless::by(&fulcio)).await;
    let (status, evidence) = verdict(signed(&at("good"))).await;
    assert_eq!(status, ProbeStatus::Pass, "{evidence}");
    assert!(
        evidence.ends_with(&format!(
            "verifies over {good} by {WORKFLOW} (issuer {ACTIONS}), Rekor log index 42"
        )),
        "{evidence}"
    );
    // The probe's own identity, exact or a pattern, instead of [cosign]'s.
    let (status, evidence) = verdict(signed_by(
        &at("good"),
        None,
        Some(r"^https://github\.com/acme/summit/\.github/workflows/release\.yml@refs/heads/main$"),
        ACTIONS,
    ))
    .await;
    assert_eq!(status, ProbeStatus::Pass, "{evidence}");
    let other_workflow = WORKFLOW.replace("release.yml", "nightly.yml");
    let (status, evidence) =
        verdict(signed_by(&at("good"), Some(&other_workflow), None, ACTIONS)).await;
    assert_eq!(status, ProbeStatus::Fail, "{evidence}");
    assert!(
        evidence.contains(&format!(
            "the certificate is for {WORKFLOW}, not {other_workflow}"
        )),
        "{evidence}"
    );
    let (status, evidence) = verdict(signed_by(
        &at("good"),
        Some(WORKFLOW),
        None,
        "https://accounts.google.com",
    ))
    .await;
    assert_eq!(status, ProbeStatus::Fail, "{evidence}");
    assert!(
        evidence.contains(&format!(
            "OIDC issuer is {ACTIONS}, not https://accounts.google.com"
        )),
        "{evidence}"
    );

    // Each broken link fails with its own reason.
    let elsewhere = Sigstore::new(21, "elsewhere");
    // The trusted root's intermediate, expired yesterday: it still signs, cosign refuses.
    let expired =
        Sigstore::with_intermediate(11, "sigstore", validity(unix_now() - 2 * 86_400, 86_400));
    let forger = key(99);
    for (tag, how, says) in [
        (
            "other-ca",
            Keyless::by(&elsewhere),
            "does not chain to a configured Fulcio root",
        ),
        (
            "expired-intermediate",
            Keyless::by(&expired),
            "the chain's CN=sigstore-intermediate,O=sigstore.dev was not valid when Rekor took the entry in",
        ),
        (
            "not-for-code",
            Keyless {
                code_signing: false,
                ..Keyless::by(&fulcio)
            },
            "not for code signing",
        ),
        (
            "forged-set",
            Keyless {
                rekor: &forger,
                ..Keyless::by(&fulcio)
            },
            "SignedEntryTimestamp does not verify with the Rekor key",
        ),
        (
            "logged-late",
            Keyless {
                integrated_after: 3600,
                ..Keyless::by(&fulcio)
            },
            "outside the certificate's validity",
        ),
        (
            "tampered",
            Keyless {
                tamper: |p| {
                    String::from_utf8(p)
                        .unwrap()
                        .replace("acme/summit", "acme/evil")
                        .into_bytes()
                },
                ..Keyless::by(&fulcio)
            },
            "does not verify with the certificate's key",
        ),
    ] {
        sign(tag, how).await;
        let (status, evidence) = verdict(signed(&at(tag))).await;
        assert_eq!(status, ProbeStatus::Fail, "{tag}: {evidence}");
        assert!(evidence.contains(says), "{tag}: {evidence}");
    }

    // A key-based signature is not a keyless one.
    let keyed = push.image("acme/summit", "keyed", b"keyed").await;
    push.signature(
        &ImageRef::parse(&at("keyed")).unwrap(),
        &keyed,
        &key(7),
        |p| p,
    )
    .await;
    let (status, evidence) = verdict(signed(&at("keyed"))).await;
    assert_eq!(status, ProbeStatus::Fail, "{evidence}");
    assert!(evidence.contains("no certificate"), "{evidence}");
}

/// `captain plan validate` with the keyless keys in captain.toml: the workflow's signature
/// passes and names who signed; a probe that expects another issuer fails; a bad regular
/// expression in captain.toml is refused with its position.
#[tokio::test]
async fn plan_validate_verifies_a_keyless_signature_through_the_binary() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let fulcio = Sigstore::new(31, "sigstore");
    fulcio.write_trust(dir.path());
    let push = Pusher::new(&registry.addr);
    let at = format!("{}/acme/summit:sha-1", registry.addr);
    let digest = push.image("acme/summit", "sha-1", b"release").await;
    Keyless::by(&fulcio)
        .sign(&push, &ImageRef::parse(&at).unwrap(), &digest)
        .await;
    let config = |identity: &str| {
        std::fs::write(
            dir.path().join("captain.toml"),
            format!(
                "[plan]\nfile = \"plan.yml\"\n\n[cosign]\nfulcio_roots = \"fulcio.pem\"\n\
                 rekor_public_key = \"rekor.pub\"\n{identity}\n\
                 certificate_oidc_issuer = \"{ACTIONS}\"\n"
            ),
        )
        .unwrap();
    };
    config(&format!("certificate_identity = \"{WORKFLOW}\""));
    let out = plan_validate(
        dir.path(),
        &[
            format!("{{kind: cosign.verified, image: \"{at}\"}}"),
            format!(
                "{{kind: cosign.verified, image: \"{at}\", certificate_identity: \"{WORKFLOW}\", \
                 certificate_oidc_issuer: \"https://gitlab.com\"}}"
            ),
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let checks = &v[0]["checks"];
    assert_eq!(checks[0]["status"], "pass", "{text}");
    assert!(
        checks[0]["evidence"].as_str().unwrap().ends_with(&format!(
            "by {WORKFLOW} (issuer {ACTIONS}), Rekor log index 42"
        )),
        "{text}"
    );
    assert_eq!(checks[1]["status"], "fail", "{text}");
    assert!(
        checks[1]["evidence"]
            .as_str()
            .unwrap()
            .contains("not https://gitlab.com"),
        "{text}"
    );

    config("certificate_identity_regexp = \"^https://github.com/(acme\"");
    let out = plan_validate(
        dir.path(),
        &[format!("{{kind: cosign.verified, image: \"{at}\"}}")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("captain.toml:7:31"), "{stderr}");
    assert!(stderr.contains("expected a regular expression"), "{stderr}");
}
