//! Configuration files: `captain.toml`, `slo.yml`, the plan. Each is parsed and validated
//! up front; a bad file is rejected with its path, line, column and what was expected, so
//! nothing starts half-configured.

pub mod app;
pub mod checks;
pub mod duration;
pub mod error;
pub(crate) mod nodes;
pub mod plan;
pub mod prescan;
pub mod probe;
pub mod rollback;
pub mod slo;
pub mod source;

pub use duration::Span;
pub use error::ConfigError;
