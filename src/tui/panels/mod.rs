//! One file per panel; each draws itself from the state and the clock.

pub mod canary;
pub mod log;
pub mod main_health;
pub mod phases;
pub mod previews;
pub mod words;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Row, Table, TableState};

use crate::config::duration::format_span;
use crate::sources::Reading;
use crate::tui::state::{App, Mode, Panel};
use crate::tui::theme::Theme;

/// The box every panel sits in, `width` cells wide: its number and title (and filter) on
/// the left, its data's age or fault on the right, cut from its end with "…" where it would
/// cover the title (ratatui draws a right title over a left one); thick when focused.
pub fn block<'a>(panel: Panel, app: &App, extra: Line<'a>, width: u16, theme: &Theme) -> Block<'a> {
    let focused = app.ui.focus == panel;
    let filter = &app.ui.filters[panel.index()];
    let mut title = vec![Span::styled(
        format!(" {} {} ", panel.index() + 1, panel.title()),
        if focused {
            theme.bold(theme.border_focused)
        } else {
            theme.bold(theme.title)
        },
    )];
    if !filter.is_empty() || (focused && app.ui.mode == Mode::Filter) {
        let cursor = if app.ui.mode == Mode::Filter && focused {
            "▏"
        } else {
            ""
        };
        title.push(Span::styled(
            format!("/{filter}{cursor} "),
            theme.bold(theme.accent),
        ));
    }
    let title = Line::from(title);
    // Two corners, and a cell between the two titles.
    let room = usize::from(width).saturating_sub(2 + title.width() + 1);
    let extra = fit(extra, room);
    Block::bordered()
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Rounded
        })
        .border_style(theme.fg(if focused {
            theme.border_focused
        } else {
            theme.border
        }))
        .title(title.left_aligned())
        .title(extra.right_aligned())
}

/// `line` cut to `room` cells, its last one an ellipsis when anything was cut.
pub fn fit(line: Line<'_>, room: usize) -> Line<'_> {
    if line.width() <= room {
        return line;
    }
    let Some(mut left) = room.checked_sub(1) else {
        return Line::default();
    };
    let mut spans = Vec::new();
    let mut style = line.style;
    for span in line.spans {
        style = span.style;
        let width = span.width();
        if width <= left {
            left -= width;
            spans.push(span);
            continue;
        }
        let mut cut = String::new();
        for c in span.content.chars() {
            let w = Span::raw(c.to_string()).width();
            if w > left {
                break;
            }
            left -= w;
            cut.push(c);
        }
        spans.push(Span::styled(cut, span.style));
        break;
    }
    spans.push(Span::styled("…", style));
    Line::from(spans)
}

/// `lines` cut to `rows`, the last row shown saying how many are hidden when any are, so
/// nothing disappears without a word.
pub fn overflowing(
    mut lines: Vec<Line<'static>>,
    rows: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    if lines.len() <= rows {
        return lines;
    }
    let Some(keep) = rows.checked_sub(1) else {
        return Vec::new();
    };
    let hidden = lines.len() - keep;
    lines.truncate(keep);
    lines.push(Line::styled(
        format!("… {hidden} more lines: z zooms"),
        theme.bold(theme.accent),
    ));
    lines
}

/// Draws the panel's box in `area`; the area inside it.
pub fn boxed(f: &mut Frame, area: Rect, block: Block) -> Rect {
    let inner = block.inner(area);
    f.render_widget(block, area);
    inner
}

/// A table of one-line rows under a header row, `selected` highlighted. Panels build only
/// the rows that fit (a cluster may hold thousands of previews), so the table is given the
/// selection relative to the first row built.
pub fn table<'a, const N: usize>(
    f: &mut Frame,
    area: Rect,
    widths: [Constraint; N],
    header: [&'a str; N],
    rows: Vec<[Span<'a>; N]>,
    selected: Option<usize>,
    theme: &Theme,
) {
    let table = Table::new(rows.into_iter().map(Row::new), widths)
        .header(Row::new(header).style(theme.bold(theme.muted)))
        .row_highlight_style(theme.selected());
    f.render_stateful_widget(
        table,
        area,
        &mut TableState::default().with_selected(selected),
    );
}

pub fn ago(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    format_span((now - then).to_std().unwrap_or_default())
}

/// The data's age, or the source's failure and how stale the shown data is.
pub fn freshness<T>(
    r: &Reading<T>,
    source: &str,
    now: DateTime<Utc>,
    theme: &Theme,
) -> Line<'static> {
    match (&r.fault, r.updated) {
        (Some((_, e)), Some(at)) => Line::styled(
            format!(" {source}: {e}, stale {} ", ago(now, at)),
            theme.bold(theme.fail),
        ),
        (Some((_, e)), None) => Line::styled(format!(" {source}: {e} "), theme.bold(theme.fail)),
        (None, Some(at)) => Line::from(Span::styled(
            format!(" updated {} ago ", ago(now, at)),
            theme.fg(theme.muted),
        )),
        (None, None) => Line::styled(format!(" waiting for {source}… "), theme.fg(theme.muted)),
    }
}
