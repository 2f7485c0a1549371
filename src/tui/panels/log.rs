//! The log pane: every action and backend event, newest at the bottom, stamped with the
//! header's clock. It scrolls (`j`/`k`, PgUp/PgDn), filters (`/`) and zooms (`z`, where each
//! record wraps whole); its title says how many newer records are below when scrolled back.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{block, boxed, fit, words};
use crate::tui::logging::Record;
use crate::tui::state::{App, Panel};
use crate::tui::theme::Theme;

fn line(r: &Record, theme: &Theme) -> Line<'static> {
    let (mark, colour) = match r.level {
        log::Level::Error => ("E", theme.fail),
        log::Level::Warn => ("W", theme.warn),
        log::Level::Info => ("I", theme.text),
        log::Level::Debug | log::Level::Trace => ("D", theme.muted),
    };
    Line::from(vec![
        Span::styled(r.at.format("%H:%M:%S ").to_string(), theme.fg(theme.muted)),
        Span::styled(format!("{mark} "), theme.bold(colour)),
        Span::styled(r.text.clone(), theme.fg(colour)),
    ])
}

pub fn draw(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let rows = app.log_rows();
    let back = app.log_back();
    let total = app.log.len();
    let extra = if back > 0 {
        Line::styled(
            format!(" ↓ {back} newer below: j or PgDn "),
            theme.bold(theme.accent),
        )
    } else if rows.len() < total {
        Line::styled(
            format!(" {} of {total} ", rows.len()),
            theme.fg(theme.muted),
        )
    } else {
        Line::default()
    };
    let inner = boxed(f, area, block(Panel::Log, app, extra, area.width, theme));
    let height = usize::from(inner.height);
    let width = usize::from(inner.width);
    let shown = &rows[..rows.len() - back];
    // From the newest shown record up, as many as fill the pane.
    let mut lines: Vec<Line> = Vec::new();
    for r in shown.iter().rev() {
        if lines.len() >= height {
            break;
        }
        let l = line(r, theme);
        if app.ui.zoomed {
            let wrapped = words::wrap(&l.spans, width, height.max(1));
            lines.splice(0..0, wrapped);
        } else {
            lines.insert(0, fit(l, width));
        }
    }
    let skip = lines.len().saturating_sub(height);
    f.render_widget(
        Paragraph::new(lines.into_iter().skip(skip).collect::<Vec<_>>()),
        inner,
    );
}
