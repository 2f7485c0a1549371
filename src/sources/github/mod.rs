//! GitHub as the forge: `main`'s health polled into a feed, and the `frozen/rollback` tag
//! that pauses the train. Built on octocrab with conditional requests (a 304 costs no rate
//! limit), a request budget, and faults instead of blank panels when GitHub is unreachable
//! or rate limiting. Nothing here touches UI state.
//!
//! - [`forge`]: [`GithubForge`], the [`crate::sources::Forge`] (construction, feed, actions)
//! - [`poller`]: the background task that polls and publishes
//! - [`main_health`]: one reading of `main` (HEAD, required checks, tag, PRs)
//! - [`checks`]: required checks and their states, pure
//! - [`tags`]: reading, creating and deleting `frozen/rollback`
//! - [`labels`]: open pull requests, and labels put on and taken off
//! - [`recent_pulls`]: pull requests of every state, for previews, read with each poll
//! - [`governance`]: the repository's settings, checked for validation probes
//! - [`activity`], [`actions`] and [`pulls_probe`]: what happened (runs, artifacts, checks, pull requests,
//!   labels, comments), looked at for validation probes; their shapes: [`activity_wire`]
//! - [`client`]: requests, errors and the rate limit; [`pages`]: typed bodies, pagination;
//!   [`etag_cache`]: conditional GETs; [`rate`]: the rate limit and the request budget;
//!   [`describe`]: answers in words; [`wire`]: the API's shapes
//! - [`token`]: finding the token (`$GITHUB_TOKEN`, `gh auth token`)

pub mod actions;
pub mod activity;
pub mod activity_wire;
pub mod checks;
pub mod client;
pub mod describe;
pub mod etag_cache;
pub mod forge;
pub mod governance;
pub mod labels;
pub mod link;
pub mod main_health;
pub mod pages;
pub mod poller;
pub mod pulls_probe;
pub mod rate;
pub mod recent_pulls;
pub mod tags;
pub mod token;
pub mod wire;

pub use forge::{DEFAULT_POLL, GithubForge};
pub use rate::{BUDGET_PER_HOUR, RequestCounter};
pub use token::{token_for, token_from_env_or_gh};
