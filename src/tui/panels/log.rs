//! The log pane: every action and backend event, through tui-logger.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use tui_logger::{TuiLoggerLevelOutput, TuiLoggerWidget};

use super::block;
use crate::tui::state::{App, Panel};
use crate::tui::theme::Theme;

pub fn draw(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let widget = TuiLoggerWidget::default()
        .block(block(Panel::Log, app, Line::default(), area.width, theme))
        .output_separator(' ')
        .output_timestamp(Some("%H:%M:%S".into()))
        .output_level(Some(TuiLoggerLevelOutput::Abbreviated))
        .output_target(false)
        .output_file(false)
        .output_line(false)
        .style(theme.fg(theme.text))
        .style_error(theme.fg(theme.fail))
        .style_warn(theme.fg(theme.warn))
        .style_info(theme.fg(theme.text));
    f.render_widget(widget, area);
}
