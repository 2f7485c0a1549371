//! The ETag cache behind conditional GETs: for each URL read, the body GitHub last sent and
//! the `ETag` it came with, so the next read can send `If-None-Match` and reuse the body on a
//! `304 Not Modified` (which GitHub does not count against the rate limit).
//!
//! Why not octocrab's own `HttpCacheLayer`: its `CacheStorage` trait is written against
//! `http::Uri`, a crate this one does not depend on; its `InMemoryCache` never forgets a URL
//! (every commit on `main` adds check-run and status URLs); and it turns a 304 into a 200
//! before the caller sees it, so the requests that cost budget could not be counted.
//!
//! The cache keeps what the latest complete poll read: [`EtagCache::sweep`] drops every entry
//! that poll did not touch, so it holds one commit's worth of URLs, not a history.

use std::collections::HashMap;
use std::sync::Mutex;

/// One cached answer: its validator, body and `rel="next"` page link (a 304 need not repeat
/// the `Link` header, so pagination must come from here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cached {
    pub etag: String,
    pub body: String,
    pub next: Option<String>,
}

#[derive(Debug, Default)]
struct Entries {
    by_url: HashMap<String, (Cached, u64)>,
    generation: u64,
}

/// URL → last answer. Never panics, even if a thread panicked while holding it.
#[derive(Debug, Default)]
pub struct EtagCache(Mutex<Entries>);

impl EtagCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached answer for `url`, marking it used by the current poll.
    pub fn get(&self, url: &str) -> Option<Cached> {
        let mut e = self.entries();
        let generation = e.generation;
        e.by_url.get_mut(url).map(|(cached, used)| {
            *used = generation;
            cached.clone()
        })
    }

    pub fn put(&self, url: &str, cached: Cached) {
        let mut e = self.entries();
        let generation = e.generation;
        e.by_url.insert(url.to_string(), (cached, generation));
    }

    /// Forget `url` (its answer is no longer a valid thing to revalidate).
    pub fn forget(&self, url: &str) {
        self.entries().by_url.remove(url);
    }

    /// End of a complete poll: drop what it did not read, and start the next generation.
    pub fn sweep(&self) {
        let mut e = self.entries();
        let generation = e.generation;
        e.by_url.retain(|_, (_, used)| *used == generation);
        e.generation += 1;
    }

    pub fn len(&self) -> usize {
        self.entries().by_url.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(etag: &str) -> Cached {
        Cached {
            etag: etag.into(),
            body: "{}".into(),
            next: None,
        }
    }

    #[test]
    fn a_sweep_keeps_only_what_the_last_poll_read() {
        let cache = EtagCache::default();
        cache.put("/old-commit/check-runs", answer("\"a\""));
        cache.put("/branches/main", answer("\"b\""));
        cache.sweep();
        // The next poll reads the branch again, and a new commit's check runs.
        assert!(cache.get("/branches/main").is_some());
        cache.put("/new-commit/check-runs", answer("\"c\""));
        cache.sweep();
        assert!(cache.get("/old-commit/check-runs").is_none());
        assert_eq!(cache.len(), 2);
    }
}
