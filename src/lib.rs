//! captain — the release-captain console.
//!
//! Data flows one way, sources → engine → view model → screen; intent flows back one way,
//! key → command → confirmation → ops → audit. See `docs/architecture.md`.

pub mod allocator;
pub mod cli;
pub mod clock;
pub mod config;
pub mod ending;
pub mod engine;
pub mod headless;
pub mod launch;
pub mod ops;
pub mod paths;
pub mod sim;
pub mod slo_rules;
pub mod sources;
pub mod text;
pub mod tui;
