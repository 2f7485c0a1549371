//! What `/proc` says of a process, for the benches that run the real binary, and the
//! median and spread of their figures.

use std::path::PathBuf;

pub type Error = Box<dyn std::error::Error>;

/// `target/release/captain`, or `None` after saying how to build it: a bench runs the
/// binary, it does not build it.
pub fn release_binary(bench: &str) -> Option<PathBuf> {
    let binary: PathBuf = [env!("CARGO_MANIFEST_DIR"), "target", "release", "captain"]
        .iter()
        .collect();
    if binary.is_file() {
        return Some(binary);
    }
    println!(
        "{bench}: {} is missing; build it first with `cargo build --release`, then run \
         `cargo bench --bench {bench}` again",
        binary.display()
    );
    None
}

/// (comm, utime, stime) in clock ticks from a `/proc/.../stat` file.
pub fn stat_ticks(path: &str) -> Result<(String, u64, u64), Error> {
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

/// Kilobytes from a `/proc/<pid>/status` line such as `VmHWM:   12345 kB`.
pub fn status_kib(pid: u32, field: &str) -> Result<u64, Error> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no {field} in /proc/{pid}/status").into())
}

pub fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Median, lowest and highest.
#[derive(Debug, Clone, Copy)]
pub struct Spread {
    pub median: f64,
    pub low: f64,
    pub high: f64,
}

pub fn spread(mut v: Vec<f64>) -> Spread {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Spread {
        median: (v[(n - 1) / 2] + v[n / 2]) / 2.0,
        low: v[0],
        high: v[n - 1],
    }
}

impl std::fmt::Display for Spread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = f.precision().unwrap_or(2);
        write!(
            f,
            "{:.p$} ({:.p$}–{:.p$})",
            self.median, self.low, self.high
        )
    }
}
