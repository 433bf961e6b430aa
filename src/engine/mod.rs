//! The workflow engine: definitions, their validation, and the pure state machine.
//!
//! Must never do I/O, read the clock or use randomness: callers pass time in and carry effects out.

pub mod definition;
pub mod expr;
