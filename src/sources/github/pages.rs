//! Reading GitHub's answers as typed values, and lists across their pages by following
//! `Link: <…>; rel="next"` as GitHub sends it (never by building page URLs), up to
//! [`MAX_PAGES`] pages of 100.

use serde::de::DeserializeOwned;

use super::client::{GithubClient, Reply};
use crate::sources::SourceError;

/// The most pages read from one paginated list (100 items each).
pub const MAX_PAGES: usize = 10;

impl GithubClient {
    /// GET `url` as `T`; `None` when GitHub answers 404.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<Option<(T, bool)>, SourceError> {
        match self.get(url).await? {
            Reply::Found(page) => Ok(Some((self.parse(url, &page.body)?, page.fresh))),
            Reply::Refused { status: 404, .. } => Ok(None),
            Reply::Refused { status, message } => Err(self.refusal("GET", url, status, &message)),
        }
    }

    /// Every page of a paginated list, each parsed as `T`, starting at `first`; `None` when
    /// GitHub answers 404 to the first page. Stops after [`MAX_PAGES`] pages.
    pub async fn get_pages<T: DeserializeOwned>(
        &self,
        first: &str,
    ) -> Result<Option<Vec<T>>, SourceError> {
        self.get_some_pages(first, MAX_PAGES).await
    }

    /// As [`GithubClient::get_pages`], stopping after `max` pages (at most [`MAX_PAGES`]).
    pub async fn get_some_pages<T: DeserializeOwned>(
        &self,
        first: &str,
        max: usize,
    ) -> Result<Option<Vec<T>>, SourceError> {
        let max = max.clamp(1, MAX_PAGES);
        let mut pages = Vec::new();
        let mut url = first.to_string();
        loop {
            let page = match self.get(&url).await? {
                Reply::Found(page) => page,
                Reply::Refused { status: 404, .. } if pages.is_empty() => return Ok(None),
                Reply::Refused { status, message } => {
                    return Err(self.refusal("GET", &url, status, &message));
                }
            };
            pages.push(self.parse(&url, &page.body)?);
            match page.next {
                Some(next) if pages.len() < max => url = next,
                Some(_) if max < MAX_PAGES => return Ok(Some(pages)),
                Some(_) => {
                    log::warn!("GitHub: read only the first {MAX_PAGES} pages of {first}");
                    return Ok(Some(pages));
                }
                None => return Ok(Some(pages)),
            }
        }
    }

    /// `body`, the answer to GET `url`, as `T`.
    pub fn parse<T: DeserializeOwned>(&self, url: &str, body: &str) -> Result<T, SourceError> {
        serde_json::from_str(body).map_err(|e| {
            SourceError::Rejected(format!(
                "GitHub's answer to GET {url} is not in the shape captain reads: {e}"
            ))
        })
    }
}
