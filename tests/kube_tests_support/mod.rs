//! Running the real binary against the test API server of `captain_testkit`, and waiting
//! on a feed with a deadline: these need captain's binary and types, so they stay with
//! captain's tests.
#![allow(dead_code)] // each test binary uses its own part

use std::path::Path;
use std::time::Duration;

use captain::sources::{Feed, Reading};

/// Wait until the feed's reading satisfies `test`, or panic after `within` saying `what`
/// was awaited and what the feed held.
pub async fn until<T: std::fmt::Debug + Clone>(
    feed: &mut Feed<T>,
    within: Duration,
    what: &str,
    test: impl Fn(&Reading<T>) -> bool,
) -> Reading<T> {
    let waited = tokio::time::timeout(within, async {
        feed.wait_for(|r| test(r)).await.map(|r| r.clone())
    })
    .await;
    match waited {
        Ok(Ok(reading)) => reading,
        Ok(Err(_)) => panic!("the feed closed while waiting for {what}"),
        Err(_) => panic!(
            "no {what} within {within:?}; the feed holds {:?}",
            feed.borrow()
        ),
    }
}

/// The real binary against the API server of `kubeconfig`, as an operator runs it: a
/// captain.toml for release `summit` in `prod` (GitHub and Prometheus at a closed port,
/// the repository's slo.yml), `extra` appended to it, and `dir` as the state dir and first
/// on PATH (for a fake helm). Without a GitHub token, `dir` is the whole PATH (no `gh`).
pub async fn captain_against(
    kubeconfig: &Path,
    dir: &Path,
    args: &[&str],
    github_token: Option<&str>,
) -> std::process::Output {
    let mut cmd = captain_command(kubeconfig, dir, "", args, github_token);
    tokio::task::spawn_blocking(move || cmd.output().expect("the captain binary runs"))
        .await
        .unwrap()
}

/// The command [`captain_against`] runs, with `extra` appended to the captain.toml.
pub fn captain_command(
    kubeconfig: &Path,
    dir: &Path,
    extra: &str,
    args: &[&str],
    github_token: Option<&str>,
) -> std::process::Command {
    captain_command_with_github(
        kubeconfig,
        dir,
        "http://127.0.0.1:9",
        extra,
        args,
        github_token,
    )
}

/// As [`captain_command`], with GitHub's API at `github` (the default repository, `acme/summit`).
pub fn captain_command_with_github(
    kubeconfig: &Path,
    dir: &Path,
    github: &str,
    extra: &str,
    args: &[&str],
    github_token: Option<&str>,
) -> std::process::Command {
    std::fs::write(
        dir.join("captain.toml"),
        format!("[release]\nname = \"summit\"\nnamespace = \"prod\"\n[github]\napi_url = \"{github}\"\n[prometheus]\nurl = \"http://127.0.0.1:9\"\n[slo]\nfile = \"slo.yml\"\n{extra}"),
    )
    .unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/config/slo.yml"),
        dir.join("slo.yml"),
    )
    .unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_captain"));
    cmd.arg("--config")
        .arg(dir.join("captain.toml"))
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("CAPTAIN_STATE_DIR", dir)
        // A fake helm in `dir` (when a test put one there) comes first.
        .env(
            "PATH",
            format!(
                "{}:{}",
                dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .stdin(std::process::Stdio::null());
    match github_token {
        Some(t) => cmd.env("GITHUB_TOKEN", t),
        // No token, and no `gh` to ask: `dir` is the whole PATH.
        None => cmd.env_remove("GITHUB_TOKEN").env("PATH", dir),
    };
    cmd
}
