//! Memory and CPU of the real console (`target/release/captain`, the TUI) running live
//! against the test Kubernetes API server (`tests/kube_support`) with 10,000 preview
//! namespaces, and, for comparison, an idle console with 10 previews. Figures are printed,
//! never asserted: compare them with the budget (≤ 42 MB peak RSS, ≤ 0.5 s of CPU over
//! 20 s).
//!
//! `cargo build --release && cargo bench --bench live_console`
//!
//! The binary is not built here: when `target/release/captain` is missing this says so and
//! exits successfully. `LIVE_CONSOLE_RUNS` (default 3) sets the runs per world; medians are
//! printed.

#[path = "../tests/kube_support/mod.rs"]
#[allow(unused_imports)]
mod kube_support;
#[path = "../tests/kube_tests_support/mod.rs"]
mod kube_tests_support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::Utc;
use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

use kube_support::ApiServer;
use kube_tests_support::{http_route, put_release};

/// The first frame has the panel titles; nothing before it prints this.
const MARKER: &[u8] = b"Previews";
/// A first frame later than this is a failure, not a measurement.
const TIMEOUT: Duration = Duration::from_secs(30);
/// How long the console runs, after its first frame, while its CPU is counted.
const WINDOW: Duration = Duration::from_secs(20);
const SIZE: PtySize = PtySize {
    rows: 40,
    cols: 120,
    pixel_width: 0,
    pixel_height: 0,
};
const BUDGET_RSS_MB: f64 = 42.0;
const BUDGET_CPU_S: f64 = 0.5;

type Error = Box<dyn std::error::Error>;

// --- the world ----------------------------------------------------------------------------

/// `prod` with the release (revisions 6 and 7) and its route, and `previews` namespaces
/// `pr-<n>` aged from minutes to two months.
fn seed(server: &ApiServer, previews: usize) {
    let now = Utc::now();
    server.put_namespace("prod", &[], now - chrono::Duration::days(400));
    for i in 0..previews {
        // Spread over ~60 days, every preview a distinct age.
        let age = chrono::Duration::minutes(((i * 8_641) % 86_400) as i64 + 5);
        server.put_namespace(&format!("pr-{}", i + 1), &[], now - age);
    }
    put_release(server, "summit", 6, "superseded", true);
    put_release(server, "summit", 7, "deployed", true);
    server.put_object(http_route(75, 25));
}

// --- the console in a pseudo-terminal -------------------------------------------------------

/// `captain --config <dir>/captain.toml` (the TUI) in its own pseudo-terminal; a thread
/// drains its output continuously and answers cursor-position queries.
struct Console {
    child: Box<dyn Child + Send + Sync>,
    master: Box<dyn MasterPty + Send>,
    first_frame: Receiver<Instant>,
    reader: JoinHandle<Vec<u8>>,
    bytes: Arc<AtomicU64>,
    started: Instant,
}

impl Console {
    fn spawn(binary: &Path, server: &ApiServer, dir: &Path) -> Result<Self, Error> {
        std::fs::write(
            dir.join("captain.toml"),
            "[release]\nname = \"summit\"\nnamespace = \"prod\"\n[github]\napi_url = \"http://127.0.0.1:9\"\n[prometheus]\nurl = \"http://127.0.0.1:9\"\n[slo]\nfile = \"slo.yml\"\n",
        )?;
        std::fs::copy(
            concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/config/slo.yml"),
            dir.join("slo.yml"),
        )?;
        let pair = native_pty_system()
            .openpty(SIZE)
            .map_err(|e| format!("opening a pseudo-terminal: {e}"))?;
        let mut cmd = CommandBuilder::new(binary);
        cmd.arg("--config");
        cmd.arg(dir.join("captain.toml"));
        cmd.env("KUBECONFIG", server.kubeconfig());
        cmd.env("GITHUB_TOKEN", "unused-in-this-bench");
        cmd.env("CAPTAIN_STATE_DIR", dir);
        cmd.env_remove("CAPTAIN_CONFIG");
        cmd.env("XDG_CONFIG_HOME", dir);
        cmd.env("TERM", "xterm-256color");
        cmd.cwd(dir);
        let reader = pair
            .master
            .try_clone_reader()
            .map_err(|e| format!("reading the pseudo-terminal: {e}"))?;
        let writer = pair
            .master
            .take_writer()
            .map_err(|e| format!("writing to the pseudo-terminal: {e}"))?;
        let started = Instant::now();
        let child = pair
            .slave
            .spawn_command(cmd)
            .map_err(|e| format!("starting {}: {e}", binary.display()))?;
        // Only the child holds the terminal's other end now, so the reader sees it close.
        drop(pair.slave);
        let (tx, first_frame) = mpsc::channel();
        let bytes = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&bytes);
        let reader = std::thread::spawn(move || pump(reader, writer, tx, counted));
        Ok(Console {
            child,
            master: pair.master,
            first_frame,
            reader,
            bytes,
            started,
        })
    }

    fn pid(&self) -> Result<u32, Error> {
        self.child
            .process_id()
            .ok_or_else(|| "the console has no process id".into())
    }

    /// Kill and reap the console; what it wrote to the terminal (its first 64 KiB).
    fn kill(mut self) -> Vec<u8> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        drop(self.master);
        self.reader.join().unwrap_or_default()
    }
}

/// Drain the terminal as an emulator would: answer `ESC [ 6 n`, report when the marker
/// first shows, keep the first 64 KiB for error messages, count every byte.
fn pump(
    mut reader: Box<dyn Read + Send>,
    mut writer: Box<dyn Write + Send>,
    first_frame: mpsc::Sender<Instant>,
    bytes: Arc<AtomicU64>,
) -> Vec<u8> {
    let mut buf = [0u8; 16 * 1024];
    let mut kept = Vec::new();
    // The last few bytes of the previous read, so a query or marker split across reads
    // is still seen.
    let mut tail: Vec<u8> = Vec::new();
    let mut seen = false;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) | Err(_) => return kept,
            Ok(n) => n,
        };
        bytes.fetch_add(n as u64, Ordering::Relaxed);
        if kept.len() < 64 * 1024 {
            kept.extend_from_slice(&buf[..n]);
        }
        let mut window = std::mem::take(&mut tail);
        window.extend_from_slice(&buf[..n]);
        let asked = window.windows(4).filter(|w| *w == b"\x1b[6n").count();
        for _ in 0..asked {
            let _ = writer.write_all(b"\x1b[1;1R");
        }
        if asked > 0 {
            let _ = writer.flush();
        }
        if !seen && contains(&window, MARKER) {
            seen = true;
            let _ = first_frame.send(Instant::now());
        }
        let keep = MARKER.len().max(4) - 1;
        tail = window[window.len().saturating_sub(keep)..].to_vec();
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// --- /proc ------------------------------------------------------------------------------------

/// (comm, utime, stime) in clock ticks from a `/proc/.../stat` file.
fn stat_ticks(path: &str) -> Result<(String, u64, u64), Error> {
    let stat = std::fs::read_to_string(path)?;
    let open = stat.find('(').ok_or("no comm in stat")?;
    let close = stat.rfind(')').ok_or("no comm in stat")?;
    let comm = stat[open + 1..close].to_string();
    // After the comm: state is field 3, utime 14 and stime 15.
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let utime = fields.get(11).ok_or("short stat")?.parse()?;
    let stime = fields.get(12).ok_or("short stat")?.parse()?;
    Ok((comm, utime, stime))
}

/// Per-thread (utime, stime, voluntary context switches, i.e. wake-ups) keyed by
/// "tid comm".
fn thread_ticks(pid: u32) -> BTreeMap<String, (u64, u64, u64)> {
    let mut out = BTreeMap::new();
    if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for entry in dir.flatten() {
            let tid = entry.file_name().to_string_lossy().into_owned();
            if let Ok((comm, u, s)) = stat_ticks(&format!("/proc/{pid}/task/{tid}/stat")) {
                let wakes = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status"))
                    .ok()
                    .and_then(|st| {
                        st.lines()
                            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
                            .and_then(|v| v.trim().parse().ok())
                    })
                    .unwrap_or(0);
                out.insert(format!("{tid} {comm}"), (u, s, wakes));
            }
        }
    }
    out
}

/// Kilobytes from a `/proc/<pid>/status` line such as `VmHWM:   12345 kB`.
fn status_kib(pid: u32, field: &str) -> Result<u64, Error> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no {field} in /proc/{pid}/status").into())
}

fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

// --- one run ----------------------------------------------------------------------------------

struct Run {
    first_frame: Duration,
    hwm_kib: u64,
    rss_kib: u64,
    user_s: f64,
    system_s: f64,
    /// CPU spent from exec to the first frame.
    startup_cpu_s: f64,
    output_bytes: u64,
    /// Per-thread CPU over the window (user, system seconds) and wake-ups, most CPU first.
    threads: Vec<(String, f64, f64, u64)>,
    /// What the console asked the API server over the whole run, and whether a preview
    /// row reached the terminal.
    traffic: String,
}

fn run_once(
    rt: &tokio::runtime::Runtime,
    binary: &Path,
    previews: usize,
    hz: f64,
) -> Result<Run, Error> {
    let server = rt.block_on(ApiServer::start());
    seed(&server, previews);
    let dir = tempfile::tempdir()?;
    let console = Console::spawn(binary, &server, dir.path())?;
    let result = measure(&console, hz);
    let shown = console.kill();
    let requests = server.requests();
    drop(server);
    let namespaces: Vec<_> = requests
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/api/v1/namespaces")
        .collect();
    let watches = namespaces
        .iter()
        .filter(|r| r.param("watch").is_some_and(|w| w == "true" || w == "1"))
        .count();
    let traffic = format!(
        "{} API requests, namespaces: {} list pages + {watches} watches; preview rows on screen: {}",
        requests.len(),
        namespaces.len() - watches,
        if contains(&shown, b"pr-") {
            "yes"
        } else {
            "no"
        },
    );
    result.map(|r| Run { traffic, ..r }).map_err(|e| {
        format!(
            "{e}; the terminal showed: {}",
            String::from_utf8_lossy(&shown[..shown.len().min(4096)])
        )
        .into()
    })
}

fn measure(console: &Console, hz: f64) -> Result<Run, Error> {
    let pid = console.pid()?;
    let at = console
        .first_frame
        .recv_timeout(TIMEOUT)
        .map_err(|_| format!("no first frame within {TIMEOUT:?}"))?;
    let (_, u0, s0) = stat_ticks(&format!("/proc/{pid}/stat"))?;
    let threads0 = thread_ticks(pid);
    let bytes0 = console.bytes.load(Ordering::Relaxed);
    std::thread::sleep(WINDOW);
    let (_, u1, s1) = stat_ticks(&format!("/proc/{pid}/stat"))?;
    let threads1 = thread_ticks(pid);
    let hwm_kib = status_kib(pid, "VmHWM")?;
    let rss_kib = status_kib(pid, "VmRSS")?;
    let mut threads: Vec<(String, f64, f64, u64)> = threads1
        .iter()
        .map(|(k, (u, s, w))| {
            let (u_0, s_0, w_0) = threads0.get(k).copied().unwrap_or((0, 0, 0));
            (
                k.clone(),
                (u - u_0) as f64 / hz,
                (s.saturating_sub(s_0)) as f64 / hz,
                w.saturating_sub(w_0),
            )
        })
        .collect();
    threads.sort_by(|a, b| (b.1 + b.2).total_cmp(&(a.1 + a.2)));
    Ok(Run {
        first_frame: at - console.started,
        hwm_kib,
        rss_kib,
        user_s: (u1 - u0) as f64 / hz,
        system_s: (s1 - s0) as f64 / hz,
        startup_cpu_s: (u0 + s0) as f64 / hz,
        output_bytes: console.bytes.load(Ordering::Relaxed) - bytes0,
        threads,
        traffic: String::new(),
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    (v[(n - 1) / 2] + v[n / 2]) / 2.0
}

fn report(
    rt: &tokio::runtime::Runtime,
    binary: &Path,
    previews: usize,
    label: &str,
    runs: usize,
    hz: f64,
) -> Result<(), Error> {
    let mut all = Vec::with_capacity(runs);
    for _ in 0..runs {
        all.push(run_once(rt, binary, previews, hz)?);
    }
    let m = |f: &dyn Fn(&Run) -> f64| median(all.iter().map(f).collect());
    let first = m(&|r| r.first_frame.as_secs_f64() * 1000.0);
    let hwm = m(&|r| r.hwm_kib as f64 / 1024.0);
    let rss = m(&|r| r.rss_kib as f64 / 1024.0);
    let cpu = m(&|r| r.user_s + r.system_s);
    let user = m(&|r| r.user_s);
    let system = m(&|r| r.system_s);
    let startup = m(&|r| r.startup_cpu_s);
    let out = m(&|r| r.output_bytes as f64 / 1024.0);
    let each = |f: &dyn Fn(&Run) -> String| all.iter().map(f).collect::<Vec<_>>().join(", ");
    println!(
        "{label} previews: first frame after {first:.0} ms; peak RSS {hwm:.1} MiB; CPU over 20 s: \
         {cpu:.2} s (user {user:.2}, system {system:.2}) [medians of {runs}]"
    );
    println!(
        "  per run: peak RSS [{}] MiB; CPU [{}] s; RSS at end {rss:.1} MiB; CPU to first frame \
         {startup:.2} s; terminal output over 20 s {out:.0} KiB",
        each(&|r| format!("{:.1}", r.hwm_kib as f64 / 1024.0)),
        each(&|r| format!("{:.2}", r.user_s + r.system_s)),
    );
    let mb = hwm * 1024.0 * 1024.0 / 1e6;
    println!(
        "  budget (≤ {BUDGET_RSS_MB} MB peak RSS, ≤ {BUDGET_CPU_S} s CPU/20 s): RSS {mb:.1} MB {}, CPU {}",
        if mb <= BUDGET_RSS_MB { "met" } else { "MISSED" },
        if cpu <= BUDGET_CPU_S { "met" } else { "MISSED" },
    );
    // The busiest threads of the last run over the window.
    if let Some(last) = all.last() {
        println!("  last run: {}", last.traffic);
        let busy: Vec<String> = last
            .threads
            .iter()
            .filter(|t| t.1 + t.2 > 0.0 || t.3 > 0)
            .take(6)
            .map(|(name, u, s, w)| format!("{name} {u:.2}+{s:.2} ({w} wakes)"))
            .collect();
        println!(
            "  threads (last run, user+system s and wake-ups over 20 s, {} threads): {}",
            last.threads.len(),
            if busy.is_empty() {
                "all idle".to_string()
            } else {
                busy.join("; ")
            }
        );
    }
    Ok(())
}

fn main() -> Result<(), Error> {
    let binary: PathBuf = [env!("CARGO_MANIFEST_DIR"), "target", "release", "captain"]
        .iter()
        .collect();
    if !binary.is_file() {
        println!(
            "live_console: {} is missing; build it first with `cargo build --release`, then \
             run `cargo bench --bench live_console` again",
            binary.display()
        );
        return Ok(());
    }
    let runs: usize = std::env::var("LIVE_CONSOLE_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(3);
    let hz = clock_ticks_per_second();
    // One worker: the API server should take as little of the two cores as it can.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    report(&rt, &binary, 10_000, "10,000", runs, hz)?;
    report(&rt, &binary, 10, "10", runs, hz)?;
    Ok(())
}
