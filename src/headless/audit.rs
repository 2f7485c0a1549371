//! `captain audit show|verify`.

use std::process::ExitCode;

use color_eyre::eyre::Result;

use crate::cli::{AuditCmd, Cli};
use crate::launch::Settings;
use crate::ops::audit;

pub fn run(cli: &Cli, cmd: &AuditCmd) -> Result<ExitCode> {
    let settings = Settings::load(cli)?;
    let path = settings.audit_path();
    if !path.exists() && !audit::head_path(&path).exists() {
        if let AuditCmd::Show(j) = cmd
            && super::out::structured(j.format(), &[] as &[serde_json::Value])?
        {
            return Ok(ExitCode::SUCCESS);
        }
        say!("{}: no audit records yet", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    match cmd {
        AuditCmd::Verify(j) => match audit::verify_chain(&path) {
            Ok(verified) => {
                let n = verified.records.len();
                let note = head_note(&path, &verified.head);
                let summary = serde_json::json!({
                    "ok": true,
                    "records": n,
                    "file": path,
                    "head": match verified.head {
                        audit::HeadCheck::Matches => "matches",
                        audit::HeadCheck::Missing => "missing",
                        audit::HeadCheck::Behind { .. } => "behind",
                    },
                    "note": note,
                });
                if !super::out::structured(j.format(), &summary)? {
                    say!("{}: {n} records, chain intact", path.display());
                    if let Some(note) = note {
                        say!("note: {note}");
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                let broken = serde_json::json!({"ok": false, "error": e.to_string(), "file": path});
                if !super::out::structured(j.format(), &broken)? {
                    say_err!("audit journal BROKEN: {e}");
                }
                Ok(ExitCode::from(1))
            }
        },
        AuditCmd::Show(j) => {
            let records = audit::verify(&path)?;
            // An intent without an outcome: captain was killed while acting (or is acting
            // now). What the cluster was found in is a later record (docs/runbook.md,
            // "If the rollback fails").
            let finished: std::collections::BTreeSet<&str> = records
                .iter()
                .filter(|r| r.entry.phase == audit::Phase::Outcome)
                .map(|r| r.entry.trace_id.as_str())
                .collect();
            let unfinished = |r: &audit::Record| {
                r.entry.phase == audit::Phase::Intent
                    && !finished.contains(r.entry.trace_id.as_str())
            };
            if j.format().is_structured() {
                // One array, as every other list (docs/runbook.md): the journal file
                // itself is the JSON-lines form.
                let mut all = Vec::with_capacity(records.len());
                for r in &records {
                    let mut v = serde_json::to_value(r)?;
                    if unfinished(r) {
                        v["interrupted"] = serde_json::Value::Bool(true);
                    }
                    all.push(v);
                }
                super::out::structured(j.format(), &all)?;
                return Ok(ExitCode::SUCCESS);
            }
            let mut table = super::out::Table::new(
                j.format(),
                &[
                    ("TIME", false),
                    ("SEQ", false),
                    ("PHASE", false),
                    ("ACTION", false),
                    ("TARGET", false),
                    ("CHANGE", false),
                    ("BY", false),
                    ("CONFIRMED", false),
                    ("TRACE", true),
                    ("REASON", false),
                    ("RESULT", false),
                ],
            );
            for r in &records {
                let e = &r.entry;
                let result = match &e.result {
                    Some(x) => x.clone(),
                    None if unfinished(r) => "INTERRUPTED: no outcome recorded (killed while \
                                              acting, or still running)"
                        .into(),
                    None => "-".into(),
                };
                table.row(vec![
                    r.time.format("%Y-%m-%d %H:%M:%S").to_string(),
                    r.seq.to_string(),
                    format!("{:?}", e.phase),
                    e.action.to_string(),
                    e.target.clone(),
                    format!("{} → {}", e.from, e.to),
                    e.actor.label(),
                    e.confirmation.to_string(),
                    e.trace_id.clone(),
                    e.reason.clone().unwrap_or_else(|| "-".into()),
                    result,
                ]);
            }
            table.print("no audit records yet");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// What the head says beyond "intact", when it cannot vouch for the whole journal.
fn head_note(path: &std::path::Path, head: &audit::HeadCheck) -> Option<String> {
    match head {
        audit::HeadCheck::Matches => None,
        audit::HeadCheck::Missing => Some(format!(
            "no head file ({}): this journal was written before captain kept one, so records \
             missing from its end cannot be noticed; its tail cannot be vouched for until \
             captain next opens it",
            audit::head_path(path).display()
        )),
        audit::HeadCheck::Behind { head_seq } => Some(format!(
            "the head ({}) names record {head_seq}; the records after it chain to it but were \
             written after the head was last kept (captain stopped in between, or they were \
             added since)",
            audit::head_path(path).display()
        )),
    }
}
