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

/// `pr-123` → 123, for the configured prefix: a namespace is a preview only when its whole
/// name is the prefix followed by a pull request number (decimal digits, no leading zero).
/// `pr-7-db`, `pr-007`, `pr-` and `prod` are not previews of `pr-`; an empty prefix makes
/// nothing a preview.
pub fn pr_number(namespace: &str, prefix: &str) -> Option<u32> {
    if prefix.is_empty() {
        return None;
    }
    let digits = namespace.strip_prefix(prefix)?;
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Whether `namespace` is a preview of `prefix` (see [`pr_number`]).
pub fn is_preview(namespace: &str, prefix: &str) -> bool {
    pr_number(namespace, prefix).is_some()
}

/// Why a prefix cannot name previews, if it cannot: it must be non-empty and end in a
/// separator, so that `pr` (which would take `prod`'s neighbours `pr1`…) is refused.
pub fn prefix_problem(prefix: &str) -> Option<String> {
    if prefix.is_empty() {
        return Some("the preview prefix is empty: every namespace would be a preview; expected something such as \"pr-\"".into());
    }
    if !prefix.ends_with(['-', '_', '.']) {
        return Some(format!(
            "the preview prefix {prefix:?} does not end in a separator (`-`, `_` or `.`); expected something such as \"{prefix}-\""
        ));
    }
    None
}

/// The shortest TTL a preview can have: a shorter one would clean previews people are
/// still opening.
pub const MIN_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

/// Namespaces never deleted as previews, whatever the configuration says: the release's
/// own namespaces, `default` and every `kube-*` one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected {
    pub prefix: String,
    /// The release and stage namespaces of `captain.toml`.
    pub namespaces: Vec<String>,
}

impl Protected {
    pub fn new(prefix: &str, namespaces: &[&str]) -> Self {
        Self {
            prefix: prefix.to_string(),
            namespaces: namespaces.iter().map(|n| n.to_string()).collect(),
        }
    }

    /// `Ok` when `namespace` may be deleted as a preview by its name; otherwise why not.
    /// What the namespace holds (a Helm release, captain's state) is the cluster's to say.
    pub fn check(&self, namespace: &str) -> Result<u32, String> {
        if self.namespaces.iter().any(|n| n == namespace) {
            return Err(format!(
                "{namespace} is a namespace of the release (captain.toml [release]): never deleted"
            ));
        }
        if namespace == "default" || namespace.starts_with("kube-") {
            return Err(format!(
                "{namespace} is a namespace of the cluster itself: never deleted"
            ));
        }
        pr_number(namespace, &self.prefix).ok_or_else(|| {
            format!(
                "{namespace} is not a preview (not {:?} followed by a pull request number)",
                self.prefix
            )
        })
    }
}

impl Preview {
    /// A namespace as the cluster alone knows it: no pull request joined yet, no URL, its
    /// health unknown.
    pub fn bare(namespace: impl Into<String>, created: DateTime<Utc>, terminating: bool) -> Self {
        Preview {
            namespace: namespace.into(),
            created,
            terminating,
            pr: None,
            url: None,
            health: UrlHealth::Unknown,
        }
    }

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

/// The namespaces a "clean all stale" removes: older than `ttl`, previews of the prefix
/// (see [`pr_number`]), not already terminating.
pub fn stale<'a>(
    previews: &'a [Preview],
    prefix: &str,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Vec<&'a Preview> {
    previews
        .iter()
        .filter(|p| is_preview(&p.namespace, prefix) && !p.terminating && p.is_stale(now, ttl))
        .collect()
}

/// The previews whose pull request was merged or closed, whatever their age: a preview
/// whose pull request is unknown (not joined, or GitHub unreachable) is never one.
pub fn orphaned<'a>(previews: &'a [Preview], prefix: &str) -> Vec<&'a Preview> {
    previews
        .iter()
        .filter(|p| is_preview(&p.namespace, prefix) && !p.terminating && p.is_orphaned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ns(name: &str, days_old: i64, state: Option<PrState>, now: DateTime<Utc>) -> Preview {
        Preview {
            pr: state.map(|state| PullRequest {
                number: 1,
                title: "t".into(),
                author: "a".into(),
                state,
            }),
            ..Preview::bare(name, now - Duration::days(days_old), false)
        }
    }

    #[test]
    fn orphans_are_previews_whose_pull_request_was_merged_or_closed_never_unknown_ones() {
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap();
        let mut gone = ns("pr-6", 0, Some(PrState::Closed), now);
        gone.terminating = true;
        let list = vec![
            ns("pr-1", 5, Some(PrState::Open), now),
            ns("pr-2", 0, Some(PrState::Merged), now),
            ns("pr-3", 1, Some(PrState::Closed), now),
            ns("pr-4", 90, None, now),
            ns("prod", 90, Some(PrState::Merged), now),
            gone,
        ];
        let names: Vec<_> = orphaned(&list, "pr-")
            .iter()
            .map(|p| p.namespace.as_str())
            .collect();
        assert_eq!(names, ["pr-2", "pr-3"]);
    }

    #[test]
    fn stale_means_older_than_the_ttl_and_with_the_prefix() {
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap();
        let list = vec![
            ns("pr-1", 5, Some(PrState::Open), now),
            ns("pr-2", 1, Some(PrState::Merged), now),
            ns("prod", 90, None, now),
            ns("pr-old", 90, None, now),
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

    #[test]
    fn only_the_whole_name_prefix_then_a_pr_number_is_a_preview() {
        let previews = [
            ("pr-1", "pr-"),
            ("pr-12", "pr-"),
            ("preview_40", "preview_"),
        ];
        for (name, prefix) in previews {
            assert!(is_preview(name, prefix), "{name} of {prefix}");
        }
        let not = [
            ("prod", "pr"),
            ("prod", "pr-"),
            ("pr-", "pr-"),
            ("pr-old", "pr-"),
            ("pr-12-db", "pr-"),
            ("pr-012", "pr-"),
            ("pr-0", "pr-"),
            ("pr--1", "pr-"),
            ("pr-+1", "pr-"),
            ("pr-1 ", "pr-"),
            ("pr-99999999999", "pr-"),
            ("preview-old", "pr-"),
            ("kube-system", ""),
            ("1", ""),
            ("xpr-1", "pr-"),
        ];
        for (name, prefix) in not {
            assert!(!is_preview(name, prefix), "{name} of {prefix:?}");
        }
    }

    #[test]
    fn a_prefix_must_be_non_empty_and_end_in_a_separator() {
        for good in ["pr-", "preview_", "pr."] {
            assert_eq!(prefix_problem(good), None, "{good}");
        }
        for bad in ["", "pr", "pr1", "pr-x"] {
            assert!(prefix_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn the_release_default_and_kube_namespaces_are_never_previews_to_delete() {
        let rule = Protected::new("pr-", &["prod", "stage"]);
        assert_eq!(rule.check("pr-12"), Ok(12));
        for kept in [
            "prod",
            "stage",
            "default",
            "kube-system",
            "kube-node-lease",
            "pr-old",
        ] {
            assert!(rule.check(kept).is_err(), "{kept}");
        }
        // Even a release namespace that looks like a preview is kept.
        let odd = Protected::new("pr-", &["pr-1", "stage"]);
        assert!(odd.check("pr-1").unwrap_err().contains("release"));
        // Whatever the prefix: `kube-` and `default` are never previews.
        let wide = Protected::new("kube-", &["prod"]);
        assert!(wide.check("kube-1").is_err());
    }
}
