//! Preview namespaces, oldest first: PR, title, state, author, age, URL health; stale and
//! orphaned ones highlighted.

use std::num::NonZeroU16;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::buffer::{Buffer, CellDiffOption};
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};

use super::{ago, block, boxed, freshness, table};
use crate::engine::previews::{PrState, UrlHealth};
use crate::tui::state::{App, Panel};
use crate::tui::theme::Theme;

pub fn draw(f: &mut Frame, area: Rect, app: &App, now: DateTime<Utc>, theme: &Theme) {
    let rows_data = app.preview_list();
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
    let rows = rows_data
        .range(offset, visible)
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
                    format!("#{}", pr.number).into(),
                    pr.title.as_str().into(),
                    Span::styled(
                        pr.state.label(),
                        theme.fg(match pr.state {
                            PrState::Open => theme.pass,
                            PrState::Merged => theme.accent,
                            PrState::Closed => theme.muted,
                        }),
                    ),
                    pr.author.as_str(),
                ),
                None => (
                    "—".into(),
                    "(no pull request found)".into(),
                    Span::raw("?"),
                    "",
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
            let name: std::borrow::Cow<str> = if p.terminating {
                format!("{} ⌫", p.namespace).into()
            } else {
                p.namespace.as_str().into()
            };
            let pr: std::borrow::Cow<str> = pr;
            let title: std::borrow::Cow<str> = title;
            [
                Span::styled(name, theme.fg(theme.text)),
                Span::styled(pr, theme.fg(theme.muted)),
                Span::styled(title, theme.fg(theme.text)),
                state,
                Span::styled(author, theme.fg(theme.muted)),
                Span::styled(ago(now, p.created), age_style),
                health,
                flag,
            ]
        })
        .collect();
    let inner = boxed(
        f,
        area,
        block(
            Panel::Previews,
            app,
            Line::from(extra.spans),
            area.width,
            theme,
        ),
    );
    let focused = app.ui.focus == Panel::Previews;
    let links: Vec<Option<&str>> = rows_data
        .range(offset, visible)
        .map(|p| p.url.as_deref())
        .collect();
    table(
        f,
        inner,
        WIDTHS,
        [
            "namespace",
            "pr",
            "title",
            "state",
            "author",
            "age",
            "url",
            "",
        ],
        rows,
        (focused && !rows_data.is_empty()).then_some(sel - offset),
        theme,
    );
    if app.hyperlinks {
        let column = column_x(inner.width, URL_COLUMN);
        for (i, url) in links.into_iter().enumerate() {
            let y = inner.y + 1 + i as u16;
            if let (Some(url), Some(column)) = (url.filter(|_| y < inner.bottom()), column) {
                let cells = Rect::new(inner.x + column.x, y, column.width, 1);
                hyperlink(f.buffer_mut(), cells, url);
            }
        }
    }
}

const WIDTHS: [Constraint; 8] = [
    Constraint::Length(9),
    Constraint::Length(5),
    Constraint::Fill(1),
    Constraint::Length(6),
    Constraint::Length(9),
    Constraint::Length(7),
    Constraint::Length(4),
    Constraint::Length(12),
];

/// The column of the URL's health, which links to the URL.
const URL_COLUMN: usize = 6;

/// Where the table puts column `index` in a row `width` cells wide (x from the row's left):
/// ratatui's `Table` lays its columns out from the left, one cell apart, and exposes no
/// layout of its own, so the link is placed by the same constraints.
fn column_x(width: u16, index: usize) -> Option<Rect> {
    Layout::horizontal(WIDTHS)
        .flex(Flex::Start)
        .spacing(1)
        .split(Rect::new(0, 0, width, 1))
        .get(index)
        .copied()
}

/// Make the text in `area` a hyperlink to `url` (OSC 8): the whole text goes into the first
/// cell, told to take the text's width, and the cells it covers are left alone.
fn hyperlink(buf: &mut Buffer, area: Rect, url: &str) {
    // Only a web address, and nothing that could end the sequence early.
    if !(url.starts_with("https://") || url.starts_with("http://"))
        || url.chars().any(|c| c.is_control() || c == ' ')
    {
        return;
    }
    let area = area.intersection(buf.area);
    let mut text = String::new();
    let mut width: u16 = 0;
    for x in area.left()..area.right() {
        let symbol = buf[(x, area.y)].symbol();
        if symbol.trim().is_empty() {
            break;
        }
        text.push_str(symbol);
        width += 1;
    }
    let Some(width) = NonZeroU16::new(width) else {
        return;
    };
    buf[(area.x, area.y)]
        .set_symbol(&format!("\x1b]8;;{url}\x1b\\{text}\x1b]8;;\x1b\\"))
        .set_diff_option(CellDiffOption::ForcedWidth(width));
    for x in area.x + 1..area.x + width.get() {
        buf[(x, area.y)].set_diff_option(CellDiffOption::Skip);
    }
}
