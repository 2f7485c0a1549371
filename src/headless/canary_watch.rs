//! `captain canary status --watch`: the train printed again each time it changes, as
//! `kubectl get -w` does, until a signal ends it (exit 128 + its number, `docs/runbook.md`).
//! It only looks: a fresh read-only observer each time, never the lease nor a write.

use std::process::ExitCode;

use color_eyre::eyre::{Result, WrapErr};
use tokio::sync::watch;

use super::canary::{status_lines, summary};
use super::out::Format;
use crate::launch::Session;

pub async fn run(cli: &crate::cli::Cli, format: Format) -> Result<ExitCode> {
    let session = &Session::open(cli).await?;
    let mut ending = crate::ending::Ending::listen().wrap_err("listening for signals")?;
    // What moves the train: the route's weight and the shared train's documents. The
    // measurement tick catches the rest (Helm's history, a train adopted anew).
    let mut weight = session.backends.cluster.canary_weight_feed();
    let mut docs = session.shared.docs();
    let mut every = tokio::time::interval(session.tick);
    let mut last: Option<Vec<String>> = None;
    loop {
        let op = tokio::select! {
            op = session.observer() => op?,
            number = ending.next() => return Ok(crate::ending::exit_code(number)),
        };
        // What this format shows: a verdict the text table leaves out is no change to it.
        let shown = if format == Format::Text {
            Format::Text
        } else {
            Format::Wide
        };
        let lines = status_lines(&op, shown);
        if last.as_ref() != Some(&lines) {
            print(&op, format, last.is_none())?;
            last = Some(lines);
            // `… --watch | head -3`: once the reader has gone, there is no one to watch for.
            if super::out::stdout_gone() {
                return Ok(ExitCode::SUCCESS);
            }
        }
        tokio::select! {
            number = ending.next() => return Ok(crate::ending::exit_code(number)),
            () = changed(&mut weight) => {}
            () = changed(&mut docs) => {}
            _ = every.tick() => {}
        }
    }
}

/// The header once, then a row per change; JSON one document a line, YAML documents
/// separated by `---`.
fn print(op: &crate::ops::Operator, format: Format, first: bool) -> Result<()> {
    match format {
        Format::Json => say!("{}", serde_json::to_string(&summary(op))?),
        Format::Yaml => say!(
            "---\n{}",
            serde_yaml_ng::to_string(&summary(op))?.trim_end()
        ),
        Format::Text | Format::Wide => {
            let lines = status_lines(op, format);
            for line in lines.iter().skip(usize::from(!first)) {
                say!("{line}");
            }
        }
    }
    Ok(())
}

/// The next change of a feed; a feed whose source has gone never changes again.
async fn changed<T>(feed: &mut watch::Receiver<T>) {
    if feed.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}
