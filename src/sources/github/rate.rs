//! GitHub's rate limit as this source sees it: the budget read from response headers, when
//! an answer means "rate limited until…", how many requests have counted against the limit,
//! and how long to wait between polls so a console stays inside its share of the budget.
//!
//! Nothing here sends a request; the client feeds it what came back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::engine::main_health::RateLimit;

/// The most requests per hour one console may spend against the token's limit (GitHub gives
/// a personal token 5,000 an hour, shared with everything else that token does).
pub const BUDGET_PER_HOUR: u64 = 500;

/// How long to wait when GitHub says "slow down" without saying until when.
const UNSPECIFIED_BACKOFF: TimeDelta = TimeDelta::seconds(60);

/// The `x-ratelimit-*` headers of one answer, as strings (header values are not owned here).
#[derive(Debug, Clone, Copy, Default)]
pub struct RateHeaders<'a> {
    pub remaining: Option<&'a str>,
    pub limit: Option<&'a str>,
    pub reset: Option<&'a str>,
    pub retry_after: Option<&'a str>,
}

impl<'a> RateHeaders<'a> {
    /// The headers of an answer, given a way to read one by name.
    pub fn read(header: impl Fn(&str) -> Option<&'a str>) -> Self {
        RateHeaders {
            remaining: header("x-ratelimit-remaining"),
            limit: header("x-ratelimit-limit"),
            reset: header("x-ratelimit-reset"),
            retry_after: header("retry-after"),
        }
    }

    /// The budget these headers describe, if they are all there and make sense.
    pub fn budget(&self) -> Option<RateLimit> {
        Some(RateLimit {
            remaining: self.remaining?.trim().parse().ok()?,
            limit: self.limit?.trim().parse().ok()?,
            reset: self.reset_at()?,
        })
    }

    fn reset_at(&self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(self.reset?.trim().parse().ok()?, 0)
    }

    /// Until when an answer with `status` says to stop asking, if it is a rate-limit answer:
    /// a 403 or 429 with `x-ratelimit-remaining: 0` (the primary limit, until
    /// `x-ratelimit-reset`) or with `retry-after` (a secondary limit), or any 429.
    pub fn limited_until(&self, status: u16, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if status != 403 && status != 429 {
            return None;
        }
        let retry_after = self
            .retry_after
            .and_then(|s| s.trim().parse::<i64>().ok())
            .map(|secs| now + TimeDelta::seconds(secs.max(1)));
        let exhausted = self.remaining.map(str::trim) == Some("0");
        match (retry_after, exhausted) {
            (Some(at), _) => Some(at),
            (None, true) => Some(self.reset_at().unwrap_or(now + UNSPECIFIED_BACKOFF)),
            (None, false) if status == 429 => Some(now + UNSPECIFIED_BACKOFF),
            // A plain 403 is a permission answer, not a rate limit.
            (None, false) => None,
        }
    }
}

/// Requests sent to GitHub, split into those that count against the rate limit and the
/// conditional ones GitHub answered `304 Not Modified` (which do not count). Clones share
/// the same counts.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter {
    counted: Arc<AtomicU64>,
    not_modified: Arc<AtomicU64>,
}

impl RequestCounter {
    /// Requests that GitHub answered with anything but a 304: they cost budget.
    pub fn counted(&self) -> u64 {
        self.counted.load(Ordering::Relaxed)
    }

    /// Conditional requests answered `304 Not Modified`: free.
    pub fn not_modified(&self) -> u64 {
        self.not_modified.load(Ordering::Relaxed)
    }

    pub(super) fn count(&self) {
        self.counted.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn count_not_modified(&self) {
        self.not_modified.fetch_add(1, Ordering::Relaxed);
    }
}

/// How long to wait after a poll that cost `counted` requests: the poll period, stretched
/// when needed so that polling never spends more than [`BUDGET_PER_HOUR`] (each poll pays
/// for itself with the wait that follows it).
pub fn pace(poll: Duration, counted: u64) -> Duration {
    let share = Duration::from_secs(3600).mul_f64(counted as f64 / BUDGET_PER_HOUR as f64);
    poll.max(share)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 29, 3, 0, 0).unwrap()
    }

    #[test]
    fn an_exhausted_primary_limit_waits_for_the_reset() {
        let reset = (now() + TimeDelta::minutes(20)).timestamp().to_string();
        let h = RateHeaders {
            remaining: Some("0"),
            limit: Some("5000"),
            reset: Some(&reset),
            retry_after: None,
        };
        assert_eq!(
            h.limited_until(403, now()),
            Some(now() + TimeDelta::minutes(20))
        );
        assert_eq!(h.budget().map(|b| b.limit), Some(5000));
    }

    #[test]
    fn a_plain_403_is_not_a_rate_limit_but_a_bare_429_is() {
        let h = RateHeaders {
            remaining: Some("4000"),
            ..RateHeaders::default()
        };
        assert_eq!(h.limited_until(403, now()), None);
        assert_eq!(
            h.limited_until(429, now()),
            Some(now() + UNSPECIFIED_BACKOFF)
        );
        assert_eq!(h.limited_until(500, now()), None);
    }

    #[test]
    fn a_secondary_limit_waits_retry_after() {
        let h = RateHeaders {
            retry_after: Some("90"),
            ..RateHeaders::default()
        };
        assert_eq!(
            h.limited_until(403, now()),
            Some(now() + TimeDelta::seconds(90))
        );
    }

    #[test]
    fn an_expensive_poll_stretches_the_wait_to_stay_in_budget() {
        let poll = Duration::from_secs(30);
        assert_eq!(pace(poll, 0), poll);
        assert_eq!(pace(poll, 4), poll);
        // 7 counted requests = 7/500 of an hour = 50.4 s.
        assert_eq!(pace(poll, 7), Duration::from_millis(50_400));
    }
}
