//! Prometheus as the metrics source. A measurement is a set of instant queries evaluated at
//! the tick's `now`: one per SLI per track, plus each track's request count, all issued at
//! once, each bounded by a timeout. The golden signals of the same `now` reuse those answers
//! and ask only for the golden SLIs the measurement did not, so a tick costs at most one
//! request per SLI per track.
//!
//! An empty answer is "no data", a failed query is an error for its SLI (never a pass), and
//! a Prometheus that answers nothing at all is `Unreachable`. Nothing here judges a value
//! (that is `engine::analysis`) or touches UI state.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::future::join_all;
use prometheus_http_query::response::Data;
use prometheus_http_query::{Client, Error};
use tokio::sync::Mutex;

use super::{Metrics, Queries, SliQuery, SourceError};
use crate::config::Span;
use crate::config::slo::SloConfig;
use crate::engine::analysis::{Measurement, SliReading};
use crate::engine::signals::{GoldenSample, GoldenSet};

/// The longest a single query may take, whatever the measurement interval.
const QUERY_TIMEOUT_CAP: Duration = Duration::from_secs(10);

/// A Prometheus URL that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("Prometheus URL `{url}`: {reason}")]
pub struct BadUrl {
    pub url: String,
    pub reason: String,
}

/// The live metrics source: instant queries against one Prometheus server.
pub struct PrometheusMetrics {
    client: Client,
    /// The URL without credentials or query string, for messages.
    endpoint: String,
    /// The resolved query of each golden signal, in its `GoldenSet`'s order.
    golden: Vec<SliQuery>,
    timeout: Duration,
    /// The answers at the latest `now`; held across a fetch, so a second caller at the same
    /// `now` waits for the first one's answers instead of asking again.
    answers: Mutex<Answers>,
}

#[derive(Default)]
struct Answers {
    at: Option<DateTime<Utc>>,
    by_query: HashMap<String, Answer>,
}

/// One query's outcome: a value, no data (`None`), or why there is none.
type Answer = Result<Option<f64>, Failure>;

#[derive(Debug, Clone, PartialEq)]
enum Failure {
    /// No answer: connection refused, timed out, not Prometheus speaking.
    Unreachable(String),
    /// Prometheus answered, and refused the query or returned something unusable.
    Rejected(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Unreachable(m) | Failure::Rejected(m) => f.write_str(m),
        }
    }
}

impl PrometheusMetrics {
    /// A source for the Prometheus at `url` (its base URL; `/api/v1/...` is added), asking
    /// the queries of `slo`.
    pub fn new(url: &str, slo: &SloConfig) -> Result<Self, BadUrl> {
        let endpoint = redact(url);
        let client = Client::try_from(url).map_err(|e| BadUrl {
            url: endpoint.clone(),
            reason: e.to_string(),
        })?;
        Ok(PrometheusMetrics {
            client,
            endpoint,
            golden: golden_queries(slo),
            timeout: query_timeout(slo.rollout.interval.0),
            answers: Mutex::new(Answers::default()),
        })
    }

    /// No instant query waits longer than `limit` (the `[timeouts] budget`), however long the
    /// measurement interval.
    pub fn within(mut self, limit: Duration) -> Self {
        self.timeout = self.timeout.min(limit);
        self
    }

    /// The answers to `wanted` at `now`: those already fetched at this `now`, and the rest
    /// fetched concurrently.
    async fn answers(&self, wanted: &[&str], now: DateTime<Utc>) -> HashMap<String, Answer> {
        let mut cache = self.answers.lock().await;
        if cache.at != Some(now) {
            cache.at = Some(now);
            cache.by_query.clear();
        }
        let mut missing: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|q| !cache.by_query.contains_key(*q))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        let fetched = join_all(missing.iter().map(|q| self.fetch(q, now))).await;
        for (q, a) in missing.iter().zip(fetched) {
            cache.by_query.insert((*q).to_string(), a);
        }
        wanted
            .iter()
            .filter_map(|q| {
                cache
                    .by_query
                    .get(*q)
                    .map(|a| ((*q).to_string(), a.clone()))
            })
            .collect()
    }

    async fn fetch(&self, query: &str, now: DateTime<Utc>) -> Answer {
        let request = self
            .client
            .query(query)
            .query("time", eval_time(now))
            .timeout(i64::try_from(self.timeout.as_millis()).unwrap_or(i64::MAX))
            .get();
        let answer = match tokio::time::timeout(self.timeout, request).await {
            Err(_) => Err(Failure::Unreachable(format!(
                "no answer within {} ms",
                self.timeout.as_millis()
            ))),
            Ok(Err(e)) => Err(classify(&e)),
            Ok(Ok(r)) => read_data(r.data()),
        };
        if let Err(f) = &answer {
            log::debug!("prometheus {}: `{query}`: {f}", self.endpoint);
        }
        answer
    }

    fn unreachable(&self, why: &str) -> SourceError {
        SourceError::Unreachable(format!("Prometheus at {}: {why}", self.endpoint))
    }
}

#[async_trait]
impl Metrics for PrometheusMetrics {
    async fn measure(&self, q: &Queries, now: DateTime<Utc>) -> Result<Measurement, SourceError> {
        let wanted = measured_queries(q);
        let answers = self.answers(&wanted, now).await;
        measurement(q, &answers, now).map_err(|why| self.unreachable(&why))
    }

    async fn golden(&self, now: DateTime<Utc>) -> Result<GoldenSample, SourceError> {
        let wanted: Vec<&str> = self
            .golden
            .iter()
            .flat_map(|q| [q.canary.as_str(), q.stable.as_str()])
            .collect();
        let answers = self.answers(&wanted, now).await;
        sample(&self.golden, &answers, now).map_err(|why| self.unreachable(&why))
    }

    async fn history(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step: Duration,
    ) -> Result<Vec<GoldenSample>, SourceError> {
        let step_secs = step.as_secs_f64().max(1.0);
        let jobs: Vec<(usize, bool, String)> = self
            .golden
            .iter()
            .enumerate()
            .flat_map(|(i, q)| [(i, true, q.canary.clone()), (i, false, q.stable.clone())])
            .collect();
        let fetched = join_all(jobs.iter().map(|(_, _, q)| {
            let request = self
                .client
                .query_range(q, start.timestamp(), end.timestamp(), step_secs)
                .get();
            tokio::time::timeout(self.timeout * 3, request)
        }))
        .await;
        // Samples keyed by their timestamp in whole seconds.
        let mut by_time: std::collections::BTreeMap<i64, GoldenSample> = Default::default();
        let mut answered = false;
        for ((i, canary, _), result) in jobs.iter().zip(fetched) {
            let Ok(Ok(response)) = result else { continue };
            answered = true;
            let Some(matrix) = response.data().as_matrix() else {
                continue;
            };
            let Some(series) = matrix.first() else {
                continue;
            };
            for s in series.samples() {
                let t = s.timestamp().round() as i64;
                let Some(at) = DateTime::from_timestamp(t, 0) else {
                    continue;
                };
                let n = self.golden.len();
                let entry = by_time.entry(t).or_insert_with(|| GoldenSample {
                    at,
                    canary: vec![None; n].into(),
                    stable: vec![None; n].into(),
                });
                let v = s.value();
                let slot = if *canary {
                    &mut entry.canary
                } else {
                    &mut entry.stable
                };
                slot[*i] = (!v.is_nan()).then_some(v);
            }
        }
        if !answered && !jobs.is_empty() {
            return Err(self.unreachable("no range query was answered"));
        }
        Ok(by_time.into_values().collect())
    }

    async fn ratios(
        &self,
        queries: &[(Span, String)],
        now: DateTime<Utc>,
    ) -> Result<Vec<Option<f64>>, SourceError> {
        let wanted: Vec<&str> = queries.iter().map(|(_, q)| q.as_str()).collect();
        let answers = self.answers(&wanted, now).await;
        let values: Vec<Answer> = wanted.iter().map(|q| answer_of(&answers, q)).collect();
        if let Some(why) = all_unreachable(values.iter()) {
            return Err(self.unreachable(&why));
        }
        Ok(values.into_iter().map(|a| a.ok().flatten()).collect())
    }

    async fn rule_groups(
        &self,
        _now: DateTime<Utc>,
    ) -> Result<Vec<super::alerting::LoadedGroup>, SourceError> {
        let request = async {
            let response = self
                .client
                .rules()
                .get_raw()
                .await
                .map_err(|e| classify(&e))?;
            let status = response.status().as_u16();
            let body = response
                .text()
                .await
                .map_err(|e| Failure::Unreachable(with_root_cause(&e)))?;
            super::alerting::parse_rules(status, &body).map_err(Failure::Rejected)
        };
        match tokio::time::timeout(self.timeout, request).await {
            Err(_) => {
                Err(self.unreachable(&format!("no answer within {} ms", self.timeout.as_millis())))
            }
            Ok(Err(Failure::Unreachable(why))) => Err(self.unreachable(&why)),
            Ok(Err(Failure::Rejected(why))) => Err(SourceError::Rejected(format!(
                "Prometheus at {}: rules: {why}",
                self.endpoint
            ))),
            Ok(Ok(groups)) => Ok(groups),
        }
    }

    async fn value(&self, query: &str, now: DateTime<Utc>) -> Result<Option<f64>, SourceError> {
        let answers = self.answers(&[query], now).await;
        match answer_of(&answers, query) {
            Ok(v) => Ok(v),
            Err(Failure::Unreachable(why)) => Err(self.unreachable(&why)),
            Err(Failure::Rejected(why)) => Err(SourceError::Rejected(why)),
        }
    }
}

/// Each query a measurement asks: every SLI on both tracks, then the request counts.
fn measured_queries(q: &Queries) -> Vec<&str> {
    q.slis
        .iter()
        .chain(std::iter::once(&q.requests))
        .flat_map(|s| [s.canary.as_str(), s.stable.as_str()])
        .collect()
}

/// The SLI measuring each golden signal, resolved, in the set's order.
fn golden_queries(slo: &SloConfig) -> Vec<SliQuery> {
    GoldenSet::of(slo)
        .iter()
        .filter_map(|g| {
            let sli = slo.slis.get(&g.sli)?;
            Some(SliQuery::resolve(&g.sli, &sli.query, slo))
        })
        .collect()
}

/// As long as one measurement interval, so a tick never overlaps the next, and never more
/// than [`QUERY_TIMEOUT_CAP`].
fn query_timeout(interval: Duration) -> Duration {
    interval.min(QUERY_TIMEOUT_CAP)
}

/// A Unix time in seconds with milliseconds, as the query API takes it.
fn eval_time(now: DateTime<Utc>) -> String {
    let ms = now.timestamp_millis();
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// The one value an SLI query returns. No series is no data; several series cannot be
/// told apart, so they are an error rather than a guess.
fn read_data(data: &Data) -> Answer {
    let value = match data {
        Data::Scalar(s) => s.value(),
        Data::Vector(v) => match v.as_slice() {
            [] => return Ok(None),
            [one] => one.sample().value(),
            many => {
                return Err(Failure::Rejected(format!(
                    "the query returned {} series, not one (aggregate it with sum or avg)",
                    many.len()
                )));
            }
        },
        Data::Matrix(_) => {
            return Err(Failure::Rejected(
                "the query returned a range vector, not an instant value".into(),
            ));
        }
    };
    // NaN is what 0/0 gives: nothing was measured.
    Ok((!value.is_nan()).then_some(value))
}

/// Prometheus refusing a query is the query's problem; anything else means no answer.
fn classify(e: &Error) -> Failure {
    match e {
        Error::Prometheus(p) => Failure::Rejected(p.to_string()),
        Error::Client(_) => Failure::Unreachable(with_root_cause(e)),
        other => Failure::Rejected(other.to_string()),
    }
}

/// The error and the deepest cause below it ("connection refused"), without the layers in
/// between, which repeat the whole request URL.
fn with_root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut root = e;
    while let Some(next) = root.source() {
        root = next;
    }
    if std::ptr::addr_eq(root, e) {
        e.to_string()
    } else {
        format!("{e}: {root}")
    }
}

fn answer_of(answers: &HashMap<String, Answer>, query: &str) -> Answer {
    answers
        .get(query)
        .cloned()
        .unwrap_or_else(|| Err(Failure::Unreachable("not asked".into())))
}

/// The first failure's message, when every one of `all` went unanswered.
fn all_unreachable<'a>(mut all: impl Iterator<Item = &'a Answer>) -> Option<String> {
    let first = all.next()?;
    let Err(Failure::Unreachable(why)) = first else {
        return None;
    };
    all.all(|a| matches!(a, Err(Failure::Unreachable(_))))
        .then(|| why.clone())
}

/// A measurement from the answers to its queries; `Err` with the reason when Prometheus
/// answered none of them.
fn measurement(
    q: &Queries,
    answers: &HashMap<String, Answer>,
    now: DateTime<Utc>,
) -> Result<Measurement, String> {
    let asked: Vec<Answer> = measured_queries(q)
        .into_iter()
        .map(|query| answer_of(answers, query))
        .collect();
    if let Some(why) = all_unreachable(asked.iter()) {
        return Err(why);
    }
    let readings = q
        .slis
        .iter()
        .map(|s| {
            let reading = match (answer_of(answers, &s.canary), answer_of(answers, &s.stable)) {
                (Ok(canary), Ok(stable)) => SliReading::Values { canary, stable },
                (Err(c), Err(s)) if c == s => SliReading::Error(c.to_string()),
                (Err(c), Err(s)) => SliReading::Error(format!("canary: {c}; stable: {s}")),
                (Err(c), Ok(_)) => SliReading::Error(format!("canary: {c}")),
                (Ok(_), Err(s)) => SliReading::Error(format!("stable: {s}")),
            };
            (s.name.clone(), reading)
        })
        .collect();
    let requests = |query: &str| match answer_of(answers, query) {
        Ok(v) => v.and_then(request_count),
        Err(f) => {
            log::warn!("request count unreadable: {f}");
            None
        }
    };
    Ok(Measurement {
        at: now,
        canary_requests: requests(&q.requests.canary),
        stable_requests: requests(&q.requests.stable),
        readings,
    })
}

/// `increase()` is a float (extrapolated at the window's edges); a count is whole.
fn request_count(v: f64) -> Option<u64> {
    (v.is_finite() && v >= 0.0).then(|| v.round() as u64)
}

/// The golden signals from the answers; a signal without data or whose query failed is
/// `None`. `Err` with the reason when Prometheus answered none of them.
fn sample(
    golden: &[SliQuery],
    answers: &HashMap<String, Answer>,
    now: DateTime<Utc>,
) -> Result<GoldenSample, String> {
    let asked: Vec<Answer> = golden
        .iter()
        .flat_map(|q| [answer_of(answers, &q.canary), answer_of(answers, &q.stable)])
        .collect();
    if let Some(why) = all_unreachable(asked.iter()) {
        return Err(why);
    }
    let value = |query: &String| answer_of(answers, query).ok().flatten();
    Ok(GoldenSample {
        at: now,
        canary: golden.iter().map(|q| value(&q.canary)).collect(),
        stable: golden.iter().map(|q| value(&q.stable)).collect(),
    })
}

/// The URL as it may be shown: no user or password, no query string.
fn redact(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{scheme}://{host}{path}")
}

#[cfg(test)]
mod tests;
