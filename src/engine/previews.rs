//! Preview environments: `pr-<n>` namespaces, their pull requests, their age against a TTL.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrState {
    Open,
    Merged,
    Closed,
}

impl PrState {
    pub fn label(self) -> &'static str {
        match self {
            PrState::Open => "open",
            PrState::Merged => "merged",
            PrState::Closed => "closed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    pub number: u32,
    pub title: String,
    pub author: String,
    pub state: PrState,
}

/// Whether the preview's URL answered its health check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UrlHealth {
    Up,
    Down,
    Unknown,
}

/// A preview namespace as the cluster reports it, joined with its pull request when known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    pub namespace: String,
    pub created: DateTime<Utc>,
    pub terminating: bool,
    pub pr: Option<PullRequest>,
    pub url: Option<String>,
    pub health: UrlHealth,
}

/// `pr-123` → 123, for the configured prefix.
pub fn pr_number(namespace: &str, prefix: &str) -> Option<u32> {
    namespace.strip_prefix(prefix)?.parse().ok()
}

impl Preview {
    pub fn age(&self, now: DateTime<Utc>) -> Duration {
        (now - self.created).max(Duration::zero())
    }

    /// Older than the TTL.
    pub fn is_stale(&self, now: DateTime<Utc>, ttl: Duration) -> bool {
        self.age(now) > ttl
    }

    /// Its pull request is closed or merged: nobody will look at it again.
    pub fn is_orphaned(&self) -> bool {
        self.pr
            .as_ref()
            .is_some_and(|p| matches!(p.state, PrState::Merged | PrState::Closed))
    }
}

/// Oldest first, as an operator cleaning up reads them.
pub fn sort_by_age(previews: &mut [Preview]) {
    previews.sort_by(|a, b| {
        a.created
            .cmp(&b.created)
            .then(a.namespace.cmp(&b.namespace))
    });
}

/// The namespaces a "clean all stale" removes: older than `ttl`, carrying the prefix, not
/// already terminating.
pub fn stale<'a>(
    previews: &'a [Preview],
    prefix: &str,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Vec<&'a Preview> {
    previews
        .iter()
        .filter(|p| p.namespace.starts_with(prefix) && !p.terminating && p.is_stale(now, ttl))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ns(name: &str, days_old: i64, state: Option<PrState>, now: DateTime<Utc>) -> Preview {
        Preview {
            namespace: name.into(),
            created: now - Duration::days(days_old),
            terminating: false,
            pr: state.map(|state| PullRequest {
                number: 1,
                title: "t".into(),
                author: "a".into(),
                state,
            }),
            url: None,
            health: UrlHealth::Unknown,
        }
    }

    #[test]
    fn stale_means_older_than_the_ttl_and_with_the_prefix() {
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap();
        let list = vec![
            ns("pr-1", 5, Some(PrState::Open), now),
            ns("pr-2", 1, Some(PrState::Merged), now),
            ns("prod", 90, None, now),
            ns("pr-3", 3, None, now),
        ];
        let names: Vec<_> = stale(&list, "pr-", now, Duration::days(3))
            .iter()
            .map(|p| p.namespace.as_str())
            .collect();
        assert_eq!(names, ["pr-1"]);
        assert!(list[1].is_orphaned());
        assert!(!list[0].is_orphaned());
    }

    #[test]
    fn pr_numbers_come_from_the_name() {
        assert_eq!(pr_number("pr-412", "pr-"), Some(412));
        assert_eq!(pr_number("pr-x", "pr-"), None);
        assert_eq!(pr_number("stage", "pr-"), None);
    }
}
