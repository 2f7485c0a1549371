//! The console's log: every `log` record, its text escaped first (`crate::text`) so an answer
//! from a server cannot drive the terminal or forge a line of the log file, is
//!
//! - appended to `captain.log` at once, stamped with the wall clock in UTC (`…Z`), in the
//!   format the subcommands write (`headless::logging`);
//! - kept for the log pane, stamped with the console's clock, the header's (the demo's
//!   runs `--speed` times faster), until the loop takes it (`take`) before the next frame.
//!
//! Every record wakes the console (`arrived`), so an idle console sleeps
//! (`docs/architecture.md`, "Drawing"). The pane is drawn from the records the loop took,
//! with ratatui's widgets (`tui::panels::log`).

use std::collections::VecDeque;
use std::io::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};

use crate::clock::Clock;

/// One line of the log pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// On the console's clock.
    pub at: DateTime<Utc>,
    pub level: log::Level,
    pub text: String,
}

/// Records kept for the pane before the loop takes them: a console that cannot draw (its
/// terminal gone) must not grow without bound.
const INTAKE: usize = 10_000;

struct Console {
    clock: RwLock<Option<Arc<dyn Clock>>>,
    intake: Mutex<VecDeque<Record>>,
    file: Mutex<Option<std::fs::File>>,
}

impl log::Log for Console {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let text = record.args().to_string();
        let text = crate::text::sanitize_line(&text).into_owned();
        let level = record.level();
        {
            let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
            let line = format!(
                "{} {:<5} {text}",
                Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                level
            );
            if let Some(f) = file.as_mut()
                && writeln!(f, "{line}").is_err()
            {
                // A log file that cannot be written is not a reason to stop a rollback.
                *file = None;
            }
        }
        let at = self
            .clock
            .read()
            .ok()
            .and_then(|c| c.as_ref().map(|c| c.now()))
            .unwrap_or_else(Utc::now);
        {
            let mut intake = self.intake.lock().unwrap_or_else(|e| e.into_inner());
            if intake.len() == INTAKE {
                intake.pop_front();
            }
            intake.push_back(Record { at, level, text });
        }
        ARRIVED.notify_one();
    }

    fn flush(&self) {
        if let Some(f) = self.file.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            let _ = f.flush();
        }
    }
}

static CONSOLE: Console = Console {
    clock: RwLock::new(None),
    intake: Mutex::new(VecDeque::new()),
    file: Mutex::new(None),
};

/// Woken by every record: the pane has something new to show.
static ARRIVED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Resolves when a record arrived since the last call (or since start).
pub async fn arrived() {
    ARRIVED.notified().await;
}

/// Stamp the pane's records with `clock`, the one the header shows.
pub fn set_clock(clock: Arc<dyn Clock>) {
    if let Ok(mut c) = CONSOLE.clock.write() {
        *c = Some(clock);
    }
}

/// The records logged since the last call, oldest first.
pub fn take() -> VecDeque<Record> {
    std::mem::take(&mut *CONSOLE.intake.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Write out what `captain.log` has buffered: when the console ends.
pub fn flush() {
    log::Log::flush(&CONSOLE);
}

/// Start the log at `Info`: the pane, and `file` when given. Once per process.
pub fn init(file: Option<&Path>) -> Result<(), String> {
    if let Some(path) = file {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("opening {}: {e}", path.display()))?;
        *CONSOLE.file.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
    }
    // The libraries' own tracing events (the Kubernetes client's, the HTTP stack's) stay
    // out of the pane and the file, as they always have: with no subscriber set, tracing
    // would hand each of them to this logger.
    tracing::subscriber::set_global_default(tracing::subscriber::NoSubscriber::default())
        .map_err(|e| e.to_string())?;
    log::set_logger(&CONSOLE).map_err(|e| e.to_string())?;
    log::set_max_level(log::LevelFilter::Info);
    Ok(())
}
