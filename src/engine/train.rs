//! The release train: a canary stepping through weights, one observation window per step,
//! rolled back (or paused) by itself when its verdicts fail, never promoted without a fresh
//! passing verdict.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::config::slo::{Gate, OnFail, RollbackTo, SloConfig, Step};
use crate::engine::analysis::{Analysis, Verdict};

/// How many measurement summaries the train remembers for the sparkline and the timeline.
const RECENT: usize = 120;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Status {
    /// A revision deployed with no canary traffic and no train yet: started by `canary run`
    /// (or a driver) by itself, by a human from the console.
    NotStarted,
    Progressing,
    AwaitingGate,
    Paused {
        reason: String,
    },
    Promoted,
    RolledBack {
        to_revision: u32,
        reason: String,
    },
    /// A rollback was decided but has not been seen through (the weight could not be set
    /// to 0, or helm failed): it is tried again at every measurement until it is. Never
    /// shown as rolled back meanwhile.
    RollingBack {
        to_revision: u32,
        reason: String,
        error: String,
    },
    Aborted {
        reason: String,
    },
}

impl Status {
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Status::Promoted | Status::RolledBack { .. } | Status::Aborted { .. }
        )
    }

    pub fn label(&self) -> &'static str {
        match self {
            Status::NotStarted => "not started",
            Status::Progressing => "progressing",
            Status::AwaitingGate => "awaiting manual gate",
            Status::Paused { .. } => "paused",
            Status::Promoted => "promoted",
            Status::RolledBack { .. } => "rolled back",
            Status::RollingBack { .. } => "ROLLBACK UNFINISHED",
            Status::Aborted { .. } => "aborted",
        }
    }
}

/// The revisions in play: the canary's, the one a rollback returns to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revisions {
    pub current: u32,
    pub previous: u32,
    pub last_passing: Option<u32>,
    /// The canary's image tag, `sha-<sha>`.
    pub image: String,
}

/// A human (or CI) request to the train.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum TrainCommand {
    Promote,
    PromoteFull,
    Pause,
    Resume,
    Rollback { to_revision: Option<u32> },
    Abort,
}

/// What the train asks the outside world to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    SetWeight(u8),
    HelmRollback { to_revision: u32 },
    Freeze,
    Unfreeze,
}

/// A command the train refuses in its current state, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// One measurement as the train remembers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub at: DateTime<Utc>,
    pub verdict: Verdict,
    pub score: Option<f64>,
    /// False during the warm-up after a step, or while the train is not progressing.
    pub counted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub weight: u8,
    pub event: String,
}

/// What the engine needs of `slo.yml` to drive the train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub steps: Vec<Step>,
    pub interval: Duration,
    pub initial_delay: Duration,
    pub on_fail: OnFail,
    pub rollback_to: RollbackTo,
    pub failure_limit: u32,
    pub error_limit: u32,
}

impl Policy {
    pub fn from_config(cfg: &SloConfig) -> Self {
        Self {
            steps: cfg.rollout.steps.clone(),
            interval: cfg.rollout.interval.chrono(),
            initial_delay: cfg.rollout.initial_delay.chrono(),
            on_fail: cfg.rollout.on_fail,
            rollback_to: cfg.rollout.rollback_to,
            failure_limit: cfg.defaults.failure_limit,
            error_limit: cfg.defaults.error_limit,
        }
    }
}

/// What happens next if nothing changes, for the Canary panel.
#[derive(Debug, Clone, PartialEq)]
pub enum NextAction {
    /// Promote to `weight` at `at`, if the verdicts keep passing.
    Promote { weight: u8, at: DateTime<Utc> },
    /// Complete the train at `at`.
    Complete { at: DateTime<Utc> },
    /// Wait for a human.
    AwaitHuman(String),
    /// Nothing: the train has ended.
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Train {
    pub release: String,
    pub policy: Policy,
    pub revisions: Revisions,
    pub step: usize,
    pub weight: u8,
    pub status: Status,
    pub step_started: DateTime<Utc>,
    pub failures: u32,
    pub errors: u32,
    pub last: Option<Analysis>,
    pub recent: VecDeque<Scored>,
    pub timeline: Vec<TimelineEntry>,
}

impl Train {
    /// A train starting its first step at `now`; the caller applies the returned weight.
    pub fn start(
        release: impl Into<String>,
        policy: Policy,
        revisions: Revisions,
        now: DateTime<Utc>,
    ) -> (Self, Vec<Effect>) {
        let weight = policy.steps.first().map_or(100, |s| s.weight);
        let mut t = Train {
            release: release.into(),
            policy,
            revisions,
            step: 0,
            weight,
            status: Status::Progressing,
            step_started: now,
            failures: 0,
            errors: 0,
            last: None,
            recent: VecDeque::new(),
            timeline: Vec::new(),
        };
        t.note(
            now,
            format!("canary revision {} at {weight} %", t.revisions.current),
        );
        (t, vec![Effect::SetWeight(weight)])
    }

    /// A train already under way: the canary is at `weight` in the cluster. Nothing is
    /// changed: at a step's weight the train watches that step from `now` (a new window,
    /// so a promotion waits a full window of fresh verdicts); at any other weight it is
    /// paused for a human.
    pub fn adopt(
        release: impl Into<String>,
        policy: Policy,
        revisions: Revisions,
        weight: u8,
        now: DateTime<Utc>,
    ) -> Self {
        let step = policy.steps.iter().position(|s| s.weight == weight);
        let status = match step {
            Some(_) => Status::Progressing,
            None if weight == 0 => Status::NotStarted,
            None => Status::Paused {
                reason: format!(
                    "the canary is at {weight} %, not a step of slo.yml: promote, roll back or abort by hand"
                ),
            },
        };
        let mut t = Train {
            release: release.into(),
            policy,
            revisions,
            step: step.unwrap_or(0),
            weight,
            status,
            step_started: now,
            failures: 0,
            errors: 0,
            last: None,
            recent: VecDeque::new(),
            timeline: Vec::new(),
        };
        t.note(
            now,
            format!(
                "found revision {} at {weight} %; {}",
                t.revisions.current,
                t.status.label()
            ),
        );
        t
    }

    /// Whether two trains differ only in what measuring adds (the latest analysis and the
    /// recent verdicts). The rest is what every console of the release must agree on, and
    /// all that is written to the shared state: a measurement that changes nothing else
    /// stays local.
    pub fn same_course(&self, other: &Train) -> bool {
        let course = |t: &Train| Train {
            last: None,
            recent: VecDeque::new(),
            ..t.clone()
        };
        course(self) == course(other)
    }

    /// Start a train that was found not started: its first step, from `now`.
    pub fn begin(&mut self, now: DateTime<Utc>, why: &str) -> Vec<Effect> {
        if self.status != Status::NotStarted {
            return Vec::new();
        }
        let weight = self.policy.steps.first().map_or(100, |s| s.weight);
        self.step = 0;
        self.weight = weight;
        self.step_started = now;
        self.status = Status::Progressing;
        self.failures = 0;
        self.errors = 0;
        self.note(
            now,
            format!(
                "canary revision {} started at {weight} % ({why})",
                self.revisions.current
            ),
        );
        vec![Effect::SetWeight(weight)]
    }

    fn current_step(&self) -> &Step {
        &self.policy.steps[self.step.min(self.policy.steps.len() - 1)]
    }

    /// When the warm-up after the current step ends and measurements start to count.
    pub fn warmup_end(&self) -> DateTime<Utc> {
        self.step_started + self.policy.initial_delay
    }

    /// When the current step's observation window closes.
    pub fn window_end(&self) -> DateTime<Utc> {
        self.step_started + self.current_step().observe.chrono()
    }

    /// Time left in the observation window, never negative.
    pub fn time_left(&self, now: DateTime<Utc>) -> Duration {
        (self.window_end() - now).max(Duration::zero())
    }

    /// Fraction of the window elapsed, 0.0–1.0.
    pub fn window_progress(&self, now: DateTime<Utc>) -> f64 {
        let total = (self.window_end() - self.step_started)
            .num_milliseconds()
            .max(1) as f64;
        ((now - self.step_started).num_milliseconds() as f64 / total).clamp(0.0, 1.0)
    }

    /// Whether measurements count toward a verdict: the train is watching the canary (a
    /// manual gate still watches it).
    fn watching(&self) -> bool {
        matches!(self.status, Status::Progressing | Status::AwaitingGate)
    }

    /// If a breach starts now and goes on, the latest the train rolls back (or pauses):
    /// what is left of the warm-up, then the failed measurements still needed, one
    /// interval each.
    pub fn failure_action_within(&self, now: DateTime<Utc>) -> Option<Duration> {
        self.watching().then(|| {
            let left = self
                .policy
                .failure_limit
                .saturating_sub(self.failures)
                .max(1);
            let warmup = (self.warmup_end() - now).max(Duration::zero());
            warmup + self.policy.interval * left as i32
        })
    }

    pub fn next_action(&self, now: DateTime<Utc>) -> NextAction {
        match &self.status {
            Status::Progressing => {
                let at = self.window_end().max(now);
                match self.policy.steps.get(self.step + 1) {
                    _ if self.current_step().gate == Gate::Manual => NextAction::AwaitHuman(
                        format!("manual gate after the {} % window", self.weight),
                    ),
                    Some(next) => NextAction::Promote {
                        weight: next.weight,
                        at,
                    },
                    None => NextAction::Complete { at },
                }
            }
            Status::AwaitingGate => NextAction::AwaitHuman("promote to continue".into()),
            Status::NotStarted => NextAction::AwaitHuman(format!(
                "not started: promote to send {} % to revision {}",
                self.policy.steps.first().map_or(100, |s| s.weight),
                self.revisions.current
            )),
            Status::Paused { reason } => NextAction::AwaitHuman(format!("paused: {reason}")),
            _ => NextAction::None,
        }
    }

    fn note(&mut self, at: DateTime<Utc>, event: String) {
        self.timeline.push(TimelineEntry {
            at,
            weight: self.weight,
            event,
        });
    }

    fn remember(&mut self, a: &Analysis, counted: bool) {
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(Scored {
            at: a.at,
            verdict: a.verdict,
            score: a.score,
            counted,
        });
    }

    /// The latest counted measurement passed and is no older than one interval (plus slack
    /// for a late tick): the only ground on which the train promotes by itself.
    pub fn has_fresh_pass(&self, now: DateTime<Utc>) -> bool {
        let slack = self.policy.interval + self.policy.interval / 2;
        self.recent
            .iter()
            .rev()
            .find(|s| s.counted)
            .is_some_and(|s| s.verdict.is_passing() && now - s.at <= slack)
            && self.failures == 0
    }

    /// Take one measurement's verdict into account, then move on if the window allows.
    pub fn observe(&mut self, analysis: Analysis, now: DateTime<Utc>) -> Vec<Effect> {
        let counted = self.watching() && analysis.at >= self.warmup_end();
        self.remember(&analysis, counted);
        let verdict = analysis.verdict;
        let reason = analysis.reason.clone();
        self.last = Some(analysis);
        if let Status::RollingBack { to_revision, .. } = self.status {
            return rollback_effects(to_revision);
        }
        if !counted {
            return Vec::new();
        }
        match verdict {
            Verdict::Pass | Verdict::Warn => {
                self.failures = 0;
                self.errors = 0;
            }
            Verdict::Fail => {
                self.failures += 1;
                self.errors = 0;
            }
            Verdict::NoData | Verdict::Error => self.errors += 1,
        }
        if self.failures >= self.policy.failure_limit {
            let why = format!(
                "{} consecutive failed measurements: {reason}",
                self.failures
            );
            return self.fail(now, why);
        }
        if self.errors >= self.policy.error_limit {
            let why = format!(
                "inconclusive: {} consecutive measurements without a verdict ({reason})",
                self.errors
            );
            self.status = Status::Paused {
                reason: why.clone(),
            };
            self.note(now, format!("paused: {why}"));
            return vec![Effect::Freeze];
        }
        self.advance(now)
    }

    /// Close the window if it is over and the latest verdict is a fresh pass.
    fn advance(&mut self, now: DateTime<Utc>) -> Vec<Effect> {
        if self.status != Status::Progressing
            || now < self.window_end()
            || !self.has_fresh_pass(now)
        {
            return Vec::new();
        }
        if self.current_step().gate == Gate::Manual {
            self.status = Status::AwaitingGate;
            self.note(
                now,
                format!("{} % window passed; awaiting manual gate", self.weight),
            );
            return Vec::new();
        }
        self.next_step(now, "window passed")
    }

    fn next_step(&mut self, now: DateTime<Utc>, why: &str) -> Vec<Effect> {
        match self.policy.steps.get(self.step + 1) {
            Some(next) => {
                let weight = next.weight;
                self.step += 1;
                self.weight = weight;
                self.step_started = now;
                self.status = Status::Progressing;
                self.failures = 0;
                self.errors = 0;
                self.note(now, format!("promoted to {weight} % ({why})"));
                vec![Effect::SetWeight(weight)]
            }
            None => {
                self.status = Status::Promoted;
                // For the next train: this revision passed every window.
                self.revisions.last_passing = Some(self.revisions.current);
                self.note(
                    now,
                    format!(
                        "promoted: revision {} at 100 % ({why})",
                        self.revisions.current
                    ),
                );
                Vec::new()
            }
        }
    }

    fn rollback_target(&self) -> u32 {
        match self.policy.rollback_to {
            RollbackTo::Previous => self.revisions.previous,
            RollbackTo::LastPassing => self
                .revisions
                .last_passing
                .unwrap_or(self.revisions.previous),
            RollbackTo::Revision(n) => n,
        }
    }

    fn fail(&mut self, now: DateTime<Utc>, why: String) -> Vec<Effect> {
        match self.policy.on_fail {
            OnFail::Rollback => {
                let to = self.rollback_target();
                self.roll_back(now, to, format!("automatic: {why}"))
            }
            OnFail::Pause => {
                self.status = Status::Paused {
                    reason: why.clone(),
                };
                self.note(now, format!("paused: {why}"));
                vec![Effect::Freeze]
            }
        }
    }

    fn roll_back(&mut self, now: DateTime<Utc>, to: u32, reason: String) -> Vec<Effect> {
        self.weight = 0;
        self.status = Status::RolledBack {
            to_revision: to,
            reason: reason.clone(),
        };
        self.note(now, format!("rolled back to revision {to}: {reason}"));
        rollback_effects(to)
    }

    /// What became of a rollback's effects: done, it stands as rolled back; not done, it is
    /// unfinished (and retried at the next measurement). True when the status changed.
    pub fn settle_rollback(&mut self, result: Result<(), String>, now: DateTime<Utc>) -> bool {
        let next = match (&self.status, result) {
            (
                Status::RollingBack {
                    to_revision,
                    reason,
                    ..
                },
                Ok(()),
            ) => Status::RolledBack {
                to_revision: *to_revision,
                reason: reason.clone(),
            },
            (
                Status::RolledBack {
                    to_revision,
                    reason,
                }
                | Status::RollingBack {
                    to_revision,
                    reason,
                    ..
                },
                Err(error),
            ) => Status::RollingBack {
                to_revision: *to_revision,
                reason: reason.clone(),
                error,
            },
            _ => return false,
        };
        if next == self.status {
            return false;
        }
        match &next {
            Status::RolledBack { to_revision, .. } => {
                self.note(now, format!("rollback to revision {to_revision} completed"))
            }
            Status::RollingBack { error, .. } => {
                self.note(now, format!("rollback not done, retrying: {error}"))
            }
            _ => {}
        }
        self.status = next;
        true
    }

    /// A human's request. Refused, with the reason, when the state does not allow it.
    pub fn command(
        &mut self,
        cmd: &TrainCommand,
        now: DateTime<Utc>,
    ) -> Result<Vec<Effect>, Refused> {
        let active = matches!(self.status, Status::Progressing | Status::AwaitingGate);
        match cmd {
            TrainCommand::Promote if self.status == Status::NotStarted => {
                Ok(self.begin(now, "started by hand"))
            }
            TrainCommand::Promote if active => Ok(self.next_step(now, "manual promote")),
            TrainCommand::PromoteFull if active || self.status == Status::NotStarted => {
                self.step = self.policy.steps.len() - 1;
                self.weight = 100;
                self.status = Status::Promoted;
                self.note(now, "promoted to 100 % (manual full promote)".into());
                Ok(vec![Effect::SetWeight(100)])
            }
            TrainCommand::Pause if active => {
                self.status = Status::Paused {
                    reason: "paused by hand".into(),
                };
                self.note(now, "paused by hand; train frozen".into());
                Ok(vec![Effect::Freeze])
            }
            // The tag is the whole release train's switch, settable in any state: the
            // train itself is left as it is.
            TrainCommand::Pause => Ok(vec![Effect::Freeze]),
            TrainCommand::Resume if matches!(self.status, Status::Paused { .. }) => {
                self.status = Status::Progressing;
                self.step_started = now;
                self.failures = 0;
                self.errors = 0;
                self.note(
                    now,
                    format!("resumed at {} %; window restarted", self.weight),
                );
                Ok(vec![Effect::Unfreeze])
            }
            TrainCommand::Resume => Ok(vec![Effect::Unfreeze]),
            TrainCommand::Abort if !self.status.is_terminal() => {
                self.weight = 0;
                self.status = Status::Aborted {
                    reason: "aborted by hand".into(),
                };
                self.note(now, "aborted: canary weight 0, no helm rollback".into());
                Ok(vec![Effect::SetWeight(0)])
            }
            TrainCommand::Rollback { to_revision } => {
                let to = to_revision.unwrap_or_else(|| self.rollback_target());
                if to == self.revisions.current {
                    return Err(Refused(format!("revision {to} is the current revision")));
                }
                if let Status::RolledBack {
                    to_revision: done, ..
                } = self.status
                    && done == to
                {
                    return Err(Refused(format!("already rolled back to revision {to}")));
                }
                Ok(self.roll_back(now, to, "by hand".into()))
            }
            other => Err(Refused(format!(
                "cannot {} while the train is {}",
                command_verb(other),
                self.status.label()
            ))),
        }
    }
}

fn rollback_effects(to: u32) -> Vec<Effect> {
    vec![
        Effect::SetWeight(0),
        Effect::HelmRollback { to_revision: to },
    ]
}

pub fn command_verb(cmd: &TrainCommand) -> &'static str {
    match cmd {
        TrainCommand::Promote => "promote",
        TrainCommand::PromoteFull => "promote fully",
        TrainCommand::Pause => "pause",
        TrainCommand::Resume => "resume",
        TrainCommand::Rollback { .. } => "roll back",
        TrainCommand::Abort => "abort",
    }
}

#[cfg(test)]
mod tests;
