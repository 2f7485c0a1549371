//! Progress through the plan's phases: pending → in progress → validated | failed → rolled back.
//! A phase starts only after its predecessor is validated, unless forced.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseStatus {
    Pending,
    InProgress,
    Validated,
    Failed,
    RolledBack,
}

impl PhaseStatus {
    pub fn label(self) -> &'static str {
        match self {
            PhaseStatus::Pending => "pending",
            PhaseStatus::InProgress => "in progress",
            PhaseStatus::Validated => "validated",
            PhaseStatus::Failed => "failed",
            PhaseStatus::RolledBack => "rolled back",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseState {
    pub status: PhaseStatus,
    pub since: Option<DateTime<Utc>>,
    /// The last validation: when, and what it said.
    pub validated: Option<(DateTime<Utc>, String)>,
}

impl PhaseState {
    pub fn pending() -> Self {
        Self {
            status: PhaseStatus::Pending,
            since: None,
            validated: None,
        }
    }
}

/// Whether phase `i` may start without force: the one before it is validated.
pub fn may_start(states: &[PhaseState], i: usize) -> Result<(), String> {
    match i.checked_sub(1).and_then(|p| states.get(p)) {
        Some(prev) if prev.status != PhaseStatus::Validated => Err(format!(
            "phase {} is {}; validate it first or force the start",
            i - 1,
            prev.status.label()
        )),
        _ => Ok(()),
    }
}

/// The phase the team is on: the first that is not validated.
pub fn current(states: &[PhaseState]) -> Option<usize> {
    states
        .iter()
        .position(|s| s.status != PhaseStatus::Validated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phase_waits_for_its_predecessor() {
        let mut states = vec![PhaseState::pending(); 3];
        assert!(may_start(&states, 0).is_ok());
        assert!(
            may_start(&states, 1)
                .unwrap_err()
                .contains("phase 0 is pending")
        );
        states[0].status = PhaseStatus::Validated;
        assert!(may_start(&states, 1).is_ok());
        assert_eq!(current(&states), Some(1));
    }
}
