//! The console's log: every `log` record goes to the log pane and to `captain.log` through
//! tui-logger, with its text escaped first (`crate::text`), so an answer from a server
//! cannot drive the terminal, or forge a line of the log file, when it is logged.
//!
//! tui-logger offers no way to stand between a record and its sinks except its tracing
//! layer, so records are handed to that layer as tracing events of target `captain`; the
//! tracing events of other crates are not shown, as before.
//!
//! tui-logger's own mover thread, which wakes every 10 ms to carry records from its intake to
//! the pane and the file, is not started: the console carries them itself before each frame
//! (`flush`), and every record wakes the console (`arrived`), so an idle console sleeps
//! (`docs/architecture.md`, "Drawing").

use std::path::Path;

use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;

/// The target every record reaches tui-logger under.
const TARGET: &str = "captain";

struct Escaping;

impl log::Log for Escaping {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let text = record.args().to_string();
        let text = crate::text::sanitize_line(&text);
        let level = record.level();
        match level {
            log::Level::Error => tracing::error!(target: TARGET, "{text}"),
            log::Level::Warn => tracing::warn!(target: TARGET, "{text}"),
            log::Level::Info => tracing::info!(target: TARGET, "{text}"),
            log::Level::Debug => tracing::debug!(target: TARGET, "{text}"),
            log::Level::Trace => tracing::trace!(target: TARGET, "{text}"),
        }
        ARRIVED.notify_one();
    }

    fn flush(&self) {}
}

static ESCAPING: Escaping = Escaping;

/// Woken by every record: the pane has something new to show.
static ARRIVED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Resolves when a record arrived since the last call (or since start).
pub async fn arrived() {
    ARRIVED.notified().await;
}

/// Carry the records logged so far to the pane and to `captain.log`: before each frame, and
/// once more when the console ends, so the file misses nothing.
pub fn flush() {
    tui_logger::move_events();
}

/// Start the log at `Info`: the pane, and `file` when given. Once per process.
pub fn init(file: Option<&Path>) -> Result<(), String> {
    tui_logger::set_default_level(log::LevelFilter::Info);
    if let Some(file) = file {
        tui_logger::set_log_file(
            tui_logger::TuiLoggerFile::new(&file.to_string_lossy())
                .output_file(false)
                .output_line(false),
        );
    }
    let layer = tui_logger::TuiTracingSubscriberLayer.with_filter(
        tracing_subscriber::filter::filter_fn(|m| m.target() == TARGET),
    );
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
        .map_err(|e| e.to_string())?;
    log::set_logger(&ESCAPING).map_err(|e| e.to_string())?;
    log::set_max_level(log::LevelFilter::Info);
    Ok(())
}
