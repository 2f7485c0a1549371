//! The log of a subcommand: every line at info and above appended to the log file in the
//! state dir, as the console writes it, and warnings and errors also on stderr, so a CI job
//! shows why captain did what it did (a lost lease, drift, a shared state written anew)
//! beside its exit code. The console logs through `tui::logging` instead.

use std::io::Write as _;
use std::sync::Mutex;

struct Headless {
    file: Mutex<Option<std::fs::File>>,
}

impl log::Log for Headless {
    fn enabled(&self, meta: &log::Metadata) -> bool {
        meta.level() <= log::Level::Info
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        // What servers answered is in the message: escaped, it cannot drive a terminal.
        let message = crate::text::sanitize(&record.args().to_string()).into_owned();
        let line = format!(
            "{} {:<5} {message}",
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            record.level(),
        );
        if record.level() <= log::Level::Warn {
            super::out::stderr_line(format_args!(
                "captain: {}: {message}",
                record.level().as_str().to_lowercase(),
            ));
        }
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = file.as_mut()
            && writeln!(f, "{line}").is_err()
        {
            // A log file that cannot be written is not a reason to stop a rollback.
            *file = None;
        }
    }

    fn flush(&self) {
        if let Some(f) = self.file.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            let _ = f.flush();
        }
    }
}

/// Start logging for a subcommand; a second call (or a logger already set) is a no-op.
pub fn init() {
    let path = crate::paths::log_file();
    let file = path
        .parent()
        .and_then(|dir| std::fs::create_dir_all(dir).ok())
        .and_then(|()| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .ok()
        });
    let logger = Box::new(Headless {
        file: Mutex::new(file),
    });
    if log::set_boxed_logger(logger).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
}
