//! The real binary run as CI runs a subcommand: no terminal, a state dir of its own.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `captain <args>` with `state` as its state dir and working directory.
pub fn captain(state: &Path, args: &[&str]) -> Output {
    captain_with(state, args, &[])
}

/// As [`captain`], with `env` set too.
pub fn captain_with(state: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_captain"))
        .args(args)
        .env("CAPTAIN_STATE_DIR", state)
        .env_remove("CAPTAIN_CONFIG")
        .envs(env.iter().copied())
        .current_dir(state)
        .stdin(Stdio::null())
        .output()
        .expect("the captain binary runs")
}

/// Everything the run printed, for an assertion's message.
pub fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
