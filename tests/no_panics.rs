//! Nothing from outside the process makes captain panic: every subcommand's output piped
//! into a reader that has gone (`| true`) or that stops after one line (`| head -1`), the
//! console without a terminal, and `--speed` out of its range.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use clap::CommandFactory;

/// Every subcommand, with what it needs to run on the demo world without asking.
fn every_subcommand(out: &Path) -> Vec<Vec<String>> {
    let out = out.display().to_string();
    let yes = ["--yes", "--reason", "pipe test"];
    let mut all: Vec<Vec<&str>> = vec![
        vec!["canary", "status"],
        vec!["canary", "run"],
        vec!["previews", "list"],
        vec!["previews", "clean"],
        vec!["main", "status"],
        vec!["main", "sentinel", "--dry-run"],
        vec!["slo", "check"],
        vec!["slo", "rules"],
        vec!["slo", "dashboard"],
        vec!["slo", "burn-drill", "--wait", "1s"],
        vec!["plan", "show"],
        vec!["plan", "validate"],
        vec!["evidence", "export", "--out", &out],
        vec!["audit", "show"],
        vec!["audit", "verify"],
        vec!["init"],
        vec!["info"],
        vec!["completions", "bash"],
        vec!["man"],
    ];
    for action in ["promote", "pause", "resume", "rollback", "abort"] {
        all.push(["canary", action].into_iter().chain(yes).collect());
    }
    all.push(["previews", "clean"].into_iter().chain(yes).collect());
    all.into_iter()
        .map(|a| a.into_iter().map(String::from).collect())
        .collect()
}

/// The leaf subcommands clap knows, as `["canary", "run"]`.
fn leaves(cmd: &clap::Command, path: Vec<String>, into: &mut Vec<Vec<String>>) {
    let subs: Vec<_> = cmd
        .get_subcommands()
        .filter(|c| c.get_name() != "help")
        .collect();
    if subs.is_empty() {
        into.push(path);
        return;
    }
    for sub in subs {
        let mut p = path.clone();
        p.push(sub.get_name().to_string());
        leaves(sub, p, into);
    }
}

/// Subcommands that run until stopped: each has a test of its own below.
const LONG_RUNNING: &[&str] = &["drive"];

#[test]
fn the_list_below_covers_every_subcommand() {
    let mut known = Vec::new();
    leaves(&captain::cli::Cli::command(), Vec::new(), &mut known);
    let listed = every_subcommand(Path::new("x"));
    for leaf in known {
        assert!(
            listed.iter().any(|args| args.starts_with(&leaf))
                || (leaf.len() == 1 && LONG_RUNNING.contains(&leaf[0].as_str())),
            "{leaf:?} is not run by these tests"
        );
    }
}

#[test]
fn drive_with_its_output_closed_runs_until_sigterm_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let child = start(dir.path(), &["drive".into()], writer);
    std::thread::sleep(std::time::Duration::from_secs(2));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_no_panic("drive | true", &o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn start(state: &Path, args: &[String], stdout: impl Into<Stdio>) -> Child {
    Command::new(env!("CARGO_BIN_EXE_captain"))
        .args(["--demo", "--speed", "10000"])
        .args(args)
        .env("CAPTAIN_STATE_DIR", state)
        .env_remove("CAPTAIN_CONFIG")
        .current_dir(state)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("the captain binary runs")
}

fn assert_no_panic(what: &str, o: &Output) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_ne!(o.status.code(), Some(101), "{what}: {err}");
    assert!(
        o.status.code().is_some(),
        "{what}: killed by {:?}",
        o.status
    );
    assert!(!err.contains("panicked"), "{what}: {err}");
    assert!(!err.contains("Broken pipe"), "{what}: {err}");
}

#[test]
fn every_subcommand_into_a_closed_pipe_ends_without_a_panic() {
    for args in every_subcommand(Path::new("evidence")) {
        let dir = tempfile::tempdir().unwrap();
        // `| true`: the reader is gone before the first line is written.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let o = start(dir.path(), &args, writer).wait_with_output().unwrap();
        assert_no_panic(&format!("{args:?} | true"), &o);
    }
}

#[test]
fn every_subcommand_into_head_1_ends_without_a_panic() {
    for args in every_subcommand(Path::new("evidence")) {
        let dir = tempfile::tempdir().unwrap();
        let (reader, writer) = std::io::pipe().unwrap();
        let child = start(dir.path(), &args, writer);
        // `| head -1`: one line read, then the pipe closed.
        let mut first = String::new();
        BufReader::new(reader).read_line(&mut first).unwrap();
        let o = child.wait_with_output().unwrap();
        assert_no_panic(&format!("{args:?} | head -1"), &o);
    }
}

#[test]
fn a_verdict_into_a_closed_pipe_keeps_its_status() {
    let dir = tempfile::tempdir().unwrap();
    let verify = |dir: &Path| -> Output {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        start(dir, &["audit".into(), "verify".into()], writer)
            .wait_with_output()
            .unwrap()
    };
    let o = verify(dir.path());
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A verdict is not turned into a success by a reader that left: a broken chain still
    // exits 1.
    let journal = dir.path().join("demo-audit.jsonl");
    let o = start(
        dir.path(),
        &[
            "previews".into(),
            "clean".into(),
            "--yes".into(),
            "--reason".into(),
            "x".into(),
        ],
        Stdio::null(),
    )
    .wait_with_output()
    .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(text.contains("\"x\""), "{text}");
    std::fs::write(&journal, text.replacen("\"x\"", "\"y\"", 1)).unwrap();
    let o = verify(dir.path());
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn the_console_without_a_terminal_says_so_and_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_captain"))
        .arg("--demo")
        .env("CAPTAIN_STATE_DIR", dir.path())
        .env_remove("CAPTAIN_CONFIG")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_no_panic("the console", &o);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("needs a terminal"), "{err}");
}
