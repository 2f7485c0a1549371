//! The one error a bad configuration file produces: where, and what was expected.

use std::fmt;
use std::path::PathBuf;

/// A configuration file that could not be used, with the position of the problem when known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl ConfigError {
    pub fn new(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// From a YAML parse error, which knows its own position.
    pub fn from_yaml(file: impl Into<PathBuf>, err: &serde_yaml_ng::Error) -> Self {
        let message = strip_position(&err.to_string());
        let e = Self::new(file, message);
        match err.location() {
            Some(loc) => e.at(loc.line(), loc.column()),
            None => e,
        }
    }

    /// From a TOML parse error; its span is a byte range into `text`.
    pub fn from_toml(file: impl Into<PathBuf>, text: &str, err: &toml::de::Error) -> Self {
        let e = Self::new(file, err.message().to_string());
        match err.span() {
            Some(span) => {
                let (line, column) = line_column(text, span.start);
                e.at(line, column)
            }
            None => e,
        }
    }
}

/// serde_yaml_ng puts " at line L column C" after its message; the position is ours to
/// print. What follows it (", while parsing a flow mapping at line 9 column 7") is kept:
/// it says what the parser was reading.
fn strip_position(msg: &str) -> String {
    let Some(start) = msg.find(" at line ") else {
        return msg.to_string();
    };
    let rest = &msg[start + " at line ".len()..];
    let after_position = rest
        .split_once(" column ")
        .map(|(line, tail)| {
            let digits = tail.len() - tail.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            (line, &tail[digits..])
        })
        .filter(|(line, _)| !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()));
    match after_position {
        Some((_, tail)) => format!("{}{tail}", &msg[..start]),
        None => msg[..start].to_string(),
    }
}

/// 1-based line and column of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    (line, column)
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        write!(f, ": {}", self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::strip_position;

    #[test]
    fn strips_the_position_and_keeps_what_the_parser_was_reading() {
        assert_eq!(
            strip_position(
                "did not find expected ',' or '}' at line 1 column 9, while parsing a flow mapping at line 1 column 4"
            ),
            "did not find expected ',' or '}', while parsing a flow mapping at line 1 column 4"
        );
        assert_eq!(
            strip_position("rollout: missing field `interval` at line 7 column 3"),
            "rollout: missing field `interval`"
        );
        assert_eq!(strip_position("no position here"), "no position here");
    }
}
