//! The whole screen, drawn from the state and a clock: no I/O, no mutation. Wide
//! terminals get every panel at once; small ones (down to 80×24) a tab bar and the focused
//! panel, so nothing is squeezed into uselessness.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::dialogs::{confirm, help, palette};
use super::keymap::Action;
use super::panels;
use super::state::{App, Mode, Panel};
use super::theme::Theme;
use crate::config::duration::format_span;
use crate::engine::main_health::Overall;
use crate::ops::ActionKind;

/// Below either of these, one panel at a time.
const FULL_WIDTH: u16 = 100;
const FULL_HEIGHT: u16 = 30;
/// The log pane's height at the least, borders included.
const LOG_MIN: u16 = 7;

pub fn draw(f: &mut Frame, app: &App, now: DateTime<Utc>, theme: &Theme) {
    let area = f.area();
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(f, header, app, now, theme);
    draw_footer(f, footer, app, theme);
    let compact = area.width < FULL_WIDTH || area.height < FULL_HEIGHT;
    if compact || app.ui.zoomed {
        let [tabs, main] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(body);
        draw_tabs(f, tabs, app, theme);
        draw_panel(f, main, app.ui.focus, app, now, theme);
    } else {
        // Previews and Main health get the rows they fill, and the log every row left over,
        // never fewer than it had before (5 records).
        let [top, rest] =
            Layout::vertical([Constraint::Percentage(55), Constraint::Fill(1)]).areas(body);
        let wanted = panels::main_health::wanted_height(app, now, theme)
            .max(app.preview_list().len().saturating_add(3) as u16);
        let middle_rows = wanted.min(rest.height.saturating_sub(LOG_MIN));
        let [middle, bottom] =
            Layout::vertical([Constraint::Length(middle_rows), Constraint::Fill(1)]).areas(rest);
        let [phases, canary] =
            Layout::horizontal([Constraint::Percentage(32), Constraint::Fill(1)]).areas(top);
        let [previews, main] =
            Layout::horizontal([Constraint::Percentage(58), Constraint::Fill(1)]).areas(middle);
        draw_panel(f, phases, Panel::Phases, app, now, theme);
        draw_panel(f, canary, Panel::Canary, app, now, theme);
        draw_panel(f, previews, Panel::Previews, app, now, theme);
        draw_panel(f, main, Panel::Main, app, now, theme);
        draw_panel(f, bottom, Panel::Log, app, now, theme);
    }
    match &app.ui.mode {
        Mode::Help => help::draw(f, body, &app.keymap, &app.denied, app.ui.help_scroll, theme),
        Mode::Palette { input, selected } => {
            palette::draw(f, body, &app.keymap, input, *selected, theme)
        }
        Mode::Confirm(dialog) => confirm::ConfirmDialog::draw(dialog, f, body, theme),
        Mode::Normal | Mode::Filter => {}
    }
}

fn draw_panel(
    f: &mut Frame,
    area: Rect,
    panel: Panel,
    app: &App,
    now: DateTime<Utc>,
    theme: &Theme,
) {
    match panel {
        Panel::Phases => panels::phases::draw(f, area, app, now, theme),
        Panel::Canary => panels::canary::draw(f, area, app, now, theme),
        Panel::Previews => panels::previews::draw(f, area, app, now, theme),
        Panel::Main => panels::main_health::draw(f, area, app, now, theme),
        Panel::Log => panels::log::draw(f, area, app, theme),
    }
}

/// A piece of the header or the footer: shown whole, shortened, or left out when the line
/// is too narrow, the least important first.
struct Piece {
    /// Higher stays longer.
    rank: u8,
    whole: Span<'static>,
    short: Option<Span<'static>>,
    shortened: bool,
    dropped: bool,
}

impl Piece {
    fn new(rank: u8, whole: Span<'static>) -> Self {
        Piece {
            rank,
            whole,
            short: None,
            shortened: false,
            dropped: false,
        }
    }

    fn or(mut self, short: Span<'static>) -> Self {
        self.short = Some(short);
        self
    }

    fn shown(&self) -> Option<&Span<'static>> {
        match (self.dropped, self.shortened) {
            (true, _) => None,
            (false, true) => self.short.as_ref(),
            (false, false) => Some(&self.whole),
        }
    }
}

/// `pieces` in their order, fitted to `room` cells: the least important first shortened,
/// then left out, and so on up; a piece ranked `KEEP` or above is only ever shortened.
fn by_rank(mut pieces: Vec<Piece>, room: usize) -> Line<'static> {
    const KEEP: u8 = 100;
    let width = |ps: &[Piece]| {
        ps.iter()
            .filter_map(Piece::shown)
            .map(Span::width)
            .sum::<usize>()
    };
    let mut order: Vec<usize> = (0..pieces.len()).collect();
    order.sort_by_key(|&i| pieces[i].rank);
    for i in order {
        if width(&pieces) <= room {
            break;
        }
        if pieces[i].short.is_some() {
            pieces[i].shortened = true;
        }
        if width(&pieces) > room && pieces[i].rank < KEEP {
            pieces[i].dropped = true;
        }
    }
    let spans: Vec<Span<'static>> = pieces.iter().filter_map(Piece::shown).cloned().collect();
    panels::fit(Line::from(spans), room)
}

fn draw_header(f: &mut Frame, area: Rect, app: &App, now: DateTime<Utc>, theme: &Theme) {
    let mut pieces = vec![
        Piece::new(
            1,
            Span::styled(
                " captain ",
                theme.bold(theme.accent).add_modifier(Modifier::REVERSED),
            ),
        ),
        Piece::new(
            2,
            Span::styled(format!(" {} ", app.world), theme.fg(theme.muted)),
        ),
        Piece::new(
            6,
            Span::styled(format!("· {} ", app.release), theme.bold(theme.text)),
        ),
    ];
    if let Some(t) = &app.train {
        let colour = match t.status {
            crate::engine::train::Status::RolledBack { .. }
            | crate::engine::train::Status::RollingBack { .. }
            | crate::engine::train::Status::Aborted { .. } => theme.fail,
            crate::engine::train::Status::Paused { .. }
            | crate::engine::train::Status::AwaitingGate => theme.warn,
            _ => theme.pass,
        };
        // From the first failed measurement, the breach outranks everything else on the
        // line: what failed, how many more make the rollback, and by when at the latest.
        let breaching = t.failures > 0;
        let style = theme.bold(if breaching { theme.fail } else { colour });
        if breaching && let Some(within) = t.failure_action_within(now) {
            let what = match t.policy.on_fail {
                crate::config::slo::OnFail::Rollback => "auto-rollback",
                crate::config::slo::OnFail::Pause => "auto-pause",
            };
            let within = format_span(within.to_std().unwrap_or_default());
            let breach = theme.bold(theme.fail).add_modifier(Modifier::REVERSED);
            pieces.push(
                Piece::new(
                    12,
                    Span::styled(
                        format!(
                            " BREACH {}/{} · {what} ≤ {within} ",
                            t.failures, t.policy.failure_limit
                        ),
                        breach,
                    ),
                )
                .or(Span::styled(
                    format!(
                        " BREACH {}/{} ≤ {within} ",
                        t.failures, t.policy.failure_limit
                    ),
                    breach,
                )),
            );
        }
        pieces.push(
            Piece::new(
                10,
                Span::styled(
                    format!("· canary {} % {} ", t.weight, t.status.label()),
                    style,
                ),
            )
            .or(Span::styled(
                format!("· {} % {} ", t.weight, t.status.label()),
                style,
            )),
        );
    }
    if let Some(m) = &app.main.value {
        match m.overall() {
            Overall::Red { since } => {
                let age = since
                    .map(|s| format!(" {}", format_span((now - s).to_std().unwrap_or_default())));
                pieces.push(
                    Piece::new(
                        9,
                        Span::styled(
                            format!("· main RED{} ", age.unwrap_or_default()),
                            theme.bold(theme.fail),
                        ),
                    )
                    .or(Span::styled("· main RED ", theme.bold(theme.fail))),
                );
            }
            Overall::Pending => pieces.push(Piece::new(
                5,
                Span::styled("· main pending ", theme.fg(theme.warn)),
            )),
            Overall::Green => pieces.push(Piece::new(
                5,
                Span::styled("· main green ", theme.fg(theme.pass)),
            )),
        }
        if m.frozen.is_some() {
            pieces.push(Piece::new(
                8,
                Span::styled(
                    "· FROZEN ",
                    theme.bold(theme.warn).add_modifier(Modifier::REVERSED),
                ),
            ));
        }
    }
    if let Some(why) = &app.auto_rollback_off {
        // Its headline only: the whole cause (a query's error, say) is in the log and on
        // the canary panel, and would push every later note off the line.
        let headline = why.split([':', '(']).next().unwrap_or(why).trim_end();
        pieces.push(
            Piece::new(
                11,
                Span::styled(
                    format!("· auto-rollback OFF: {headline} "),
                    theme.bold(theme.fail),
                ),
            )
            .or(Span::styled("· auto-rollback OFF ", theme.bold(theme.fail))),
        );
    }
    for note in &app.notes {
        // Short, the note's first clause ("DRIFT", "shared train written anew").
        let short = note.split(':').next().unwrap_or(note);
        pieces.push(
            Piece::new(
                8,
                Span::styled(format!("· {note} "), theme.bold(theme.warn)),
            )
            .or(Span::styled(format!("· {short} "), theme.bold(theme.warn))),
        );
    }
    if app.keymap.read_only {
        pieces.push(
            Piece::new(7, Span::styled("· READ-ONLY ", theme.bold(theme.warn)))
                .or(Span::styled("· RO ", theme.bold(theme.warn))),
        );
    }
    if let Some(driver) = &app.follows {
        pieces.push(
            Piece::new(
                4,
                Span::styled(format!("· following {driver} "), theme.fg(theme.warn)),
            )
            .or(Span::styled("· following ", theme.fg(theme.warn))),
        );
    }
    let clock = now.format(" %H:%M:%S UTC").to_string();
    let [left, right] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(clock.len() as u16 + 1),
    ])
    .areas(area);
    f.render_widget(
        Paragraph::new(vec![by_rank(pieces, usize::from(left.width))]),
        left,
    );
    f.render_widget(
        Paragraph::new(vec![Line::from(Span::styled(clock, theme.fg(theme.muted)))]),
        right,
    );
}

fn draw_tabs(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let spans: Vec<Span> = Panel::ALL
        .iter()
        .flat_map(|p| {
            let style = if *p == app.ui.focus {
                theme
                    .bold(theme.border_focused)
                    .add_modifier(Modifier::REVERSED)
            } else {
                theme.fg(theme.text)
            };
            [
                Span::styled(format!(" {} {} ", p.index() + 1, p.title()), style),
                Span::raw(" "),
            ]
        })
        .collect();
    f.render_widget(Paragraph::new(vec![Line::from(spans)]), area);
}

fn draw_footer(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let hint = |rank: u8, a: Action, what: &str| {
        app.keymap.key_of(a).map(|k| {
            Piece::new(
                rank,
                Span::styled(format!(" {k} {what} ·"), theme.fg(theme.muted)),
            )
            .or(Span::styled(format!(" {k} ·"), theme.fg(theme.muted)))
        })
    };
    let quit = app.keymap.key_of(Action::Quit).map(|k| {
        Piece::new(
            100,
            Span::styled(format!(" {k} quit "), theme.fg(theme.muted)),
        )
        .or(Span::styled(format!(" {k} "), theme.fg(theme.muted)))
    });
    if let Some((msg, bad)) = &app.ui.status {
        let style = if *bad {
            theme.bold(theme.fail)
        } else {
            theme.fg(theme.text)
        };
        // The news first; `?` and the quit key stay beside it.
        let tail: Vec<Piece> = [hint(3, Action::Help, "help"), quit]
            .into_iter()
            .flatten()
            .collect();
        let tail = by_rank(tail, usize::from(area.width / 3));
        let [left, right] =
            Layout::horizontal([Constraint::Fill(1), Constraint::Length(tail.width() as u16)])
                .areas(area);
        // Cut at a word, never in the middle of one.
        let said = panels::words::wrap(
            &[Span::styled(msg.clone(), style)],
            usize::from(left.width.saturating_sub(1)),
            1,
        )
        .into_iter()
        .map(|mut l| {
            l.spans.insert(0, Span::raw(" "));
            l
        })
        .collect::<Vec<_>>();
        f.render_widget(Paragraph::new(said), left);
        f.render_widget(Paragraph::new(vec![tail]), right);
        return;
    }
    let hints: Vec<Piece> = [
        hint(9, Action::Help, "help"),
        hint(4, Action::Palette, "commands"),
        hint(3, Action::NextPanel, "focus"),
        hint(2, Action::Filter, "filter"),
        hint(6, Action::Act(ActionKind::Promote), "promote"),
        hint(7, Action::Act(ActionKind::Pause), "pause"),
        hint(8, Action::Act(ActionKind::Rollback), "roll back"),
        quit,
    ]
    .into_iter()
    .flatten()
    .collect();
    f.render_widget(
        Paragraph::new(vec![by_rank(hints, usize::from(area.width))]),
        area,
    );
}
