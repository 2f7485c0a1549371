//! `captain audit show|verify`.

use std::process::ExitCode;

use color_eyre::eyre::Result;

use super::audit_head::{self, ClusterHead};
use crate::cli::{AuditCmd, Cli, VerifyArgs};
use crate::launch::Settings;
use crate::ops::audit;

pub async fn run(cli: &Cli, cmd: &AuditCmd) -> Result<ExitCode> {
    let settings = Settings::load(cli)?;
    let path = settings.audit_path();
    let j = match cmd {
        AuditCmd::Verify(args) => return verify(cli, &settings, args).await,
        AuditCmd::Show(j) => j,
    };
    if !path.exists() && !audit::head_path(&path).exists() {
        if super::out::structured(j.format(), &[] as &[serde_json::Value])? {
            return Ok(ExitCode::SUCCESS);
        }
        say!("{}: no audit records yet", path.display());
        return Ok(ExitCode::SUCCESS);
    }
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
        r.entry.phase == audit::Phase::Intent && !finished.contains(r.entry.trace_id.as_str())
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

/// The chain, the head file, and the cluster's copy of the head; exit 0 intact, 1
/// broken, 3 when the cluster's copy cannot be read.
async fn verify(cli: &Cli, settings: &Settings, args: &VerifyArgs) -> Result<ExitCode> {
    let path = settings.audit_path();
    let format = args.json.format();
    let cluster = match audit_head::read(cli, settings, args.local).await {
        Ok(cluster) => cluster,
        Err(e) => {
            let why = format!(
                "the journal's head kept in the cluster could not be read, so records missing \
                 from the end cannot be ruled out ({e:#}); `--local` checks the file and its \
                 head file alone"
            );
            let unverified = serde_json::json!({"ok": null, "error": why, "file": path});
            if !super::out::structured(format, &unverified)? {
                say_err!("audit journal NOT VERIFIED: {why}");
            }
            return Ok(ExitCode::from(3));
        }
    };
    let checked = audit::verify_chain(&path).and_then(|verified| {
        let held = match &cluster {
            ClusterHead::Kept { head, location } => Some(audit::check_head_at(
                &path,
                &verified.records,
                head,
                location,
            )?),
            _ => None,
        };
        Ok((verified, held))
    });
    match checked {
        Ok((verified, held)) => {
            let n = verified.records.len();
            let note = head_note(&path, &verified.head);
            let in_cluster = match (&cluster, &held) {
                (ClusterHead::NotAsked, _) => "not checked",
                (ClusterHead::None, _) => "none",
                (_, Some(audit::HeadCheck::Behind { .. })) => "behind",
                _ => "matches",
            };
            let cluster_note = match (&cluster, &held) {
                (ClusterHead::None, _) if n > 0 => Some(
                    "the cluster keeps no copy of this journal's head: it was never written \
                     from a live console on this machine, or it was removed"
                        .to_string(),
                ),
                (
                    ClusterHead::Kept { location, .. },
                    Some(audit::HeadCheck::Behind { head_seq }),
                ) => Some(format!(
                    "{location} names record {head_seq}; the records after it chain to it \
                         but were written after it was last copied (written by a command that \
                         does not copy it, or captain stopped in between)"
                )),
                _ => None,
            };
            let summary = serde_json::json!({
                "ok": true,
                "records": n,
                "file": path,
                "head": match verified.head {
                    audit::HeadCheck::Matches => "matches",
                    audit::HeadCheck::Missing => "missing",
                    audit::HeadCheck::Behind { .. } => "behind",
                },
                "cluster_head": in_cluster,
                "note": note,
                "cluster_note": cluster_note,
            });
            if super::out::structured(format, &summary)? {
                return Ok(ExitCode::SUCCESS);
            }
            if n == 0 && matches!(verified.head, audit::HeadCheck::Missing) {
                say!("{}: no audit records yet", path.display());
            } else {
                say!("{}: {n} records, chain intact", path.display());
                for note in note.iter().chain(&cluster_note) {
                    say!("note: {note}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let broken = serde_json::json!({"ok": false, "error": e.to_string(), "file": path});
            if !super::out::structured(format, &broken)? {
                say_err!("audit journal BROKEN: {e}");
            }
            Ok(ExitCode::from(1))
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
