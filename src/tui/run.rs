//! The loop: one task owns the state and selects over key presses, the operator's updates,
//! the source feeds and a redraw tick. The terminal is restored on quit, on panic (the
//! hook ratatui installs) and on SIGINT/SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use super::input::handle_key;
use super::state::App;
use super::theme::Theme;
use crate::clock::Clock;
use crate::ops::{Operator, driver};
use crate::sim::World;
use crate::sources::Backends;

/// Everything the console needs to start.
pub struct Console {
    pub app: App,
    pub theme: Theme,
    pub clock: Arc<dyn Clock>,
    pub operator: Operator,
    pub backends: Backends,
    /// The demo world's heartbeat, when the console shows one.
    pub world: Option<World>,
    /// Real time between two measurements.
    pub tick: Duration,
}

/// Restores the terminal when dropped, whatever ends the loop.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

pub async fn run(c: Console) -> Result<()> {
    let Console {
        mut app,
        theme,
        clock,
        operator,
        backends,
        world,
        tick,
    } = c;
    let mut sigterm = signal(SignalKind::terminate()).wrap_err("installing the SIGTERM handler")?;
    let mut sigint = signal(SignalKind::interrupt()).wrap_err("installing the SIGINT handler")?;
    let (request_tx, request_rx) = mpsc::channel(8);
    let (update_tx, mut update_rx) = mpsc::channel(256);
    tokio::spawn(driver::run(
        operator,
        clock.clone(),
        tick,
        request_rx,
        update_tx,
    ));
    if let Some(w) = world {
        tokio::spawn(w.run(tick.min(Duration::from_millis(500))));
    }
    let mut previews = backends.cluster.previews();
    let mut main = backends.forge.main_health();
    app.set_previews(previews.borrow_and_update().clone());
    app.set_main(main.borrow_and_update().clone());

    let mut terminal = ratatui::init();
    let _restore = Restore;
    let mut events = EventStream::new();
    // Ages and time left move with the clock even when no data arrives.
    let mut redraw = tokio::time::interval(Duration::from_millis(250));
    loop {
        terminal
            .draw(|f| super::draw(f, &app, clock.now(), &theme))
            .wrap_err("drawing the screen")?;
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => {
                    if let Some(confirmed) = handle_key(&mut app, k, clock.now()) {
                        log::info!("confirmed: {} ({})", confirmed.command.action(), confirmed.confirmation.label());
                        if request_tx.send(confirmed).await.is_err() {
                            app.ui.status = Some(("the operator stopped; actions are unavailable".into(), true));
                        }
                    }
                }
                Some(Ok(_)) => {}
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
            }
            Ok(()) = previews.changed() => app.set_previews(previews.borrow_and_update().clone()),
            Ok(()) = main.changed() => app.set_main(main.borrow_and_update().clone()),
            _ = redraw.tick() => {}
            _ = sigterm.recv() => break,
            _ = sigint.recv() => break,
        }
        if app.quit {
            break;
        }
    }
    Ok(())
}
