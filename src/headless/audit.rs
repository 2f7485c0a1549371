//! `captain audit show|verify`.

use std::process::ExitCode;

use color_eyre::eyre::Result;

use crate::cli::{AuditCmd, Cli};
use crate::launch::Settings;
use crate::ops::audit;

pub fn run(cli: &Cli, cmd: &AuditCmd) -> Result<ExitCode> {
    let settings = Settings::load(cli)?;
    let path = settings.audit_path();
    if !path.exists() {
        say!("{}: no audit records yet", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    match cmd {
        AuditCmd::Verify(j) => match audit::verify(&path) {
            Ok(records) => {
                if j.json {
                    say!(
                        "{}",
                        serde_json::json!({"ok": true, "records": records.len(), "file": path})
                    );
                } else {
                    say!(
                        "{}: {} records, chain intact",
                        path.display(),
                        records.len()
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                if j.json {
                    say!(
                        "{}",
                        serde_json::json!({"ok": false, "error": e.to_string(), "file": path})
                    );
                } else {
                    say_err!("audit journal BROKEN: {e}");
                }
                Ok(ExitCode::from(1))
            }
        },
        AuditCmd::Show(j) => {
            let records = audit::verify(&path)?;
            for r in &records {
                if j.json {
                    say!("{}", serde_json::to_string(r)?);
                } else {
                    let e = &r.entry;
                    say!(
                        "{} #{:<4} {:?} {} {} {} → {} by {} ({}){}{}",
                        r.time.format("%Y-%m-%d %H:%M:%S"),
                        r.seq,
                        e.phase,
                        e.action,
                        e.target,
                        e.from,
                        e.to,
                        e.actor.label(),
                        e.confirmation,
                        e.reason
                            .as_ref()
                            .map(|x| format!(" reason: {x}"))
                            .unwrap_or_default(),
                        e.result
                            .as_ref()
                            .map(|x| format!(" → {x}"))
                            .unwrap_or_default(),
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
