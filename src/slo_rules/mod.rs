//! What `slo.yml` generates for the systems around captain: a Prometheus rule file
//! (`rules`: recording rules for every SLI on both tracks, and the burn-rate alerts) and a
//! Grafana dashboard (`dashboard`). Both are built from the very query text the verdict
//! runs (`Queries::resolve`), so the canary's verdict, the alerts and the panels cannot
//! drift apart (`docs/slo.md`, "Rules and dashboards").
//!
//! Pure: it turns a parsed `slo.yml` into text, and never reads or writes a file.

pub mod dashboard;
pub mod rules;

use crate::config::Span;
use crate::config::slo::{SloConfig, prom_duration};
use crate::engine::signals::Track;
use crate::sources::Queries;

/// The rule group's name (what the `prometheus.rules` probe and `slo burn-drill` look
/// for), and the name of every burn-rate alert (`severity` and the windows tell them apart).
pub use crate::config::probe::{BURN_ALERT, SLO_RULE_GROUP as GROUP};

/// The label each recorded series carries for its track.
pub const TRACK_LABEL: &str = "track";

/// `slo.yml` cannot be turned into rules as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GenerateError(pub String);

/// The track as its label value.
pub fn track_name(track: Track) -> &'static str {
    match track {
        Track::Canary => "canary",
        Track::Stable => "stable",
    }
}

/// One SLI's query on one track, as the verdict runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackQuery {
    pub sli: String,
    pub track: Track,
    pub expr: String,
}

/// The queries everything generated is built from: each SLI on both tracks and the request
/// counts over the query window (those `Queries::resolve` gives the verdict), and the error
/// ratio over each burn-rate window on both tracks (the canary's are those the verdict's
/// burn rates read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    pub slis: Vec<TrackQuery>,
    pub requests: [String; 2],
    pub burn: Vec<(Span, [String; 2])>,
}

impl Sources {
    pub fn of(slo: &SloConfig) -> Self {
        let q = Queries::resolve(slo);
        let slis = q
            .slis
            .iter()
            .flat_map(|s| {
                [
                    TrackQuery {
                        sli: s.name.clone(),
                        track: Track::Canary,
                        expr: s.canary.clone(),
                    },
                    TrackQuery {
                        sli: s.name.clone(),
                        track: Track::Stable,
                        expr: s.stable.clone(),
                    },
                ]
            })
            .collect();
        // The stable track's burn queries are the canary's with the other selector, as
        // `Queries::resolve` would write them.
        let burn = q
            .burn
            .iter()
            .map(|(window, canary)| {
                let stable = slo.slis.get("error_rate").map_or_else(String::new, |sli| {
                    crate::config::slo::resolve_query(&sli.query, &slo.selectors.stable, *window)
                });
                (*window, [canary.clone(), stable])
            })
            .collect();
        Sources {
            slis,
            requests: [q.requests.canary, q.requests.stable],
            burn,
        }
    }
}

/// A metric name made from an SLI's name: Prometheus allows letters, digits, `_` and `:`.
fn metric_part(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The series an SLI is recorded as, one per track (`track` label).
pub fn sli_record(sli: &str) -> String {
    format!("captain:sli_{}", metric_part(sli))
}

/// The series the error ratio over a burn-rate window is recorded as.
pub fn burn_record(window: Span) -> String {
    format!("captain:error_ratio_{}", prom_duration(window))
}

/// The error budget as PromQL writes it, the engine's own arithmetic (`engine::burn::budget`).
pub fn budget_expr(target: f64) -> String {
    format!("(1 - {target} / 100)")
}

#[cfg(test)]
mod tests;
