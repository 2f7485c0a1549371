//! One file per panel; each draws itself from the state and the clock.

pub mod canary;
pub mod log;
pub mod main_health;
pub mod phases;
pub mod previews;

use chrono::{DateTime, Utc};
use ratatui::text::{Line, Span};

use crate::config::duration::format_span;
use crate::sources::Reading;
use crate::tui::theme::Theme;

pub fn ago(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    format_span((now - then).to_std().unwrap_or_default())
}

/// The data's age, or the source's failure and how stale the shown data is.
pub fn freshness<T>(
    r: &Reading<T>,
    source: &str,
    now: DateTime<Utc>,
    theme: &Theme,
) -> Line<'static> {
    match (&r.fault, r.updated) {
        (Some((_, e)), Some(at)) => Line::styled(
            format!(" {source}: {e}, stale {} ", ago(now, at)),
            theme.bold(theme.fail),
        ),
        (Some((_, e)), None) => Line::styled(format!(" {source}: {e} "), theme.bold(theme.fail)),
        (None, Some(at)) => Line::from(Span::styled(
            format!(" updated {} ago ", ago(now, at)),
            theme.fg(theme.muted),
        )),
        (None, None) => Line::styled(format!(" waiting for {source}… "), theme.fg(theme.muted)),
    }
}
