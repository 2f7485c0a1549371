//! Memory, CPU and API requests of one `captain drive` (the release build) driving 20
//! releases at once against the test Kubernetes API server (`captain_testkit::apiserver`): each
//! release its own Helm release, HTTPRoute, shared ConfigMap and Lease, its canary paused
//! at 10 %, Prometheus and GitHub unreachable (so every measurement is a fault, as on a bad
//! day). Figures are printed, never asserted: compare them with the budget (≤ 100 MB peak
//! RSS and ≤ 1 % of a core over the 20 s after start).
//!
//! ```text
//! cargo build --release && cargo bench --bench drive_scale
//! ```
//!
//! `DRIVE_RELEASES` (default 20) sets the releases, `DRIVE_RUNS` (default 3) the runs;
//! medians are printed with the spread (lowest–highest). `CAPTAIN_BASELINE=<binary>` runs
//! another build the same way, taking turns. When `target/release/captain` is missing this
//! says so and exits successfully.

mod proc_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;

use captain_testkit::apiserver::ApiServer;
use captain_testkit::kube::{http_route, put_release};
use proc_support::{Error, clock_ticks_per_second, spread, stat_ticks, status_kib};

/// How long the driver runs after it is up while its CPU and requests are counted.
const WINDOW: Duration = Duration::from_secs(20);
/// The driver is up once every release's lease is held, or after this.
const START: Duration = Duration::from_secs(30);
const BUDGET_RSS_MB: f64 = 100.0;
const BUDGET_CORE_PERCENT: f64 = 1.0;

fn release_name(i: usize) -> String {
    format!("app-{i:02}")
}

/// `prod` with `n` releases, each with revisions 6 and 7 and its route at 90/10.
fn seed(server: &ApiServer, n: usize) {
    server.put_namespace("prod", &[], Utc::now() - chrono::Duration::days(400));
    for i in 0..n {
        let name = release_name(i);
        put_release(server, &name, 6, "superseded", true);
        put_release(server, &name, 7, "deployed", true);
        let mut route = http_route(90, 10);
        route["metadata"]["name"] = name.clone().into();
        let backends = &mut route["spec"]["rules"][0]["backendRefs"];
        backends[0]["name"] = format!("{name}-stable").into();
        backends[1]["name"] = format!("{name}-canary").into();
        server.put_object(route);
    }
}

/// One captain.toml per release in `dir`; the first one's path, then the others'.
fn configs(dir: &Path, n: usize) -> Result<Vec<PathBuf>, Error> {
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/config/slo.yml"),
        dir.join("slo.yml"),
    )?;
    (0..n)
        .map(|i| {
            let name = release_name(i);
            let path = dir.join(format!("{name}.toml"));
            std::fs::write(
                &path,
                format!(
                    "[release]\nname = \"{name}\"\nnamespace = \"prod\"\n[traffic]\nroute = \"{name}\"\n\
                     [github]\napi_url = \"http://127.0.0.1:9\"\n[prometheus]\nurl = \"http://127.0.0.1:9\"\n\
                     [slo]\nfile = \"slo.yml\"\n[timeouts]\nbudget = \"5s\"\n"
                ),
            )?;
            Ok(path)
        })
        .collect()
}

fn spawn(
    binary: &Path,
    server: &ApiServer,
    dir: &Path,
    configs: &[PathBuf],
) -> Result<Child, Error> {
    let mut cmd = Command::new(binary);
    cmd.arg("--config").arg(&configs[0]).arg("drive");
    for c in &configs[1..] {
        cmd.arg("--release").arg(c);
    }
    Ok(cmd
        .env("KUBECONFIG", server.kubeconfig())
        .env("CAPTAIN_STATE_DIR", dir)
        .env_remove("CAPTAIN_CONFIG")
        .env_remove("GITHUB_TOKEN")
        .env("PATH", dir)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("drive.stderr"))?)
        .spawn()?)
}

/// Every release's lease held: the driver is driving them all.
fn all_driving(server: &ApiServer, n: usize) -> bool {
    (0..n).all(|i| {
        server
            .object(
                "leases.coordination.k8s.io",
                Some("prod"),
                &format!("captain-{}", release_name(i)),
            )
            .is_some_and(|l| l["spec"]["holderIdentity"].is_string())
    })
}

struct Run {
    up: Duration,
    hwm_mb: f64,
    window_cpu_s: f64,
    /// API requests from exec until every release is driven, and over the window.
    to_start: BTreeMap<(String, String), usize>,
    requests: BTreeMap<(String, String), usize>,
}

fn run_once(rt: &tokio::runtime::Runtime, binary: &Path, n: usize, hz: f64) -> Result<Run, Error> {
    let server = rt.block_on(ApiServer::start());
    seed(&server, n);
    let dir = tempfile::tempdir()?;
    let configs = configs(dir.path(), n)?;
    let started = Instant::now();
    let mut child = spawn(binary, &server, dir.path(), &configs)?;
    let pid = child.id();
    while !all_driving(&server, n) && started.elapsed() < START {
        std::thread::sleep(Duration::from_millis(50));
    }
    let up = started.elapsed();
    let measured = (|| -> Result<Run, Error> {
        let (_, u0, s0) = stat_ticks(&format!("/proc/{pid}/stat"))?;
        let before = server.request_counts();
        let to_start = before.clone();
        std::thread::sleep(WINDOW);
        let (_, u1, s1) = stat_ticks(&format!("/proc/{pid}/stat"))?;
        let after = server.request_counts();
        let requests = after
            .iter()
            .filter_map(|(k, v)| {
                let d = v - before.get(k).copied().unwrap_or(0);
                (d > 0).then(|| (k.clone(), d))
            })
            .collect();
        Ok(Run {
            up,
            hwm_mb: status_kib(pid, "VmHWM")? as f64 * 1024.0 / 1e6,
            window_cpu_s: (u1 + s1).saturating_sub(u0 + s0) as f64 / hz,
            to_start,
            requests,
        })
    })();
    let _ = child.kill();
    let _ = child.wait();
    drop(server);
    measured.map_err(|e| {
        let said = std::fs::read_to_string(dir.path().join("drive.stderr")).unwrap_or_default();
        let tail: Vec<&str> = said.lines().rev().take(5).collect();
        format!("{e}; the driver said last: {tail:?}").into()
    })
}

fn main() -> Result<(), Error> {
    let Some(binary) = proc_support::release_binary("drive_scale") else {
        return Ok(());
    };
    let var = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or(default)
    };
    let (n, runs) = (var("DRIVE_RELEASES", 20), var("DRIVE_RUNS", 3));
    let mut programs = vec![("this build".to_string(), binary)];
    if let Some(before) = std::env::var_os("CAPTAIN_BASELINE").map(PathBuf::from) {
        programs.push(("before".to_string(), before));
    }
    let hz = clock_ticks_per_second();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let mut all: Vec<Vec<Run>> = programs.iter().map(|_| Vec::new()).collect();
    for _ in 0..runs {
        for (i, (name, binary)) in programs.iter().enumerate() {
            match run_once(&rt, binary, n, hz) {
                Ok(run) => all[i].push(run),
                Err(e) => println!("  {name}: a run failed: {e}"),
            }
        }
    }
    println!("\ncaptain drive with {n} releases, 20 s after all are driven:");
    for ((name, _), runs) in programs.iter().zip(&all) {
        if runs.is_empty() {
            continue;
        }
        let rss = spread(runs.iter().map(|r| r.hwm_mb).collect());
        let cpu = spread(runs.iter().map(|r| r.window_cpu_s).collect());
        let up = spread(runs.iter().map(|r| r.up.as_secs_f64()).collect()).median;
        let core = cpu.median / WINDOW.as_secs_f64() * 100.0;
        println!(
            "  {name:<11} peak RSS {rss:.1} MB; CPU over 20 s {cpu:.2} s, {core:.2} % of a core; all driven after {up:.1} s [median (lowest–highest) of {}]",
            runs.len()
        );
        let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
        println!(
            "  {:<11} budget (≤ {BUDGET_RSS_MB} MB, ≤ {BUDGET_CORE_PERCENT} % of a core): RSS {}, CPU {}",
            "",
            verdict(rss.median <= BUDGET_RSS_MB),
            verdict(core <= BUDGET_CORE_PERCENT)
        );
        if let Some(last) = runs.last() {
            let line = |counts: &BTreeMap<(String, String), usize>| {
                let all: Vec<String> = counts
                    .iter()
                    .map(|((verb, resource), n)| format!("{verb} {resource} {n}"))
                    .collect();
                if all.is_empty() {
                    "none".to_string()
                } else {
                    all.join(", ")
                }
            };
            println!(
                "  {:<11} requests until all are driven (last run): {}",
                "",
                line(&last.to_start)
            );
            println!(
                "  {:<11} requests in the 20 s (last run): {}",
                "",
                line(&last.requests)
            );
        }
    }
    Ok(())
}
