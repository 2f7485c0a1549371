//! A table of one-line cells under a header row, drawn straight into the buffer: the same
//! cells as the ratatui `Table` it describes (`TextTable::widget`; the tests hold the two
//! together) without the table's style passes over every row and every cell, which are empty
//! here and cost more than the text.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Row, Table, TableState};

use super::cells;

/// `N` columns; every row has a span per column.
#[derive(Debug, Clone)]
pub struct TextTable<'a, const N: usize> {
    pub widths: [Constraint; N],
    pub header: [&'a str; N],
    pub header_style: Style,
    pub rows: Vec<[Span<'a>; N]>,
    pub highlight: Style,
    pub selected: Option<usize>,
}

impl<'a, const N: usize> TextTable<'a, N> {
    /// The ratatui table this draws, and the state to draw it with.
    pub fn widget(self) -> (Table<'a>, TableState) {
        let table = Table::new(self.rows.into_iter().map(Row::new), self.widths)
            .header(Row::new(self.header).style(self.header_style))
            .row_highlight_style(self.highlight);
        (table, TableState::default().with_selected(self.selected))
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        let selected = match self.rows.len() {
            0 => None,
            n => self.selected.map(|s| s.min(n - 1)),
        };
        let columns = self.columns(area.width);
        let [_, header, _, body, _, _, _] = Layout::vertical([
            Constraint::Length(0),
            Constraint::Length(1),
            Constraint::Length(0),
            Constraint::Min(0),
            Constraint::Length(0),
            Constraint::Length(0),
            Constraint::Length(0),
        ])
        .areas(area);

        cells::set_style(buf, header, self.header_style);
        for (column, text) in columns.iter().zip(self.header) {
            let cell = Rect::new(header.x + column.x, header.y, column.width, header.height);
            cells::line(buf, cell.intersection(buf.area), &Line::raw(text));
        }

        if self.rows.is_empty() {
            return;
        }
        let (start, end) = visible_rows(self.rows.len(), selected, body.height);
        let mut highlighted = None;
        for (i, row) in self.rows.iter().enumerate().take(end).skip(start) {
            let y = body.y + (i - start) as u16;
            let height = (y + 1).min(body.bottom()).saturating_sub(y);
            let row_area = Rect { y, height, ..body };
            for (column, span) in columns.iter().zip(row) {
                let cell = Rect::new(row_area.x + column.x, y, column.width, height);
                let cell = cell.intersection(buf.area);
                if cell.height > 0 {
                    cells::span_line(buf, cell, span);
                }
            }
            if selected == Some(i) {
                highlighted = Some(row_area);
            }
        }
        if let Some(row_area) = highlighted {
            cells::set_style(buf, row_area, self.highlight);
        }
    }

    /// Column `index` as laid out in an area `width` cells wide (x from the area's left).
    pub fn column(&self, width: u16, index: usize) -> Option<Rect> {
        self.columns(width).get(index).copied()
    }

    /// As the table lays out its columns: one cell of spacing, from the left, and no column
    /// for a selection symbol since there is none.
    fn columns(&self, width: u16) -> std::rc::Rc<[Rect]> {
        let [_, columns] = Layout::horizontal([Constraint::Length(0), Constraint::Fill(0)])
            .areas(Rect::new(0, 0, width, 1));
        Layout::horizontal(self.widths)
            .flex(Flex::Start)
            .spacing(1)
            .split(columns)
    }
}

/// The rows that fit, scrolled so the selected one shows (the table's own reckoning, for
/// rows one line high).
fn visible_rows(rows: usize, selected: Option<usize>, height: u16) -> (usize, usize) {
    let last = rows.saturating_sub(1);
    let mut start = 0;
    let mut end = 0;
    let mut used: u16 = 0;
    while end < rows && used < height {
        used += 1;
        end += 1;
    }
    if let Some(selected) = selected.map(|s| s.min(last)) {
        while selected >= end {
            used = used.saturating_add(1);
            end += 1;
            while used > height {
                used -= 1;
                start += 1;
            }
        }
    }
    if used < height && end < rows {
        end += 1;
    }
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::draw::cells::tests::{canvas, lines};
    use ratatui::style::Color;
    use ratatui::widgets::StatefulWidget;

    fn table(rows: usize, selected: Option<usize>) -> TextTable<'static, 4> {
        let spans: Vec<Span> = lines().into_iter().flat_map(|l| l.spans).collect();
        TextTable {
            widths: [
                Constraint::Length(5),
                Constraint::Fill(1),
                Constraint::Length(3),
                Constraint::Length(7),
            ],
            header: ["name", "", "wide漢字", "last"],
            header_style: Style::new().bold().fg(Color::Gray),
            rows: (0..rows)
                .map(|i| std::array::from_fn(|c| spans[(i * 4 + c) % spans.len()].clone()))
                .collect(),
            highlight: Style::new().bg(Color::Blue).bold(),
            selected,
        }
    }

    #[test]
    fn draws_what_the_table_draws() {
        for rows in [0, 1, 3, 12] {
            for selected in [None, Some(0), Some(2), Some(11), Some(40)] {
                for (w, h) in [(0, 0), (1, 1), (4, 2), (12, 3), (30, 6), (44, 9), (60, 16)] {
                    let t = table(rows, selected);
                    let area = Rect::new(4, 3, w, h);
                    let mut want = canvas(64, 18);
                    let mut got = want.clone();
                    let (widget, mut state) = t.clone().widget();
                    widget.render(area, &mut want, &mut state);
                    t.render(area, &mut got);
                    assert_eq!(got, want, "{rows} rows, {selected:?} selected, in {area:?}");
                }
            }
        }
    }
}
