//! Shared test harness: databases on both backends and a real `vorgang` process.

pub mod api;
pub mod auth;
pub mod browser;
pub mod cases;
pub mod db;
pub mod html;
pub mod installation;
pub mod partners;
pub mod process;
pub mod smtp;
pub mod ui;

pub use db::{Backend, TestDatabase};

/// What a test does when something it needs from the machine is missing: with `CI=true` it
/// fails, saying `in_ci`; elsewhere it is skipped, and `notice` is written once per `shown`
/// (on stderr, outside libtest's capture, so that it is visible). Always `false`, the answer of
/// the callers' availability checks.
pub fn skip_or_fail(shown: &std::sync::Once, in_ci: &str, notice: &str) -> bool {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true, but {in_ci}");
    }
    shown.call_once(|| {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "NOTE: {notice}");
    });
    false
}

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
