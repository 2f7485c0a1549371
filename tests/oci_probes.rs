//! `oci.image` and `cosign.verified` against a real registry: Debian's `docker-registry`
//! (the CNCF distribution server) on a free loopback port with storage of its own. Each
//! test pushes its images through the distribution API and signs them as cosign does: an
//! ECDSA P-256 signature of the simple-signing payload, in the annotation of the one layer
//! of the manifest tagged `sha256-<digest>.sig`.

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
use captain::sources::oci::{ImageRef, digest_of};
use captain::sources::published::LivePublished;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::json;

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
        let stored = tamper(signed);
        let blob = self.blob(&image.name, &stored).await;
        self.manifest(
            &image.name,
            &cosign::signature_tag(digest),
            vec![json!({
                "mediaType": cosign::SIMPLE_SIGNING,
                "digest": blob,
                "size": stored.len(),
                "annotations": {
                    cosign::SIGNATURE_ANNOTATION:
                        base64::engine::general_purpose::STANDARD.encode(sig.to_der().as_bytes()),
                },
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
        let plan = format!(
            "version: 1\nphases:\n  - id: 0\n    title: Package, Sign, Publish\n    owner: CI/CD\n    \
             days: [7]\n    steps: [publish]\n    rollback: none\n    validation:\n      \
             - check: Image visible.\n        probe: {{kind: oci.image, image: \"{0}\"}}\n      \
             - check: Cosign signature verifies.\n        probe: {{kind: cosign.verified, image: \"{0}\"}}\n",
            at(tag)
        );
        std::fs::write(dir.path().join("plan.yml"), plan).unwrap();
        Command::new(env!("CARGO_BIN_EXE_captain"))
            .args(["plan", "validate", "--json"])
            .env("CAPTAIN_STATE_DIR", dir.path())
            .env_remove("CAPTAIN_CONFIG")
            .env_remove("GITHUB_TOKEN")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap()
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
