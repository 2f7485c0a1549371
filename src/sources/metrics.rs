//! [`Metrics`]: the golden signals, the SLIs and the burn rates, as Prometheus (or the
//! demo world) answers them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Queries, SourceError, alerting};
use crate::config::Span;
use crate::engine::analysis::Measurement;
use crate::engine::signals::GoldenSample;

#[async_trait]
pub trait Metrics: Send + Sync {
    /// Every SLI on both tracks, and each track's request count over the window.
    async fn measure(&self, q: &Queries, now: DateTime<Utc>) -> Result<Measurement, SourceError>;
    /// The golden signals now, for the charts.
    async fn golden(&self, now: DateTime<Utc>) -> Result<GoldenSample, SourceError>;
    /// The golden signals between `start` and `end`, one sample per `step`, so the charts
    /// open with the history the metrics store already has. A source without history
    /// returns none.
    async fn history(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step: std::time::Duration,
    ) -> Result<Vec<GoldenSample>, SourceError> {
        let _ = (start, end, step);
        Ok(Vec::new())
    }

    /// The value of each of `queries` (error ratios over burn-rate windows), in order.
    async fn ratios(
        &self,
        queries: &[(Span, String)],
        now: DateTime<Utc>,
    ) -> Result<Vec<Option<f64>>, SourceError> {
        let _ = (queries, now);
        Err(SourceError::Rejected(
            "this metrics source cannot evaluate burn rates".into(),
        ))
    }

    /// The value of one instant query, for a `prometheus.query` probe: `None` when the
    /// query returns no series.
    async fn value(&self, query: &str, now: DateTime<Utc>) -> Result<Option<f64>, SourceError> {
        let _ = (query, now);
        Err(SourceError::Rejected(
            "this metrics source cannot evaluate queries".into(),
        ))
    }

    /// The rule groups the metrics store has loaded, each rule's health and its alerts
    /// now: for the `prometheus.rules` and `prometheus.alert` probes.
    async fn rule_groups(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<alerting::LoadedGroup>, SourceError> {
        let _ = now;
        Err(SourceError::Rejected(
            "this metrics source has no rules".into(),
        ))
    }
}
