//! A wire-faithful test Kubernetes API server (`docs/architecture.md`, "Testing"): no real
//! API server can be installed on the test machines, so the Kubernetes tests run against this
//! one, and the kit's own `tests/apiserver/` holds it to the protocol with the real `kubectl`
//! and kube-rs.
//!
//! Plain HTTP on a free loopback port, one server per test, empty at start (no namespaces,
//! not even `default`: seed what the test needs). It serves core/v1 namespaces, secrets and
//! configmaps, coordination.k8s.io/v1 leases, networking.k8s.io/v1 ingresses, apps/v1
//! deployments, gateway.networking.k8s.io/v1 httproutes (as a custom resource) and answers
//! authorization.k8s.io/v1 selfsubjectaccessreviews: list (global resourceVersion, label and
//! field selectors, `limit`/`continue` pages read at one revision, 410 for a compacted
//! continue), watch (NDJSON, history replay, BOOKMARKs, the in-stream 410, `timeoutSeconds`),
//! get, create (409 AlreadyExists), update and patch (merge, JSON, strategic-as-merge,
//! apply-as-merge; 409 Conflict for a stale `metadata.resourceVersion`), delete (namespaces
//! go Terminating, then away with their content), discovery, Tables for kubectl, and
//! metadata only (PartialObjectMetadata) for lists, gets and watches that ask for it.
//!
//! ```text
//! let server = ApiServer::start().await;
//! server.put_namespace("pr-1", &[("captain/preview", "true")], Utc::now() - Duration::days(3));
//! server.put_secret("prod", "sh.helm.release.v1.shop.v7", &[("owner", "helm")], "helm.sh/release.v1", &[("release", b"H4sI...")]);
//! server.put_object(json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", ...}));
//! server.put_deployment("prod", "shop", Rollout::rolling(3, 1, 5)); // no controllers run
//! let client = server.client().await;               // a kube::Client for it
//! let kubeconfig = server.kubeconfig();             // or a kubeconfig file (context `test`)
//! server.set_access(AccessPolicy::allow_all().deny("delete", "namespaces"));
//! server.expire_watch_history();                    // every held resourceVersion is now 410
//! server.close_watches();                           // open watches end; clients re-watch
//! server.requests();                                // what the clients asked and sent, in order
//! server.request_counts();                          // how many of each verb and resource
//! ```
//!
//! In-process methods take effect at once and notify open watches as any write does. They
//! write objects as given (status, timestamps, managed fields and all) without the HTTP
//! path's checks. Timings a test may turn: bookmarks every 1 s
//! ([`ApiServer::set_bookmark_interval`]), a deleted namespace Terminating for 1 s
//! ([`ApiServer::set_namespace_finalize_delay`]).
//!
//! Faithful where clients can tell: built-in kinds' list items carry no apiVersion/kind
//! (custom resources' do); watch events and gets do. Bodies kubectl sends as protobuf
//! (typed clients: `create configmap`, `auth can-i`) are read. A wrong bearer token is a
//! 401, none at all is let in (client-go never sends one over plain HTTP). Approximations:
//! strategic merge and server-side apply are merges (no field ownership: writes over HTTP
//! keep no managedFields), a list at `resourceVersion=0` still honours `limit`, OpenAPI is
//! not served, no controllers run (a Deployment's status is what the test wrote; it has no
//! `scale` subresource).

mod access;
mod defaults;
mod deployments;
mod discovery;
mod list;
mod metadata;
mod objects;
mod patch;
mod protobuf;
mod resources;
mod routes;
mod selectors;
mod shared;
mod status;
mod store;
mod table;
mod watch;
mod writes;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

pub use access::AccessPolicy;
pub use deployments::Rollout;
pub use shared::RecordedRequest;

use defaults::timestamp;
use shared::{Shared, lock};

/// The bearer token the kubeconfig carries; a request with another is refused (401).
pub const TOKEN: &str = "captain-test-token-0123456789";
/// The user the token authenticates as (in Forbidden messages).
pub const USER: &str = "test-user";

/// A running test API server; stops (and ends its watches) when dropped.
pub struct ApiServer {
    shared: Arc<Shared>,
    url: String,
    dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

fn labels(pairs: &[(&str, &str)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect::<Map<_, _>>(),
    )
}

impl ApiServer {
    /// Bind a free loopback port and serve. Panics if it cannot: this is test support.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a loopback port for the test API server");
        let address = listener
            .local_addr()
            .expect("the bound address")
            .to_string();
        let shared = Arc::new(Shared::new(TOKEN.into(), USER.into(), address.clone()));
        let app = routes::router(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            shared,
            url: format!("http://{address}"),
            dir: tempfile::tempdir().expect("a temp dir for the kubeconfig"),
            server,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bearer token its kubeconfig carries (any other is a 401).
    pub fn token(&self) -> &str {
        TOKEN
    }

    /// Write a kubeconfig for this server (see [`write_kubeconfig`]) and return its path;
    /// it lives as long as the server.
    pub fn kubeconfig(&self) -> PathBuf {
        write_kubeconfig(self.dir.path(), &self.url)
    }

    /// A kube-rs client for this server, through the kubeconfig as a user's would go.
    pub async fn client(&self) -> kube::Client {
        // Both rustls crypto providers are linked; pick the one the binary picks.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let kubeconfig = kube::config::Kubeconfig::read_from(self.kubeconfig())
            .expect("reading the test kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
            .await
            .expect("a kube config from the test kubeconfig");
        kube::Client::try_from(config).expect("a kube client for the test API server")
    }

    /// `kubectl --kubeconfig <this server's> --cache-dir <fresh>` (a cache per server, so
    /// no discovery from another test's server on a reused port), or `None` when kubectl is
    /// not installed (see [`kubectl_binary`]).
    pub fn kubectl(&self) -> Option<Command> {
        let binary = kubectl_binary()?;
        let mut command = Command::new(binary);
        command
            .arg("--kubeconfig")
            .arg(self.kubeconfig())
            .arg("--cache-dir")
            .arg(self.dir.path().join("kube-cache"))
            .env_remove("KUBECONFIG");
        Some(command)
    }

    // --- seeding and mutating state in-process -------------------------------------------

    /// Create or replace a namespace (phase Active) created at `created`.
    pub fn put_namespace(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        created: DateTime<Utc>,
    ) -> Value {
        self.put_object(json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": self::labels(labels), "creationTimestamp": timestamp(created)},
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }))
    }

    /// Create or replace a Secret; `data` values are raw bytes (base64-encoded here, as the
    /// API carries them).
    pub fn put_secret(
        &self,
        namespace: &str,
        name: &str,
        labels: &[(&str, &str)],
        secret_type: &str,
        data: &[(&str, &[u8])],
    ) -> Value {
        let data: Map<String, Value> = data
            .iter()
            .map(|(k, v)| (k.to_string(), json!(STANDARD.encode(v))))
            .collect();
        self.put_object(json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace, "labels": self::labels(labels)},
            "type": secret_type,
            "data": data,
        }))
    }

    /// Create or replace a ConfigMap.
    pub fn put_configmap(
        &self,
        namespace: &str,
        name: &str,
        labels: &[(&str, &str)],
        data: &[(&str, &str)],
    ) -> Value {
        self.put_object(json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace, "labels": self::labels(labels)},
            "data": self::labels(data),
        }))
    }

    /// Create or replace any served object, its type read from `apiVersion` and `kind`;
    /// uid and creationTimestamp are filled in when absent. Returns it as stored (with its
    /// resourceVersion). Panics on a type the server does not serve.
    pub fn put_object(&self, object: Value) -> Value {
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let kind = object["kind"].as_str().unwrap_or_default();
        let t = resources::by_kind(api_version, kind)
            .filter(|t| t.is_stored())
            .unwrap_or_else(|| panic!("the test API server does not serve {api_version} {kind}"));
        self.shared.upsert(t, object)
    }

    /// Create or replace a typed object (`k8s_openapi::api::core::v1::ConfigMap`, ...).
    pub fn put<K: serde::Serialize>(&self, object: &K) -> Value {
        self.put_object(serde_json::to_value(object).expect("a k8s-openapi object as JSON"))
    }

    /// The stored object, by resource (`namespaces`, `ns`, `leases`,
    /// `leases.coordination.k8s.io`), namespace (`None` for cluster-scoped) and name.
    pub fn object(&self, resource: &str, namespace: Option<&str>, name: &str) -> Option<Value> {
        self.shared.object(resource_type(resource), namespace, name)
    }

    /// Remove an object at once (a DELETED event), whatever its finalizers.
    pub fn remove_object(
        &self,
        resource: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        self.shared.remove(resource_type(resource), namespace, name)
    }

    /// Remove a namespace and everything in it now, Terminating or not (DELETED events).
    pub fn delete_namespace_now(&self, name: &str) -> bool {
        self.shared.remove_namespace(name)
    }

    /// How long a namespace deleted through the API stays Terminating before it goes
    /// (default 1 s); `None` keeps it Terminating until [`delete_namespace_now`](Self::delete_namespace_now).
    pub fn set_namespace_finalize_delay(&self, delay: Option<Duration>) {
        lock(&self.shared.settings).namespace_finalize_delay = delay;
    }

    /// How often watches that asked for bookmarks get one (default 1 s).
    pub fn set_bookmark_interval(&self, interval: Duration) {
        lock(&self.shared.settings).bookmark_interval = interval;
    }

    /// Compact away all history: every resourceVersion a client holds becomes too old, so
    /// the next watch from one gets the in-stream 410 Expired, an exact list at one a 410,
    /// and a continue token a 410. Open watches that are caught up keep streaming (they do
    /// on a real server too); end them with [`close_watches`](Self::close_watches).
    pub fn expire_watch_history(&self) {
        lock(&self.shared.store).compact();
        let rv = lock(&self.shared.store).resource_version();
        self.shared.notify(rv);
    }

    /// End every open watch stream, as an API server restart would.
    pub fn close_watches(&self) {
        self.shared.close_watches();
    }

    /// The current (latest) resourceVersion.
    pub fn resource_version(&self) -> u64 {
        lock(&self.shared.store).resource_version()
    }

    /// Who may do what, for SelfSubjectAccessReviews and every request (403 when denied).
    pub fn set_access(&self, policy: AccessPolicy) {
        *lock(&self.shared.access) = policy;
    }

    /// Every request served so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// How many requests of each verb and resource were served so far, e.g.
    /// `("watch", "namespaces") → 1`; discovery counts as `("get", "discovery")`.
    pub fn request_counts(&self) -> std::collections::BTreeMap<(String, String), usize> {
        let mut counts = std::collections::BTreeMap::new();
        for request in lock(&self.shared.requests).iter() {
            let (verb, resource) = routes::verb_and_resource(request);
            *counts.entry((verb.to_string(), resource)).or_insert(0) += 1;
        }
        counts
    }

    /// Forget the requests so far, so that a test counts only what follows.
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.shared.close_watches();
        self.server.abort();
    }
}

fn resource_type(name: &str) -> &'static resources::ResourceType {
    resources::by_name(name)
        .filter(|t| t.is_stored())
        .unwrap_or_else(|| panic!("the test API server does not serve {name:?}"))
}

/// Write `dir/kubeconfig` for an API server at `url` (cluster `test`, insecure, user
/// `test-user` with [`TOKEN`], context `test` current, no namespace so clients default to
/// `default`) and return its path.
pub fn write_kubeconfig(dir: &Path, url: &str) -> PathBuf {
    let path = dir.join("kubeconfig");
    let text = format!(
        "apiVersion: v1\n\
         kind: Config\n\
         clusters:\n\
         - name: test\n  cluster:\n    server: {url}\n    insecure-skip-tls-verify: true\n\
         users:\n\
         - name: {USER}\n  user:\n    token: {TOKEN}\n\
         contexts:\n\
         - name: test\n  context:\n    cluster: test\n    user: {USER}\n\
         current-context: test\n\
         preferences: {{}}\n"
    );
    std::fs::write(&path, text).expect("writing the test kubeconfig");
    path
}

/// The `kubectl` on PATH, or the one `$CAPTAIN_TEST_KUBECTL` names (to hold the server to
/// one version: /usr/bin/kubectl here is gcloud's dispatcher, which runs the kubectl
/// matching the server's minor version). Missing: a failure when `CI=true`, a loud skip
/// banner elsewhere (written to stderr directly: the harness would hide an `eprintln!`).
pub fn kubectl_binary() -> Option<PathBuf> {
    let found = match std::env::var_os("CAPTAIN_TEST_KUBECTL") {
        Some(path) => Some(PathBuf::from(path)).filter(|p| p.is_file()),
        None => std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("kubectl"))
                .find(|p| p.is_file())
        }),
    };
    if found.is_none() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "`kubectl` is not on PATH (or $CAPTAIN_TEST_KUBECTL names no file), and \
                 CI=true: the test API server must be checked against the real kubectl"
            );
        }
        let _ = writeln!(
            std::io::stderr(),
            "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
             !! SKIPPED: `kubectl` is not on PATH; this test holds the test API server   !!\n\
             !! to the real kubectl. On CI (CI=true) this is a failure.                  !!\n\
             !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
        );
    }
    found
}
