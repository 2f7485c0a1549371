//! The loop: one task owns the state and selects over key presses, the operator's updates,
//! the source feeds, new log records and a one-second clock, and draws only after one of them
//! changed something. The terminal is restored on quit, on panic (the
//! hook ratatui installs) and on SIGHUP, SIGINT, SIGQUIT, SIGUSR1 and SIGTERM, after which
//! the process exits 128 + the signal's number, as a shell reports a process it killed.

use std::sync::Arc;
use std::time::Duration;

use std::io::IsTerminal;

use color_eyre::eyre::{Result, WrapErr, bail};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::sync::mpsc;

use super::input::handle_key;
use super::state::App;
use super::theme::Theme;
use crate::clock::Clock;
use crate::ops::driver;
use crate::ops::starting::{self, Begin};
use crate::sim::World;
use crate::sources::Backends;

/// Everything the console needs to start.
pub struct Console {
    pub app: App,
    pub theme: Theme,
    pub clock: Arc<dyn Clock>,
    pub operator: Begin,
    pub backends: Backends,
    /// The demo world's heartbeat, when the console shows one.
    pub world: Option<World>,
    /// Real time between two measurements.
    pub tick: Duration,
}

/// Restores the terminal when dropped, whatever ends the loop: raw mode off, the alternate
/// screen left, the cursor shown. Each step is tried even if one before it failed (after a
/// SIGHUP the terminal may be gone), and a failure is not reported: there is nowhere left to.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
        let mut out = std::io::stdout();
        let _ = crossterm::execute!(out, crossterm::terminal::LeaveAlternateScreen);
        let _ = crossterm::execute!(out, crossterm::cursor::Show);
        super::logging::flush();
    }
}

/// How the console ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Quit from the keyboard (`q`, `ctrl-c`), or the terminal's input ended.
    Quit,
    /// Ended by this signal (its number).
    Signal(i32),
}

impl Ended {
    /// 0 on quit; 128 + the signal's number on a signal (`docs/runbook.md`).
    pub fn exit_code(self) -> std::process::ExitCode {
        match self {
            Ended::Quit => std::process::ExitCode::SUCCESS,
            Ended::Signal(n) => crate::ending::exit_code(n),
        }
    }
}

/// Open `url` with the desktop's opener (`open` on macOS, `xdg-open` elsewhere), without
/// waiting for it: a browser must not hold the console up. A URL is passed as one argument,
/// never through a shell.
fn open_url(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let spawned = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match spawned {
        // Reaped in the background, so no zombie is left behind.
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
        }
        Err(e) => log::warn!("cannot open {url} with {opener}: {e}"),
    }
}

/// The console draws on a terminal: without one (output piped, run from cron) it refuses
/// with why, before anything starts.
pub fn need_terminal() -> Result<()> {
    if !std::io::stdout().is_terminal() {
        bail!(
            "the console needs a terminal, and stdout is not one; for scripts and CI use a subcommand (captain --help lists them)"
        );
    }
    Ok(())
}

pub async fn run(c: Console) -> Result<Ended> {
    let Console {
        mut app,
        theme,
        clock,
        operator,
        backends,
        world,
        tick,
    } = c;
    // The log pane tells the time by the header's clock.
    super::logging::set_clock(clock.clone());
    let mut ending =
        crate::ending::Ending::listen().wrap_err("installing the ending signals' handlers")?;
    let (request_tx, request_rx) = mpsc::channel(8);
    let (update_tx, mut update_rx) = mpsc::channel(256);
    // The operator's task ends once the console is gone (its requests closed): it gives
    // the lease up and sees its webhook posts and the journal's head out. The process
    // waits for that before it exits (`ops::background`).
    crate::ops::background::keep(match operator {
        Begin::Ready(op) => {
            tokio::spawn(driver::run(*op, clock.clone(), tick, request_rx, update_tx))
        }
        Begin::Later { start, why, slo } => tokio::spawn(starting::run(
            start,
            why,
            slo,
            clock.clone(),
            tick,
            request_rx,
            update_tx,
        )),
    });
    if let Some(w) = world {
        tokio::spawn(w.run(tick.min(Duration::from_secs(1))));
    }
    let mut previews = backends.cluster.previews();
    let mut main = backends.forge.main_health();
    app.set_previews(previews.borrow_and_update().clone());
    app.set_main(main.borrow_and_update().clone());

    need_terminal()?;
    app.hyperlinks = true;
    let _restore = Restore;
    let mut terminal = ratatui::try_init().wrap_err("setting up the terminal")?;
    let mut events = EventStream::new();
    // Ages, time left and the header's clock move with the clock even when no data arrives:
    // once a second is all they need. Everything else draws because something changed.
    let mut clock_tick = tokio::time::interval(Duration::from_secs(1));
    clock_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut changed = true;
    loop {
        if std::mem::take(&mut changed) {
            app.take_log();
            if let Ok(size) = terminal.size() {
                app.ui.size = (size.width, size.height);
            }
            terminal
                .draw(|f| super::draw(f, &app, clock.now(), &theme))
                .wrap_err("drawing the screen")?;
        }
        if std::mem::take(&mut app.ring) {
            use std::io::Write as _;
            let mut out = std::io::stdout();
            // BEL: the terminal beeps, or flashes, or marks the tab, as its user chose.
            let _ = out.write_all(b"\x07").and_then(|()| out.flush());
        }
        if let Some(url) = app.open.take() {
            open_url(&url);
        }
        changed = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => {
                    if let Some(confirmed) = handle_key(&mut app, k, clock.now()) {
                        log::info!("confirmed: {} ({})", confirmed.command.action(), confirmed.confirmation.label());
                        if request_tx.send(confirmed).await.is_err() {
                            app.ui.status = Some(("the operator stopped; actions are unavailable".into(), true));
                        }
                    }
                    true
                }
                Some(Ok(Event::Resize(..))) => true,
                // Mouse, focus and paste: nothing on screen depends on them.
                Some(Ok(_)) => false,
                Some(Err(e)) => return Err(e).wrap_err("reading the terminal"),
                None => break,
            },
            Some(update) = update_rx.recv() => {
                // Take everything already queued (a tick's several updates, the chart
                // history at start) before drawing once, not once per update.
                app.apply(update);
                while let Ok(more) = update_rx.try_recv() {
                    app.apply(more);
                }
                true
            }
            // A feed's news waits for the next second's frame: nothing in a list of
            // previews or main's checks needs to be seen sooner, and a feed that confirms
            // itself often (a watch's bookmarks, the demo world's heartbeat) then costs no
            // frames of its own. The operator's updates and keys draw at once.
            Ok(()) = previews.changed() => {
                app.set_previews(previews.borrow_and_update().clone());
                false
            }
            Ok(()) = main.changed() => {
                app.set_main(main.borrow_and_update().clone());
                false
            }
            _ = clock_tick.tick() => true,
            () = super::logging::arrived() => true,
            number = ending.next() => return Ok(Ended::Signal(number)),
        };
        if app.quit {
            break;
        }
    }
    Ok(Ended::Quit)
}
