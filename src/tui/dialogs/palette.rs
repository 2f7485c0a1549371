//! The `:` command palette: type part of an action's name, enter runs it. Built from the
//! keymap, so read-only mode offers nothing that changes anything.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Row, Table, TableState};

use super::centered;
use crate::tui::keymap::{Binding, Keymap};
use crate::tui::theme::Theme;

/// Bindings whose name or description contains `input`, best first: the action named
/// exactly, then names starting with it, then names containing it, then descriptions
/// containing it; table order within each. `:rollback` must open the rollback, never an
/// action whose description merely mentions `frozen/rollback`.
pub fn matches<'a>(keymap: &'a Keymap, input: &str) -> Vec<&'a Binding> {
    let q = input.trim().to_lowercase();
    let rank = |b: &Binding| {
        let name = b.name.to_lowercase();
        if q.is_empty() || name == q {
            Some(0)
        } else if name.starts_with(&q) {
            Some(1)
        } else if name.contains(&q) {
            Some(2)
        } else if b.description.to_lowercase().contains(&q) {
            Some(3)
        } else {
            None
        }
    };
    let mut hits: Vec<(u8, &Binding)> = keymap
        .bindings()
        .iter()
        .filter_map(|b| rank(b).map(|r| (r, b)))
        .collect();
    // A stable sort keeps the table's order within a rank.
    hits.sort_by_key(|(r, _)| *r);
    hits.into_iter().map(|(_, b)| b).collect()
}

pub fn draw(
    f: &mut Frame,
    area: Rect,
    keymap: &Keymap,
    input: &str,
    selected: usize,
    theme: &Theme,
) {
    let hits = matches(keymap, input);
    let rows: Vec<Row> = hits
        .iter()
        .map(|b| {
            let key = b.keys.first().map(|k| k.to_string()).unwrap_or_default();
            let style = if b.mutating {
                theme.fg(theme.danger)
            } else {
                theme.fg(theme.text)
            };
            Row::new(vec![
                Span::styled(b.name, style),
                Span::styled(key, theme.fg(theme.accent)),
                Span::styled(b.description, theme.fg(theme.muted)),
            ])
        })
        .collect();
    let rect = centered(area, 72, (hits.len() as u16 + 3).clamp(4, 16));
    f.render_widget(Clear, rect);
    let table = Table::new(
        rows,
        [
            Constraint::Length(15),
            Constraint::Length(8),
            Constraint::Fill(1),
        ],
    )
    .row_highlight_style(theme.selected())
    .block(
        Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(theme.fg(theme.border_focused))
            .title(Line::from(vec![
                Span::styled(" :", theme.bold(theme.accent)),
                Span::styled(format!("{input}▏ "), theme.bold(theme.text)),
            ])),
    );
    let mut state =
        TableState::default().with_selected(Some(selected.min(hits.len().saturating_sub(1))));
    f.render_stateful_widget(table, rect, &mut state);
}
