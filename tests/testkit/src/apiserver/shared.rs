//! The state every request handler, watch stream and in-process test method shares: the
//! store, the change signal watches wait on, the settings a test may turn, the access
//! policy and the log of requests served.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;

use super::access::AccessPolicy;
use super::store::Store;

/// Timings a test may change while the server runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How often a watch that asked for bookmarks gets one (a real server: about a minute).
    pub bookmark_interval: Duration,
    /// How long a deleted namespace stays Terminating; `None`: until the test removes it.
    pub namespace_finalize_delay: Option<Duration>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bookmark_interval: Duration::from_secs(1),
            namespace_finalize_delay: Some(Duration::from_secs(1)),
        }
    }
}

/// One request as the server saw it, for tests that assert what a client asked.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The raw query string, `""` when none.
    pub query: String,
    /// The `Accept` header (kubectl asks for Tables, metadata-only clients for
    /// PartialObjectMetadata), `""` when none.
    pub accept: String,
    /// The `Content-Type` header (the patch type, or protobuf), `""` when none.
    pub content_type: String,
    /// The body as JSON (protobuf bodies decoded); `None` when there was none or it was
    /// neither.
    pub body: Option<Value>,
}

impl RecordedRequest {
    /// The value of query parameter `name`, percent-decoded.
    pub fn param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key == name).then(|| percent_decode(value))
        })
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
            (b'+', _, _) => out.push(b' '),
            (b, _, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Debug)]
pub struct Shared {
    pub store: Mutex<Store>,
    /// The store's revision after each write: watches wake on it.
    pub changes: watch::Sender<u64>,
    /// Counts the times open watches were told to end (the server dropped, or a test
    /// closing them): each open watch ends when it moves.
    pub closings: watch::Sender<u64>,
    pub settings: Mutex<Settings>,
    pub access: Mutex<AccessPolicy>,
    pub requests: Mutex<Vec<RecordedRequest>>,
    pub token: String,
    pub user: String,
    /// `127.0.0.1:port`, for `/api`'s serverAddressByClientCIDRs.
    pub address: String,
}

/// Lock, shrugging off poisoning: a test that panicked while holding a lock has already
/// failed, and the server should keep answering the others.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub fn new(token: String, user: String, address: String) -> Self {
        Self {
            store: Mutex::new(Store::default()),
            changes: watch::Sender::new(1),
            closings: watch::Sender::new(0),
            settings: Mutex::new(Settings::default()),
            access: Mutex::new(AccessPolicy::default()),
            requests: Mutex::new(Vec::new()),
            token,
            user,
            address,
        }
    }

    /// Wake the watches after a write (call with the store's lock released).
    pub fn notify(&self, rv: u64) {
        self.changes.send_replace(rv);
    }

    /// End every open watch stream.
    pub fn close_watches(&self) {
        self.closings.send_modify(|n| *n += 1);
    }

    pub fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }
}
