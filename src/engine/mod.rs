//! The workflow engine: definitions, their validation, and the pure state machine.
//!
//! Must never do I/O, read the clock or use randomness: callers pass time in and carry effects out.
//! The exceptions are [`files`] and [`cli`], the shell that reads workflow files for the validator.

pub mod actions;
pub mod cli;
pub mod data;
mod de;
pub mod definition;
pub mod diagnostic;
pub mod editors;
pub mod error;
pub mod event;
pub mod expr;
pub mod files;
pub mod instance;
pub mod load;
pub mod machine;
pub mod outcome;
pub mod validate;
pub mod windows;
pub mod workflow;
pub mod yaml;

pub use actions::{ActionAvailability, available_actions};
pub use error::{EngineError, Refusal};
pub use event::{Actor, Clock, Event};
pub use instance::{Applicant, CaseStatus, Instance, LocalId};
pub use machine::{LAND, step, step_owned};
pub use outcome::{JournalEntry, MailTarget, Outcome, SideEffect, TimerDeadline, TimerKind};
pub use windows::{TimeWindows, WindowSpan};
pub use workflow::Workflow;

#[cfg(test)]
mod machine_tests;
#[cfg(test)]
mod test_support;

#[cfg(test)]
mod property_tests;

#[cfg(test)]
mod scenario_tests;
