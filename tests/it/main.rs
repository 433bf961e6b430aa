//! Integration tests, one binary for all capabilities (one link step instead of many).
//! Storage-touching tests run on SQLite and on PostgreSQL (see `support::db`).

#[macro_use]
mod support;

mod auth;
mod frist_cli;
mod health;
mod startup;
mod storage;
