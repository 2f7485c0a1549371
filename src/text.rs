//! Text from outside the process made safe to show: control characters (ESC, BEL, CR, the
//! rest of C0 and C1, DEL) are written out visibly (`\x1b`), so a server's answer cannot
//! clear the screen, set the terminal's title or hide a line when it reaches stderr, the log
//! file, the journal or the screen. Line feeds and tabs are kept where a text may have
//! several lines; [`sanitize_line`] escapes them too.

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with every control character but `\n` and `\t` escaped.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    escape(text, |c| c == '\n' || c == '\t')
}

/// `text` with every control character escaped, line feeds and tabs included.
pub fn sanitize_line(text: &str) -> Cow<'_, str> {
    escape(text, |_| false)
}

fn escape(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && !keep(c);
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !unsafe_char(c) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_written_out_visibly() {
        assert_eq!(
            sanitize("boom \u{1b}]0;pwned\u{7}\u{1b}[2J done"),
            "boom \\x1b]0;pwned\\x07\\x1b[2J done"
        );
    }

    #[test]
    fn carriage_returns_del_and_c1_controls_are_escaped() {
        assert_eq!(sanitize("a\rb\u{7f}c\u{9b}2J"), "a\\x0db\\x7fc\\x9b2J");
    }

    #[test]
    fn newlines_and_tabs_stay_unless_a_single_line_is_asked_for() {
        assert_eq!(sanitize("a\n\tb"), "a\n\tb");
        assert_eq!(sanitize_line("a\n\tb"), "a\\x0a\\x09b");
    }

    #[test]
    fn plain_text_is_not_copied() {
        assert!(matches!(sanitize("weight 25 % → 50 %"), Cow::Borrowed(_)));
    }
}
