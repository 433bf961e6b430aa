//! The service layer: one function per command, each in one database transaction.

pub mod aktenzeichen;
pub mod cases;
pub mod clock;
pub mod error;
pub mod workflows;

pub use error::ServiceError;
