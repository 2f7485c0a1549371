//! Where captain reads and writes: the config file, the state directory, themes.

use std::path::{Path, PathBuf};

/// `--config`, then `$CAPTAIN_CONFIG`, then `./captain.toml`, then the XDG config dir.
/// `None` when there is no file anywhere: the defaults apply.
pub fn find_config(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("CAPTAIN_CONFIG").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let local = PathBuf::from("captain.toml");
    if local.is_file() {
        return Some(local);
    }
    let xdg = dirs::config_dir()?.join("captain").join("captain.toml");
    xdg.is_file().then_some(xdg)
}

/// `$CAPTAIN_STATE_DIR`, else the XDG state dir's `captain/` (falling back to the data dir
/// where the platform has no state dir).
pub fn state_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("CAPTAIN_STATE_DIR").filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .unwrap_or_else(std::env::temp_dir)
        .join("captain")
}

/// This machine's name, as the lease, the shared documents and the journal's head in the
/// cluster name it.
pub fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// The audit journal: the demo world keeps its own so a drill never mixes with real records.
pub fn audit_file(demo: bool) -> PathBuf {
    state_dir().join(if demo {
        "demo-audit.jsonl"
    } else {
        "audit.jsonl"
    })
}

/// The plan's progress, when it is not the demo's.
pub fn plan_state_file() -> PathBuf {
    state_dir().join("plan-state.json")
}

pub fn log_file() -> PathBuf {
    state_dir().join("captain.log")
}

/// User themes: `<config dir>/captain/themes/<name>.toml`.
pub fn user_theme_dir() -> Option<PathBuf> {
    Some(dirs::config_dir()?.join("captain").join("themes"))
}
