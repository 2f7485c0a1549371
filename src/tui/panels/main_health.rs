//! `main`: HEAD, each required check red or green and since when, the freeze tag, PRs
//! labelled freeze/main-red, Renovate PRs, the GitHub rate-limit budget.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{ago, block, boxed, freshness, table};
use crate::engine::main_health::{CheckState, Overall};
use crate::tui::state::{App, Panel};
use crate::tui::theme::Theme;

pub fn draw(f: &mut Frame, area: Rect, app: &App, now: DateTime<Utc>, theme: &Theme) {
    let inner = boxed(
        f,
        area,
        block(
            Panel::Main,
            app,
            freshness(&app.main, "GitHub", now, theme),
            area.width,
            theme,
        ),
    );
    let Some(m) = app.main.value.as_deref() else {
        return;
    };
    let short = &m.head.sha[..m.head.sha.len().min(7)];
    let (overall, colour) = match m.overall() {
        Overall::Green => ("GREEN".to_string(), theme.pass),
        Overall::Pending => ("PENDING".to_string(), theme.warn),
        Overall::Red { since } => (
            format!(
                "RED{}",
                since
                    .map(|s| format!(" for {}", ago(now, s)))
                    .unwrap_or_default()
            ),
            theme.fail,
        ),
    };
    let head = vec![
        Line::from(vec![
            Span::styled("main ", theme.fg(theme.muted)),
            Span::styled(overall, theme.bold(colour)),
            Span::styled(
                format!(" · {short} {} {} ago", m.head.author, ago(now, m.head.at)),
                theme.fg(theme.muted),
            ),
        ]),
        Line::styled(m.head.message.clone(), theme.fg(theme.text)),
    ];
    let [top, checks, bottom] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(m.checks.len() as u16 + 1),
        Constraint::Fill(1),
    ])
    .areas(inner);
    f.render_widget(Paragraph::new(head), top);
    let rows = m
        .checks
        .iter()
        .map(|c| {
            let (mark, col) = match c.state {
                CheckState::Success => ("✓", theme.pass),
                CheckState::Failure => ("✗", theme.fail),
                CheckState::Pending => ("…", theme.warn),
                CheckState::Missing => ("?", theme.fail),
            };
            [
                Span::styled(format!("{mark} {}", c.name), theme.fg(theme.text)),
                Span::styled(c.state.label(), theme.bold(col)),
                Span::styled(
                    c.since
                        .map_or(String::new(), |s| format!("{} ago", ago(now, s))),
                    theme.fg(theme.muted),
                ),
            ]
        })
        .collect();
    table(
        f,
        checks,
        [
            Constraint::Fill(1),
            Constraint::Length(8),
            Constraint::Length(12),
        ],
        ["required check", "state", "since"],
        rows,
        None,
        theme,
    );
    let lines = notes(m, now, theme);
    let shown = super::overflowing(lines, usize::from(bottom.height), theme);
    f.render_widget(Paragraph::new(shown), bottom);
}

/// The rows the panel would fill, borders included: what the layout gives it before the log
/// takes the rest.
pub fn wanted_height(app: &App, now: DateTime<Utc>, theme: &Theme) -> u16 {
    let Some(m) = app.main.value.as_deref() else {
        return 3;
    };
    (2 + m.checks.len() + 1 + notes(m, now, theme).len() + 2) as u16
}

/// The lines under the checks: the freeze tag, the labelled PRs, the sentinel's nudge,
/// Renovate, the rate limit.
fn notes(
    m: &crate::engine::main_health::MainHealth,
    now: DateTime<Utc>,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    lines.push(match &m.frozen {
        Some(fz) => Line::styled(
            format!(
                "frozen/rollback: PRESENT at {} since {} ago — train paused",
                &fz.sha[..fz.sha.len().min(7)],
                ago(now, fz.since)
            ),
            theme.bold(theme.warn),
        ),
        None => Line::styled(
            "frozen/rollback: absent — train not frozen",
            theme.fg(theme.muted),
        ),
    });
    let prs = |v: &[crate::engine::main_health::PrRef]| {
        v.iter()
            .map(|p| format!("#{}", p.number))
            .collect::<Vec<_>>()
            .join(" ")
    };
    lines.push(if m.freeze_prs.is_empty() {
        Line::styled("freeze/main-red: no PRs labelled", theme.fg(theme.muted))
    } else {
        Line::styled(
            format!(
                "freeze/main-red: {} PRs {}",
                m.freeze_prs.len(),
                prs(&m.freeze_prs)
            ),
            theme.fg(theme.fail),
        )
    });
    // The sentinel's work left undone: a nudge towards `l`, not an action by itself.
    let (why, relabel) = crate::engine::sentinel::plan(m.overall(), &m.open_prs);
    if !relabel.is_empty() {
        let (n, what) = if relabel.label.is_empty() {
            (relabel.unlabel.len(), "still labelled")
        } else {
            (relabel.label.len(), "not labelled yet")
        };
        lines.push(Line::styled(
            format!(
                "sentinel: {why}, {n} open PRs {what} — l to fix",
                why = why.label()
            ),
            theme.fg(theme.warn),
        ));
    }
    lines.push(Line::styled(
        format!(
            "renovate: {} open {}",
            m.renovate_prs.len(),
            prs(&m.renovate_prs)
        ),
        theme.fg(theme.text),
    ));
    if let Some(r) = &m.rate_limit {
        let low = r.remaining < r.limit / 10;
        lines.push(Line::styled(
            format!(
                "rate limit {}/{} · resets in {}",
                r.remaining,
                r.limit,
                ago(r.reset, now)
            ),
            theme.fg(if low { theme.warn } else { theme.muted }),
        ));
    }
    lines
}
