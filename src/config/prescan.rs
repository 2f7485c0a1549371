//! What a YAML configuration file may hold, looked at before the YAML parser sees it, in one
//! pass over the text (linear time): nesting at most [`MAX_DEPTH`] levels deep, one document,
//! no tags. The parser takes time quadratic in the nesting depth, so a file of `[[[[…` must be
//! turned away before it; two documents and tags (`!Dur 30s`) would otherwise be refused
//! without a position or silently read as plain values. See `docs/configuration.md`, "Limits".
//!
//! The scan follows YAML's structure only as far as these rules need: flow collections
//! (`[` `{`), block indentation and `- ` / `? ` / `: ` indicators, quoted scalars (also over
//! several lines), comments, block scalars (`|`, `>`) and document markers. It may count a
//! level too many in odd but valid text, never one too few.

use std::path::Path;

use super::ConfigError;

/// The deepest nesting captain reads: flow `[`/`{` and block levels together. Real files
/// need fewer than ten.
pub const MAX_DEPTH: usize = 64;

/// Checks `text` against the rules above; the error names the line and column where the
/// first one is broken.
pub fn check(origin: &Path, text: &str) -> Result<(), ConfigError> {
    Scan::default()
        .run(text)
        .map_err(|(line, column, message)| ConfigError::new(origin, message).at(line, column))
}

type Broken = (usize, usize, String);

#[derive(Default)]
struct Scan {
    /// The quote a scalar opened on an earlier line and has not closed.
    quote: Option<char>,
    /// Open flow collections.
    flow: usize,
    /// The columns of the open block levels, increasing.
    blocks: Vec<usize>,
    /// A block scalar's parent indentation: more indented (or blank) lines are its text.
    block_scalar: Option<usize>,
    /// The document has a node already.
    content: bool,
    /// `...` ended the document.
    ended: bool,
}

fn too_deep(line: usize, column: usize) -> Broken {
    (
        line,
        column,
        format!(
            "nesting deeper than {MAX_DEPTH} levels; expected at most {MAX_DEPTH} levels of [ ], {{ }} and indentation together"
        ),
    )
}

/// A marker of its own on a line: `---` or `...`, then the end or a space.
fn marker(rest: &str, m: &str) -> bool {
    rest.strip_prefix(m)
        .is_some_and(|tail| tail.is_empty() || tail.starts_with([' ', '\t']))
}

impl Scan {
    fn depth(&self) -> usize {
        self.blocks.len() + self.flow
    }

    fn run(mut self, text: &str) -> Result<(), Broken> {
        for (n, raw) in text.split('\n').enumerate() {
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            self.line(n + 1, line)?;
        }
        Ok(())
    }

    fn line(&mut self, number: usize, line: &str) -> Result<(), Broken> {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = &line[indent..];
        if let Some(parent) = self.block_scalar {
            if rest.trim().is_empty() || indent > parent {
                return Ok(());
            }
            self.block_scalar = None;
        }
        // Where the structure of this line starts, and whether a node may start there.
        let (mut at, mut node_start) = (0, self.flow > 0);
        if self.quote.is_none() && self.flow == 0 {
            if rest.trim().is_empty() || rest.starts_with('#') {
                return Ok(());
            }
            if indent == 0 && rest.starts_with('%') {
                return Ok(());
            }
            if indent == 0 && marker(rest, "...") {
                self.ended = true;
                return Ok(());
            }
            if indent == 0 && marker(rest, "---") {
                if self.content || self.ended {
                    return Err((
                        number,
                        1,
                        "a second YAML document starts here; expected one document".into(),
                    ));
                }
                self.blocks.clear();
                self.content = true;
                at = 3;
            } else {
                if self.ended {
                    return Err((
                        number,
                        indent + 1,
                        "a second YAML document starts here, after `...`; expected one document"
                            .into(),
                    ));
                }
                self.content = true;
                while self.blocks.last().is_some_and(|&c| c >= indent) {
                    self.blocks.pop();
                }
                self.blocks.push(indent);
                if self.depth() > MAX_DEPTH {
                    return Err(too_deep(number, indent + 1));
                }
                at = indent;
                // `- `, `? ` and `: ` at the start of a line each open a level.
                let bytes = line.as_bytes();
                while matches!(bytes.get(at), Some(b'-' | b'?' | b':'))
                    && matches!(bytes.get(at + 1), None | Some(b' ' | b'\t'))
                {
                    at += 1;
                    while matches!(bytes.get(at), Some(b' ' | b'\t')) {
                        at += 1;
                    }
                    if at >= bytes.len() {
                        break;
                    }
                    self.blocks.push(at);
                    if self.depth() > MAX_DEPTH {
                        return Err(too_deep(number, line[..at].chars().count() + 1));
                    }
                }
            }
            node_start = true;
        }
        self.rest_of_line(number, line, at, indent, node_start)
    }

    fn rest_of_line(
        &mut self,
        number: usize,
        line: &str,
        from: usize,
        indent: usize,
        mut node_start: bool,
    ) -> Result<(), Broken> {
        let column_of = |i: usize| line[..i].chars().count() + 1;
        let mut chars = line[from..]
            .char_indices()
            .map(|(i, c)| (from + i, c))
            .peekable();
        let mut after_space = true;
        // An anchor's name runs to the next space; a node may still start after it.
        let mut in_anchor = false;
        while let Some((i, c)) = chars.next() {
            let next = chars.peek().map(|&(_, c)| c);
            if let Some(q) = self.quote {
                match (q, c) {
                    ('\'', '\'') if next == Some('\'') => {
                        chars.next();
                    }
                    ('"', '\\') => {
                        chars.next();
                    }
                    (q, c) if q == c => {
                        self.quote = None;
                        node_start = false;
                    }
                    _ => {}
                }
                after_space = false;
                continue;
            }
            if c == ' ' || c == '\t' {
                after_space = true;
                in_anchor = false;
                continue;
            }
            let token_start = after_space;
            after_space = false;
            if c == '#' && token_start {
                return Ok(());
            }
            if in_anchor && !(self.flow > 0 && matches!(c, ',' | '[' | ']' | '{' | '}')) {
                continue;
            }
            in_anchor = false;
            let space_follows = matches!(next, None | Some(' ' | '\t'));
            if self.flow > 0 {
                match c {
                    '[' | '{' => {
                        self.flow += 1;
                        if self.depth() > MAX_DEPTH {
                            return Err(too_deep(number, column_of(i)));
                        }
                        node_start = true;
                    }
                    ']' | '}' => {
                        self.flow -= 1;
                        node_start = false;
                    }
                    ',' => node_start = true,
                    ':' if space_follows || matches!(next, Some(',' | '[' | ']' | '{' | '}')) => {
                        node_start = true;
                    }
                    '\'' | '"' if node_start || token_start => self.quote = Some(c),
                    '!' if node_start => return Err(tag(number, column_of(i), &line[i..])),
                    '&' if node_start => in_anchor = true,
                    _ => node_start = false,
                }
                continue;
            }
            if !node_start {
                if c == ':' && space_follows {
                    node_start = true;
                }
                continue;
            }
            match c {
                '[' | '{' => {
                    self.flow += 1;
                    if self.depth() > MAX_DEPTH {
                        return Err(too_deep(number, column_of(i)));
                    }
                }
                '\'' | '"' => {
                    self.quote = Some(c);
                    node_start = false;
                }
                '!' => return Err(tag(number, column_of(i), &line[i..])),
                '&' => in_anchor = true,
                '|' | '>' => {
                    self.block_scalar = Some(indent);
                    return Ok(());
                }
                _ => node_start = c == ':' && space_follows,
            }
        }
        Ok(())
    }
}

fn tag(line: usize, column: usize, from: &str) -> Broken {
    let name: String = match from.find('>').filter(|_| from.starts_with("!<")) {
        Some(end) => from[..=end].chars().take(60).collect(),
        None => from
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '[' | ']' | '{' | '}'))
            .take(60)
            .collect(),
    };
    (
        line,
        column,
        format!("the YAML tag `{name}` is not read by captain; expected a plain value"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broken(text: &str) -> Option<(usize, usize, String)> {
        check(Path::new("x.yml"), text)
            .err()
            .map(|e| (e.line.unwrap_or(0), e.column.unwrap_or(0), e.message))
    }

    fn position(text: &str) -> Option<(usize, usize)> {
        broken(text).map(|(l, c, _)| (l, c))
    }

    #[test]
    fn flow_nesting_is_refused_where_it_crosses_the_limit() {
        let ok = format!(
            "a: {}{}\n",
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        assert_eq!(broken(&ok), None);
        let deep = format!("a: {}\n", "[".repeat(200_000));
        let (line, column, message) = broken(&deep).unwrap();
        assert_eq!((line, column), (1, 3 + MAX_DEPTH));
        assert!(
            message.contains("nesting deeper than 64 levels"),
            "{message}"
        );
        assert_eq!(
            position(&"{a: ".repeat(1000)),
            Some((1, 4 * (MAX_DEPTH - 1) + 1))
        );
    }

    #[test]
    fn block_nesting_counts_indentation_and_dashes() {
        let mut text = String::new();
        for level in 0..MAX_DEPTH {
            text.push_str(&format!("{}k{level}:\n", " ".repeat(level)));
        }
        assert_eq!(broken(&text), None);
        text.push_str(&format!("{}past: 1\n", " ".repeat(MAX_DEPTH)));
        assert_eq!(position(&text), Some((MAX_DEPTH + 1, MAX_DEPTH + 1)));
        let dashes = format!("{}x\n", "- ".repeat(100));
        assert_eq!(position(&dashes), Some((1, 2 * MAX_DEPTH + 1)));
    }

    #[test]
    fn brackets_in_quotes_comments_plain_text_and_block_scalars_do_not_nest() {
        let text = format!(
            "q: 'sum(x{{a=\"[\"}}[5m]) {0}'\nd: \"{0}\\\" {0}\"\n# {0}\nplain: a{0} [b\nm: 'it''s {0}\n  still {0}'\ns: |\n  {0}\n    {0}\nafter: [1, 2]\n",
            "[".repeat(100)
        );
        assert_eq!(broken(&text), None);
    }

    #[test]
    fn closing_brackets_are_counted_too() {
        let text = "a: [[1], [2], {b: [3]}]\n".repeat(1000);
        assert_eq!(broken(&text), None);
    }

    #[test]
    fn a_second_document_is_refused_at_its_marker() {
        assert_eq!(broken("---\na: 1\n"), None);
        assert_eq!(position("a: 1\n---\nb: 2\n"), Some((2, 1)));
        assert_eq!(position("# c\n---\na: 1\n--- \nb: 2\n"), Some((4, 1)));
        assert_eq!(position("a: 1\n...\nb: 2\n"), Some((3, 1)));
        assert_eq!(broken("a: |\n  ---\n  text\n"), None);
        assert_eq!(broken("a: '\n---\n'\n"), None);
    }

    #[test]
    fn tags_are_refused_where_they_are_written() {
        let (line, column, message) = broken("rollout:\n  interval: !Dur 30s\n").unwrap();
        assert_eq!((line, column), (2, 13));
        assert!(message.contains("`!Dur`"), "{message}");
        assert_eq!(position("- !!str 5\n"), Some((1, 3)));
        assert_eq!(position("a: [1, !x 2]\n"), Some((1, 8)));
        assert_eq!(position("a: &anchor !t 1\n"), Some((1, 12)));
        assert_eq!(broken("a: don't !panic\nb: '!x'\nc: x!y\n"), None);
    }
}
