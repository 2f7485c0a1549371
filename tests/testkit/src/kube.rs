//! What the tests against the API server share: Helm release payloads encoded exactly as
//! Helm's Secret driver writes them (captain reads releases from those Secrets), a fake `helm`
//! binary that records its arguments (captain shells out to helm to roll back), the canary's
//! HTTPRoute and its weights, and reading the server's request log.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

use crate::apiserver::{ApiServer, RecordedRequest};

/// A Helm release as Helm marshals it (the fields captain reads, and the bulk it does not).
pub fn release_json(release: &str, revision: u32, status: &str) -> Value {
    json!({
        "name": release,
        "info": {
            "first_deployed": "2026-11-01T09:00:00.000000001Z",
            "last_deployed": format!("2026-11-{:02}T10:00:00+01:00", revision + 1),
            "deleted": "",
            "description": match status {
                "deployed" => "Upgrade complete",
                "superseded" => "Install complete",
                _ => "Preparing upgrade",
            },
            "status": status,
        },
        "chart": {
            "metadata": {
                "name": release,
                "version": format!("1.{revision}.0"),
                "appVersion": format!("sha-{revision}abcdef"),
                "apiVersion": "v2",
            },
            "templates": [],
            "values": {},
        },
        "config": {},
        "manifest": "---\napiVersion: apps/v1\nkind: Deployment\n",
        "version": revision,
        "namespace": "prod",
    })
}

/// `data.release` as Helm writes it before the API's own base64: base64 of gzip of JSON,
/// or (`gzip` false) base64 of JSON.
pub fn helm_payload(release: &Value, gzip: bool) -> Vec<u8> {
    let json = serde_json::to_vec(release).expect("a release as JSON");
    let raw = if gzip {
        let mut z = GzEncoder::new(Vec::new(), Compression::best());
        z.write_all(&json).expect("gzip in memory");
        z.finish().expect("gzip in memory")
    } else {
        json
    };
    STANDARD.encode(raw).into_bytes()
}

/// A fake `helm` in `dir`: `version --short` prints `version`; `rollback --help` prints
/// `help`; any other call appends its arguments, one per line, to `dir/args.log` and
/// succeeds as Helm does.
pub fn fake_helm(dir: &Path, version: &str, help: &str) -> PathBuf {
    let path = dir.join("helm");
    let script = format!(
        "#!/bin/sh\n\
         if [ \"$1\" = version ]; then echo '{version}'; exit 0; fi\n\
         if [ \"$2\" = --help ]; then echo '{help}'; exit 0; fi\n\
         for a in \"$@\"; do printf '%s\\n' \"$a\" >> '{log}'; done\n\
         echo 'Rollback was a success! Happy Helming!'\n",
        log = dir.join("args.log").display()
    );
    std::fs::write(&path, script).expect("writing the fake helm");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .expect("making the fake helm executable");
    path
}

/// The arguments the fake helm recorded.
pub fn helm_calls(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("args.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Whether a request was a watch.
pub fn is_watch(r: &RecordedRequest) -> bool {
    r.param("watch").is_some_and(|w| w == "true" || w == "1")
}

/// GETs of `path` that were lists (not watches).
pub fn lists_of<'a>(requests: &'a [RecordedRequest], path: &str) -> Vec<&'a RecordedRequest> {
    requests
        .iter()
        .filter(|r| r.method == "GET" && r.path == path && !is_watch(r))
        .collect()
}

/// Watches of `path`.
pub fn watches_of<'a>(requests: &'a [RecordedRequest], path: &str) -> Vec<&'a RecordedRequest> {
    requests
        .iter()
        .filter(|r| r.method == "GET" && r.path == path && is_watch(r))
        .collect()
}

/// The release's Secret for `revision`, labelled and encoded as Helm writes it.
pub fn put_release(server: &ApiServer, name: &str, revision: u32, status: &str, gzip: bool) {
    let payload = helm_payload(&release_json(name, revision, status), gzip);
    let version = revision.to_string();
    server.put_secret(
        "prod",
        &format!("sh.helm.release.v1.{name}.v{revision}"),
        &[
            ("owner", "helm"),
            ("name", name),
            ("status", status),
            ("version", &version),
        ],
        "helm.sh/release.v1",
        &[("release", &payload)],
    );
}

/// What `helm rollback <name> <to>` leaves in the cluster (the fake helm only records its
/// arguments): the deployed revision superseded, and a new one deployed, described as
/// Helm describes a rollback.
pub fn put_helm_rollback(server: &ApiServer, name: &str, deployed: u32, to: u32) {
    put_release(server, name, deployed, "superseded", true);
    let revision = deployed + 1;
    let mut release = release_json(name, revision, "deployed");
    release["info"]["description"] = Value::String(format!("Rollback to {to}"));
    // The chart and app of the revision rolled back to, as Helm copies them.
    release["chart"]["metadata"] =
        release_json(name, to, "superseded")["chart"]["metadata"].clone();
    let payload = helm_payload(&release, true);
    let version = revision.to_string();
    server.put_secret(
        "prod",
        &format!("sh.helm.release.v1.{name}.v{revision}"),
        &[
            ("owner", "helm"),
            ("name", name),
            ("status", "deployed"),
            ("version", &version),
        ],
        "helm.sh/release.v1",
        &[("release", &payload)],
    );
}

/// The HTTPRoute `summit` in `prod`: the canary and stable backends of its first rule at
/// the given weights, and a second rule the canary must never touch.
pub fn http_route(stable: u64, canary: u64) -> Value {
    json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "summit", "namespace": "prod"},
        "spec": {
            "parentRefs": [{"name": "public", "namespace": "gateway"}],
            "hostnames": ["summit.example.com"],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    "backendRefs": [
                        {"name": "summit-stable", "port": 8080, "weight": stable},
                        {"name": "summit-canary", "port": 8080, "weight": canary},
                    ],
                },
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/docs"}}],
                    "backendRefs": [{"name": "docs", "port": 80}],
                },
            ],
        },
    })
}

/// The HTTPRoute `summit`'s (stable, canary) weights as the server holds them.
pub fn route_weights(server: &ApiServer) -> (u64, u64) {
    let route = server
        .object(
            "httproutes.gateway.networking.k8s.io",
            Some("prod"),
            "summit",
        )
        .expect("the route");
    let refs = &route["spec"]["rules"][0]["backendRefs"];
    let weight = |name: &str| {
        refs.as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .and_then(|r| r["weight"].as_u64())
            .unwrap()
    };
    (weight("summit-stable"), weight("summit-canary"))
}
