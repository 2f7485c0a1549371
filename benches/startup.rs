//! From process start to the first frame, for the real release binary in a pseudo-terminal,
//! and the demo's peak memory after a few seconds.
//!
//! `cargo build --release && cargo bench --bench startup`
//!
//! The binary is not built here: when `target/release/captain` is missing this says so and
//! exits successfully.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

const RUNS: usize = 10;
/// The first frame has the panel titles; nothing before it prints this.
const MARKER: &[u8] = b"Canary";
/// A first frame later than this is a failure, not a measurement.
const TIMEOUT: Duration = Duration::from_secs(20);
const RSS_RUN: Duration = Duration::from_secs(3);
/// A terminal wide and tall enough for every panel at once.
const SIZE: PtySize = PtySize {
    rows: 40,
    cols: 120,
    pixel_width: 0,
    pixel_height: 0,
};

type Error = Box<dyn std::error::Error>;

/// A `captain --demo` running in its own pseudo-terminal, its output read on a thread.
struct Demo {
    child: Box<dyn Child + Send + Sync>,
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    output: Receiver<Vec<u8>>,
    reader: JoinHandle<()>,
    started: Instant,
    seen: Vec<u8>,
    _state: tempfile::TempDir,
}

impl Demo {
    fn spawn(binary: &Path) -> Result<Self, Error> {
        let state = tempfile::tempdir()?;
        let pair = native_pty_system()
            .openpty(SIZE)
            .map_err(|e| format!("opening a pseudo-terminal: {e}"))?;
        let mut cmd = CommandBuilder::new(binary);
        cmd.arg("--demo");
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
        Ok(Demo {
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

    /// Read until the output contains `needle`; the time since spawning when it did.
    fn wait_for(&mut self, needle: &[u8], timeout: Duration) -> Result<Duration, Error> {
        loop {
            let left = timeout.saturating_sub(self.started.elapsed());
            let chunk = match self.output.recv_timeout(left) {
                Ok(chunk) => chunk,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "no first frame within {timeout:?}; the terminal showed: {}",
                        String::from_utf8_lossy(&self.seen)
                    )
                    .into());
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.try_wait().ok().flatten();
                    return Err(format!(
                        "captain ended before its first frame ({status:?}); it wrote: {}",
                        String::from_utf8_lossy(&self.seen)
                    )
                    .into());
                }
            };
            let old = self.seen.len();
            self.seen.extend_from_slice(&chunk);
            self.answer_queries(old)?;
            if contains(&self.seen[old.saturating_sub(needle.len() - 1)..], needle) {
                return Ok(self.started.elapsed());
            }
        }
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

    /// Keep the terminal drained for `d`, as a terminal emulator would.
    fn run_for(&mut self, d: Duration) {
        let until = Instant::now() + d;
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            match self.output.recv_timeout(left) {
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
    }

    fn pid(&self) -> Option<u32> {
        self.child.process_id()
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

/// Kilobytes from a `/proc/<pid>/status` line such as `VmHWM:   12345 kB`.
fn status_kib(pid: u32, field: &str) -> Result<u64, Error> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no {field} in /proc/{pid}/status").into())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() -> Result<(), Error> {
    let binary: PathBuf = [env!("CARGO_MANIFEST_DIR"), "target", "release", "captain"]
        .iter()
        .collect();
    if !binary.is_file() {
        println!(
            "startup: {} is missing; build it first with `cargo build --release`, then run \
             `cargo bench --bench startup` again",
            binary.display()
        );
        return Ok(());
    }

    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let mut demo = Demo::spawn(&binary)?;
        let first = demo.wait_for(MARKER, TIMEOUT);
        demo.kill()?;
        times.push(first?);
    }
    times.sort();
    let median = (times[(RUNS - 1) / 2] + times[RUNS / 2]) / 2;
    let max = times[RUNS - 1];
    println!(
        "first frame: median {:.1} ms, max {:.1} ms (n={RUNS})",
        ms(median),
        ms(max)
    );

    let mut demo = Demo::spawn(&binary)?;
    let first = demo.wait_for(MARKER, TIMEOUT);
    if first.is_ok() {
        demo.run_for(RSS_RUN.saturating_sub(demo.started.elapsed()));
    }
    let hwm = match (first, demo.pid()) {
        (Ok(_), Some(pid)) => status_kib(pid, "VmHWM"),
        (Ok(_), None) => Err("the demo has no process id".into()),
        (Err(e), _) => Err(e),
    };
    demo.kill()?;
    println!(
        "peak RSS after 3 s of the demo: {:.1} MiB",
        hwm? as f64 / 1024.0
    );
    Ok(())
}
