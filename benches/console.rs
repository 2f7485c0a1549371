//! The real console as its user meets it: `target/release/captain --demo` in a
//! pseudo-terminal. Printed, never asserted (`docs/architecture.md`, "Performance"):
//!
//! - first frame: from process start to the first frame on screen (budget ≤ 100 ms);
//! - peak RSS after 3 s of the demo;
//! - idle CPU: the demo at speed 1, nobody typing, over `CONSOLE_IDLE_SECS` (default 60 s),
//!   every thread counted (budget ≤ 0.3 % of a core), with its wake-ups per second and the
//!   bytes it wrote to the terminal;
//! - key to frame: `?` pressed until the help's header row is on the terminal (budget
//!   ≤ 16 ms), `CONSOLE_KEYS` times (default 20).
//!
//! Side by side: with `CAPTAIN_BASELINE` naming a release build of the commit before a change,
//! both binaries are measured in the same run, alternately, so a noisy machine weighs on both
//! alike. Build the baseline in a second work tree of that commit sharing this target
//! directory, then copy it out before building the change:
//!
//! ```text
//! git worktree add --detach ../base HEAD~1
//! T=$PWD/target; (cd ../base && CARGO_TARGET_DIR=$T cargo build --release)
//! cp target/release/captain /tmp/captain-before
//! cargo build --release && CAPTAIN_BASELINE=/tmp/captain-before cargo bench --bench console
//! ```
//!
//! The binary is not built here: when `target/release/captain` is missing this says so and
//! exits successfully.

// The console bench has no runs to take the median of.
#[allow(dead_code)]
mod proc_support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

use proc_support::{Error, clock_ticks_per_second, stat_ticks, status_kib};

/// The binary to compare with, from `CAPTAIN_BASELINE` (a release build of the commit
/// before the change), when it is set and names a file.
fn baseline_binary() -> Result<Option<PathBuf>, Error> {
    match std::env::var_os("CAPTAIN_BASELINE") {
        None => Ok(None),
        Some(p) => {
            let p = PathBuf::from(p);
            if p.is_file() {
                Ok(Some(p))
            } else {
                Err(format!("CAPTAIN_BASELINE={} is not a file", p.display()).into())
            }
        }
    }
}

/// A console in a pseudo-terminal.
struct Console {
    child: Box<dyn Child + Send + Sync>,
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    output: Receiver<Vec<u8>>,
    reader: JoinHandle<()>,
    started: Instant,
    seen: Vec<u8>,
    _state: tempfile::TempDir,
}

impl Console {
    /// `binary args…` with its own state directory and no user configuration.
    fn spawn(binary: &Path, args: &[&str], size: (u16, u16)) -> Result<Self, Error> {
        let state = tempfile::tempdir()?;
        let pair = native_pty_system()
            .openpty(PtySize {
                cols: size.0,
                rows: size.1,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(|e| format!("opening a pseudo-terminal: {e}"))?;
        let mut cmd = CommandBuilder::new(binary);
        cmd.args(args);
        cmd.env("CAPTAIN_STATE_DIR", state.path());
        // Keep the user's config out of it: no ./captain.toml, no XDG config file.
        cmd.env_remove("CAPTAIN_CONFIG");
        cmd.env("XDG_CONFIG_HOME", state.path());
        cmd.env("TERM", "xterm-256color");
        cmd.cwd(state.path());
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
        let (tx, output) = mpsc::channel();
        let reader = std::thread::spawn(move || pump(reader, tx));
        Ok(Console {
            child,
            master: pair.master,
            writer,
            output,
            reader,
            started,
            seen: Vec::new(),
            _state: state,
        })
    }

    /// How much output there has been: a mark to look for something after.
    fn mark(&self) -> usize {
        self.seen.len()
    }

    /// Read until the output after `mark` contains `needle`, before `deadline`; the instant
    /// the chunk holding it was read.
    fn wait_after(
        &mut self,
        mark: usize,
        needle: &[u8],
        deadline: Instant,
    ) -> Result<Instant, Error> {
        if contains(&self.seen[mark.min(self.seen.len())..], needle) {
            return Ok(Instant::now());
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let chunk = match self.output.recv_timeout(left) {
                Ok(chunk) => chunk,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "{:?} did not appear in time; the terminal showed: {}",
                        String::from_utf8_lossy(needle),
                        String::from_utf8_lossy(&self.seen[mark.min(self.seen.len())..])
                    )
                    .into());
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.try_wait().ok().flatten();
                    return Err(format!(
                        "captain ended ({status:?}); it wrote: {}",
                        String::from_utf8_lossy(&self.seen)
                    )
                    .into());
                }
            };
            let at = Instant::now();
            let old = self.seen.len();
            self.seen.extend_from_slice(&chunk);
            self.answer_queries(old)?;
            let from = mark.max(old.saturating_sub(needle.len() - 1));
            if contains(&self.seen[from..], needle) {
                return Ok(at);
            }
        }
    }

    /// Read until the output contains `needle`; the time since spawning when it did.
    fn wait_for(&mut self, needle: &[u8], timeout: Duration) -> Result<Duration, Error> {
        let at = self.wait_after(0, needle, self.started + timeout)?;
        Ok(at - self.started)
    }

    /// Type `keys`; the instant just before they were written.
    fn press(&mut self, keys: &[u8]) -> Result<Instant, Error> {
        // Taken before writing: were this thread preempted after the write, the frame could
        // arrive before a later reading and the latency would look smaller than it is.
        let at = Instant::now();
        self.writer.write_all(keys)?;
        self.writer.flush()?;
        Ok(at)
    }

    /// A real terminal answers a cursor-position query; so does this one, in case the
    /// console ever asks.
    fn answer_queries(&mut self, old: usize) -> Result<(), Error> {
        let asked = self.seen[old.saturating_sub(3)..]
            .windows(4)
            .filter(|w| *w == b"\x1b[6n")
            .count();
        if asked > 0 {
            for _ in 0..asked {
                self.writer.write_all(b"\x1b[1;1R")?;
            }
            self.writer.flush()?;
        }
        Ok(())
    }

    /// Keep the terminal drained for `d`, as a terminal emulator would; the bytes it wrote.
    fn run_for(&mut self, d: Duration) -> usize {
        let until = Instant::now() + d;
        let mut bytes = 0;
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            match self.output.recv_timeout(left) {
                Ok(chunk) => bytes += chunk.len(),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        bytes
    }

    fn pid(&self) -> Result<u32, Error> {
        self.child
            .process_id()
            .ok_or_else(|| "the console has no process id".into())
    }

    fn kill(mut self) -> Result<(), Error> {
        // It may have ended by itself already; either way, reap it.
        let _ = self.child.kill();
        self.child.wait()?;
        drop(self.writer);
        drop(self.master);
        // The child is gone and its end of the terminal closed: the reader stops.
        let _ = self.reader.join();
        Ok(())
    }
}

fn pump(mut reader: Box<dyn Read + Send>, tx: mpsc::Sender<Vec<u8>>) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if tx.send(buf[..n].to_vec()).is_err() {
                    return;
                }
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// User and system CPU time of the whole process, every thread included.
fn cpu_time(pid: u32) -> Result<Duration, Error> {
    let (_, user, system) = stat_ticks(&format!("/proc/{pid}/stat"))?;
    Ok(Duration::from_secs_f64(
        (user + system) as f64 / clock_ticks_per_second(),
    ))
}

/// Context switches of every thread of the process: how often it woke.
fn wakeups(pid: u32) -> Result<u64, Error> {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let status = std::fs::read_to_string(task?.path().join("status"))?;
        total += status
            .lines()
            .filter_map(|l| {
                let v = l
                    .strip_prefix("voluntary_ctxt_switches:")
                    .or_else(|| l.strip_prefix("nonvoluntary_ctxt_switches:"))?;
                v.trim().parse::<u64>().ok()
            })
            .sum::<u64>();
    }
    Ok(total)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Median and the spread (min–max) of `xs`, which must not be empty.
fn median_spread(xs: &mut [f64]) -> (f64, f64, f64) {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    let median = (xs[(n - 1) / 2] + xs[n / 2]) / 2.0;
    (median, xs[0], xs[n - 1])
}

/// The first frame has the panel titles; nothing before it prints this.
const MARKER: &[u8] = b"Canary";
/// The help's header row: on screen once `?` has been drawn.
const HELP: &[u8] = b"what it does";
/// A first frame or a key's frame later than this is a failure, not a measurement.
const TIMEOUT: Duration = Duration::from_secs(20);
const STARTS: usize = 10;
const RSS_RUN: Duration = Duration::from_secs(3);
/// A terminal wide and tall enough for every panel at once.
const SIZE: (u16, u16) = (120, 40);

fn env_number(name: &str, default: u64) -> Result<u64, Error> {
    match std::env::var(name) {
        Ok(v) => Ok(v.parse().map_err(|e| format!("{name}={v}: {e}"))?),
        Err(_) => Ok(default),
    }
}

/// One binary's figures.
#[derive(Default)]
struct Figures {
    first_frame_ms: Vec<f64>,
    rss_mib: f64,
    idle_cpu_percent: f64,
    wakeups_per_s: f64,
    bytes_per_s: f64,
    key_ms: Vec<f64>,
}

fn first_frame(binary: &Path) -> Result<f64, Error> {
    let mut c = Console::spawn(binary, &["--demo"], SIZE)?;
    let first = c.wait_for(MARKER, TIMEOUT);
    c.kill()?;
    Ok(ms(first?))
}

fn peak_rss(binary: &Path) -> Result<f64, Error> {
    let mut c = Console::spawn(binary, &["--demo"], SIZE)?;
    let first = c.wait_for(MARKER, TIMEOUT);
    if first.is_ok() {
        c.run_for(RSS_RUN.saturating_sub(c.started.elapsed()));
    }
    let hwm = first.and_then(|_| status_kib(c.pid()?, "VmHWM"));
    c.kill()?;
    Ok(hwm? as f64 / 1024.0)
}

/// The demo left alone for `window` after its first frame and a settling second, then `keys`
/// presses of `?` (and `?` again to close the help, unmeasured).
fn idle_and_keys(binary: &Path, window: Duration, keys: u64, f: &mut Figures) -> Result<(), Error> {
    let mut c = Console::spawn(binary, &["--demo"], SIZE)?;
    let run = (|| -> Result<(), Error> {
        c.wait_for(MARKER, TIMEOUT)?;
        c.run_for(Duration::from_secs(1));
        let pid = c.pid()?;
        let (cpu0, woke0, t0) = (cpu_time(pid)?, wakeups(pid)?, Instant::now());
        let bytes = c.run_for(window);
        let (cpu1, woke1, t1) = (cpu_time(pid)?, wakeups(pid)?, Instant::now());
        let secs = (t1 - t0).as_secs_f64();
        f.idle_cpu_percent = (cpu1 - cpu0).as_secs_f64() / secs * 100.0;
        f.wakeups_per_s = (woke1 - woke0) as f64 / secs;
        f.bytes_per_s = bytes as f64 / secs;
        for _ in 0..keys {
            let mark = c.mark();
            let pressed = c.press(b"?")?;
            let drawn = c.wait_after(mark, HELP, Instant::now() + TIMEOUT)?;
            f.key_ms.push(ms(drawn - pressed));
            c.press(b"?")?;
            c.run_for(Duration::from_millis(300));
        }
        Ok(())
    })();
    c.kill()?;
    run
}

fn print(name: &str, f: &mut Figures) {
    let (first, first_min, first_max) = median_spread(&mut f.first_frame_ms);
    let (key, key_min, key_max) = median_spread(&mut f.key_ms);
    println!("{name}:");
    println!(
        "  first frame      median {first:6.1} ms  (min {first_min:.1}, max {first_max:.1}, n={})",
        f.first_frame_ms.len()
    );
    println!("  peak RSS (3 s)   {:6.1} MiB", f.rss_mib);
    println!(
        "  idle CPU         {:6.3} % of a core  ({:.1} wake-ups/s, {:.0} bytes/s to the terminal)",
        f.idle_cpu_percent, f.wakeups_per_s, f.bytes_per_s
    );
    println!(
        "  key to frame     median {key:6.1} ms  (min {key_min:.1}, max {key_max:.1}, n={})",
        f.key_ms.len()
    );
}

fn main() -> Result<(), Error> {
    let Some(current) = proc_support::release_binary("console") else {
        return Ok(());
    };
    let mut binaries = vec![("this build", current)];
    if let Some(base) = baseline_binary()? {
        binaries.push(("baseline", base));
    }
    let window = Duration::from_secs(env_number("CONSOLE_IDLE_SECS", 60)?);
    let keys = env_number("CONSOLE_KEYS", 20)?;
    let mut figures: Vec<Figures> = binaries.iter().map(|_| Figures::default()).collect();
    for _ in 0..STARTS {
        for ((_, b), f) in binaries.iter().zip(&mut figures) {
            f.first_frame_ms.push(first_frame(b)?);
        }
    }
    for ((_, b), f) in binaries.iter().zip(&mut figures) {
        f.rss_mib = peak_rss(b)?;
    }
    for ((_, b), f) in binaries.iter().zip(&mut figures) {
        idle_and_keys(b, window, keys.max(1), f)?;
    }
    for ((name, b), f) in binaries.iter().zip(&mut figures) {
        print(&format!("{name} ({})", b.display()), f);
    }
    Ok(())
}
