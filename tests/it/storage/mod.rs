//! Storage on both backends: migrations, seed data, connection settings, transactions.

mod connections;
mod deferred;
mod migrations;
mod organisations;
mod users;
