//! Typed commands, and what each will do in words, for the confirmation dialog and for the
//! headless `--yes` path alike.

use serde::{Deserialize, Serialize};

use super::action::ActionKind;
use crate::engine::main_health::FREEZE_LABEL;
use crate::engine::sentinel::{Reason, Relabel};
use crate::engine::train::{Status, Train, TrainCommand};

/// Something a human asked captain to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Command {
    Train(TrainCommand),
    DeletePreview {
        namespace: String,
    },
    CleanStale {
        namespaces: Vec<String>,
    },
    Phase(PhaseCommand),
    /// The clean-main sentinel: label or unlabel open pull requests `freeze/main-red`.
    Sentinel {
        why: Reason,
        relabel: Relabel,
    },
}

/// How a human said yes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confirmation {
    /// Pressed enter on the dialog.
    Dialog,
    /// Typed the release name or the count.
    Typed,
    /// Passed `--yes` to a subcommand.
    YesFlag,
    /// Nobody: captain acted on an SLO breach.
    Automatic,
}

impl Confirmation {
    pub fn label(self) -> &'static str {
        match self {
            Confirmation::Dialog => "dialog",
            Confirmation::Typed => "typed",
            Confirmation::YesFlag => "--yes",
            Confirmation::Automatic => "automatic",
        }
    }
}

/// A command a human has confirmed: the only thing `ops` executes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmed {
    pub command: Command,
    pub reason: Option<String>,
    pub confirmation: Confirmation,
    /// Where the human was told the command starts from (the proposal's `from`, "25 %"),
    /// when they were told. A command whose start has moved since (another console acted
    /// meanwhile) is refused as a lost race, never carried further than was confirmed.
    pub seen: Option<String>,
}

/// A change to the plan's progress, as a human asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum PhaseCommand {
    /// Start the phase; `force` starts it before its predecessor is validated.
    Start { phase: usize, force: bool },
    /// Run the phase's probes and record the results.
    Validate { phase: usize },
    /// Confirm the phase's manual checks.
    Confirm { phase: usize },
    /// The phase's rollback was carried out.
    RollBack { phase: usize },
}

impl PhaseCommand {
    pub fn phase(&self) -> usize {
        match self {
            PhaseCommand::Start { phase, .. }
            | PhaseCommand::Validate { phase }
            | PhaseCommand::Confirm { phase }
            | PhaseCommand::RollBack { phase } => *phase,
        }
    }
}

/// A command as the confirmation dialog presents it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub title: String,
    pub action: ActionKind,
    pub target: String,
    pub from: String,
    pub to: String,
    /// What will happen, one line each, in order.
    pub effects: Vec<String>,
    pub reason_required: bool,
    /// The text the human must type to confirm, for the dangerous ones.
    pub typed: Option<String>,
}

impl Command {
    pub fn action(&self) -> ActionKind {
        match self {
            Command::Train(TrainCommand::Promote) => ActionKind::Promote,
            Command::Train(TrainCommand::PromoteFull) => ActionKind::PromoteFull,
            Command::Train(TrainCommand::Pause) => ActionKind::Pause,
            Command::Train(TrainCommand::Resume) => ActionKind::Resume,
            Command::Train(TrainCommand::Rollback { .. }) => ActionKind::Rollback,
            Command::Train(TrainCommand::Abort) => ActionKind::Abort,
            Command::DeletePreview { .. } => ActionKind::DeletePreview,
            Command::CleanStale { .. } => ActionKind::CleanStale,
            Command::Phase(PhaseCommand::Start { force: false, .. }) => ActionKind::PhaseStart,
            Command::Phase(PhaseCommand::Start { force: true, .. }) => ActionKind::PhaseForceStart,
            Command::Phase(PhaseCommand::Validate { .. }) => ActionKind::PhaseValidate,
            Command::Phase(PhaseCommand::Confirm { .. }) => ActionKind::PhaseConfirm,
            Command::Phase(PhaseCommand::RollBack { .. }) => ActionKind::PhaseRollBack,
            Command::Sentinel { .. } => ActionKind::Sentinel,
        }
    }

    /// Spell out the command against the train as it is now. Phase commands are spelt out
    /// against the plan by `progress::propose`; this is their bare form.
    pub fn propose(&self, train: Option<&Train>) -> Proposal {
        let release = train.map_or("the release".to_string(), |t| t.release.clone());
        let weight = train.map_or(0, |t| t.weight);
        let not_started = train.is_some_and(|t| t.status == Status::NotStarted);
        // A train not started yet goes to its first step; one under way, to the next.
        let next = train
            .and_then(|t| t.policy.steps.get(if not_started { 0 } else { t.step + 1 }))
            .map_or(100, |s| s.weight);
        let active =
            train.is_some_and(|t| matches!(t.status, Status::Progressing | Status::AwaitingGate));
        let paused = train.is_some_and(|t| matches!(t.status, Status::Paused { .. }));
        let p = |title: String, from: String, to: String, effects: Vec<String>| Proposal {
            title,
            action: self.action(),
            target: release.clone(),
            from,
            to,
            effects,
            reason_required: false,
            typed: None,
        };
        match self {
            Command::Train(TrainCommand::Promote) if not_started => p(
                format!("Start the {release} canary"),
                "0 %".into(),
                format!("{next} %"),
                vec![
                    format!(
                        "Send {next} % of traffic to revision {} now: its first step.",
                        train.map_or(0, |t| t.revisions.current)
                    ),
                    "From then on the train measures, promotes and rolls back by itself.".into(),
                ],
            ),
            Command::Train(TrainCommand::Promote) => p(
                format!("Promote {release}"),
                format!("{weight} %"),
                format!("{next} %"),
                vec![
                    format!("Set the canary's traffic weight from {weight} % to {next} % now."),
                    "The rest of the current observation window is skipped.".into(),
                ],
            ),
            Command::Train(TrainCommand::PromoteFull) => Proposal {
                typed: Some(release.clone()),
                ..p(
                    format!("Promote {release} fully"),
                    format!("{weight} %"),
                    "100 %".into(),
                    vec![
                        format!(
                            "Set the canary's traffic weight from {weight} % straight to 100 %."
                        ),
                        "Every remaining step and its analysis is skipped.".into(),
                    ],
                )
            },
            Command::Train(TrainCommand::Pause) if active => p(
                format!("Pause the {release} train"),
                "running".into(),
                "paused".into(),
                vec![
                    "Stop automatic promotion; the canary stays at its weight.".into(),
                    "Create the tag frozen/rollback on GitHub (the train is frozen).".into(),
                ],
            ),
            Command::Train(TrainCommand::Pause) => p(
                format!("Freeze the {release} release train"),
                "not frozen".into(),
                "frozen".into(),
                vec![
                    "Create the tag frozen/rollback on GitHub: nothing is promoted while it exists."
                        .into(),
                    format!(
                        "The train itself stays {}.",
                        train.map_or("as it is", |t| t.status.label())
                    ),
                ],
            ),
            Command::Train(TrainCommand::Resume) if paused => p(
                format!("Resume the {release} train"),
                "paused".into(),
                "running".into(),
                vec![
                    "Delete the tag frozen/rollback on GitHub.".into(),
                    format!("Restart the {weight} % observation window."),
                ],
            ),
            Command::Train(TrainCommand::Resume) => p(
                format!("Unfreeze the {release} release train"),
                "frozen".into(),
                "not frozen".into(),
                vec![
                    "Delete the tag frozen/rollback on GitHub: promotions may go on.".into(),
                    format!(
                        "The train itself stays {}.",
                        train.map_or("as it is", |t| t.status.label())
                    ),
                ],
            ),
            Command::Train(TrainCommand::Rollback { to_revision }) => {
                let to = to_revision
                    .or_else(|| train.map(|t| t.revisions.previous))
                    .map_or("the previous revision".to_string(), |r| {
                        format!("revision {r}")
                    });
                let current = train.map_or("?".into(), |t| t.revisions.current.to_string());
                Proposal {
                    reason_required: true,
                    typed: Some(release.clone()),
                    ..p(
                        format!("Roll back {release}"),
                        format!("revision {current} at {weight} %"),
                        to.clone(),
                        vec![
                            format!("Set the canary's traffic weight from {weight} % to 0 %."),
                            format!("Run helm rollback {release} to {to}."),
                        ],
                    )
                }
            }
            Command::Train(TrainCommand::Abort) => Proposal {
                reason_required: true,
                ..p(
                    format!("Abort the {release} canary"),
                    format!("{weight} %"),
                    "0 %".into(),
                    vec![
                        format!("Set the canary's traffic weight from {weight} % to 0 %."),
                        "No helm rollback: the canary's pods keep running.".into(),
                    ],
                )
            },
            Command::DeletePreview { namespace } => Proposal {
                target: namespace.clone(),
                reason_required: true,
                ..p(
                    format!("Delete preview {namespace}"),
                    "present".into(),
                    "deleted".into(),
                    vec![format!(
                        "Delete the namespace {namespace} and everything in it."
                    )],
                )
            },
            Command::CleanStale { namespaces } => Proposal {
                target: format!("{} stale previews", namespaces.len()),
                reason_required: true,
                typed: Some(namespaces.len().to_string()),
                ..p(
                    format!("Clean {} stale previews", namespaces.len()),
                    format!("{} present", namespaces.len()),
                    "deleted".into(),
                    vec![format!("Delete the namespaces {}.", namespaces.join(", "))],
                )
            },
            Command::Sentinel { why, relabel } => {
                let list = |ns: &[u32]| {
                    ns.iter()
                        .map(|n| format!("#{n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let mut effects = Vec::new();
                if !relabel.label.is_empty() {
                    effects.push(format!(
                        "Label {} {FREEZE_LABEL}: merging them is blocked until main is green.",
                        list(&relabel.label)
                    ));
                }
                if !relabel.unlabel.is_empty() {
                    effects.push(format!(
                        "Take {FREEZE_LABEL} off {}.",
                        list(&relabel.unlabel)
                    ));
                }
                let count = relabel.label.len() + relabel.unlabel.len();
                Proposal {
                    target: format!("{count} pull request{}", if count == 1 { "" } else { "s" }),
                    ..p(
                        format!("Clean-main sentinel: {}", why.label()),
                        why.label().to_string(),
                        format!(
                            "{} labelled, {} unlabelled",
                            relabel.label.len(),
                            relabel.unlabel.len()
                        ),
                        effects,
                    )
                }
            }
            Command::Phase(pc) => p(
                format!("Phase {}", pc.phase()),
                String::new(),
                String::new(),
                Vec::new(),
            ),
        }
    }
}
