//! Preview namespaces, oldest first: PR, title, state, author, age, URL health; stale and
//! orphaned ones highlighted.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Row, Table, TableState};

use super::{ago, freshness};
use crate::engine::previews::{PrState, UrlHealth};
use crate::tui::draw::block;
use crate::tui::state::{App, Panel};
use crate::tui::theme::Theme;

pub fn draw(f: &mut Frame, area: Rect, app: &App, now: DateTime<Utc>, theme: &Theme) {
    let rows_data = app.preview_rows();
    // Oldest first, so the stale ones are a prefix: no need to look at every row.
    let cutoff = now - app.ttl;
    let stale = rows_data.partition_point(|p| p.created < cutoff);
    let mut extra = freshness(&app.previews, "cluster", now, theme);
    extra.spans.insert(
        0,
        Span::styled(
            format!(" {} · {stale} stale ", rows_data.len()),
            theme.fg(if stale > 0 { theme.stale } else { theme.muted }),
        ),
    );
    // Only the rows that fit are built: a cluster may have thousands of previews.
    let visible = area.height.saturating_sub(3).max(1) as usize;
    let sel = app.ui.selected[Panel::Previews.index()].min(rows_data.len().saturating_sub(1));
    let offset = (sel + 1).saturating_sub(visible);
    let rows: Vec<Row> = rows_data
        .iter()
        .skip(offset)
        .take(visible)
        .map(|p| {
            let is_stale = p.is_stale(now, app.ttl);
            let orphaned = p.is_orphaned();
            let flag = match (is_stale, orphaned) {
                (true, true) => Span::styled("stale,orphan", theme.bold(theme.orphaned)),
                (true, false) => Span::styled("stale", theme.bold(theme.stale)),
                (false, true) => Span::styled("orphan", theme.fg(theme.orphaned)),
                (false, false) => Span::raw(""),
            };
            let (pr, title, state, author) = match &p.pr {
                Some(pr) => (
                    format!("#{}", pr.number),
                    pr.title.clone(),
                    Span::styled(
                        pr.state.label(),
                        theme.fg(match pr.state {
                            PrState::Open => theme.pass,
                            PrState::Merged => theme.accent,
                            PrState::Closed => theme.muted,
                        }),
                    ),
                    pr.author.clone(),
                ),
                None => (
                    "—".into(),
                    "(no pull request found)".into(),
                    Span::raw("?"),
                    String::new(),
                ),
            };
            let health = match p.health {
                UrlHealth::Up => Span::styled("up", theme.fg(theme.pass)),
                UrlHealth::Down => Span::styled("down", theme.bold(theme.fail)),
                UrlHealth::Unknown => Span::styled("—", theme.fg(theme.muted)),
            };
            let age_style = if is_stale {
                theme.bold(theme.stale)
            } else {
                theme.fg(theme.text)
            };
            let name = if p.terminating {
                format!("{} ⌫", p.namespace)
            } else {
                p.namespace.clone()
            };
            Row::new(vec![
                Span::styled(name, theme.fg(theme.text)),
                Span::styled(pr, theme.fg(theme.muted)),
                Span::styled(title, theme.fg(theme.text)),
                state,
                Span::styled(author, theme.fg(theme.muted)),
                Span::styled(ago(now, p.created), age_style),
                health,
                flag,
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(9),
            Constraint::Length(5),
            Constraint::Fill(1),
            Constraint::Length(6),
            Constraint::Length(9),
            Constraint::Length(7),
            Constraint::Length(4),
            Constraint::Length(12),
        ],
    )
    .header(
        Row::new([
            "namespace",
            "pr",
            "title",
            "state",
            "author",
            "age",
            "url",
            "",
        ])
        .style(theme.bold(theme.muted)),
    )
    .row_highlight_style(theme.selected())
    .block(block(Panel::Previews, app, Line::from(extra.spans), theme));
    let focused = app.ui.focus == Panel::Previews;
    let mut state = TableState::default()
        .with_selected((focused && !rows_data.is_empty()).then_some(sel - offset));
    f.render_stateful_widget(table, area, &mut state);
}
