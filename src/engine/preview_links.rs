//! Previews joined to their pull requests: `pr-<n>` takes pull request #n (title, author,
//! open / merged / closed) and the preview URL found in its description, or made from a
//! template. Pure: the namespaces come from the cluster, the pull requests from the forge.

use std::collections::HashMap;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::previews::{Preview, PullRequest, UrlHealth, pr_number};

/// A pull request as the forge lists it, with the description a preview URL is found in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedPull {
    pub pr: PullRequest,
    /// The description (GitHub's `body`), empty when it has none.
    pub body: String,
}

/// Where a preview's URL comes from: the first match of `pattern` in its pull request's
/// description (its first group, when it has one), else `template` with `{number}` replaced by the pull request's number.
#[derive(Debug, Clone, Default)]
pub struct UrlRule {
    pub pattern: Option<Regex>,
    pub template: Option<String>,
}

impl UrlRule {
    /// The rule of `[previews] url_pattern` and `url_template`; a pattern that is not a
    /// regular expression says why (the configuration checks it as it is read).
    pub fn new(pattern: Option<&str>, template: Option<&str>) -> Result<Self, String> {
        let pattern = pattern
            .map(|p| Regex::new(p).map_err(|e| url_pattern_problem(p, &e)))
            .transpose()?;
        Ok(UrlRule {
            pattern,
            template: template.map(str::to_string),
        })
    }

    /// The preview URL of pull request `number` whose description is `body`.
    pub fn url(&self, number: u32, body: &str) -> Option<String> {
        let found = self
            .pattern
            .as_ref()
            .and_then(|p| p.captures(body))
            .map(|c| {
                let m = c.get(1).or_else(|| c.get(0)).map_or("", |m| m.as_str());
                m.trim_end_matches(['.', ',', ')', '>', '"', '\''])
                    .to_string()
            });
        found.or_else(|| {
            self.template
                .as_ref()
                .map(|t| t.replace("{number}", &number.to_string()))
        })
    }
}

/// Why `pattern` is not a regular expression, in words for `captain.toml`'s error.
pub fn url_pattern_problem(pattern: &str, e: &regex::Error) -> String {
    let why = e.to_string();
    let last = why.lines().last().unwrap_or("").trim();
    format!(
        "url_pattern {pattern:?} is not a regular expression ({last}); expected something such as \"https://pr-[0-9]+\\\\.preview\\\\.example\\\\.com\""
    )
}

/// Each preview with its pull request (#n for `<prefix>n`) and URL, when the forge lists
/// that pull request; the health of a URL as last checked (`Unknown` until it is). A
/// preview whose pull request is not listed keeps what the cluster said.
pub fn join(
    namespaces: &[Preview],
    pulls: &[ListedPull],
    prefix: &str,
    rule: &UrlRule,
    health: &HashMap<String, UrlHealth>,
) -> Vec<Preview> {
    let by_number: HashMap<u32, &ListedPull> = pulls.iter().map(|p| (p.pr.number, p)).collect();
    namespaces
        .iter()
        .map(|ns| {
            let mut p = ns.clone();
            let Some(listed) = pr_number(&p.namespace, prefix).and_then(|n| by_number.get(&n))
            else {
                return p;
            };
            p.pr = Some(listed.pr.clone());
            p.url = rule.url(listed.pr.number, &listed.body);
            p.health = p
                .url
                .as_ref()
                .and_then(|u| health.get(u).copied())
                .unwrap_or(UrlHealth::Unknown);
            p
        })
        .collect()
}

/// The URLs worth checking: previews of open pull requests, not being deleted.
pub fn urls_to_check(previews: &[Preview]) -> Vec<String> {
    let mut urls: Vec<String> = previews
        .iter()
        .filter(|p| !p.terminating && !p.is_orphaned())
        .filter_map(|p| p.url.clone())
        .collect();
    urls.sort();
    urls.dedup();
    urls
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::previews::PrState;
    use chrono::{TimeZone, Utc};

    fn ns(name: &str) -> Preview {
        Preview::bare(
            name,
            Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
            false,
        )
    }

    fn pull(number: u32, state: PrState, body: &str) -> ListedPull {
        ListedPull {
            pr: PullRequest {
                number,
                title: format!("change {number}"),
                author: "sam-k".into(),
                state,
            },
            body: body.into(),
        }
    }

    #[test]
    fn each_preview_takes_the_pull_request_of_its_number() {
        let rule = UrlRule::new(Some(r"https://pr-[0-9]+\.preview\.acme\.dev\S*"), None).unwrap();
        let pulls = [
            pull(7, PrState::Merged, "done"),
            pull(
                12,
                PrState::Open,
                "Preview: https://pr-12.preview.acme.dev/login).",
            ),
        ];
        let mut health = HashMap::new();
        health.insert(
            "https://pr-12.preview.acme.dev/login".to_string(),
            UrlHealth::Up,
        );
        let joined = join(
            &[ns("pr-12"), ns("pr-7"), ns("pr-99")],
            &pulls,
            "pr-",
            &rule,
            &health,
        );
        assert_eq!(joined[0].pr.as_ref().map(|p| p.number), Some(12));
        assert_eq!(
            joined[0].url.as_deref(),
            Some("https://pr-12.preview.acme.dev/login")
        );
        assert_eq!(joined[0].health, UrlHealth::Up);
        assert!(!joined[0].is_orphaned());
        assert_eq!(
            joined[1].pr.as_ref().map(|p| p.state),
            Some(PrState::Merged)
        );
        assert!(joined[1].is_orphaned());
        assert_eq!(
            joined[1].url, None,
            "no URL in its description, no template"
        );
        assert_eq!(joined[2].pr, None, "#99 is not listed");
        assert_eq!(
            urls_to_check(&joined),
            ["https://pr-12.preview.acme.dev/login"]
        );
    }

    #[test]
    fn the_template_is_used_when_the_description_has_no_url() {
        let rule = UrlRule::new(
            Some(r"https://\S+\.preview\.acme\.dev"),
            Some("https://pr-{number}.preview.acme.dev"),
        )
        .unwrap();
        assert_eq!(
            rule.url(40, "no link here").as_deref(),
            Some("https://pr-40.preview.acme.dev")
        );
        assert_eq!(
            rule.url(40, "see <https://x.preview.acme.dev>").as_deref(),
            Some("https://x.preview.acme.dev")
        );
        let grouped = UrlRule::new(Some(r"Preview: (https?://\S+)"), None).unwrap();
        assert_eq!(
            grouped
                .url(40, "Preview: https://pr-40.acme.dev/ (by CI)")
                .as_deref(),
            Some("https://pr-40.acme.dev/")
        );
        assert_eq!(UrlRule::default().url(40, "https://x"), None);
    }

    #[test]
    fn a_pattern_that_is_not_a_regular_expression_says_why() {
        let e = UrlRule::new(Some("https://pr-(\\d+"), None).unwrap_err();
        assert!(e.contains("not a regular expression"), "{e}");
        assert!(e.contains("unclosed group"), "{e}");
    }
}
