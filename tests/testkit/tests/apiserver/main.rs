//! The test Kubernetes API server (`captain_testkit::apiserver`) held to the real protocol: the real
//! `kubectl` drives it (kubectl*.rs, deployments.rs), plain HTTP checks the wire (protocol.rs,
//! watch.rs, lifecycle.rs), and kube-rs, the client captain uses, lists, watches and writes
//! through it (kube_rs.rs, metadata.rs). Shared helpers live here.
mod deployments;
mod kube_rs;
mod kubectl;
mod kubectl_writes;
mod lifecycle;
mod metadata;
mod protocol;
mod watch;

use std::process::Output;
use std::time::Duration;

use captain_testkit::apiserver::{ApiServer, TOKEN};
use serde_json::Value;

/// Run the real kubectl against `server` off the async runtime (the server keeps serving
/// on it). `None`: kubectl is not installed and this is not CI; the test is skipped.
pub async fn kubectl(server: &ApiServer, args: &[&str]) -> Option<Output> {
    let mut command = server.kubectl()?;
    command.args(args);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the kubectl task")
        .expect("running kubectl");
    Some(output)
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// kubectl succeeded; its stdout.
pub fn succeeded(output: &Output) -> String {
    assert!(
        output.status.success(),
        "kubectl failed ({}):\n{}",
        output.status,
        stderr(output)
    );
    stdout(output)
}

/// The rows of kubectl's table output, split into columns (the header first).
pub fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// Plain HTTP to the server, as any client sends it, with the kubeconfig's bearer token.
pub struct Http {
    base: String,
    client: reqwest::Client,
}

impl Http {
    pub fn new(server: &ApiServer) -> Self {
        Self {
            base: server.url().to_string(),
            client: reqwest::Client::new(),
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .header("Accept", "application/json");
        if let Some(body) = body {
            request = request
                .header("Content-Type", content_type)
                .body(body.to_string());
        }
        let response = request
            .send()
            .await
            .expect("an answer from the test API server");
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("the body");
        let value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "{path}: not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, "", None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, "application/json", Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, content_type: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PATCH, path, content_type, Some(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::DELETE, path, "", None).await
    }

    /// Open a watch (`path` carries the query); asserts the 200 and the content type.
    pub async fn watch(&self, path: &str) -> WatchStream {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("an answer to the watch");
        assert_eq!(response.status().as_u16(), 200, "watch {path}");
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            content_type.starts_with("application/json"),
            "{content_type}"
        );
        assert!(
            response.headers().get("content-length").is_none(),
            "a watch is streamed (chunked), not sized"
        );
        WatchStream {
            response,
            buffer: Vec::new(),
        }
    }
}

/// A watch's NDJSON events as they arrive.
pub struct WatchStream {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl WatchStream {
    /// The next event; `None` when the stream ended. Panics after `wait` without one.
    pub async fn next(&mut self, wait: Duration) -> Option<Value> {
        tokio::time::timeout(wait, self.next_event())
            .await
            .unwrap_or_else(|_| panic!("no watch event within {wait:?}"))
    }

    async fn next_event(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                return Some(
                    serde_json::from_slice(&line).expect("a watch event is one JSON line"),
                );
            }
            let chunk = self.response.chunk().await.expect("reading the watch")?;
            self.buffer.extend_from_slice(&chunk);
        }
    }

    /// The next event that is not a BOOKMARK.
    pub async fn next_change(&mut self, wait: Duration) -> Option<Value> {
        loop {
            let event = self.next(wait).await?;
            if event["type"] != "BOOKMARK" {
                return Some(event);
            }
        }
    }
}

/// `(type, object name)` of a watch event.
pub fn event_summary(event: &Value) -> (String, String) {
    (
        event["type"].as_str().unwrap_or_default().to_string(),
        event["object"]["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

pub fn rv_of(object: &Value) -> u64 {
    object["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|rv| rv.parse().ok())
        .unwrap_or_else(|| panic!("no resourceVersion in {object}"))
}

pub const WAIT: Duration = Duration::from_secs(10);
