//! Integration tests, one binary for all capabilities (one link step instead of many).
//! Storage-touching tests run on SQLite and on PostgreSQL (see `support::db`).

#[macro_use]
mod support;

mod admin_events;
mod api;
mod assignments;
mod auth;
mod backup;
mod beteiligung;
mod browser;
mod case_file;
mod case_links;
mod case_migration;
mod case_relocation;
mod cases;
mod contract;
mod demo;
mod documents;
mod frist_cli;
mod health;
mod jobs;
mod jobs_cli;
mod journal;
mod kalender;
mod ki_betrieb_fristen;
mod mail;
mod messages;
mod openapi;
mod organisations;
mod permissions;
mod retention;
mod startup;
mod storage;
mod time_windows;
mod timer_instances;
mod timers;
mod transfer;
mod ui_admin;
mod ui_case;
mod ui_demo;
mod ui_forms;
mod ui_login;
mod ui_pages;
mod ui_password_reset;
mod users_api;
mod validate_cli;
mod version_impact;
