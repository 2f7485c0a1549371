//! The queries one measurement runs, resolved from slo.yml for each track, and the
//! burn-rate alerts judged from their values: SLO logic, kept apart from the sources that
//! run the queries.

use crate::config::Span;
use crate::config::slo::{SloConfig, resolve_query};

/// One SLI with its queries resolved for each track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliQuery {
    pub name: String,
    pub canary: String,
    pub stable: String,
}

impl SliQuery {
    pub fn resolve(name: &str, query: &str, slo: &SloConfig) -> Self {
        let window = slo.query_window();
        SliQuery {
            name: name.to_string(),
            canary: resolve_query(query, &slo.selectors.canary, window),
            stable: resolve_query(query, &slo.selectors.stable, window),
        }
    }
}

/// Every query one measurement runs: each SLI, and the request count; and the canary's
/// error ratio over each burn-rate window (when `slo.yml` has `burn_rate` and an
/// `error_rate` SLI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queries {
    pub slis: Vec<SliQuery>,
    pub requests: SliQuery,
    pub burn: Vec<(Span, String)>,
}

impl Queries {
    /// The resolved canary query per SLI: the evidence a verdict cites.
    pub fn evidence(&self) -> std::collections::BTreeMap<String, String> {
        self.slis
            .iter()
            .map(|q| (q.name.clone(), q.canary.clone()))
            .collect()
    }

    /// The burn-rate alerts from the values `Metrics::ratios` read for `self.burn`.
    pub fn burn_alerts(
        &self,
        cfg: &crate::config::slo::BurnRate,
        values: Vec<Option<f64>>,
    ) -> Vec<crate::engine::burn::AlertState> {
        let by_window: Vec<(Span, Option<f64>)> =
            self.burn.iter().map(|(w, _)| *w).zip(values).collect();
        crate::engine::burn::evaluate(cfg, |w| {
            by_window
                .iter()
                .find(|(x, _)| *x == w)
                .and_then(|(_, v)| *v)
        })
    }

    pub fn resolve(slo: &SloConfig) -> Self {
        Queries {
            slis: slo
                .slis
                .iter()
                .map(|(name, sli)| SliQuery::resolve(name, &sli.query, slo))
                .collect(),
            requests: SliQuery::resolve("requests", &slo.requests_query(), slo),
            burn: match (&slo.burn_rate, slo.slis.get("error_rate")) {
                (Some(b), Some(sli)) => crate::engine::burn::windows(b)
                    .into_iter()
                    .map(|w| (w, resolve_query(&sli.query, &slo.selectors.canary, w)))
                    .collect(),
                _ => Vec::new(),
            },
        }
    }
}
