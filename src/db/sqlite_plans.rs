//! Keeps SQLite from compiling cached statements again on every execution.
//!
//! SQLite may build a query plan around the value bound to a parameter: `LIMIT ?` bound to an
//! integer becomes a constant of the plan (since 3.4x), `LIKE ?` a prefix range, a comparison
//! with `?` an estimate from `sqlite_stat4`. Such a statement is marked to be prepared again
//! whenever a parameter is bound anew, and diesel binds every parameter on every execution: each
//! `.first()` (which sends `LIMIT ?`) was parsed and planned afresh, about a tenth of the
//! server's time under load, most of it inside the write transaction that every other writer
//! waits for.
//!
//! The query planner stability guarantee (`SQLITE_DBCONFIG_ENABLE_QPSG`) turns that off: plans
//! depend on the SQL text only, so the statement cache works as intended and plans stay the same
//! from one call to the next. diesel gives no access to the connection handle, so the setting
//! is applied by an auto-extension, which SQLite runs for every connection the process opens.

use std::ffi::{c_char, c_int};
use std::sync::Once;

use libsqlite3_sys as ffi;

/// Called by SQLite for each new connection.
unsafe extern "C" fn stable_plans(
    db: *mut ffi::sqlite3,
    _error: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: SQLite passes the handle of the connection being opened, valid for this call;
    // the option takes an int (1: on) and an optional int pointer for the resulting value.
    unsafe {
        ffi::sqlite3_db_config(
            db,
            ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as c_int,
            std::ptr::null_mut::<c_int>(),
        );
    }
    // A refusal only costs speed, never correctness, so the connection opens either way.
    ffi::SQLITE_OK
}

/// Registers the auto-extension once per process; connections opened afterwards get stable
/// plans.
pub fn install() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        // SAFETY: `stable_plans` has the signature SQLite expects of an extension entry point
        // and stays valid for the life of the process.
        let rc = unsafe { ffi::sqlite3_auto_extension(Some(stable_plans)) };
        if rc != ffi::SQLITE_OK {
            tracing::warn!(code = rc, "SQLite auto-extension not registered");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads the connection's QPSG setting back from SQLite itself.
    fn qpsg_of_new_connection() -> c_int {
        let mut db: *mut ffi::sqlite3 = std::ptr::null_mut();
        let mut value: c_int = -1;
        // SAFETY: an in-memory database opened, queried and closed within this block.
        unsafe {
            let rc = ffi::sqlite3_open_v2(
                c":memory:".as_ptr(),
                &mut db,
                ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE,
                std::ptr::null(),
            );
            assert_eq!(rc, ffi::SQLITE_OK);
            ffi::sqlite3_db_config(
                db,
                ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
                -1 as c_int,
                &mut value as *mut c_int,
            );
            ffi::sqlite3_close(db);
        }
        value
    }

    #[test]
    fn connections_opened_after_install_have_stable_plans() {
        install();
        install();
        assert_eq!(qpsg_of_new_connection(), 1);
    }
}
