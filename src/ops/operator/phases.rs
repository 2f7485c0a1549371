//! Validating a phase: its probes can take minutes, so a validation is begun (intent
//! written), run apart from the measurement loop, and finished (results recorded, outcome
//! written) when they are in.

use chrono::{DateTime, Utc};

use super::Operator;
use crate::config::probe::Check;
use crate::config::rollback::RollbackAction;
use crate::engine::phases::ProbeStatus;
use crate::engine::phases::{PhaseState, ProbeResult};
use crate::engine::train::TrainCommand;
use crate::ops::audit::{AuditError, Begun};
use crate::ops::command::PhaseCommand;
use crate::ops::command::{Command, Confirmed};
use crate::ops::outcome::Outcome;
use crate::ops::probes::ProbeContext;
use crate::ops::progress;

/// A validation under way: what to run, and the intent it answers.
pub struct Validation {
    pub phase: usize,
    pub checks: Vec<Check>,
    pub context: ProbeContext,
    begun: Begun,
}

impl Operator {
    pub fn phases(&self) -> Vec<PhaseState> {
        self.progress.states().to_vec()
    }

    /// Write the intent and hand back the probes to run, or say why not.
    pub fn begin_validation(
        &mut self,
        c: &Confirmed,
        now: DateTime<Utc>,
    ) -> Result<Result<Validation, Outcome>, AuditError> {
        let Command::Phase(pc @ PhaseCommand::Validate { phase }) = &c.command else {
            return Ok(Err(Outcome::refused(
                c.command.action(),
                "",
                "not a validation".into(),
            )));
        };
        let proposal = progress::propose(pc, self.progress.plan(), self.progress.states());
        // Results are facts recorded on whatever the plan is then: a phase that moved since
        // the human looked is no reason to refuse looking again.
        if let Some(why) = self.not_allowed(proposal.action) {
            return Ok(Err(Outcome::refused(
                proposal.action,
                &proposal.target,
                why,
            )));
        }
        if let Err(why) = self.progress.check(pc, now) {
            return Ok(Err(Outcome::refused(
                proposal.action,
                &proposal.target,
                why,
            )));
        }
        let begun = self.journal.begin(self.intent(c, &proposal))?;
        let checks = self
            .progress
            .plan()
            .phases
            .get(*phase)
            .map(|p| p.validation.clone())
            .unwrap_or_default();
        Ok(Ok(Validation {
            phase: *phase,
            checks,
            context: ProbeContext {
                audit_path: self.journal.path().to_path_buf(),
                metrics: Some((self.backends.metrics.clone(), self.slo.clone())),
                forge: Some(self.backends.forge.clone()),
                cluster: Some(self.backends.cluster.clone()),
                host: self.backends.host.clone(),
                published: Some(self.backends.published.clone()),
                now,
            },
            begun,
        }))
    }

    /// Record the probes' results and write the outcome. Results are facts: when another
    /// console changed the plan meanwhile, they are recorded again on its version.
    pub async fn finish_validation(
        &mut self,
        v: Validation,
        results: Vec<ProbeResult>,
        now: DateTime<Utc>,
    ) -> Result<Outcome, AuditError> {
        let passed = results
            .iter()
            .filter(|r| r.status == crate::engine::phases::ProbeStatus::Pass)
            .count();
        let total = results.len();
        let mut tries = 0;
        let result = loop {
            self.follow_shared();
            let recorded = self.progress.record(v.phase, results.clone(), now);
            let Ok(status) = recorded else {
                break recorded.map(|_| String::new());
            };
            match self.commit_plan().await {
                Ok(()) => {
                    break Ok(format!(
                        "{} ({passed}/{total} probes passed)",
                        status.label()
                    ));
                }
                Err(lost @ crate::ops::coordination::Lost::Race(_)) if tries < 3 => {
                    self.take_theirs(crate::ops::coordination::PLAN, &lost);
                    tries += 1;
                }
                Err(lost) => {
                    self.take_theirs(crate::ops::coordination::PLAN, &lost);
                    break Err(lost.to_string());
                }
            }
        };
        self.journal.settle(v.begun, result)
    }

    /// Run a phase's typed rollback actions in order, stopping at the first that fails:
    /// what each did, or everything up to the failure and why it failed.
    pub(super) async fn roll_back_phase(
        &mut self,
        phase: usize,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, String> {
        let actions = self
            .progress
            .plan()
            .phases
            .get(phase)
            .map(|p| p.rollback.actions.clone())
            .unwrap_or_default();
        let mut said = Vec::new();
        for action in &actions {
            let result = match action {
                RollbackAction::Command {
                    argv,
                    timeout,
                    expect_exit,
                } => match crate::ops::probes::command(
                    &*self.backends.host,
                    argv,
                    timeout.0,
                    *expect_exit,
                )
                .await
                {
                    (ProbeStatus::Pass, out) => Ok(out),
                    (_, out) => Err(out),
                },
                RollbackAction::HelmRollback {
                    release,
                    namespace,
                    revision,
                } => self
                    .backends
                    .deployer
                    .rollback_release(release, namespace, *revision, reason)
                    .await
                    .map_err(|e| e.to_string()),
                RollbackAction::TrainRollback => {
                    self.train_action(TrainCommand::Rollback { to_revision: None }, reason, now)
                        .await
                }
                RollbackAction::TrainPause => {
                    self.train_action(TrainCommand::Pause, reason, now).await
                }
            };
            match result {
                Ok(out) => said.push(format!("{action}: {out}")),
                Err(why) => {
                    said.push(format!("{action} FAILED: {why}"));
                    return Err(said.join("; "));
                }
            }
        }
        Ok(said)
    }

    /// A train command as one step of a phase's rollback: recorded where every console
    /// sees it, then carried out. A train already where the command would take it is fine.
    async fn train_action(
        &mut self,
        cmd: TrainCommand,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String, String> {
        let mut next = self.train.clone();
        let effects = match next.command(&cmd, now) {
            Ok(e) => e,
            Err(refused)
                if self.train.status.is_terminal()
                    || matches!(
                        self.train.status,
                        crate::engine::train::Status::Paused { .. }
                    ) =>
            {
                return Ok(format!("nothing to do: {}", refused.0));
            }
            Err(refused) => return Err(refused.0),
        };
        let before = std::mem::replace(&mut self.train, next);
        if let Err(lost) = self.commit_train().await {
            match &lost {
                crate::ops::coordination::Lost::Race(_) => {
                    self.take_theirs(crate::ops::coordination::TRAIN, &lost)
                }
                crate::ops::coordination::Lost::Store(_) => self.train = before,
            }
            return Err(lost.to_string());
        }
        self.apply(&effects, reason).await
    }
}
