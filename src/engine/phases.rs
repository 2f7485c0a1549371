//! Progress through the plan's phases: pending → in progress → validated | failed → rolled
//! back. A phase starts only after its predecessor is validated, unless forced; it is
//! validated when every check has passed (a manual check: confirmed by a person).

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

/// What a probe said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeStatus {
    Pass,
    Fail,
    /// A person has to confirm it.
    Manual,
    /// The source it needs is not configured or not built: never a pass.
    Unavailable,
}

impl ProbeStatus {
    pub fn label(self) -> &'static str {
        match self {
            ProbeStatus::Pass => "pass",
            ProbeStatus::Fail => "FAIL",
            ProbeStatus::Manual => "manual",
            ProbeStatus::Unavailable => "unavailable",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeResult {
    pub status: ProbeStatus,
    /// What was found: the output, the value, the record.
    pub evidence: String,
    pub at: DateTime<Utc>,
}

/// A person's word for a manual check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    pub by: String,
    pub at: DateTime<Utc>,
}

/// The last result of one check, and for a manual check who confirmed it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CheckRecord {
    pub result: Option<ProbeResult>,
    pub confirmed: Option<Confirmation>,
}

impl CheckRecord {
    pub fn passed(&self) -> bool {
        match &self.result {
            Some(r) if r.status == ProbeStatus::Pass => true,
            Some(r) if r.status == ProbeStatus::Manual => self.confirmed.is_some(),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseState {
    pub status: PhaseStatus,
    pub since: Option<DateTime<Utc>>,
    pub checks: Vec<CheckRecord>,
}

impl PhaseState {
    pub fn pending(checks: usize) -> Self {
        Self {
            status: PhaseStatus::Pending,
            since: None,
            checks: vec![CheckRecord::default(); checks],
        }
    }

    /// When the phase was last validated or failed: its newest check result.
    pub fn last_validation(&self) -> Option<DateTime<Utc>> {
        self.checks
            .iter()
            .filter_map(|c| c.result.as_ref().map(|r| r.at))
            .max()
    }

    fn set(&mut self, status: PhaseStatus, now: DateTime<Utc>) {
        if self.status != status {
            self.status = status;
            self.since = Some(now);
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

fn phase(states: &mut [PhaseState], i: usize) -> Result<&mut PhaseState, String> {
    let n = states.len();
    states
        .get_mut(i)
        .ok_or_else(|| format!("no phase {i}: the plan has {n}"))
}

/// Start phase `i`; `force` starts it before its predecessor is validated.
pub fn start(
    states: &mut [PhaseState],
    i: usize,
    force: bool,
    now: DateTime<Utc>,
) -> Result<(), String> {
    if !force {
        may_start(states, i)?;
    }
    let p = phase(states, i)?;
    match p.status {
        PhaseStatus::Pending | PhaseStatus::RolledBack | PhaseStatus::Failed => {
            p.set(PhaseStatus::InProgress, now);
            Ok(())
        }
        s => Err(format!("phase {i} is already {}", s.label())),
    }
}

/// Take a validation run's results: validated when every check passes, failed when any
/// probe failed, still in progress while a check waits for a person or a source.
pub fn record(
    states: &mut [PhaseState],
    i: usize,
    results: Vec<ProbeResult>,
    now: DateTime<Utc>,
) -> Result<PhaseStatus, String> {
    let p = phase(states, i)?;
    if matches!(p.status, PhaseStatus::Pending | PhaseStatus::RolledBack) {
        return Err(format!("phase {i} is {}; start it first", p.status.label()));
    }
    if results.len() != p.checks.len() {
        return Err(format!(
            "phase {i} has {} checks, {} results",
            p.checks.len(),
            results.len()
        ));
    }
    for (c, r) in p.checks.iter_mut().zip(results) {
        c.result = Some(r);
    }
    settle(p, now);
    Ok(p.status)
}

/// A person confirms every manual check of phase `i`.
pub fn confirm_manual(
    states: &mut [PhaseState],
    i: usize,
    by: &str,
    now: DateTime<Utc>,
) -> Result<usize, String> {
    let p = phase(states, i)?;
    if p.status == PhaseStatus::Pending {
        return Err(format!("phase {i} is pending; start it first"));
    }
    let mut n = 0;
    for c in &mut p.checks {
        if c.result
            .as_ref()
            .is_some_and(|r| r.status == ProbeStatus::Manual)
            && c.confirmed.is_none()
        {
            c.confirmed = Some(Confirmation {
                by: by.to_string(),
                at: now,
            });
            n += 1;
        }
    }
    settle(p, now);
    Ok(n)
}

/// Phase `i`'s rollback was carried out.
pub fn roll_back(states: &mut [PhaseState], i: usize, now: DateTime<Utc>) -> Result<(), String> {
    let p = phase(states, i)?;
    if p.status == PhaseStatus::Pending {
        return Err(format!("phase {i} is pending: nothing to roll back"));
    }
    p.set(PhaseStatus::RolledBack, now);
    Ok(())
}

fn settle(p: &mut PhaseState, now: DateTime<Utc>) {
    let failed = p.checks.iter().any(|c| {
        c.result
            .as_ref()
            .is_some_and(|r| r.status == ProbeStatus::Fail)
    });
    if failed {
        p.set(PhaseStatus::Failed, now);
    } else if p.checks.iter().all(CheckRecord::passed) {
        p.set(PhaseStatus::Validated, now);
    } else {
        p.set(PhaseStatus::InProgress, now);
    }
}

#[cfg(test)]
mod tests;
