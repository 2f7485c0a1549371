//! The plan's phases in order, with status, owner and day; the selected phase's steps,
//! validation and rollback below.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, TableState, Wrap};

use super::block;
use crate::engine::phases::{PhaseStatus, ProbeStatus, current};
use crate::tui::state::{App, Panel};
use crate::tui::theme::Theme;

fn mark(s: PhaseStatus) -> &'static str {
    match s {
        PhaseStatus::Pending => "○",
        PhaseStatus::InProgress => "◐",
        PhaseStatus::Validated => "✓",
        PhaseStatus::Failed => "✗",
        PhaseStatus::RolledBack => "↶",
    }
}

pub fn draw(f: &mut Frame, area: Rect, app: &App, _now: DateTime<Utc>, theme: &Theme) {
    let done = app
        .phases
        .iter()
        .filter(|s| s.status == PhaseStatus::Validated)
        .count();
    let extra = Line::styled(
        format!(" {done}/{} validated ", app.phases.len()),
        theme.fg(theme.muted),
    );
    let outer = block(Panel::Phases, app, extra, area.width, theme);
    let inner = outer.inner(area);
    f.render_widget(outer, area);
    let rows_idx = app.phase_rows();
    let list_height = (rows_idx.len() as u16 + 1).min(inner.height);
    let [list, detail] =
        Layout::vertical([Constraint::Length(list_height), Constraint::Fill(1)]).areas(inner);
    let today = current(&app.phases);
    let rows: Vec<Row> = rows_idx
        .iter()
        .map(|&i| {
            let p = &app.plan.phases[i];
            let status = app.phases.get(i).map_or(PhaseStatus::Pending, |s| s.status);
            let colour = match status {
                PhaseStatus::Validated => theme.pass,
                PhaseStatus::InProgress => theme.accent,
                PhaseStatus::Failed | PhaseStatus::RolledBack => theme.fail,
                PhaseStatus::Pending => theme.muted,
            };
            let here = if today == Some(i) { "▶" } else { " " };
            Row::new(vec![
                Span::styled(format!("{here}{}", mark(status)), theme.bold(colour)),
                Span::styled(format!("{:>2}", p.id), theme.fg(theme.muted)),
                Span::styled(p.title.clone(), theme.fg(theme.text)),
                Span::styled(p.owner.short(), theme.fg(theme.muted)),
                Span::styled(p.days_label(), theme.fg(theme.muted)),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(2),
            Constraint::Length(2),
            Constraint::Fill(1),
            Constraint::Length(8),
            Constraint::Length(6),
        ],
    )
    .header(Row::new(["", "#", "phase", "owner", "day"]).style(theme.bold(theme.muted)))
    .row_highlight_style(theme.selected());
    let selected = app.ui.selected[Panel::Phases.index()].min(rows_idx.len().saturating_sub(1));
    let mut state = TableState::default().with_selected((!rows_idx.is_empty()).then_some(selected));
    f.render_stateful_widget(table, list, &mut state);

    let Some(&i) = rows_idx.get(selected) else {
        return;
    };
    if detail.height < 2 {
        return;
    }
    let p = &app.plan.phases[i];
    let st = &app.phases[i];
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("{} · {}", p.title, st.status.label()),
            theme.bold(theme.title),
        ),
        Span::styled(
            p.risk
                .as_ref()
                .map(|r| format!(" · {r} risk"))
                .unwrap_or_default(),
            theme.fg(theme.muted),
        ),
    ])];
    let section = |name: &str| Line::styled(name.to_string(), theme.bold(theme.muted));
    lines.push(section("steps"));
    lines.extend(
        p.steps
            .iter()
            .map(|s| Line::styled(format!(" · {s}"), theme.fg(theme.text))),
    );
    lines.push(section("validation"));
    lines.extend(p.validation.iter().enumerate().map(|(k, c)| {
        let record = st.checks.get(k);
        let (mark, colour) = match record.and_then(|r| r.result.as_ref()).map(|r| r.status) {
            Some(ProbeStatus::Pass) => ("✓", theme.pass),
            Some(ProbeStatus::Fail) => ("✗", theme.fail),
            Some(ProbeStatus::Manual) if record.is_some_and(|r| r.confirmed.is_some()) => {
                ("✓", theme.pass)
            }
            Some(ProbeStatus::Manual) => ("?", theme.warn),
            Some(ProbeStatus::Unavailable) => ("·", theme.muted),
            None => ("○", theme.muted),
        };
        Line::from(vec![
            Span::styled(format!(" {mark} "), theme.bold(colour)),
            Span::styled(c.check.clone(), theme.fg(theme.text)),
            Span::styled(format!("  [{}]", c.probe), theme.fg(theme.muted)),
        ])
    }));
    if let Some(at) = st.last_validation() {
        lines.push(Line::styled(
            format!("   last validated {}", at.format("%Y-%m-%d %H:%M")),
            theme.fg(theme.muted),
        ));
    }
    lines.push(section("rollback"));
    lines.push(Line::styled(
        format!(" ↶ {}", p.rollback.text),
        theme.fg(theme.text),
    ));
    for a in &p.rollback.actions {
        lines.push(Line::styled(format!("   ▸ {a}"), theme.fg(theme.accent)));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), detail);
}
