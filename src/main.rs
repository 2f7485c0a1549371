//! `captain`: the console, or one of its subcommands.

use std::process::ExitCode;

use color_eyre::eyre::{Result, WrapErr, eyre};

use captain::cli::Cli;
use captain::launch::Session;
use captain::ops::starting::{self, Begin};
use captain::tui::keymap::Keymap;
use captain::tui::run::Console;
use captain::tui::{App, Theme};
use captain::{headless, paths};

/// `eprintln!` that never panics, even on a closed stderr.
macro_rules! say_err {
    ($($arg:tt)*) => {
        headless::out::stderr_line(format_args!($($arg)*))
    };
}

fn main() -> ExitCode {
    captain::allocator::tune();
    if let Err(e) = color_eyre::install() {
        say_err!("captain: {e}");
    }
    // Both rustls crypto providers are linked (the HTTP clients differ); pick one for the
    // whole process so no client has to guess.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = Cli::parse_or_exit();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            say_err!("captain: starting the runtime: {e}");
            return ExitCode::from(3);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            // Errors carry servers' answers: escaped, they cannot drive the terminal.
            say_err!("captain: {}", captain::text::sanitize(&format!("{e:#}")));
            ExitCode::from(3)
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let code = match &cli.command {
        Some(cmd) => headless::run(&cli, cmd).await,
        None => console(cli).await,
    };
    // What the last actions left on its way (the journal's head to the cluster, a webhook
    // post, the lease given up) goes out before the process.
    let left = captain::ops::background::finish(LAST_WORDS).await;
    if left > 0 {
        log::warn!(
            "{left} background task(s) (the journal's head to the cluster, webhook posts) did not end within {}s",
            LAST_WORDS.as_secs()
        );
    }
    // Every action's span, to the collector of `[otel]` if there is one.
    captain::ops::telemetry::finish(captain::ops::telemetry::FLUSH).await;
    code
}

/// How long an exiting process waits for what its actions left running.
const LAST_WORDS: std::time::Duration = std::time::Duration::from_secs(10);

async fn console(cli: Cli) -> Result<ExitCode> {
    let session = Session::open(&cli).await?;
    let s = &session.settings;
    let theme_name = cli.theme.clone().or_else(|| s.config.ui.theme.clone());
    let theme = match theme_name {
        Some(name) => Theme::load(&name, paths::user_theme_dir().as_deref())?,
        None => Theme::default_theme(),
    };
    let keymap = Keymap::new(s.read_only, &s.config.keys).map_err(|e| eyre!(e))?;
    // After what a file can get wrong, before anything starts.
    captain::tui::run::need_terminal()?;
    init_logging()?;
    let session = std::sync::Arc::new(session);
    let s = &session.settings;
    // No source's failure stops the console: a train it cannot read yet is tried again.
    let operator = match session.operator().await {
        Ok((op, _)) => Begin::Ready(Box::new(op)),
        Err(e) if starting::retryable(&e) => {
            let again = session.clone();
            let start: starting::Start = Box::new(move || {
                let session = again.clone();
                Box::pin(async move {
                    session
                        .operator()
                        .await
                        .map(|(op, _)| op)
                        .map_err(|e| captain::text::sanitize(&format!("{e:#}")).into_owned())
                })
            });
            let why = captain::text::sanitize(&format!("{e:#}")).into_owned();
            let slo = Box::new(starting::Slos {
                metrics: session.backends.metrics.clone(),
                config: session.slo.clone(),
            });
            Begin::Later { start, why, slo }
        }
        Err(e) => return Err(e),
    };
    let mut app = App::new(
        keymap,
        session.label.clone(),
        s.config.release.name.clone(),
        session.plan.clone(),
        session.phases.clone(),
    );
    app.series
        .chart(captain::engine::signals::GoldenSet::of(&session.slo));
    app.preview_prefix = s.config.previews.prefix.clone();
    app.bell = s.config.ui.bell;
    app.ttl = s.config.previews.ttl.chrono();
    log::info!(
        "captain on {}; audit journal {}",
        session.label,
        s.audit_path().display()
    );
    let console = Console {
        app,
        theme,
        clock: session.clock.clone(),
        operator,
        backends: session.backends.clone(),
        world: session.world.clone(),
        tick: session.tick,
    };
    Ok(captain::tui::run::run(console).await?.exit_code())
}

/// Every log line goes to the log pane and to the log file in the state dir.
fn init_logging() -> Result<()> {
    let file = paths::log_file();
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).wrap_err_with(|| format!("creating {}", dir.display()))?;
    }
    captain::tui::logging::init(Some(&file)).map_err(|e| eyre!("starting the log: {e}"))
}
