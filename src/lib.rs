//! vorgang: a workflow and case-management server for legal, deadline-driven procedures of public
//! administration, first of all the Kommunales Integrationszentrum procedure in NRW.

pub mod auth;
pub mod backup;
pub mod bpmn_import;
pub mod config;
pub mod db;
pub mod designation;
pub mod documents;
pub mod durable_fs;
pub mod engine;
pub mod frist;
pub mod journal;
pub mod mail;
pub mod render;
pub mod rules;
pub mod scheduler;
pub mod secret;
pub mod server;
pub mod service;
pub mod telemetry;
pub mod utc;
pub mod web;
