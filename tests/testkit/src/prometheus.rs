//! A real Prometheus (the Debian package's binary) scraping a synthetic exporter whose
//! traffic the test sets, every second (`docs/architecture.md`, "Testing"). The exporter's
//! counters grow with elapsed time × the current rates, so `rate()`, `increase()` and `histogram_quantile()` read back
//! what it serves. Each `Stack` has its own ports and storage, and kills its Prometheus when
//! dropped.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use prometheus_http_query::Client;
use prometheus_http_query::response::Data;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Which of the two deployments' series the exporter serves: the canary's or the stable's,
/// as captain's `engine::signals::Track` names them (the kit keeps its own so that it does
/// not depend on captain, and is not rebuilt when captain changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Track {
    /// The canary deployment's series.
    Canary,
    /// The stable deployment's series.
    Stable,
}

/// The latency histogram's upper bounds, as a typical HTTP middleware exports them.
pub const BUCKETS: [f64; 6] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

/// What one track serves: requests per second, the share answered 500, and the latency
/// every request takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Traffic {
    /// Requests per second.
    pub rps: f64,
    /// The share of requests answered 500, 0 to 1.
    pub error_ratio: f64,
    /// Seconds every request takes.
    pub latency: f64,
}

impl Traffic {
    /// What `histogram_quantile(q, ...)` reads from this traffic's histogram: every request
    /// falls in one bucket, and Prometheus interpolates linearly inside it.
    pub fn expected_quantile(&self, q: f64) -> f64 {
        let mut lower = 0.0;
        for le in BUCKETS {
            if self.latency <= le {
                return lower + (le - lower) * q;
            }
            lower = le;
        }
        lower
    }
}

/// The counters of one track since the exporter started.
#[derive(Debug, Clone)]
struct Series {
    traffic: Traffic,
    ok: f64,
    errors: f64,
    buckets: [f64; BUCKETS.len()],
    sum: f64,
}

impl Series {
    fn new(traffic: Traffic) -> Self {
        Series {
            traffic,
            ok: 0.0,
            errors: 0.0,
            buckets: [0.0; BUCKETS.len()],
            sum: 0.0,
        }
    }

    fn advance(&mut self, seconds: f64) {
        let t = self.traffic;
        let n = t.rps * seconds;
        self.errors += n * t.error_ratio;
        self.ok += n * (1.0 - t.error_ratio);
        for (count, le) in self.buckets.iter_mut().zip(BUCKETS) {
            if t.latency <= le {
                *count += n;
            }
        }
        self.sum += n * t.latency;
    }

    fn render(&self, track: &str, out: &mut String) {
        use std::fmt::Write;
        let total = self.ok + self.errors;
        let _ = writeln!(
            out,
            "http_requests_total{{track=\"{track}\",code=\"200\"}} {:.3}",
            self.ok
        );
        let _ = writeln!(
            out,
            "http_requests_total{{track=\"{track}\",code=\"500\"}} {:.3}",
            self.errors
        );
        for (count, le) in self.buckets.iter().zip(BUCKETS) {
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{track=\"{track}\",le=\"{le}\"}} {count:.3}"
            );
        }
        let _ = writeln!(
            out,
            "http_request_duration_seconds_bucket{{track=\"{track}\",le=\"+Inf\"}} {total:.3}"
        );
        let _ = writeln!(
            out,
            "http_request_duration_seconds_sum{{track=\"{track}\"}} {:.3}",
            self.sum
        );
        let _ = writeln!(
            out,
            "http_request_duration_seconds_count{{track=\"{track}\"}} {total:.3}"
        );
    }
}

struct Counters {
    since: Instant,
    canary: Series,
    stable: Series,
}

impl Counters {
    /// Count what was served since the last change or scrape, at the rates then current.
    fn advance(&mut self) {
        let now = Instant::now();
        let seconds = (now - self.since).as_secs_f64();
        self.since = now;
        self.canary.advance(seconds);
        self.stable.advance(seconds);
    }

    fn series(&mut self, track: Track) -> &mut Series {
        match track {
            Track::Canary => &mut self.canary,
            Track::Stable => &mut self.stable,
        }
    }

    fn render(&mut self) -> String {
        self.advance();
        let mut out = String::from(
            "# TYPE http_requests_total counter\n# TYPE http_request_duration_seconds histogram\n",
        );
        self.canary.render("canary", &mut out);
        self.stable.render("stable", &mut out);
        out
    }
}

/// An HTTP server on a free loopback port answering `GET /metrics`.
pub struct Exporter {
    /// Where Prometheus scrapes it.
    pub addr: SocketAddr,
    counters: Arc<Mutex<Counters>>,
    task: JoinHandle<()>,
}

impl Exporter {
    /// Serve `canary` and `stable` from now on, counting from zero.
    pub async fn start(canary: Traffic, stable: Traffic) -> Exporter {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the exporter to a loopback port");
        let addr = listener.local_addr().expect("the exporter's address");
        let counters = Arc::new(Mutex::new(Counters {
            since: Instant::now(),
            canary: Series::new(canary),
            stable: Series::new(stable),
        }));
        let task = tokio::spawn(serve(listener, counters.clone()));
        Exporter {
            addr,
            counters,
            task,
        }
    }

    fn counters(&self) -> MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Serve `traffic` on `track` from now on; what was served so far stays counted.
    pub fn set(&self, track: Track, traffic: Traffic) {
        let mut c = self.counters();
        c.advance();
        c.series(track).traffic = traffic;
    }

    /// What `track` serves now.
    pub fn serving(&self, track: Track) -> Traffic {
        self.counters().series(track).traffic
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(listener: TcpListener, counters: Arc<Mutex<Counters>>) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let counters = counters.clone();
        tokio::spawn(async move {
            let mut head = Vec::new();
            let mut chunk = [0u8; 2048];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65_536 {
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => head.extend_from_slice(&chunk[..n]),
                }
            }
            let (status, body) = if head.starts_with(b"GET /metrics ") {
                let body = counters.lock().unwrap_or_else(|e| e.into_inner()).render();
                ("200 OK", body)
            } else {
                ("404 Not Found", "not found\n".to_string())
            };
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}

/// The `prometheus` binary on PATH. Missing: a failure on CI, a loud skip elsewhere.
fn prometheus_binary() -> Option<PathBuf> {
    debian_binary("prometheus")
}

/// `promtool`, which Debian's prometheus package ships beside the server. Missing: a
/// failure on CI, a loud skip elsewhere.
pub fn promtool() -> Option<PathBuf> {
    debian_binary("promtool")
}

fn debian_binary(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "`{name}` is not on PATH, and CI=true: the metrics tests need a real \
                 Prometheus server (Debian package `prometheus`, installed by .ci/run)"
            );
        }
        // Straight to stderr rather than eprintln!, which the test harness captures and
        // shows only for a failing test: a skip must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
             !! SKIPPED: `{name}` is not on PATH; this test needs a real Prometheus\n\
             !! server (apt-get install prometheus). On CI (CI=true) this is a failure.   !!\n\
             !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
        );
    }
    found
}

/// A loopback port nobody listens on now. Prometheus binds it a moment later; a race lost
/// to another process is retried by [`Prometheus::start`].
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("finding a free loopback port")
        .port()
}

const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// A Prometheus server of its own: temp config and storage, a free loopback port.
pub struct Prometheus {
    child: Option<Child>,
    /// Its HTTP API, as captain's `[prometheus] url` is set.
    pub url: String,
    /// A client for the test's own queries.
    pub client: Client,
    /// The config and storage, removed when the server is dropped.
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Start scraping `target` every second; ready to answer queries. `None`: skipped.
    pub async fn start(target: SocketAddr) -> Option<Prometheus> {
        Self::start_with_rules(target, &[]).await
    }

    /// As [`Prometheus::start`], also loading the rule files given (`rule_files`),
    /// evaluated every second unless a group says otherwise.
    pub async fn start_with_rules(target: SocketAddr, rules: &[PathBuf]) -> Option<Prometheus> {
        let binary = prometheus_binary()?;
        let rule_files: String = rules
            .iter()
            .map(|p| format!("  - '{}'\n", p.display()))
            .collect();
        let rule_files = if rule_files.is_empty() {
            String::new()
        } else {
            format!("rule_files:\n{rule_files}")
        };
        let mut refused = String::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("a temp dir for Prometheus");
            let config = dir.path().join("prometheus.yml");
            std::fs::write(
                &config,
                format!(
                    "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\n\
                     scrape_configs:\n  - job_name: exporter\n    static_configs:\n      - targets: ['{target}']\n\
                     {rule_files}"
                ),
            )
            .expect("writing prometheus.yml");
            let port = free_port();
            let log = dir.path().join("prometheus.log");
            let child = spawn(&binary, &config, &dir.path().join("data"), port, &log);
            let url = format!("http://127.0.0.1:{port}");
            let client = Client::try_from(url.as_str()).expect("a client for the test Prometheus");
            let mut prom = Prometheus {
                child: Some(child),
                url,
                client,
                _dir: dir,
            };
            match prom.wait_ready(&log).await {
                Ok(()) => return Some(prom),
                // Another process took the port between our probe and Prometheus' bind.
                Err(text) if text.contains("address already in use") => refused = text,
                Err(text) => panic!("Prometheus did not become ready:\n{text}"),
            }
        }
        panic!("Prometheus found no free port in 3 attempts:\n{refused}")
    }

    /// Wait for `/-/ready`; on failure, what Prometheus logged.
    async fn wait_ready(&mut self, log: &Path) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(true) = self.client.is_server_ready().await {
                return Ok(());
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() > deadline {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                return Err(format!("(exit: {exited:?})\n{text}"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Kill the server: from now on every query is refused.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// An instant query now: its one value, `None` for no series or any failure.
    pub async fn value(&self, query: &str) -> Option<f64> {
        let r = self.client.query(query).get().await.ok()?;
        match r.data() {
            Data::Vector(v) => v.first().map(|s| s.sample().value()),
            Data::Scalar(s) => Some(s.value()),
            Data::Matrix(_) => None,
        }
    }

    /// Wait until `query` returns a value that `ok` accepts; panics after `timeout`.
    pub async fn wait_for(
        &self,
        what: &str,
        query: &str,
        ok: impl Fn(f64) -> bool,
        timeout: Duration,
    ) {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.value(query).await;
            if v.is_some_and(&ok) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "waited {timeout:?} for {what} (`{query}` = {v:?})"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// How many instant queries this server has answered, from its own `/metrics`.
    pub async fn instant_queries_served(&self) -> u64 {
        let text = self
            .client
            .inner()
            .get(format!("{}/metrics", self.url))
            .send()
            .await
            .expect("reading Prometheus' own metrics")
            .text()
            .await
            .expect("reading Prometheus' own metrics");
        text.lines()
            .filter(|l| {
                l.starts_with("prometheus_http_requests_total{")
                    && l.contains(r#"handler="/api/v1/query""#)
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }
}

fn spawn(binary: &Path, config: &Path, data: &Path, port: u16, log: &Path) -> Child {
    let out = std::fs::File::create(log).expect("creating Prometheus' log");
    let err = out.try_clone().expect("creating Prometheus' log");
    Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=warn")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("starting prometheus")
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An exporter and a Prometheus scraping it, with a few seconds of data already stored.
pub struct Stack {
    /// The traffic the test turns.
    pub exporter: Exporter,
    /// What captain queries.
    pub prometheus: Prometheus,
}

impl Stack {
    /// `None` when Prometheus is not installed (and this is not CI): the test is skipped.
    pub async fn start(canary: Traffic, stable: Traffic) -> Option<Stack> {
        Self::start_with_rules(canary, stable, &[]).await
    }

    /// As [`Stack::start`], Prometheus also loading the rule files given.
    pub async fn start_with_rules(
        canary: Traffic,
        stable: Traffic,
        rules: &[PathBuf],
    ) -> Option<Stack> {
        let exporter = Exporter::start(canary, stable).await;
        let prometheus = Prometheus::start_with_rules(exporter.addr, rules).await?;
        prometheus
            .wait_for(
                "the exporter to be scraped",
                r#"up{job="exporter"}"#,
                |v| v == 1.0,
                Duration::from_secs(60),
            )
            .await;
        let stack = Stack {
            exporter,
            prometheus,
        };
        stack.wait_for_history(3).await;
        Some(stack)
    }

    /// Wait until at least `scrapes` scrapes of the exporter are stored (one a second).
    pub async fn wait_for_history(&self, scrapes: u32) {
        self.prometheus
            .wait_for(
                &format!("{scrapes} scrapes of the exporter"),
                r#"count_over_time(http_requests_total{track="canary",code="200"}[10m])"#,
                |n| n >= f64::from(scrapes),
                Duration::from_secs(u64::from(scrapes) * 3 + 60),
            )
            .await;
    }
}
