//! Keys in, intent out: a key press becomes an action through the keymap; a risky action
//! opens a confirmation dialog; only a satisfied dialog returns a `Confirmed` command.

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::dialogs::confirm::{Answer, ConfirmDialog};
use super::dialogs::{help, palette};
use super::keymap::Action;
use super::state::{App, Mode, Panel};
use crate::engine::sentinel;
use crate::engine::train::TrainCommand;
use crate::ops::command::PhaseCommand;
use crate::ops::progress;
use crate::ops::{ActionKind, Command, Confirmed};

/// Handle one key; returns a command when the human has just confirmed one.
pub fn handle_key(app: &mut App, ev: KeyEvent, now: DateTime<Utc>) -> Option<Confirmed> {
    let ctrl_c = ev.code == KeyCode::Char('c') && ev.modifiers.contains(KeyModifiers::CONTROL);
    match &mut app.ui.mode {
        Mode::Confirm(dialog) => match dialog.key(ev) {
            Answer::Pending => None,
            Answer::Cancel => {
                app.ui.status = Some((format!("{}: cancelled", dialog.proposal.title), false));
                app.ui.mode = Mode::Normal;
                None
            }
            Answer::Confirm(c) => {
                app.ui.status = Some((format!("{}: sent", dialog.proposal.title), false));
                app.ui.mode = Mode::Normal;
                Some(c)
            }
        },
        Mode::Help => {
            // The help page scrolls with the keys that scroll everything else.
            let rows = app.keymap.bindings().len();
            // The header and the footer take a row each; before the first frame, anything.
            let last = match app.ui.size {
                (_, 0) => rows.saturating_sub(1),
                (_, h) => rows.saturating_sub(help::rows_that_fit(rows, h.saturating_sub(2))),
            };
            let scroll = &mut app.ui.help_scroll;
            match app.keymap.lookup(&ev, app.ui.focus) {
                Some(Action::Up) => *scroll = scroll.saturating_sub(1),
                Some(Action::Down) => *scroll = (*scroll + 1).min(last),
                Some(Action::PageUp) => *scroll = scroll.saturating_sub(PAGE.unsigned_abs()),
                Some(Action::PageDown) => *scroll = (*scroll + PAGE.unsigned_abs()).min(last),
                Some(Action::Help | Action::Quit) => app.ui.mode = Mode::Normal,
                _ if ev.code == KeyCode::Esc || ctrl_c => app.ui.mode = Mode::Normal,
                _ => {}
            }
            None
        }
        Mode::Filter => {
            let slot = &mut app.ui.filters[app.ui.focus.index()];
            match ev.code {
                KeyCode::Esc => {
                    slot.clear();
                    app.ui.mode = Mode::Normal;
                }
                KeyCode::Enter => app.ui.mode = Mode::Normal,
                KeyCode::Backspace => {
                    slot.pop();
                }
                KeyCode::Char(c) if !ctrl_c => slot.push(c),
                _ if ctrl_c => app.ui.mode = Mode::Normal,
                _ => {}
            }
            app.ui.selected[app.ui.focus.index()] = 0;
            None
        }
        Mode::Palette { input, selected } => match ev.code {
            KeyCode::Esc => {
                app.ui.mode = Mode::Normal;
                None
            }
            _ if ctrl_c => {
                app.ui.mode = Mode::Normal;
                None
            }
            KeyCode::Up => {
                *selected = selected.saturating_sub(1);
                None
            }
            KeyCode::Down => {
                *selected += 1;
                None
            }
            KeyCode::Backspace => {
                input.pop();
                *selected = 0;
                None
            }
            KeyCode::Char(c) => {
                input.push(c);
                *selected = 0;
                None
            }
            KeyCode::Enter => {
                let hits = palette::matches(&app.keymap, input);
                let action = hits
                    .get((*selected).min(hits.len().saturating_sub(1)))
                    .map(|b| b.action);
                app.ui.mode = Mode::Normal;
                action.and_then(|a| run(app, a, now))
            }
            _ => None,
        },
        Mode::Normal => {
            let action = app.keymap.lookup(&ev, app.ui.focus)?;
            run(app, action, now)
        }
    }
}

/// Carry out an action from the keymap or the palette.
pub fn run(app: &mut App, action: Action, now: DateTime<Utc>) -> Option<Confirmed> {
    let focus = app.ui.focus;
    let confirm = |app: &mut App, command: Command| {
        if let Some(why) = app.denied.get(&command.action()) {
            app.ui.status = Some((format!("{} is unavailable: {why}", command.action()), true));
            return None;
        }
        // What the train would refuse is said at the key press, before any dialog asks
        // for a reason it would then throw away.
        if let (Command::Train(cmd), Some(t)) = (&command, app.train.as_deref())
            && let Err(refused) = t.clone().command(cmd, now)
        {
            app.ui.status = Some((format!("{} refused: {refused}", command.action()), true));
            return None;
        }
        app.ui.mode = Mode::Confirm(Box::new(ConfirmDialog::new(command, app.train.as_deref())));
        None
    };
    let asked_to_quit = std::mem::take(&mut app.ui.quit_asked);
    match action {
        Action::Quit => match app.quit_warning() {
            // Auto-rollback goes with this console: say so, and quit on a second press.
            Some(warning) if !asked_to_quit => {
                app.ui.status = Some((warning, true));
                app.ui.quit_asked = true;
            }
            _ => app.quit = true,
        },
        Action::Help => {
            app.ui.help_scroll = 0;
            app.ui.mode = Mode::Help;
        }
        Action::Palette => {
            app.ui.mode = Mode::Palette {
                input: String::new(),
                selected: 0,
            }
        }
        Action::Filter => {
            if matches!(focus, Panel::Phases | Panel::Previews | Panel::Log) {
                app.ui.mode = Mode::Filter;
            } else {
                app.ui.status = Some((
                    "/ filters the Phases and Previews lists and the log".into(),
                    false,
                ));
            }
        }
        Action::NextPanel => app.focus_step(1),
        Action::PrevPanel => app.focus_step(-1),
        Action::Focus(p) => app.ui.focus = p,
        Action::Up => move_by(app, focus, -1),
        Action::Down => move_by(app, focus, 1),
        Action::PageUp => move_by(app, focus, -PAGE),
        Action::PageDown => move_by(app, focus, PAGE),
        Action::Zoom => app.ui.zoomed = !app.ui.zoomed,
        Action::NextChart => {
            app.ui.chart_pair = (app.ui.chart_pair + 1) % app.series.golden.pairs().max(1);
        }
        Action::Act(ActionKind::Start) => {
            app.ui.status = Some((
                "captain starts a new revision's canary by itself".into(),
                false,
            ));
        }
        Action::Act(ActionKind::Promote) => {
            return confirm(app, Command::Train(TrainCommand::Promote));
        }
        Action::Act(ActionKind::PromoteFull) => {
            return confirm(app, Command::Train(TrainCommand::PromoteFull));
        }
        Action::Act(ActionKind::Pause) => return confirm(app, Command::Train(TrainCommand::Pause)),
        Action::Act(ActionKind::Resume) => {
            return confirm(app, Command::Train(TrainCommand::Resume));
        }
        Action::Act(ActionKind::Rollback) => {
            return confirm(
                app,
                Command::Train(TrainCommand::Rollback { to_revision: None }),
            );
        }
        Action::Act(ActionKind::Abort) => return confirm(app, Command::Train(TrainCommand::Abort)),
        Action::Act(ActionKind::DeletePreview) => match app.selected_preview() {
            Some(p) => {
                let namespace = p.namespace.clone();
                return confirm(app, Command::DeletePreview { namespace });
            }
            None => app.ui.status = Some(("no preview selected".into(), true)),
        },
        Action::OpenPreview => match app.selected_preview() {
            Some(p) => match p.url.clone() {
                // Only a web address goes to the opener: a description could hold anything.
                Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                    app.ui.status = Some((format!("opening {url}"), false));
                    app.open = Some(url);
                }
                _ => {
                    let why = format!("{} has no preview URL", p.namespace);
                    app.ui.status = Some((why, true));
                }
            },
            None => app.ui.status = Some(("no preview selected".into(), true)),
        },
        Action::Act(
            kind @ (ActionKind::PhaseStart
            | ActionKind::PhaseForceStart
            | ActionKind::PhaseValidate
            | ActionKind::PhaseConfirm
            | ActionKind::PhaseRollBack),
        ) => {
            let rows = app.phase_rows();
            let Some(&phase) = rows.get(app.ui.selected[Panel::Phases.index()]) else {
                app.ui.status = Some(("no phase selected".into(), true));
                return None;
            };
            let pc = match kind {
                ActionKind::PhaseStart => PhaseCommand::Start {
                    phase,
                    force: false,
                },
                ActionKind::PhaseForceStart => PhaseCommand::Start { phase, force: true },
                ActionKind::PhaseValidate => PhaseCommand::Validate { phase },
                ActionKind::PhaseConfirm => PhaseCommand::Confirm { phase },
                _ => PhaseCommand::RollBack { phase },
            };
            let command = Command::Phase(pc.clone());
            if let Some(why) = app.denied.get(&command.action()) {
                app.ui.status = Some((format!("{} is unavailable: {why}", command.action()), true));
                return None;
            }
            let proposal = progress::propose(&pc, &app.plan, &app.phases);
            app.ui.mode = Mode::Confirm(Box::new(ConfirmDialog::with_proposal(
                Command::Phase(pc),
                proposal,
            )));
        }
        Action::Act(ActionKind::Sentinel) => {
            let Some(main) = app.main.value.clone() else {
                app.ui.status = Some(("main's health is not known yet".into(), true));
                return None;
            };
            let (why, relabel) = sentinel::plan(main.overall(), &main.open_prs);
            if relabel.is_empty() {
                app.ui.status = Some((format!("{}: no label to change", why.label()), false));
            } else {
                return confirm(app, Command::Sentinel { why, relabel });
            }
        }
        Action::Act(ActionKind::CleanStale) => {
            let namespaces = app.stale_previews(now);
            if namespaces.is_empty() {
                app.ui.status = Some(("no stale previews to clean".into(), false));
            } else {
                return confirm(app, Command::CleanStale { namespaces });
            }
        }
    }
    None
}

/// How far PgUp and PgDn move.
const PAGE: isize = 10;

/// Move the focused list's selection `by` rows (down when positive). The log is read from
/// the bottom: its selection counts the newest records scrolled past, so up goes back.
fn move_by(app: &mut App, focus: Panel, by: isize) {
    let n = app.row_count(focus);
    let by = if focus == Panel::Log { -by } else { by };
    let s = &mut app.ui.selected[focus.index()];
    *s = s.saturating_add_signed(by).min(n.saturating_sub(1));
}
