//! The service layer: one function per command, each in one database transaction.

pub mod admin_chain;
pub mod admin_log;
pub mod aktenzeichen;
pub mod assignments;
pub mod beteiligung;
pub mod calendar;
pub mod case_file;
pub mod case_list;
pub mod case_migration;
pub(crate) mod case_removal;
pub mod cases;
pub mod clock;
pub mod data_summary;
pub mod demo;
pub mod documents;
pub mod error;
pub mod extension;
pub mod first_run;
pub mod follow_ups;
pub mod fristen;
pub mod further_participant;
pub mod internal;
pub mod mail;
pub mod metrics;
pub mod notes;
pub mod organisations;
pub mod overview;
pub mod partner;
pub mod partner_link;
pub mod retention;
pub mod time_windows;
pub mod users;
pub mod version_impact;
pub mod workflows;

pub use error::ServiceError;
