//! Shared test harness: databases on both backends and a real `vorgang` process.

pub mod api;
pub mod auth;
pub mod browser;
pub mod cases;
pub mod db;
pub mod installation;
pub mod partners;
pub mod process;
pub mod smtp;
pub mod ui;

pub use db::{Backend, TestDatabase};

/// Declares one test per backend: `mod name { fn sqlite(); fn postgres(); }`.
///
/// The body gets the backend as `$backend`; the PostgreSQL half is skipped (with a message on
/// stderr) when `VORGANG_TEST_PG_URL` is unset, and fails instead when `CI=true`.
macro_rules! both_backends {
    ($(#[$meta:meta])* fn $name:ident($backend:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn sqlite() {
                let $backend = $crate::support::Backend::Sqlite;
                $body
            }

            #[test]
            fn postgres() {
                if !$crate::support::db::postgres_available() {
                    return;
                }
                let $backend = $crate::support::Backend::Postgres;
                $body
            }
        }
    };
    ($(#[$meta:meta])* async fn $name:ident($backend:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[actix_web::test]
            async fn sqlite() {
                let $backend = $crate::support::Backend::Sqlite;
                $body
            }

            #[actix_web::test]
            async fn postgres() {
                if !$crate::support::db::postgres_available() {
                    return;
                }
                let $backend = $crate::support::Backend::Postgres;
                $body
            }
        }
    };
}
