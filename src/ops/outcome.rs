//! What became of an action: journalled as its outcome, shown in the log pane, printed by a
//! subcommand.

use serde::{Deserialize, Serialize};

/// What became of an action, as the log pane and a subcommand report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub action: String,
    pub target: String,
    pub ok: bool,
    pub message: String,
    pub trace_id: Option<String>,
    /// Captain acted by itself, on an SLO verdict.
    pub automatic: bool,
}

impl Outcome {
    pub(crate) fn refused(
        action: super::action::ActionKind,
        target: &str,
        message: String,
    ) -> Self {
        log::warn!("{action} {target} refused: {message}");
        Outcome {
            action: action.name().into(),
            target: target.into(),
            ok: false,
            message,
            trace_id: None,
            automatic: false,
        }
    }
}
