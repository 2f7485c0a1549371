//! What the console says as an incident unfolds, apart from what it draws: the status
//! line's word on a breach, main going red or green in the log, and which log records a
//! filter keeps. Pure functions of what `App` holds; `App::apply` calls them.

use crate::engine::main_health::MainHealth;
use crate::engine::train::Train;

/// What the status line says when a breach starts, goes on or ends.
pub fn breach_status(t: &Train) -> (String, bool) {
    if t.failures == 0 {
        return (
            format!("breach over: {}'s measurements pass again", t.release),
            false,
        );
    }
    let what = match t.policy.on_fail {
        crate::config::slo::OnFail::Rollback => "rollback",
        crate::config::slo::OnFail::Pause => "pause",
    };
    let left = t.policy.failure_limit.saturating_sub(t.failures).max(1);
    let why = t
        .last
        .as_ref()
        .map_or(String::new(), |a| format!(": {}", a.reason));
    (
        format!(
            "BREACH {}/{} failed{why} · {what} after {left} more",
            t.failures, t.policy.failure_limit
        ),
        true,
    )
}

pub fn log_matches(r: &crate::tui::logging::Record, filter: &str) -> bool {
    filter.is_empty() || r.text.to_lowercase().contains(filter)
}

/// Main going red, pending or green, logged once per change, with the checks that fail.
pub fn log_main_change(was: Option<&MainHealth>, now: &MainHealth) {
    use crate::engine::main_health::{CheckState, Overall};
    let kind = |o: &Overall| match o {
        Overall::Red { .. } => 0,
        Overall::Pending => 1,
        Overall::Green => 2,
    };
    let overall = now.overall();
    if was.is_some_and(|w| kind(&w.overall()) == kind(&overall)) {
        return;
    }
    let short = &now.head.sha[..now.head.sha.len().min(7)];
    match overall {
        Overall::Red { .. } => {
            let failing: Vec<&str> = now
                .checks
                .iter()
                .filter(|c| matches!(c.state, CheckState::Failure | CheckState::Missing))
                .map(|c| c.name.as_str())
                .collect();
            log::error!("main is RED at {short}: {} failing", failing.join(", "));
        }
        Overall::Pending => log::info!("main is pending at {short}"),
        Overall::Green => log::info!("main is green at {short}"),
    }
}
