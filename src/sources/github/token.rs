//! Finding the GitHub token: `$GITHUB_TOKEN`, else what `gh auth token` prints. `gh` is run
//! with an argument list, never through a shell, with no stdin; its output and errors are
//! never logged (they may hold the token).
//!
//! Blocking (it waits for `gh`): call it before the runtime starts or on a blocking thread.

use std::ffi::OsStr;
use std::process::{Command, Stdio};

/// The token for github.com: `$GITHUB_TOKEN` if set and not empty, else `gh auth token`.
pub fn token_from_env_or_gh() -> Option<String> {
    resolve_token(std::env::var("GITHUB_TOKEN").ok(), OsStr::new("gh"), None)
}

/// The token for the GitHub whose API is at `api_url`: `$GITHUB_TOKEN`, else
/// `gh auth token --hostname <host>` for a GitHub Enterprise host.
pub fn token_for(api_url: &str) -> Option<String> {
    resolve_token(
        std::env::var("GITHUB_TOKEN").ok(),
        OsStr::new("gh"),
        gh_hostname(api_url).as_deref(),
    )
}

/// `env` if it holds a token, else what `gh` (the program to run) prints for `hostname`.
pub fn resolve_token(env: Option<String>, gh: &OsStr, hostname: Option<&str>) -> Option<String> {
    if let Some(token) = env.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) {
        return Some(token);
    }
    let mut command = Command::new(gh);
    command.args(["auth", "token"]);
    if let Some(host) = hostname {
        command.args(["--hostname", host]);
    }
    let output = command
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| log::debug!("GitHub: `gh auth token` could not run: {}", e.kind()))
        .ok()?;
    if !output.status.success() {
        log::debug!("GitHub: `gh auth token` failed ({})", output.status);
        return None;
    }
    let token = String::from_utf8(output.stdout).ok()?.trim().to_string();
    (!token.is_empty()).then_some(token)
}

/// The host `gh` knows a GitHub Enterprise by, from its API URL; `None` for github.com.
pub fn gh_hostname(api_url: &str) -> Option<String> {
    let rest = api_url.trim().split_once("://").map_or(api_url, |(_, r)| r);
    let authority = rest.split('/').next()?;
    let host = authority.rsplit('@').next()?;
    match host {
        "" | "api.github.com" | "github.com" => None,
        h => Some(h.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_wins_and_blank_does_not_count() {
        let missing = OsStr::new("/nonexistent/gh");
        assert_eq!(
            resolve_token(Some(" ghp_x \n".into()), missing, None).as_deref(),
            Some("ghp_x")
        );
        assert_eq!(resolve_token(Some("  ".into()), missing, None), None);
    }

    #[test]
    fn enterprise_hosts_are_named_for_gh() {
        assert_eq!(gh_hostname("https://api.github.com"), None);
        assert_eq!(
            gh_hostname("https://ghe.acme.internal/api/v3").as_deref(),
            Some("ghe.acme.internal")
        );
    }
}
