//! Lines composed to fit a width: the words laid out in the order given (most important
//! first), wrapped at spaces and never cut in the middle; when they need more rows than
//! allowed, the last row ends with "…" after its last whole word. Only a word longer than
//! the whole width is cut, as nothing else can show it.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// A piece of text as laid out: a word, or the space before one.
enum Piece {
    Word(String, Style),
    Space(Style),
}

fn pieces(spans: &[Span<'_>]) -> Vec<Piece> {
    let mut out = Vec::new();
    for span in spans {
        let style = span.style;
        let mut word = String::new();
        for c in span.content.chars() {
            if c == ' ' {
                if !word.is_empty() {
                    out.push(Piece::Word(std::mem::take(&mut word), style));
                }
                out.push(Piece::Space(style));
            } else {
                word.push(c);
            }
        }
        if !word.is_empty() {
            out.push(Piece::Word(word, style));
        }
    }
    out
}

fn width_of(s: &str) -> usize {
    Span::raw(s).width()
}

/// `spans` laid out in at most `rows` rows of `width` cells.
pub fn wrap(spans: &[Span<'_>], width: usize, rows: usize) -> Vec<Line<'static>> {
    if width == 0 || rows == 0 {
        return Vec::new();
    }
    let mut done: Vec<Line<'static>> = Vec::new();
    let mut row: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    // The space before the next word: written only if the word lands on the same row.
    let mut space: Option<Style> = None;
    let mut cut = false;
    'pieces: for piece in pieces(spans) {
        let (word, style) = match piece {
            Piece::Space(style) => {
                if used > 0 {
                    space = Some(style);
                }
                continue;
            }
            Piece::Word(w, s) => (w, s),
        };
        let w = width_of(&word);
        if let Some(s) = space.take()
            && used + 1 + w <= width
        {
            row.push(Span::styled(" ", s));
            row.push(Span::styled(word, style));
            used += 1 + w;
            continue;
        }
        if used + w <= width {
            row.push(Span::styled(word, style));
            used += w;
            continue;
        }
        if used > 0 {
            if done.len() + 1 == rows {
                cut = true;
                break;
            }
            done.push(Line::from(std::mem::take(&mut row)));
            used = 0;
        }
        // A word wider than the row (a URL, a query) is cut, row by row.
        let mut rest = word.as_str();
        while !rest.is_empty() {
            if used > 0 {
                if done.len() + 1 == rows {
                    cut = true;
                    break 'pieces;
                }
                done.push(Line::from(std::mem::take(&mut row)));
                used = 0;
            }
            let mut take = 0;
            for c in rest.chars() {
                let cw = width_of(&c.to_string());
                if used + cw > width && take > 0 {
                    break;
                }
                used += cw;
                take += c.len_utf8();
            }
            let (head, tail) = rest.split_at(take);
            row.push(Span::styled(head.to_string(), style));
            rest = tail;
        }
    }
    let last = Line::from(row);
    done.push(if cut { ellipsis(last, width) } else { last });
    done
}

/// `line` with "…" after its last whole word that leaves room for it.
fn ellipsis(line: Line<'static>, width: usize) -> Line<'static> {
    let mut spans = line.spans;
    let style = spans.last().map_or_else(Style::default, |s| s.style);
    loop {
        let used: usize = spans.iter().map(Span::width).sum();
        if used < width {
            break;
        }
        // Drop the last word and the space before it.
        spans.pop();
        if spans.last().is_some_and(|s| s.content == " ") {
            spans.pop();
        }
        if spans.is_empty() {
            break;
        }
    }
    while spans.last().is_some_and(|s| s.content == " ") {
        spans.pop();
    }
    spans.push(Span::styled("…", style));
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn words_wrap_at_spaces_and_are_never_cut_in_the_middle() {
        let spans = [Span::raw(
            "next: rollback in ≤ 10s unless passing (1/2 failed)",
        )];
        assert_eq!(
            text(&wrap(&spans, 24, 3)),
            ["next: rollback in ≤ 10s", "unless passing (1/2", "failed)"]
        );
    }

    #[test]
    fn what_needs_more_rows_ends_with_an_ellipsis_after_a_whole_word() {
        let spans = [
            Span::raw("rolled back "),
            Span::raw("(automatic: 2 consecutive failed measurements)"),
        ];
        let lines = wrap(&spans, 20, 2);
        assert_eq!(text(&lines), ["rolled back", "(automatic: 2…"], "{lines:?}");
        assert!(lines.iter().all(|l| l.width() <= 20));
    }

    #[test]
    fn a_word_wider_than_the_row_is_cut_and_styles_follow_their_words() {
        let bold = Style::default().add_modifier(ratatui::style::Modifier::BOLD);
        let spans = [Span::raw("query: "), Span::styled("abcdefghij", bold)];
        let lines = wrap(&spans, 6, 3);
        assert_eq!(text(&lines), ["query:", "abcdef", "ghij"]);
        assert_eq!(lines[2].spans[0].style, bold);
        assert!(wrap(&spans, 0, 3).is_empty());
    }
}
