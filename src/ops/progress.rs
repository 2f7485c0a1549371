//! Progress through the plan: the phases' states, changed only through here, and kept in a
//! state file (when there is one) so it survives restarts and a second console sees it.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::command::{Command, PhaseCommand, Proposal};
use crate::config::plan::Plan;
use crate::engine::phases::{self, PhaseState, PhaseStatus, ProbeResult};

/// The state file: the plan's phase count guards against a file from another plan.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    phases: Vec<PhaseState>,
}

/// Every phase of `plan` pending, with room for each check's result.
pub fn pending(plan: &Plan) -> Vec<PhaseState> {
    plan.phases
        .iter()
        .map(|p| PhaseState::pending(p.validation.len()))
        .collect()
}

pub struct Progress {
    plan: Plan,
    states: Vec<PhaseState>,
    store: Option<PathBuf>,
}

impl Progress {
    /// Progress from the state file if it fits the plan, else `initial`.
    pub fn open(
        plan: Plan,
        initial: Vec<PhaseState>,
        store: Option<PathBuf>,
    ) -> Result<Self, String> {
        let states = match store.as_deref().filter(|p| p.exists()) {
            Some(path) => read(path, &plan)?,
            None => initial,
        };
        Ok(Progress {
            plan,
            states,
            store,
        })
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    pub fn states(&self) -> &[PhaseState] {
        &self.states
    }

    pub fn title(&self, phase: usize) -> String {
        self.plan
            .phases
            .get(phase)
            .map_or(format!("phase {phase}"), |p| {
                format!("phase {phase} {}", p.title)
            })
    }

    /// Take phase states another console wrote, if they fit this plan.
    pub fn adopt(&mut self, states: Vec<PhaseState>) -> Result<(), String> {
        let fits = states.len() == self.plan.phases.len()
            && states
                .iter()
                .zip(&self.plan.phases)
                .all(|(s, p)| s.checks.len() == p.validation.len());
        if !fits {
            return Err(format!(
                "recorded for a different plan ({} phases, the plan has {})",
                states.len(),
                self.plan.phases.len()
            ));
        }
        self.states = states;
        self.save()
    }

    /// Whether `cmd` would be accepted now, without changing anything.
    pub fn check(&self, cmd: &PhaseCommand, now: DateTime<Utc>) -> Result<(), String> {
        let mut trial = self.states.clone();
        let phase = cmd.phase();
        match cmd {
            PhaseCommand::Start { force, .. } => phases::start(&mut trial, phase, *force, now),
            PhaseCommand::Confirm { .. } => {
                phases::confirm_manual(&mut trial, phase, "", now).map(|_| ())
            }
            PhaseCommand::RollBack { .. } => phases::roll_back(&mut trial, phase, now),
            PhaseCommand::Validate { .. } => match trial.get(phase).map(|s| s.status) {
                None => Err(format!("no phase {phase}")),
                Some(PhaseStatus::Pending | PhaseStatus::RolledBack) => Err(format!(
                    "{} is not started: start it first",
                    self.title(phase)
                )),
                Some(_) => Ok(()),
            },
        }
    }

    /// Start, confirm or roll back; what happened, in words.
    pub fn apply(
        &mut self,
        cmd: &PhaseCommand,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<String, String> {
        let said = match cmd {
            PhaseCommand::Start { phase, force } => {
                phases::start(&mut self.states, *phase, *force, now)?;
                format!(
                    "{} in progress{}",
                    self.title(*phase),
                    if *force { " (forced)" } else { "" }
                )
            }
            PhaseCommand::Confirm { phase } => {
                let n = phases::confirm_manual(&mut self.states, *phase, by, now)?;
                format!(
                    "{} manual checks of {} confirmed; it is {}",
                    n,
                    self.title(*phase),
                    self.states[*phase].status.label()
                )
            }
            PhaseCommand::RollBack { phase } => {
                phases::roll_back(&mut self.states, *phase, now)?;
                format!("{} rolled back", self.title(*phase))
            }
            PhaseCommand::Validate { phase } => {
                return Err(format!(
                    "{}: validation runs its probes first",
                    self.title(*phase)
                ));
            }
        };
        self.save()?;
        Ok(said)
    }

    /// Take a validation run's results.
    pub fn record(
        &mut self,
        phase: usize,
        results: Vec<ProbeResult>,
        now: DateTime<Utc>,
    ) -> Result<PhaseStatus, String> {
        let status = phases::record(&mut self.states, phase, results, now)?;
        self.save()?;
        Ok(status)
    }

    /// Written whole to a temporary file, then renamed: a crash never leaves half a file.
    fn save(&self) -> Result<(), String> {
        let Some(path) = &self.store else {
            return Ok(());
        };
        let text = serde_json::to_string_pretty(&Stored {
            phases: self.states.clone(),
        })
        .map_err(|e| e.to_string())?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// A phase command in words, for its confirmation dialog and its audit record.
pub fn propose(cmd: &PhaseCommand, plan: &Plan, states: &[PhaseState]) -> Proposal {
    let i = cmd.phase();
    let spec = plan.phases.get(i);
    let title = spec.map_or(format!("phase {i}"), |p| format!("phase {i} {}", p.title));
    let status = states
        .get(i)
        .map_or("unknown", |s| s.status.label())
        .to_string();
    let base = |heading: String, to: &str, effects: Vec<String>| Proposal {
        title: heading,
        action: crate::ops::ActionKind::PhaseStart,
        target: title.clone(),
        from: status.clone(),
        to: to.into(),
        effects,
        reason_required: false,
        typed: None,
    };
    let action = Command::Phase(cmd.clone()).action();
    let p = match cmd {
        PhaseCommand::Start { force: false, .. } => base(
            format!("Start {title}"),
            "in progress",
            vec![format!(
                "Mark {title} in progress (owner {}).",
                spec.map_or("?", |p| p.owner.label())
            )],
        ),
        PhaseCommand::Start { force: true, .. } => {
            let before = i
                .checked_sub(1)
                .and_then(|j| states.get(j))
                .map_or("missing".to_string(), |s| s.status.label().to_string());
            Proposal {
                reason_required: true,
                typed: Some(i.to_string()),
                ..base(
                    format!("Force-start {title}"),
                    "in progress",
                    vec![
                        format!(
                            "Phase {} is {before}: start {title} before it is validated.",
                            i.saturating_sub(1)
                        ),
                        "The force and its reason are written to the audit journal.".into(),
                    ],
                )
            }
        }
        PhaseCommand::Validate { .. } => base(
            format!("Validate {title}"),
            "validated, failed or in progress",
            spec.map(|p| {
                p.validation
                    .iter()
                    .map(|c| format!("Check: {} [{}]", c.check, c.probe))
                    .collect()
            })
            .unwrap_or_default(),
        ),
        PhaseCommand::Confirm { .. } => base(
            format!("Confirm the manual checks of {title}"),
            "validated if every check passed",
            spec.map(|p| {
                p.validation
                    .iter()
                    .filter(|c| c.probe.is_manual())
                    .map(|c| format!("I confirm: {}", c.check))
                    .collect()
            })
            .unwrap_or_default(),
        ),
        PhaseCommand::RollBack { .. } => Proposal {
            reason_required: true,
            ..base(
                format!("Roll back {title}"),
                "rolled back",
                match spec.map(|p| &p.rollback) {
                    Some(r) if !r.actions.is_empty() => {
                        let mut effects = vec![format!("Rollback: {}", r.text)];
                        effects.extend(r.actions.iter().map(|a| format!("Run: {a}.")));
                        effects.push(format!(
                            "Mark {title} rolled back once every action succeeded."
                        ));
                        effects
                    }
                    r => vec![
                        format!("Rollback: {}", r.map_or("", |r| r.text.as_str())),
                        format!("Mark {title} rolled back once that is done."),
                    ],
                },
            )
        },
    };
    Proposal { action, ..p }
}

fn read(path: &Path, plan: &Plan) -> Result<Vec<PhaseState>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let stored: Stored = serde_json::from_str(&text)
        .map_err(|e| format!("{}:{}:{}: {e}", path.display(), e.line(), e.column()))?;
    let fits = stored.phases.len() == plan.phases.len()
        && stored
            .phases
            .iter()
            .zip(&plan.phases)
            .all(|(s, p)| s.checks.len() == p.validation.len());
    if !fits {
        return Err(format!(
            "{}: recorded for a different plan ({} phases); move it aside to start afresh",
            path.display(),
            stored.phases.len()
        ));
    }
    Ok(stored.phases)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::phases::ProbeStatus;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 29, 9, 0, 0).unwrap()
    }

    fn initial(plan: &Plan) -> Vec<PhaseState> {
        pending(plan)
    }

    #[test]
    fn progress_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("plan-state.json");
        let plan = Plan::builtin();
        let mut p = Progress::open(plan.clone(), initial(&plan), Some(store.clone())).unwrap();
        p.apply(
            &PhaseCommand::Start {
                phase: 0,
                force: false,
            },
            "mira",
            now(),
        )
        .unwrap();
        let results = plan.phases[0]
            .validation
            .iter()
            .map(|_| ProbeResult {
                status: ProbeStatus::Manual,
                evidence: "e".into(),
                at: now(),
            })
            .collect();
        p.record(0, results, now()).unwrap();
        p.apply(&PhaseCommand::Confirm { phase: 0 }, "mira", now())
            .unwrap();
        assert_eq!(p.states()[0].status, PhaseStatus::Validated);

        let again = Progress::open(plan.clone(), initial(&plan), Some(store)).unwrap();
        assert_eq!(again.states(), p.states());
    }

    #[test]
    fn a_forced_start_says_so_and_an_unforced_one_is_refused() {
        let plan = Plan::builtin();
        let mut p = Progress::open(plan.clone(), initial(&plan), None).unwrap();
        let err = p
            .apply(
                &PhaseCommand::Start {
                    phase: 3,
                    force: false,
                },
                "mira",
                now(),
            )
            .unwrap_err();
        assert!(err.contains("phase 2 is pending"), "{err}");
        let said = p
            .apply(
                &PhaseCommand::Start {
                    phase: 3,
                    force: true,
                },
                "mira",
                now(),
            )
            .unwrap();
        assert!(said.ends_with("in progress (forced)"), "{said}");
    }

    #[test]
    fn a_state_file_of_another_plan_is_refused_not_misread() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("plan-state.json");
        std::fs::write(&store, r#"{"phases": []}"#).unwrap();
        let plan = Plan::builtin();
        let err = Progress::open(plan.clone(), initial(&plan), Some(store))
            .err()
            .unwrap();
        assert!(err.contains("different plan"), "{err}");
    }
}
