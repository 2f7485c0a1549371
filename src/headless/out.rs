//! Where the subcommands' lines go. A reader that stops reading (`captain previews list |
//! head -1`) closes the pipe: the rest of the output is dropped quietly and the command
//! goes on to the status it would have had, as `ls | head` does, instead of the panic
//! `println!` raises on a broken pipe. A mutating command is never cut short by it.
//!
//! And how they look, the same for every subcommand: `-o text|wide|json|yaml` ([`Format`]),
//! a document for the structured formats ([`structured`]), kubectl-style columns for the
//! others ([`Table`]).

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use unicode_width::UnicodeWidthStr;

/// Set once stdout's reader has gone: nothing more is written to it.
static STDOUT_GONE: AtomicBool = AtomicBool::new(false);

/// Whether stdout's reader has gone: a command that would go on printing (a watch) ends.
pub fn stdout_gone() -> bool {
    STDOUT_GONE.load(Ordering::Relaxed)
}

/// One line on stdout (`say!`).
pub fn stdout_line(args: fmt::Arguments<'_>) {
    if STDOUT_GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        STDOUT_GONE.store(true, Ordering::Relaxed);
        if e.kind() != io::ErrorKind::BrokenPipe {
            stderr_line(format_args!("captain: writing to stdout: {e}"));
        }
    }
}

/// One line on stderr (`say_err!`). If stderr itself cannot be written to there is
/// nowhere left to say so: the line is dropped.
pub fn stderr_line(args: fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    let _ = err.write_fmt(args).and_then(|()| err.write_all(b"\n"));
}

/// How a subcommand prints what it read (`-o`, as kubectl's `--output`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns under a header row.
    #[default]
    Text,
    /// The text table with more columns.
    Wide,
    /// JSON: one document; a list is one array.
    Json,
    /// YAML: the same document as JSON.
    Yaml,
}

impl Format {
    /// JSON or YAML: a document for a program rather than lines for a person.
    pub fn is_structured(self) -> bool {
        matches!(self, Format::Json | Format::Yaml)
    }
}

/// Print `value` when `format` is JSON or YAML and say so; in the text formats print
/// nothing, for the caller to print its lines.
pub fn structured<T: serde::Serialize + ?Sized>(
    format: Format,
    value: &T,
) -> color_eyre::Result<bool> {
    match format {
        Format::Json => say!("{}", serde_json::to_string_pretty(value)?),
        Format::Yaml => say!("{}", serde_yaml_ng::to_string(value)?.trim_end()),
        Format::Text | Format::Wide => return Ok(false),
    }
    Ok(true)
}

/// Columns as kubectl prints them: upper-case headers, each column as wide as its widest
/// cell on the terminal (a wide character takes two cells), three spaces between columns.
/// Columns marked wide show only under `-o wide`.
pub struct Table {
    columns: Vec<&'static str>,
    shown: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// `columns` as (header, only under `-o wide`).
    pub fn new(format: Format, columns: &[(&'static str, bool)]) -> Self {
        Table {
            columns: columns.iter().map(|(h, _)| *h).collect(),
            shown: columns
                .iter()
                .map(|(_, wide)| !wide || format == Format::Wide)
                .collect(),
            rows: Vec::new(),
        }
    }

    /// One row: a cell for every column, wide ones included. A missing cell is empty.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The header and the rows, each line without trailing blanks.
    pub fn lines(&self) -> Vec<String> {
        let header: Vec<String> = self.columns.iter().map(|h| h.to_string()).collect();
        let visible = |cells: &[String]| -> Vec<String> {
            (0..self.columns.len())
                .filter(|i| self.shown[*i])
                .map(|i| one_line(cells.get(i).map_or("", String::as_str)))
                .collect()
        };
        let all: Vec<Vec<String>> = std::iter::once(visible(&header))
            .chain(self.rows.iter().map(|r| visible(r)))
            .collect();
        let widths: Vec<usize> = (0..all[0].len())
            .map(|i| all.iter().map(|r| r[i].width()).max().unwrap_or(0))
            .collect();
        all.iter()
            .map(|cells| {
                let mut line = String::new();
                for (i, cell) in cells.iter().enumerate() {
                    line.push_str(cell);
                    if i + 1 < cells.len() {
                        line.push_str(&" ".repeat(widths[i] - cell.width() + 3));
                    }
                }
                line.trim_end().to_string()
            })
            .collect()
    }

    /// Print [`Table::lines`]; nothing at all when there are no rows, as `kubectl get`
    /// says "No resources found" on stderr rather than a lone header on stdout.
    pub fn print(&self, none: &str) {
        if self.rows.is_empty() {
            stderr_line(format_args!("{none}"));
            return;
        }
        for line in self.lines() {
            stdout_line(format_args!("{line}"));
        }
    }
}

/// A cell on one line: a title with a newline or a tab would break the columns.
fn one_line(cell: &str) -> String {
    cell.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_padded_to_the_widest_cell_by_display_width() {
        let mut t = Table::new(
            Format::Text,
            &[("NAME", false), ("AGE", false), ("TITLE", false)],
        );
        t.row(vec!["pr-7".into(), "3d".into(), "日本語 docs".into()]);
        t.row(vec!["pr-1234".into(), "12h".into(), "fix".into()]);
        t.row(vec!["界界".into(), "5m".into(), "x".into()]);
        assert_eq!(
            t.lines(),
            [
                "NAME      AGE   TITLE",
                "pr-7      3d    日本語 docs",
                "pr-1234   12h   fix",
                "界界      5m    x",
            ]
        );
    }

    #[test]
    fn wide_columns_show_only_under_wide() {
        let cols = [("NAME", false), ("URL", true), ("AGE", false)];
        let cells = vec![
            "pr-7".to_string(),
            "https://pr-7.example".into(),
            "3d".into(),
        ];
        let mut text = Table::new(Format::Text, &cols);
        text.row(cells.clone());
        assert_eq!(text.lines(), ["NAME   AGE", "pr-7   3d"]);
        let mut wide = Table::new(Format::Wide, &cols);
        wide.row(cells);
        assert_eq!(
            wide.lines(),
            [
                "NAME   URL                    AGE",
                "pr-7   https://pr-7.example   3d"
            ]
        );
    }

    #[test]
    fn a_cell_with_a_newline_stays_on_its_row() {
        let mut t = Table::new(Format::Text, &[("TITLE", false), ("AGE", false)]);
        t.row(vec!["two\nlines".into(), "1d".into()]);
        assert_eq!(t.lines(), ["TITLE       AGE", "two lines   1d"]);
    }
}
