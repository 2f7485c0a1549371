//! The `?` help page, built from the live keymap: what you see is what you can press. On a
//! terminal too small for all of it, it scrolls (`j`/`k`, PgUp/PgDn) and says which rows it
//! shows, so no action is out of sight without a word.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Row, Table};

use super::centered;
use crate::tui::keymap::{Keymap, Scope};
use crate::tui::theme::Theme;

/// How many of `total` rows the page shows in a body `height` rows high: all of them and a
/// blank row when there is room, else what is left inside its borders and header row.
pub fn rows_that_fit(total: usize, height: u16) -> usize {
    let page = (total as u16).saturating_add(4).min(height);
    usize::from(page.saturating_sub(3)).max(1)
}

/// `denied`: actions the cluster does not allow, by name, with why; shown in place of
/// what they would do. `scroll`: the first row shown when not all fit.
pub fn draw(
    f: &mut Frame,
    area: Rect,
    keymap: &Keymap,
    denied: &std::collections::BTreeMap<crate::ops::ActionKind, String>,
    scroll: usize,
    theme: &Theme,
) {
    let total = keymap.bindings().len();
    let rect = centered(area, 96, total as u16 + 4);
    // What the description column has: the borders, the key and action columns and the
    // spaces between columns.
    let room = usize::from(rect.width.saturating_sub(2 + 10 + 18 + 2));
    let rows: Vec<Row> = keymap
        .bindings()
        .iter()
        .map(|b| {
            let keys: Vec<String> = b.keys.iter().map(|k| k.to_string()).collect();
            let scope = match b.scope {
                Scope::Global => String::new(),
                Scope::Panel(p) => format!("[{}] ", p.title()),
            };
            let denied = match b.action {
                crate::tui::keymap::Action::Act(kind) => denied.get(&kind),
                _ => None,
            };
            let style = match (denied, b.mutating) {
                (Some(_), _) => theme.fg(theme.muted),
                (None, true) => theme.fg(theme.danger),
                (None, false) => theme.fg(theme.text),
            };
            let what = match denied {
                Some(why) => {
                    Span::styled(format!("{scope}unavailable: {why}"), theme.fg(theme.muted))
                }
                None => Span::styled(format!("{scope}{}", b.description), theme.fg(theme.text)),
            };
            // Cut at a word with "…" on a narrow terminal, never in the middle of one.
            let what = crate::tui::panels::words::wrap(&[what], room, 1)
                .pop()
                .unwrap_or_default();
            Row::new(vec![
                Line::from(Span::styled(keys.join(" "), theme.bold(theme.accent))),
                Line::from(Span::styled(b.name, style)),
                what,
            ])
        })
        .collect();
    f.render_widget(Clear, rect);
    let fits = rows_that_fit(total, area.height);
    let first = scroll.min(total.saturating_sub(fits));
    let rows: Vec<Row> = rows.into_iter().skip(first).take(fits).collect();
    let mut footer = if keymap.read_only {
        "read-only: actions that change anything are disabled · esc closes".to_string()
    } else {
        "red: changes production, asks for confirmation · esc closes".to_string()
    };
    if fits < total {
        footer = format!(
            "rows {}–{} of {total} · j/k pgup/pgdn scroll · {footer}",
            first + 1,
            first + rows.len()
        );
    }
    let table = Table::new(
        rows,
        [
            Constraint::Length(10),
            Constraint::Length(18),
            Constraint::Fill(1),
        ],
    )
    .header(Row::new(["key", "action", "what it does"]).style(theme.bold(theme.muted)))
    .block(
        Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(theme.fg(theme.border_focused))
            .title(Span::styled(" Help ", theme.bold(theme.title)))
            .title_bottom(super::super::panels::fit(
                Line::styled(format!(" {footer} "), theme.fg(theme.muted)),
                usize::from(rect.width.saturating_sub(2)),
            )),
    );
    f.render_widget(table, rect);
}
