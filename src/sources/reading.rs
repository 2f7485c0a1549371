//! What every source gives: a [`Reading`] (latest value, when it came, latest fault), fed
//! through a [`Feed`], and the [`SourceError`] a backend fails with.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::deadline;

/// A backend that could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum SourceError {
    /// Down, unreachable, timing out: try again later.
    #[error("unreachable: {}", crate::text::sanitize(.0))]
    Unreachable(String),
    /// Rate limited until the given time (a limit resets within the hour: the time says it).
    #[error("rate limited until {}", .0.format("%H:%M:%S UTC"))]
    RateLimited(DateTime<Utc>),
    /// The backend answered, and said no.
    #[error("{}", crate::text::sanitize(.0))]
    Rejected(String),
    /// No such backend is set up (no token, no context): why.
    #[error("not configured: {}", crate::text::sanitize(.0))]
    Unconfigured(String),
}

/// The latest value from a source, when it came, and the latest failure if the source is
/// failing now (the value is then stale, and kept).
#[derive(Debug, Clone)]
pub struct Reading<T> {
    pub value: Option<Arc<T>>,
    pub updated: Option<DateTime<Utc>>,
    pub fault: Option<(DateTime<Utc>, SourceError)>,
}

impl<T> Default for Reading<T> {
    fn default() -> Self {
        Self {
            value: None,
            updated: None,
            fault: None,
        }
    }
}

impl<T> Reading<T> {
    pub fn fresh(value: T, at: DateTime<Utc>) -> Self {
        Self {
            value: Some(Arc::new(value)),
            updated: Some(at),
            fault: None,
        }
    }
}

pub type Feed<T> = watch::Receiver<Reading<T>>;

/// Wait for a feed's first value (or its first fault), for one-shot headless reads.
pub async fn first_reading<T>(
    mut feed: Feed<T>,
    timeout: std::time::Duration,
) -> Result<Arc<T>, SourceError> {
    let wait = async {
        loop {
            {
                let r = feed.borrow_and_update();
                if let Some(v) = &r.value {
                    return Ok(v.clone());
                }
                if let Some((_, e)) = &r.fault {
                    return Err(e.clone());
                }
            }
            if feed.changed().await.is_err() {
                return Err(SourceError::Unreachable("the source stopped".into()));
            }
        }
    };
    tokio::time::timeout(timeout, wait)
        .await
        .unwrap_or_else(|_| {
            Err(SourceError::Unreachable(format!(
                "timed out after {} waiting for the first answer",
                deadline::secs(timeout)
            )))
        })
}
