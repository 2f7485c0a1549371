//! The pure core: train state machine, SLO analysis, preview staleness, main health, phases.
//!
//! Nothing here performs I/O, spawns tasks or reads the clock: every function takes the
//! state, an input and a `now`, and returns the new state and the effects to perform.

pub mod analysis;
pub mod burn;
pub mod main_health;
pub mod phases;
pub mod preview_links;
pub mod previews;
pub mod queries;
pub mod sentinel;
pub mod signals;
pub mod train;
