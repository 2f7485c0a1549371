//! Executes confirmed commands against the backends, and keeps the audit journal.
//! Every action that changes anything goes through [`Operator::execute`], which writes
//! the intent before acting and the outcome after.

pub mod access;
pub mod action;
pub mod audit;
pub mod background;
pub mod command;
pub mod coordination;
pub mod driver;
pub mod evidence;
pub mod notify;
pub mod operator;
pub mod outcome;
pub mod probes;
pub mod progress;
pub mod sentinel;
pub mod starting;
pub mod telemetry;

pub use action::ActionKind;
pub use command::{Command, Confirmation, Confirmed, Proposal};
pub use operator::{Operator, Setup};
pub use outcome::Outcome;
