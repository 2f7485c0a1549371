//! Text written straight into the buffer's cells. Each function draws exactly the cells the
//! ratatui widget named on it would (the tests hold them to that), without two costs the
//! widgets pay on every cell: a bounds-checked index, and a style pass over the whole area
//! even when the style is empty. At 200×60 those two alone took most of the frame budget.
//!
//! Only the common case is done here: graphemes one cell wide, laid out from the left, found
//! without ratatui's grapheme segmentation where the characters make that safe (it cost more
//! than the writing). Anything else (wide or zero-width graphemes, lines truncated from the
//! left) is handed to the widget.

use ratatui::buffer::{Buffer, Cell, CellWidth};
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// As `Buffer::set_style`; the empty style changes nothing, so it costs nothing.
pub fn set_style(buf: &mut Buffer, area: Rect, style: Style) {
    if style == Style::default() {
        return;
    }
    let area = buf.area.intersection(area);
    for y in area.top()..area.bottom() {
        for cell in row(
            buf,
            Rect {
                y,
                height: 1,
                ..area
            },
        ) {
            cell.set_style(style);
        }
    }
}

/// The cells of the first row of `area`, which must lie inside the buffer.
fn row(buf: &mut Buffer, area: Rect) -> &mut [Cell] {
    if area.is_empty() {
        return &mut [];
    }
    let start = buf.index_of(area.x, area.y);
    &mut buf.content[start..start + usize::from(area.width)]
}

/// Writes the graphemes of `text` into `cells` from the left, each in `style`, as many as
/// fit; how many that was. None, with some written, at a grapheme that is not one cell wide:
/// the caller hands the text to the widget, which writes those cells again the same way. With
/// `trailing`, also None when the first grapheme that does not fit has no width: a span
/// appends it to its last cell.
fn put(cells: &mut [Cell], text: &str, style: Style, trailing: bool) -> Option<usize> {
    let mut n = 0;
    let mut each = |g: &str, ascii: bool| {
        let narrow = ascii || g.cell_width() == 1;
        if n == cells.len() {
            return if trailing && !ascii && g.cell_width() == 0 {
                Err(())
            } else {
                Ok(false)
            };
        }
        if !narrow {
            return Err(());
        }
        cells[n].set_symbol(g).set_style(style);
        n += 1;
        Ok(true)
    };
    if text.chars().all(stands_alone) {
        for (i, c) in text.char_indices() {
            if !each(&text[i..i + c.len_utf8()], c.is_ascii()).ok()? {
                break;
            }
        }
    } else {
        // ratatui's own segmentation, which also drops control characters.
        for g in Span::raw(text).styled_graphemes(Style::default()) {
            if !each(g.symbol, false).ok()? {
                break;
            }
        }
    }
    Some(n)
}

/// A character that is a grapheme by itself whatever is either side of it, provided that is
/// such a character too: printable ASCII, and the blocks of Latin letters, punctuation,
/// arrows, symbols, box drawing and braille this console is written in (none of which joins
/// or is joined by a neighbour, unlike combining marks, joiners, Hangul jamo or flags).
fn stands_alone(c: char) -> bool {
    matches!(c,
        ' '..='~'
        | '\u{a0}'..='\u{ac}'
        | '\u{ae}'..='\u{2ff}'
        | '\u{2010}'..='\u{2027}'
        | '\u{2030}'..='\u{205e}'
        | '\u{2070}'..='\u{20cf}'
        | '\u{2100}'..='\u{2bff}')
}

/// As `Span`'s `Widget::render`.
pub fn span(buf: &mut Buffer, area: Rect, span: &Span) {
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    if put(row(buf, area), &span.content, span.style, true).is_none() {
        Widget::render(span, area, buf);
    }
}

/// As `Line`'s `Widget::render`.
pub fn line(buf: &mut Buffer, area: Rect, line: &Line) {
    if !spans(buf, area, &line.spans, line.style, line.alignment) {
        Widget::render(line, area, buf);
    }
}

/// As a table cell holding one span: `Line::from(span)`'s `Widget::render`.
pub fn span_line(buf: &mut Buffer, area: Rect, span: &Span) {
    spans(
        buf,
        area,
        std::slice::from_ref(span),
        Style::default(),
        None,
    );
}

/// A line's spans, as the line draws them. False, having drawn nothing, when the line would
/// be truncated from the left: rare, and fiddly to get exactly right.
fn spans(
    buf: &mut Buffer,
    area: Rect,
    spans: &[Span],
    style: Style,
    alignment: Option<Alignment>,
) -> bool {
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return true;
    }
    let area = Rect { height: 1, ..area };
    let width: usize = spans.iter().map(Span::width).sum();
    if width == 0 {
        return true;
    }
    let fits = width <= usize::from(area.width);
    let indent = match alignment {
        Some(Alignment::Left) | None => 0,
        _ if !fits => return false,
        Some(Alignment::Center) => (usize::from(area.width) - width) / 2,
        Some(Alignment::Right) => usize::from(area.width) - width,
    };
    set_style(buf, area, style);
    let mut area = indent_x(area, indent);
    for s in spans {
        let w = s.width();
        // ratatui skips spans of no width, even ones holding zero-width graphemes.
        if w == 0 {
            continue;
        }
        if area.is_empty() {
            break;
        }
        span(buf, area, s);
        area = indent_x(area, w);
    }
    true
}

fn indent_x(area: Rect, by: usize) -> Rect {
    let by = u16::try_from(by).unwrap_or(u16::MAX);
    Rect {
        x: area.x.saturating_add(by),
        width: area.width.saturating_sub(by),
        ..area
    }
}

/// As `Paragraph::new(lines)`: one line per row from the top, truncated on the right, no
/// wrapping.
pub fn paragraph(buf: &mut Buffer, area: Rect, lines: &[Line]) {
    let area = area.intersection(buf.area);
    for (line, y) in lines.iter().zip(area.top()..area.bottom()) {
        let area = Rect {
            y,
            height: 1,
            ..area
        };
        if !matches!(line.alignment, Some(Alignment::Left) | None)
            || !paragraph_line(buf, area, line)
        {
            Paragraph::new(line.clone()).render(area, buf);
        }
    }
}

/// False, having drawn some of it, if the line has a grapheme that is not one cell wide.
fn paragraph_line(buf: &mut Buffer, area: Rect, line: &Line) -> bool {
    let base = Style::default().patch(line.style);
    let mut cells = row(buf, area);
    for s in &line.spans {
        if cells.is_empty() {
            break;
        }
        let Some(n) = put(cells, &s.content, base.patch(s.style), false) else {
            return false;
        };
        cells = &mut cells[n..];
    }
    true
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ratatui::style::{Color, Modifier};

    /// A buffer with something in every cell, so a cell left alone shows.
    pub(crate) fn canvas(w: u16, h: u16) -> Buffer {
        let mut buf = Buffer::empty(Rect::new(3, 2, w, h));
        for (i, cell) in buf.content.iter_mut().enumerate() {
            cell.set_symbol(["x", "·", "é"][i % 3])
                .set_style(Style::new().fg(Color::Indexed(i as u8)).italic());
        }
        buf
    }

    /// Text that takes every path: plain, narrow but not ASCII, wide, zero-width, control
    /// characters, empty.
    pub(crate) fn lines() -> Vec<Line<'static>> {
        let s = Style::new();
        vec![
            Line::from("plain ascii text"),
            Line::from(vec![
                Span::styled("a · b", s.fg(Color::Red)),
                Span::raw(" → "),
                Span::styled("✓ done", s.bold().bg(Color::Blue)),
            ]),
            Line::styled(
                "styled line",
                s.fg(Color::Green).add_modifier(Modifier::DIM),
            ),
            Line::from(vec![Span::raw("wide 漢字 here"), Span::raw("e\u{301}x")]),
            Line::from(vec![
                Span::raw(""),
                Span::raw("\u{301}"),
                Span::raw("tab\tand\nnl"),
            ]),
            Line::from(vec![
                Span::raw("ab\u{200b}cd"),
                Span::styled("x·\u{200b}", s.italic()),
                Span::raw("café × ≤ ─┃█⣿"),
            ]),
            Line::from(vec![
                Span::raw("a⌚b ★☔ →\u{fe0f}"),
                Span::raw(" 🇺🇸🇬 ok नमस्ते 한국어"),
            ]),
            Line::from("right").right_aligned(),
            Line::from("centred").centered(),
            Line::from(vec![Span::raw("ok "), Span::styled("then 🚀", s.red())]).right_aligned(),
            Line::default(),
        ]
    }

    #[test]
    fn spans_and_lines_draw_what_the_widgets_draw() {
        for line in lines() {
            for w in [0, 1, 2, 5, 9, 14, 40] {
                for x in [3, 4] {
                    let area = Rect::new(x, 3, w, 2);
                    let mut want = canvas(44, 4);
                    let mut got = want.clone();
                    Widget::render(&line, area, &mut want);
                    super::line(&mut got, area, &line);
                    assert_eq!(got, want, "{line:?} in {area:?}");
                    for s in &line.spans {
                        let mut want = canvas(44, 4);
                        let mut got = want.clone();
                        Widget::render(s, area, &mut want);
                        span(&mut got, area, s);
                        assert_eq!(got, want, "{s:?} in {area:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn paragraphs_draw_what_the_widget_draws() {
        let all = lines();
        for w in [0, 1, 3, 8, 15, 40] {
            for h in [0, 1, 4, 12] {
                let area = Rect::new(4, 3, w, h);
                let mut want = canvas(44, 14);
                let mut got = want.clone();
                Paragraph::new(all.clone()).render(area, &mut want);
                paragraph(&mut got, area, &all);
                assert_eq!(got, want, "in {area:?}");
            }
        }
    }

    #[test]
    fn the_empty_style_changes_nothing_and_others_apply() {
        for style in [Style::new(), Style::new().bg(Color::Red).not_bold()] {
            let area = Rect::new(2, 1, 9, 3);
            let mut want = canvas(12, 5);
            let mut got = want.clone();
            want.set_style(area, style);
            set_style(&mut got, area, style);
            assert_eq!(got, want);
        }
    }
}
