//! `captain previews list|clean`: the preview namespaces, and the stale ones removed.

use std::process::ExitCode;

use chrono::Utc;
use color_eyre::eyre::Result;
use serde_json::json;

use super::out::{self, Format, Table};
use super::{confirm, report};
use crate::cli::{Cli, PreviewsCmd};
use crate::config::duration::format_span;
use crate::engine::previews::{self, Preview};
use crate::launch::Session;
use crate::ops::Command;
use crate::sources::first_reading;

fn row(p: &Preview, now: chrono::DateTime<Utc>, ttl: chrono::Duration) -> serde_json::Value {
    json!({
        "namespace": p.namespace,
        "created": p.created,
        "age_seconds": p.age(now).num_seconds(),
        "pr": p.pr,
        "url": p.url,
        "health": p.health,
        "stale": p.is_stale(now, ttl),
        "orphaned": p.is_orphaned(),
        "terminating": p.terminating,
    })
}

/// NAMESPACE, AGE, FLAGS (stale, orphaned, terminating) and the pull request's number and
/// title; `-o wide` adds its state, author, the preview's URL and whether it answered.
fn table(list: &[Preview], now: chrono::DateTime<Utc>, ttl: chrono::Duration, f: Format) -> Table {
    let mut t = Table::new(
        f,
        &[
            ("NAMESPACE", false),
            ("AGE", false),
            ("FLAGS", false),
            ("PR", false),
            ("STATE", true),
            ("AUTHOR", true),
            ("URL", true),
            ("HEALTH", true),
            ("TITLE", false),
        ],
    );
    for p in list {
        let pr = p.pr.as_ref();
        let flags: Vec<&str> = [
            (p.is_stale(now, ttl), "stale"),
            (p.is_orphaned(), "orphaned"),
            (p.terminating, "terminating"),
        ]
        .into_iter()
        .filter_map(|(on, word)| on.then_some(word))
        .collect();
        let dash = |s: &str| {
            if s.is_empty() {
                "-".to_string()
            } else {
                s.to_string()
            }
        };
        t.row(vec![
            p.namespace.clone(),
            format_span(p.age(now).to_std().unwrap_or_default()),
            dash(&flags.join(",")),
            pr.map_or("-".into(), |x| format!("#{}", x.number)),
            pr.map_or("-".into(), |x| x.state.label().to_string()),
            dash(pr.map_or("", |x| x.author.as_str())),
            dash(p.url.as_deref().unwrap_or("")),
            health(p.health).into(),
            pr.map_or(String::new(), |x| x.title.clone()),
        ]);
    }
    t
}

fn health(h: previews::UrlHealth) -> &'static str {
    match h {
        previews::UrlHealth::Up => "up",
        previews::UrlHealth::Down => "down",
        previews::UrlHealth::Unknown => "-",
    }
}

pub async fn run(cli: &Cli, cmd: &PreviewsCmd) -> Result<ExitCode> {
    let session = Session::open(cli).await?;
    let prefix = session.settings.config.previews.prefix.clone();
    let within = crate::launch::budget(cli, &session.settings.config)?.limit();
    let list = first_reading(session.backends.cluster.previews(), within).await?;
    let now = session.clock.now();
    let mut list: Vec<Preview> = list
        .iter()
        .filter(|p| previews::is_preview(&p.namespace, &prefix))
        .cloned()
        .collect();
    previews::sort_by_age(&mut list);
    match cmd {
        PreviewsCmd::List { older_than, j } => {
            let ttl = older_than
                .unwrap_or(session.settings.config.previews.ttl)
                .chrono();
            let rows: Vec<_> = list.iter().map(|p| row(p, now, ttl)).collect();
            if !out::structured(j.format(), &rows)? {
                table(&list, now, ttl, j.format()).print("No preview namespaces found.");
            }
            Ok(ExitCode::SUCCESS)
        }
        PreviewsCmd::Clean {
            older_than,
            orphaned,
            dry_run,
            m,
            j,
        } => {
            let ttl = older_than
                .unwrap_or(session.settings.config.previews.ttl)
                .chrono();
            let mut candidates: Vec<String> = previews::stale(&list, &prefix, now, ttl)
                .into_iter()
                .map(|p| p.namespace.clone())
                .collect();
            if *orphaned {
                for p in previews::orphaned(&list, &prefix) {
                    if !candidates.contains(&p.namespace) {
                        candidates.push(p.namespace.clone());
                    }
                }
            }
            // Asked before anything is proposed, so that neither a dry run nor the count to
            // confirm names a namespace that will not be deleted; asked again at the delete.
            let (mut stale, mut kept, mut unchecked) = (Vec::new(), Vec::new(), false);
            for ns in candidates {
                match session.backends.cluster.keeps(&ns).await {
                    Ok(None) => stale.push(ns),
                    Ok(Some(why)) => kept.push((ns, why)),
                    Err(e) => {
                        unchecked = true;
                        kept.push((ns, e.to_string()));
                    }
                }
            }
            let kept_json: Vec<_> = kept
                .iter()
                .map(|(ns, why)| json!({"namespace": ns, "why": why}))
                .collect();
            let failed = if unchecked {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
            if *dry_run || stale.is_empty() {
                let plan = json!({"dry_run": dry_run, "stale": stale, "kept": kept_json});
                if !out::structured(j.format(), &plan)? {
                    for (ns, why) in &kept {
                        say!("keep {ns}: {why}");
                    }
                    if stale.is_empty() {
                        say!(
                            "no preview to delete older than {}{}",
                            format_span(ttl.to_std().unwrap_or_default()),
                            if *orphaned { " nor orphaned" } else { "" }
                        );
                    }
                    for ns in &stale {
                        say!("would delete {ns}");
                    }
                }
                return Ok(failed);
            }
            for (ns, why) in &kept {
                say_err!("{ns}: kept: {why}");
            }
            let (mut op, _) = session.operator().await?;
            let command = Command::CleanStale { namespaces: stale };
            let proposal = command.propose(Some(&op.train));
            let confirmed = confirm(command, &proposal, m)?;
            let outcome = op.execute(confirmed, session.clock.now()).await?;
            let code = report(&outcome, j.format())?;
            Ok(if unchecked { failed } else { code })
        }
    }
}
