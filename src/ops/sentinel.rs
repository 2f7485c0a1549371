//! The clean-main sentinel as an action: put `freeze/main-red` on the pull requests a
//! human confirmed, or take it off, journalled like every other change. It needs only the
//! forge and the journal, so CI can run it where there is no cluster.

use super::audit::{self, Actor, AuditError, Entry, Journal, Phase};
use super::command::Confirmed;
use super::outcome::Outcome;
use crate::engine::main_health::FREEZE_LABEL;
use crate::engine::sentinel::Relabel;
use crate::sources::{Forge, LabelChange};

/// Journal the intent, change each label (one failure does not stop the rest: every pull
/// request's result is reported), journal the outcome.
pub async fn execute(
    forge: &dyn Forge,
    journal: &mut Journal,
    actor: &Actor,
    relabel: &Relabel,
    confirmed: &Confirmed,
) -> Result<Outcome, AuditError> {
    let proposal = confirmed.command.propose(None);
    let intent = Entry {
        phase: Phase::Intent,
        trace_id: audit::trace_id(),
        actor: actor.clone(),
        action: proposal.action.name().into(),
        target: proposal.target.clone(),
        from: proposal.from.clone(),
        to: proposal.to.clone(),
        reason: confirmed.reason.clone(),
        confirmation: confirmed.confirmation.label().into(),
        slo: None,
        result: None,
    };
    let begun = journal.begin(intent)?;
    let (ok, message) = apply(forge, relabel).await;
    journal.settle(begun, if ok { Ok(message) } else { Err(message) })
}

async fn apply(forge: &dyn Forge, relabel: &Relabel) -> (bool, String) {
    let mut lines = Vec::new();
    let mut ok = true;
    for &n in &relabel.label {
        match forge.add_label(n, FREEZE_LABEL).await {
            Ok(LabelChange::AlreadyThere) => lines.push(format!("#{n}: already labelled")),
            Ok(_) => lines.push(format!("#{n}: labelled")),
            Err(e) => {
                ok = false;
                lines.push(format!("#{n}: {e}"));
            }
        }
    }
    for &n in &relabel.unlabel {
        match forge.remove_label(n, FREEZE_LABEL).await {
            Ok(LabelChange::AlreadyGone) => lines.push(format!("#{n}: label already gone")),
            Ok(_) => lines.push(format!("#{n}: label removed")),
            Err(e) => {
                ok = false;
                lines.push(format!("#{n}: {e}"));
            }
        }
    }
    (ok, lines.join("; "))
}
