//! The workflow engine: definitions, their validation, and the pure state machine.
//!
//! Must never do I/O, read the clock or use randomness: callers pass time in and carry effects out.

pub mod actions;
pub mod data;
pub mod definition;
pub mod error;
pub mod event;
pub mod expr;
pub mod instance;
pub mod machine;
pub mod outcome;
pub mod workflow;

pub use actions::{ActionAvailability, available_actions};
pub use error::{EngineError, Refusal};
pub use event::{Actor, Clock, Event};
pub use instance::{Applicant, CaseStatus, Instance, LocalId};
pub use machine::step;
pub use outcome::{JournalEntry, MailTarget, Outcome, SideEffect};
pub use workflow::Workflow;

#[cfg(test)]
mod machine_tests;

#[cfg(test)]
mod property_tests;
