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
        Mode::Help => help::draw(f, body, &app.keymap, &app.denied, theme),
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

fn draw_header(f: &mut Frame, area: Rect, app: &App, now: DateTime<Utc>, theme: &Theme) {
    let mut spans = vec![
        Span::styled(
            " captain ",
            theme.bold(theme.accent).add_modifier(Modifier::REVERSED),
        ),
        Span::styled(format!(" {} ", app.world), theme.fg(theme.muted)),
        Span::styled(format!("· {} ", app.release), theme.bold(theme.text)),
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
        spans.push(Span::styled(
            format!("· canary {} % {} ", t.weight, t.status.label()),
            theme.bold(if breaching { theme.fail } else { colour }),
        ));
        if breaching && let Some(within) = t.failure_action_within(now) {
            let what = match t.policy.on_fail {
                crate::config::slo::OnFail::Rollback => "auto-rollback",
                crate::config::slo::OnFail::Pause => "auto-pause",
            };
            spans.insert(
                3,
                Span::styled(
                    format!(
                        " BREACH {}/{} · {what} ≤ {} ",
                        t.failures,
                        t.policy.failure_limit,
                        format_span(within.to_std().unwrap_or_default())
                    ),
                    theme.bold(theme.fail).add_modifier(Modifier::REVERSED),
                ),
            );
        }
    }
    if let Some(m) = &app.main.value {
        match m.overall() {
            Overall::Red { since } => {
                let age = since
                    .map(|s| format!(" {}", format_span((now - s).to_std().unwrap_or_default())));
                spans.push(Span::styled(
                    format!("· main RED{} ", age.unwrap_or_default()),
                    theme.bold(theme.fail),
                ));
            }
            Overall::Pending => spans.push(Span::styled("· main pending ", theme.fg(theme.warn))),
            Overall::Green => spans.push(Span::styled("· main green ", theme.fg(theme.pass))),
        }
        if m.frozen.is_some() {
            spans.push(Span::styled(
                "· FROZEN ",
                theme.bold(theme.warn).add_modifier(Modifier::REVERSED),
            ));
        }
    }
    if let Some(why) = &app.auto_rollback_off {
        spans.push(Span::styled(
            format!("· auto-rollback OFF: {why} "),
            theme.bold(theme.fail),
        ));
    }
    if app.keymap.read_only {
        spans.push(Span::styled("· READ-ONLY ", theme.bold(theme.warn)));
    }
    if let Some(driver) = &app.follows {
        spans.push(Span::styled(
            format!("· following {driver} "),
            theme.fg(theme.warn),
        ));
    }
    let clock = now.format(" %H:%M:%S UTC").to_string();
    let [left, right] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(clock.len() as u16 + 1),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(vec![Line::from(spans)]), left);
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
    if let Some((msg, bad)) = &app.ui.status {
        let style = if *bad {
            theme.bold(theme.fail)
        } else {
            theme.fg(theme.text)
        };
        f.render_widget(
            Paragraph::new(vec![Line::from(Span::styled(format!(" {msg}"), style))]),
            area,
        );
        return;
    }
    let hint = |a: Action, what: &str| app.keymap.key_of(a).map(|k| format!("{k} {what}"));
    let hints: Vec<String> = [
        hint(Action::Help, "help"),
        hint(Action::Palette, "commands"),
        hint(Action::NextPanel, "focus"),
        hint(Action::Filter, "filter"),
        hint(Action::Promote, "promote"),
        hint(Action::Pause, "pause"),
        hint(Action::Rollback, "roll back"),
        hint(Action::Quit, "quit"),
    ]
    .into_iter()
    .flatten()
    .collect();
    f.render_widget(
        Paragraph::new(vec![Line::from(Span::styled(
            format!(" {}", hints.join(" · ")),
            theme.fg(theme.muted),
        ))]),
        area,
    );
}
