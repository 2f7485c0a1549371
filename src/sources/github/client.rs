//! The wire: one octocrab client for one repository's API, that turns every answer into
//! either a body or a [`SourceError`]. It owns the ETag cache (conditional GETs), the rate
//! limit (read from every answer; no request leaves while GitHub has said to wait) and the
//! count of requests that cost budget. Typed reads and pagination: [`super::pages`]; the
//! `Link` header: [`super::link`].
//!
//! octocrab's own retries are off: a retry on a 403 would sleep inside a request until the
//! limit resets, silently, where the poller must say "rate limited" instead. The token lives
//! in octocrab's header and, for scrubbing messages, in a `SecretString` here; it is never
//! formatted into a log record or an error.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use octocrab::Octocrab;
use octocrab::etag::EntityTag;
use octocrab::secrecy::{ExposeSecret, SecretString};
use octocrab::service::middleware::retry::RetryConfig;
use serde::de::IgnoredAny;

use super::describe::{error_message, excerpt, status_text};
use super::etag_cache::{Cached, EtagCache};
use super::rate::{RateHeaders, RequestCounter};
use crate::clock::Clock;
use crate::config::app::GithubConfig;
use crate::engine::main_health::RateLimit;
use crate::sources::SourceError;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A body GitHub sent (or confirmed unchanged with a 304), and its next page.
#[derive(Debug, Clone)]
pub struct Page {
    pub body: String,
    pub next: Option<String>,
    /// False when the body came from the ETag cache after a 304.
    pub fresh: bool,
}

/// What GitHub answered to a GET, short of a failure to get an answer at all.
#[derive(Debug)]
pub enum Reply {
    Found(Page),
    /// A 4xx other than a rate limit: 404 not found, 403 forbidden, 401 bad token…
    Refused {
        status: u16,
        message: String,
    },
}

/// A change to the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    Post,
    Delete,
}

/// GitHub's answer to a write: its status and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub message: String,
}

pub struct GithubClient {
    octo: Octocrab,
    /// `/repos/{owner}/{name}`.
    repo: String,
    /// The API URL as configured (no trailing slash), for messages.
    endpoint: String,
    /// `scheme://authority` of the API: the only place pagination links may lead.
    origin: String,
    token: SecretString,
    cache: EtagCache,
    counter: RequestCounter,
    budget: Mutex<Option<RateLimit>>,
    limited_until: Mutex<Option<DateTime<Utc>>>,
    clock: Arc<dyn Clock>,
}

impl GithubClient {
    pub fn new(
        config: &GithubConfig,
        token: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SourceError> {
        let repo = repo_path(&config.repo)?;
        let endpoint = config.api_url.trim().trim_end_matches('/').to_string();
        let origin = origin_of(&endpoint).ok_or_else(|| {
            SourceError::Rejected(format!("GitHub api_url `{endpoint}` is not an http(s) URL"))
        })?;
        let token = token.trim();
        // octocrab puts the token in a header value and panics if it cannot; refuse here.
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(SourceError::Rejected(
                "the GitHub token is empty or has characters a token cannot have".into(),
            ));
        }
        let octo = Octocrab::builder()
            .base_uri(endpoint.as_str())
            .map_err(|_| {
                SourceError::Rejected(format!("GitHub api_url `{endpoint}` is not a URL"))
            })?
            .personal_token(token.to_string())
            .add_retry_config(RetryConfig::None)
            .set_connect_timeout(Some(CONNECT_TIMEOUT))
            .set_read_timeout(Some(READ_TIMEOUT))
            .build()
            .map_err(|e| SourceError::Rejected(format!("cannot set up a GitHub client: {e}")))?;
        Ok(GithubClient {
            octo,
            repo,
            endpoint,
            origin,
            token: SecretString::from(token.to_string()),
            cache: EtagCache::default(),
            counter: RequestCounter::default(),
            budget: Mutex::new(None),
            limited_until: Mutex::new(None),
            clock,
        })
    }

    /// `/repos/{owner}/{name}`, to build request paths on.
    pub fn repo(&self) -> &str {
        &self.repo
    }

    pub fn counter(&self) -> RequestCounter {
        self.counter.clone()
    }

    /// The rate-limit budget as of the latest answer.
    pub fn budget(&self) -> Option<RateLimit> {
        self.budget
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Until when GitHub has said to stop asking, if that is still in the future.
    pub fn limited_until(&self) -> Option<DateTime<Utc>> {
        let until = *self.limited_until.lock().unwrap_or_else(|e| e.into_inner());
        until.filter(|t| *t > self.clock.now())
    }

    /// End of a complete poll: forget cached answers it did not read.
    pub fn sweep(&self) {
        self.cache.sweep();
    }

    /// A conditional GET of `url` (a path under the API, or a pagination link).
    pub async fn get(&self, url: &str) -> Result<Reply, SourceError> {
        self.refuse_while_limited()?;
        let cached = self.cache.get(url);
        let mut headers = Default::default();
        if let Some(tag) = cached
            .as_ref()
            .and_then(|c| c.etag.parse::<EntityTag>().ok())
        {
            EntityTag::insert_if_none_match_header(&mut headers, tag)
                .map_err(|e| self.unreachable(format!("cannot revalidate GET {url}: {e}")))?;
        }
        let response = self
            .octo
            ._get_with_headers(url, Some(headers))
            .await
            .map_err(|e| {
                self.unreachable(format!("cannot reach GitHub at {}: {e}", self.endpoint))
            })?;
        let status = response.status().as_u16();
        let h = response.headers();
        let header = |name: &str| h.get(name).and_then(|v| v.to_str().ok());
        let etag = header("etag").map(str::to_string);
        let next = h
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(super::link::next_link)
            .and_then(|link| self.same_origin(link));
        if status == 304 {
            self.counter.count_not_modified();
        } else {
            self.counter.count();
        }
        // Search has a budget of its own (30 a minute): it neither stands for the core
        // budget nor stops the other requests when it runs out.
        if header("x-ratelimit-resource").is_some_and(|r| r != "core") {
            if let Some(until) = RateHeaders::read(header).limited_until(status, self.clock.now()) {
                return Err(SourceError::RateLimited(until));
            }
        } else {
            self.note_rate(RateHeaders::read(header), status)?;
        }

        if status == 304 {
            log::debug!("GET {url} → 304, reusing the cached body");
            return match cached {
                Some(c) => Ok(Reply::Found(Page {
                    body: c.body,
                    next: c.next,
                    fresh: false,
                })),
                None => Err(self.unreachable(format!(
                    "GitHub answered 304 Not Modified to GET {url}, which was not conditional"
                ))),
            };
        }
        log::debug!("GET {url} → {status}");
        let body =
            self.octo.body_to_string(response).await.map_err(|e| {
                self.unreachable(format!("the answer to GET {url} was cut off: {e}"))
            })?;
        match status {
            200..=299 => {
                if serde_json::from_str::<IgnoredAny>(&body).is_err() {
                    self.cache.forget(url);
                    return Err(self.unreachable(format!(
                        "GitHub's answer to GET {url} ({status}) is not JSON: {}",
                        excerpt(&body)
                    )));
                }
                match etag {
                    Some(etag) => self.cache.put(
                        url,
                        Cached {
                            etag,
                            body: body.clone(),
                            next: next.clone(),
                        },
                    ),
                    None => self.cache.forget(url),
                }
                Ok(Reply::Found(Page {
                    body,
                    next,
                    fresh: true,
                }))
            }
            400..=499 => {
                self.cache.forget(url);
                Ok(Reply::Refused {
                    status,
                    message: self.scrub(error_message(status, &body)),
                })
            }
            _ => Err(self.unreachable(format!(
                "GitHub answered {} to GET {url}",
                status_text(status)
            ))),
        }
    }

    /// POST or DELETE `url` with a JSON `body`. A rate limit or a failure to get an answer
    /// is an error; anything GitHub answered comes back to be judged by the caller.
    pub async fn write(
        &self,
        method: Write,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, SourceError> {
        self.refuse_while_limited()?;
        let verb = match method {
            Write::Post => "POST",
            Write::Delete => "DELETE",
        };
        let response = match method {
            Write::Post => self.octo._post(url, body).await,
            Write::Delete => self.octo._delete(url, body).await,
        }
        .map_err(|e| self.unreachable(format!("cannot reach GitHub at {}: {e}", self.endpoint)))?;
        let status = response.status().as_u16();
        let h = response.headers();
        let header = |name: &str| h.get(name).and_then(|v| v.to_str().ok());
        self.counter.count();
        self.note_rate(RateHeaders::read(header), status)?;
        log::debug!("{verb} {url} → {status}");
        let body = self.octo.body_to_string(response).await.unwrap_or_default();
        if status >= 500 {
            return Err(self.unreachable(format!(
                "GitHub answered {} to {verb} {url}",
                status_text(status)
            )));
        }
        Ok(Answer {
            status,
            message: self.scrub(error_message(status, &body)),
        })
    }

    /// A refusal as the error to show: what was asked, and what GitHub said.
    pub fn refusal(&self, verb: &str, url: &str, status: u16, message: &str) -> SourceError {
        let why = match status {
            401 => "the token was refused".to_string(),
            403 => "the token may not do this".to_string(),
            404 => "not found, or the token cannot see it".to_string(),
            _ => status_text(status),
        };
        SourceError::Rejected(self.scrub(format!(
            "GitHub refused {verb} {url}: {why} ({status} {message})"
        )))
    }

    fn refuse_while_limited(&self) -> Result<(), SourceError> {
        match self.limited_until() {
            Some(until) => Err(SourceError::RateLimited(until)),
            None => Ok(()),
        }
    }

    /// Record the budget an answer reports, and whether it says to stop asking.
    fn note_rate(&self, headers: RateHeaders<'_>, status: u16) -> Result<(), SourceError> {
        let budget = headers.budget();
        if let Some(b) = &budget {
            *self.budget.lock().unwrap_or_else(|e| e.into_inner()) = Some(b.clone());
        }
        let Some(until) = headers.limited_until(status, self.clock.now()) else {
            // This answer spent the last of the budget: the next request would be refused.
            if let Some(b) = budget.filter(|b| b.remaining == 0) {
                log::warn!("GitHub: rate-limit budget spent until {}", b.reset);
                *self.limited_until.lock().unwrap_or_else(|e| e.into_inner()) = Some(b.reset);
            }
            return Ok(());
        };
        *self.limited_until.lock().unwrap_or_else(|e| e.into_inner()) = Some(until);
        log::warn!("GitHub: rate limited ({status}) until {until}");
        Err(SourceError::RateLimited(until))
    }

    fn same_origin(&self, link: &str) -> Option<String> {
        if link.starts_with('/') || link.starts_with(&format!("{}/", self.origin)) {
            Some(link.to_string())
        } else {
            log::warn!(
                "GitHub: a next-page link leads away from {}; not followed",
                self.origin
            );
            None
        }
    }

    fn unreachable(&self, message: String) -> SourceError {
        SourceError::Unreachable(self.scrub(message))
    }

    /// Defence in depth: no message leaves this module with the token in it.
    fn scrub(&self, message: String) -> String {
        let token = self.token.expose_secret();
        if message.contains(token) {
            message.replace(token, "***")
        } else {
            message
        }
    }
}

/// `owner/name` → `/repos/owner/name`, refusing anything that is not a plain repository name.
fn repo_path(repo: &str) -> Result<String, SourceError> {
    let ok = |part: &str| {
        !part.is_empty()
            && part != "."
            && part != ".."
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match repo.trim().split_once('/') {
        Some((owner, name)) if ok(owner) && ok(name) => Ok(format!("/repos/{owner}/{name}")),
        _ => Err(SourceError::Rejected(format!(
            "GitHub repo `{repo}` is not of the form owner/name"
        ))),
    }
}

/// `https://ghe.example.com/api/v3` → `https://ghe.example.com`.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split('/').next().filter(|a| !a.is_empty())?;
    Some(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repo_must_be_owner_slash_name() {
        assert_eq!(repo_path("acme/summit").unwrap(), "/repos/acme/summit");
        for bad in [
            "acme",
            "acme/",
            "/summit",
            "acme/sum mit",
            "acme/summit/x",
            "../x/y",
        ] {
            assert!(repo_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_origin_keeps_scheme_and_host_only() {
        assert_eq!(
            origin_of("https://ghe.example.com/api/v3").as_deref(),
            Some("https://ghe.example.com")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8080").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(origin_of("ghe.example.com"), None);
    }
}
