//! The terminal UI: the loop (input, ticks, source updates), the state it owns, and the
//! drawing, which is a pure function of that state and a clock.

pub mod dialogs;
pub mod draw;
pub mod incident;
pub mod input;
pub mod keymap;
pub mod logging;
pub mod panel;
pub mod panels;
pub mod run;
pub mod state;
pub mod theme;

pub use draw::draw;
pub use state::App;
pub use theme::Theme;
