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

/// serde_yaml_ng appends " at line L column C" to its messages; the position is ours to print.
fn strip_position(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
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
