//! The signals that end a long-running command (the console, `canary status --watch`) and
//! the status each gives: 128 + the signal's number, as a shell reports a process it killed
//! (`docs/runbook.md`, "Exit codes").

use std::process::ExitCode;

use tokio::signal::unix::{Signal, SignalKind, signal};

/// SIGHUP, SIGINT, SIGQUIT, SIGUSR1 and SIGTERM.
const ENDING: [SignalKind; 5] = [
    SignalKind::hangup(),
    SignalKind::interrupt(),
    SignalKind::quit(),
    SignalKind::user_defined1(),
    SignalKind::terminate(),
];

/// Handlers for every ending signal, installed at once so none of them kills the process
/// before it has said goodbye (restored the terminal, let go of what it holds).
pub struct Ending(Vec<(Signal, i32)>);

impl Ending {
    /// Must be called inside the tokio runtime.
    pub fn listen() -> std::io::Result<Self> {
        let mut all = Vec::with_capacity(ENDING.len());
        for kind in ENDING {
            all.push((signal(kind)?, kind.as_raw_value()));
        }
        Ok(Ending(all))
    }

    /// The number of the first of the signals to arrive.
    pub async fn next(&mut self) -> i32 {
        let arrivals = self.0.iter_mut().map(|(s, number)| {
            Box::pin(async move {
                s.recv().await;
                *number
            })
        });
        futures::future::select_all(arrivals).await.0
    }
}

/// 128 + `number`.
pub fn exit_code(number: i32) -> ExitCode {
    ExitCode::from(u8::try_from(128 + number).unwrap_or(255))
}
