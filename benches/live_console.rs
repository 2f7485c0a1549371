//! Memory, CPU and API requests of the real console (`target/release/captain`, the TUI)
//! running live against the test Kubernetes API server (`captain_testkit::apiserver`) with 10,000
//! preview namespaces as a real API server returns them (labels, annotations with
//! kubectl's last-applied configuration, managed fields, uid, resourceVersion,
//! creationTimestamp), for a paused train and a progressing one; and, for comparison, an
//! idle console with 10 previews. Figures are printed, never asserted: compare them with the
//! budget (≤ 40 MB peak RSS and ≤ 0.4 s of CPU over 20 s, start included, and ≤ 0.45× kdash
//! on both; API requests: ≤ 1 write per train change, ≤ 1 Lease write per renew period, one
//! list (its pages) and one watch per kind, access reviews once at start).
//!
//! ```text
//! cargo build --release && cargo bench --bench live_console
//! ```
//!
//! Beside another build (the commit before a change), run alternately with this one in one
//! run of the bench: build that commit's binary first, with the same target directory so
//! the dependencies are built once, and copy it out before building this one. Cargo names
//! both builds' artifacts alike and judges them by the sources' times, so touch this
//! checkout's crate roots or it takes the other build for this one:
//!
//! ```text
//! git worktree add --detach ../captain-before <commit>
//! (cd ../captain-before && CARGO_TARGET_DIR=$OLDPWD/target cargo build --release --locked)
//! cp target/release/captain /tmp/captain-before
//! touch src/lib.rs src/main.rs && cargo build --release --locked
//! CAPTAIN_BASELINE=/tmp/captain-before cargo bench --bench live_console
//! ```
//!
//! `kdash` on PATH (`cargo install kdash --locked`) is run the same way, against the same
//! server, for the ratio; when it is absent the bench says so and skips the ratio.
//!
//! Then 50,000 previews (this build and the one before, paused), and the memory each preview
//! costs between 10 and 10,000 and between 10,000 and 50,000: the same figure twice when
//! memory grows linearly (`LIVE_CONSOLE_SKIP_50K=1` leaves it out).
//!
//! The binary is not built here: when `target/release/captain` is missing this says so and
//! exits successfully. `LIVE_CONSOLE_RUNS` (default 3) sets the runs per world and program;
//! medians are printed with the spread (lowest–highest).

mod proc_support;

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
use serde_json::{Value, json};

use captain_testkit::apiserver::ApiServer;
use captain_testkit::kube::{http_route, put_release};
use proc_support::{Spread, clock_ticks_per_second, spread, stat_ticks, status_kib};

/// A first frame later than this is a failure, not a measurement.
const TIMEOUT: Duration = Duration::from_secs(30);
/// How long a console runs, after its first frame, while its CPU and requests are counted.
const WINDOW: Duration = Duration::from_secs(20);
const SIZE: PtySize = PtySize {
    rows: 40,
    cols: 120,
    pixel_width: 0,
    pixel_height: 0,
};
const BUDGET_RSS_MB: f64 = 40.0;
const BUDGET_CPU_S: f64 = 0.4;
const BUDGET_KDASH_RATIO: f64 = 0.45;

use proc_support::Error;

// --- the world ----------------------------------------------------------------------------

/// Where the release's train stands when the console starts: the route's canary weight is
/// one of slo.yml's steps (the console watches that step: progressing), or none of them
/// (the console pauses the train for a human).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Train {
    Paused,
    Progressing,
}

impl Train {
    fn canary_weight(self) -> u64 {
        match self {
            Train::Paused => 10,
            Train::Progressing => 25,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Train::Paused => "paused train",
            Train::Progressing => "progressing train",
        }
    }
}

/// A namespace as a real API server returns one that CI applied with kubectl: labels, the
/// last-applied annotation, the managed fields of kubectl and of the namespace controller,
/// uid, resourceVersion and creationTimestamp (the last three filled in by the server).
fn realistic_namespace(name: &str, created: chrono::DateTime<Utc>) -> Value {
    let at = created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let applied = json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "previews", "team": "web"}},
    });
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "creationTimestamp": at,
            "labels": {
                "app.kubernetes.io/part-of": "previews",
                "team": "web",
                "kubernetes.io/metadata.name": name,
            },
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": format!("{applied}\n"),
            },
            "managedFields": [
                {
                    "manager": "kubectl-client-side-apply",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": at,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:metadata": {
                        "f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}},
                        "f:labels": {".": {}, "f:app.kubernetes.io/part-of": {}, "f:kubernetes.io/metadata.name": {}, "f:team": {}},
                    }},
                },
                {
                    "manager": "kube-controller-manager",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": at,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:status": {"f:phase": {}}},
                    "subresource": "status",
                },
            ],
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    })
}

/// `prod` with the release (revisions 6 and 7) and its route at the train's weight, and
/// `previews` namespaces `pr-<n>` aged from minutes to two months.
fn seed(server: &ApiServer, previews: usize, train: Train) {
    let now = Utc::now();
    server.put_object(realistic_namespace(
        "prod",
        now - chrono::Duration::days(400),
    ));
    for i in 0..previews {
        // Spread over ~60 days, every preview a distinct age.
        let age = chrono::Duration::minutes(((i * 8_641) % 86_400) as i64 + 5);
        server.put_object(realistic_namespace(&format!("pr-{}", i + 1), now - age));
    }
    put_release(server, "summit", 6, "superseded", true);
    put_release(server, "summit", 7, "deployed", true);
    let canary = train.canary_weight();
    server.put_object(http_route(100 - canary, canary));
}

// --- the programs -----------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Program {
    /// How the figures name it: `this build`, `before`, `kdash`.
    name: String,
    binary: PathBuf,
    kdash: bool,
}

impl Program {
    /// The first frame shows this; nothing before it prints it.
    fn marker(&self) -> &'static [u8] {
        if self.kdash {
            b"Namespaces"
        } else {
            b"Previews"
        }
    }
}

/// The program in `PATH` named `name`.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

// --- the console in a pseudo-terminal -------------------------------------------------------

/// The program (captain's TUI with `--config <dir>/captain.toml`, or kdash) in its own
/// pseudo-terminal; a thread drains its output continuously and answers cursor-position
/// queries.
struct Console {
    child: Box<dyn Child + Send + Sync>,
    master: Box<dyn MasterPty + Send>,
    first_frame: Receiver<Instant>,
    reader: JoinHandle<Vec<u8>>,
    bytes: Arc<AtomicU64>,
    started: Instant,
}

impl Console {
    fn spawn(program: &Program, server: &ApiServer, dir: &Path) -> Result<Self, Error> {
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
        let mut cmd = CommandBuilder::new(&program.binary);
        if !program.kdash {
            cmd.arg("--config");
            cmd.arg(dir.join("captain.toml"));
        }
        cmd.env("KUBECONFIG", server.kubeconfig());
        cmd.env("GITHUB_TOKEN", "unused-in-this-bench");
        cmd.env("CAPTAIN_STATE_DIR", dir);
        cmd.env_remove("CAPTAIN_CONFIG");
        cmd.env("XDG_CONFIG_HOME", dir);
        cmd.env("HOME", dir);
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
            .map_err(|e| format!("starting {}: {e}", program.binary.display()))?;
        // Only the child holds the terminal's other end now, so the reader sees it close.
        drop(pair.slave);
        let (tx, first_frame) = mpsc::channel();
        let bytes = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&bytes);
        let marker = program.marker();
        let reader = std::thread::spawn(move || pump(reader, writer, marker, tx, counted));
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

/// Drain the terminal as an emulator would: answer `ESC [ 6 n`, report when `marker`
/// first shows, keep the first 64 KiB for error messages, count every byte.
fn pump(
    mut reader: Box<dyn Read + Send>,
    mut writer: Box<dyn Write + Send>,
    marker: &[u8],
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
        if !seen && contains(&window, marker) {
            seen = true;
            let _ = first_frame.send(Instant::now());
        }
        let keep = marker.len().max(4) - 1;
        tail = window[window.len().saturating_sub(keep)..].to_vec();
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// --- /proc ------------------------------------------------------------------------------------

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

// --- one run ----------------------------------------------------------------------------------

/// Requests by (verb, resource).
type Counts = BTreeMap<(String, String), usize>;

struct Run {
    first_frame: Duration,
    hwm_kib: u64,
    /// CPU from exec to the end of the window (start included), and over the window alone.
    total_cpu_s: f64,
    window_cpu_s: f64,
    output_bytes: u64,
    /// Per-thread CPU over the window (user, system seconds) and wake-ups, most CPU first.
    threads: Vec<(String, f64, f64, u64)>,
    /// API requests from exec to the first frame, and over the window.
    at_start: Counts,
    in_window: Counts,
    /// Whether a preview row reached the terminal.
    rows_shown: bool,
}

fn run_once(
    rt: &tokio::runtime::Runtime,
    program: &Program,
    previews: usize,
    train: Train,
    hz: f64,
) -> Result<Run, Error> {
    let server = rt.block_on(ApiServer::start());
    seed(&server, previews, train);
    let dir = tempfile::tempdir()?;
    let console = Console::spawn(program, &server, dir.path())?;
    let result = measure(&console, &server, hz);
    let shown = console.kill();
    drop(server);
    result
        .map(|r| Run {
            rows_shown: contains(&shown, b"pr-"),
            ..r
        })
        .map_err(|e| {
            format!(
                "{}: {e}; the terminal showed: {}",
                program.name,
                String::from_utf8_lossy(&shown[..shown.len().min(4096)])
            )
            .into()
        })
}

fn minus(after: &Counts, before: &Counts) -> Counts {
    after
        .iter()
        .filter_map(|(k, n)| {
            let d = n - before.get(k).copied().unwrap_or(0);
            (d > 0).then(|| (k.clone(), d))
        })
        .collect()
}

fn measure(console: &Console, server: &ApiServer, hz: f64) -> Result<Run, Error> {
    let pid = console.pid()?;
    let at = console
        .first_frame
        .recv_timeout(TIMEOUT)
        .map_err(|_| format!("no first frame within {TIMEOUT:?}"))?;
    let (_, u0, s0) = stat_ticks(&format!("/proc/{pid}/stat"))?;
    let at_start = server.request_counts();
    let threads0 = thread_ticks(pid);
    let bytes0 = console.bytes.load(Ordering::Relaxed);
    std::thread::sleep(WINDOW);
    let (_, u1, s1) = stat_ticks(&format!("/proc/{pid}/stat"))?;
    let in_window = minus(&server.request_counts(), &at_start);
    let threads1 = thread_ticks(pid);
    let hwm_kib = status_kib(pid, "VmHWM")?;
    let mut threads: Vec<(String, f64, f64, u64)> = threads1
        .iter()
        .map(|(k, (u, s, w))| {
            let (u_0, s_0, w_0) = threads0.get(k).copied().unwrap_or((0, 0, 0));
            (
                k.clone(),
                u.saturating_sub(u_0) as f64 / hz,
                s.saturating_sub(s_0) as f64 / hz,
                w.saturating_sub(w_0),
            )
        })
        .collect();
    threads.sort_by(|a, b| (b.1 + b.2).total_cmp(&(a.1 + a.2)));
    Ok(Run {
        first_frame: at - console.started,
        hwm_kib,
        total_cpu_s: (u1 + s1) as f64 / hz,
        window_cpu_s: (u1 + s1).saturating_sub(u0 + s0) as f64 / hz,
        output_bytes: console.bytes.load(Ordering::Relaxed) - bytes0,
        threads,
        at_start,
        in_window,
        rows_shown: false,
    })
}

// --- figures ----------------------------------------------------------------------------------

/// What one program did in one world, over its runs.
struct Figures {
    program: Program,
    runs: Vec<Run>,
}

impl Figures {
    fn of(&self, f: impl Fn(&Run) -> f64) -> Spread {
        spread(self.runs.iter().map(f).collect())
    }

    fn rss_mb(&self) -> Spread {
        self.of(|r| r.hwm_kib as f64 * 1024.0 / 1e6)
    }

    fn cpu_s(&self) -> Spread {
        self.of(|r| r.total_cpu_s)
    }
}

/// `list namespaces 21, watch namespaces 1, …` for the median run's counts (the run whose
/// total is the median), so each count is one run's, never a mix.
fn counts_line(runs: &[Run], pick: impl Fn(&Run) -> &Counts) -> String {
    let mut totals: Vec<(usize, usize)> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| (pick(r).values().sum(), i))
        .collect();
    totals.sort();
    let Some(&(_, median)) = totals.get((totals.len() - 1) / 2) else {
        return "none".into();
    };
    let counts = pick(&runs[median]);
    if counts.is_empty() {
        return "none".into();
    }
    let writes: usize = counts
        .iter()
        .filter(|((verb, _), _)| matches!(verb.as_str(), "create" | "update" | "patch" | "delete"))
        .map(|(_, n)| n)
        .sum();
    let all: Vec<String> = counts
        .iter()
        .map(|((verb, resource), n)| format!("{verb} {resource} {n}"))
        .collect();
    format!(
        "{} ({} requests, {writes} writes)",
        all.join(", "),
        counts.values().sum::<usize>()
    )
}

fn print_world(title: &str, all: &[Figures]) {
    println!("\n{title}");
    for f in all {
        let first = f.of(|r| r.first_frame.as_secs_f64() * 1000.0);
        let window = f.of(|r| r.window_cpu_s);
        let out = f.of(|r| r.output_bytes as f64 / 1024.0);
        println!(
            "  {:<11} peak RSS {:.1} MB; CPU start + 20 s {:.2} s (of which the 20 s {:.2}); first frame {:.0} ms; terminal output {:.0} KiB [median (lowest–highest) of {}]",
            f.program.name,
            f.rss_mb(),
            f.cpu_s(),
            window,
            first,
            out,
            f.runs.len()
        );
        if f.program.kdash {
            continue;
        }
        println!(
            "  {:<11} requests to the first frame: {}",
            "",
            counts_line(&f.runs, |r| &r.at_start)
        );
        println!(
            "  {:<11} requests in the 20 s:        {}",
            "",
            counts_line(&f.runs, |r| &r.in_window)
        );
        if f.runs.iter().any(|r| !r.rows_shown) {
            println!("  {:<11} (a run showed no preview row)", "");
        }
        if let Some(last) = f.runs.last() {
            let busy: Vec<String> = last
                .threads
                .iter()
                .filter(|t| t.1 + t.2 > 0.0)
                .take(4)
                .map(|(name, u, s, w)| format!("{name} {u:.2}+{s:.2} ({w} wakes)"))
                .collect();
            if !busy.is_empty() {
                println!(
                    "  {:<11} busiest threads over the 20 s (last run): {}",
                    "",
                    busy.join("; ")
                );
            }
        }
    }
    let Some(ours) = all.first() else { return };
    let (rss, cpu) = (ours.rss_mb().median, ours.cpu_s().median);
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!(
        "  budget (≤ {BUDGET_RSS_MB} MB, ≤ {BUDGET_CPU_S} s): {} RSS {rss:.1} MB {}, CPU {cpu:.2} s {}",
        ours.program.name,
        verdict(rss <= BUDGET_RSS_MB),
        verdict(cpu <= BUDGET_CPU_S),
    );
    for other in &all[1..] {
        let (r, c) = (rss / other.rss_mb().median, cpu / other.cpu_s().median);
        let vs_kdash = if other.program.kdash {
            format!(
                " (≤ {BUDGET_KDASH_RATIO}×: RSS {}, CPU {})",
                verdict(r <= BUDGET_KDASH_RATIO),
                verdict(c <= BUDGET_KDASH_RATIO)
            )
        } else {
            String::new()
        };
        println!(
            "  {} ÷ {}: RSS {r:.2}×, CPU {c:.2}×{vs_kdash}",
            ours.program.name, other.program.name
        );
    }
}

/// Every program `runs` times in the world, taking turns, so a slower spell of the machine
/// falls on all of them alike.
fn alternate(
    rt: &tokio::runtime::Runtime,
    programs: &[Program],
    previews: usize,
    train: Train,
    runs: usize,
    hz: f64,
) -> Vec<Figures> {
    let mut all: Vec<Figures> = programs
        .iter()
        .map(|p| Figures {
            program: p.clone(),
            runs: Vec::new(),
        })
        .collect();
    for _ in 0..runs {
        for f in &mut all {
            match run_once(rt, &f.program, previews, train, hz) {
                Ok(run) => f.runs.push(run),
                Err(e) => println!("  {}: a run failed: {e}", f.program.name),
            }
        }
    }
    all.retain(|f| !f.runs.is_empty());
    all
}

fn main() -> Result<(), Error> {
    let Some(binary) = proc_support::release_binary("live_console") else {
        return Ok(());
    };
    let runs: usize = std::env::var("LIVE_CONSOLE_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(3);
    let hz = clock_ticks_per_second();
    let mut captains = vec![Program {
        name: "this build".into(),
        binary,
        kdash: false,
    }];
    match std::env::var_os("CAPTAIN_BASELINE").map(PathBuf::from) {
        Some(path) if path.is_file() => captains.push(Program {
            name: "before".into(),
            binary: path,
            kdash: false,
        }),
        Some(path) => println!(
            "live_console: CAPTAIN_BASELINE={} is not a file; no figures beside it",
            path.display()
        ),
        None => {
            println!("live_console: CAPTAIN_BASELINE is not set; no figures beside another build")
        }
    }
    let kdash = on_path("kdash").map(|binary| Program {
        name: "kdash".into(),
        binary,
        kdash: true,
    });
    if kdash.is_none() {
        println!(
            "live_console: kdash is not on PATH (`cargo install kdash --locked`); no ratio to kdash"
        );
    }
    // One worker: the API server should take as little of the two cores as it can.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    // Peak RSS (MB, median) of each captain build at each number of previews, paused.
    let mut rss: BTreeMap<(String, usize), f64> = BTreeMap::new();
    let mut keep = |all: &[Figures], previews: usize| {
        for f in all.iter().filter(|f| !f.program.kdash) {
            rss.insert((f.program.name.clone(), previews), f.rss_mb().median);
        }
    };
    for train in [Train::Paused, Train::Progressing] {
        let mut programs = captains.clone();
        programs.extend(kdash.clone());
        let all = alternate(&rt, &programs, 10_000, train, runs, hz);
        print_world(&format!("10,000 previews, {}:", train.label()), &all);
        if train == Train::Paused {
            keep(&all, 10_000);
        }
    }
    let all = alternate(&rt, &captains, 10, Train::Paused, runs, hz);
    print_world("10 previews, paused train:", &all);
    keep(&all, 10);
    if std::env::var_os("LIVE_CONSOLE_SKIP_50K").is_none() {
        let all = alternate(&rt, &captains, 50_000, Train::Paused, runs, hz);
        print_world("50,000 previews, paused train:", &all);
        keep(&all, 50_000);
        print_per_preview(&captains, &rss);
    }
    Ok(())
}

/// Memory per preview between 10 and 10,000 previews and between 10,000 and 50,000: the
/// same figure twice when memory grows linearly with the previews.
fn print_per_preview(captains: &[Program], rss: &BTreeMap<(String, usize), f64>) {
    println!(
        "
memory per preview (peak RSS, paused train):"
    );
    for p in captains {
        let at = |n: usize| rss.get(&(p.name.clone(), n)).copied();
        let (Some(small), Some(mid), Some(large)) = (at(10), at(10_000), at(50_000)) else {
            continue;
        };
        let per = |a: f64, b: f64, n: f64| (b - a) * 1e6 / n;
        println!(
            "  {:<11} 10 → 10,000: {:.0} bytes a preview; 10,000 → 50,000: {:.0} bytes a preview",
            p.name,
            per(small, mid, 9_990.0),
            per(mid, large, 40_000.0)
        );
    }
}
