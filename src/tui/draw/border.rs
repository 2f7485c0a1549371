//! A bordered box with a title on the left and another on the right, drawn straight into the
//! buffer: the same cells as the ratatui `Block` it describes (`Bordered::block`; the tests
//! hold the two together) without the block's style pass over its whole area, which is empty
//! here and cost as much as the border itself.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::border;
use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType};

use super::cells;

#[derive(Debug, Clone)]
pub struct Bordered<'a> {
    pub kind: BorderType,
    pub style: Style,
    pub title: Line<'a>,
    /// Drawn flush right, as a right-aligned title.
    pub extra: Option<Line<'a>>,
}

impl<'a> Bordered<'a> {
    pub fn new(kind: BorderType, style: Style, title: Line<'a>) -> Self {
        Bordered {
            kind,
            style,
            title: title.left_aligned(),
            extra: None,
        }
    }

    pub fn extra(self, extra: Line<'a>) -> Self {
        Bordered {
            extra: Some(extra.right_aligned()),
            ..self
        }
    }

    /// The ratatui block this draws.
    pub fn block(self) -> Block<'a> {
        let block = Block::bordered()
            .border_type(self.kind)
            .border_style(self.style)
            .title(self.title);
        match self.extra {
            Some(extra) => block.title(extra),
            None => block,
        }
    }

    /// As `Block::inner`.
    pub fn inner(area: Rect) -> Rect {
        let x = area.x.saturating_add(1).min(area.right());
        let y = area.y.saturating_add(1).min(area.bottom());
        Rect::new(
            x,
            y,
            area.width.saturating_sub(2),
            area.height.saturating_sub(2),
        )
    }

    /// Draws the box and returns the area inside it.
    pub fn render(&self, area: Rect, buf: &mut Buffer) -> Rect {
        let inner = Self::inner(area);
        let area = area.intersection(buf.area);
        if area.is_empty() {
            return inner;
        }
        let set: border::Set = self.kind.to_border_set();
        let (left, top) = (area.left(), area.top());
        let right = area.right().saturating_sub(1);
        let bottom = area.bottom().saturating_sub(1);
        // In the block's order, so where sides meet in a tiny box the same one wins.
        for y in top..=bottom {
            self.put(buf, left, y, set.vertical_left);
        }
        for x in left..=right {
            self.put(buf, x, top, set.horizontal_top);
        }
        for y in top..=bottom {
            self.put(buf, right, y, set.vertical_right);
        }
        for x in left..=right {
            self.put(buf, x, bottom, set.horizontal_bottom);
        }
        self.put(buf, right, bottom, set.bottom_right);
        self.put(buf, right, top, set.top_right);
        self.put(buf, left, bottom, set.bottom_left);
        self.put(buf, left, top, set.top_left);

        let titles = Rect {
            x: left.saturating_add(1),
            y: top,
            width: area.width.saturating_sub(2),
            height: 1,
        };
        if !titles.is_empty() {
            let width = line_width(&self.title);
            cells::line(
                buf,
                Rect {
                    width: width.min(titles.width),
                    ..titles
                },
                &self.title,
            );
        }
        if let Some(extra) = &self.extra
            && !titles.is_empty()
        {
            let width = line_width(extra);
            let title = Rect {
                x: titles.right().saturating_sub(width).max(titles.left()),
                width: width.min(titles.width),
                ..titles
            };
            cells::line(buf, title, extra);
        }
        inner
    }

    fn put(&self, buf: &mut Buffer, x: u16, y: u16, symbol: &str) {
        let i = buf.index_of(x, y);
        buf.content[i].set_symbol(symbol).set_style(self.style);
    }
}

fn line_width(line: &Line) -> u16 {
    line.width().min(usize::from(u16::MAX)) as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::draw::cells::tests::{canvas, lines};
    use ratatui::style::{Color, Stylize};
    use ratatui::widgets::Widget;

    #[test]
    fn draws_what_the_block_draws() {
        let all = lines();
        let kinds = [BorderType::Rounded, BorderType::Thick, BorderType::Plain];
        for (i, kind) in kinds.into_iter().enumerate() {
            for title in &all {
                for extra in [None, Some(&all[(i + 1) % all.len()]), Some(&all[2])] {
                    let mut b = Bordered::new(kind, Style::new().fg(Color::Red), title.clone());
                    if let Some(e) = extra {
                        b = b.extra(e.clone().bold());
                    }
                    for (w, h) in [
                        (0, 0),
                        (1, 1),
                        (2, 1),
                        (1, 3),
                        (3, 2),
                        (7, 3),
                        (16, 4),
                        (40, 6),
                    ] {
                        let area = Rect::new(4, 3, w, h);
                        let mut want = canvas(44, 8);
                        let mut got = want.clone();
                        b.clone().block().render(area, &mut want);
                        let inner = b.render(area, &mut got);
                        assert_eq!(got, want, "{b:?} in {area:?}");
                        assert_eq!(inner, b.clone().block().inner(area));
                    }
                }
            }
        }
    }
}
