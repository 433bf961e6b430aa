//! Login limits as administrators see and lift them: which accounts and client addresses have
//! failed logins (or reset-link requests) counted, which are refused for now, and lifting that
//! for one of them.
//!
//! A limit refills on its own (one attempt every three minutes after five failures), but a
//! colleague who mistyped the new password five times, or an office whose shared proxy address
//! used up its allowance, should not have to wait for it when an administrator can vouch for
//! them. Lifting deletes the key's buckets under every limit and is in the administration's
//! record: a lifted limit is a decision someone made.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::ServiceError;
use super::admin_log;
use crate::auth::{CountedKey, LimitKey, LoginLimiter, limiter};
use crate::db::{DbConnection, write_transaction};

/// Every key with failures counted under `limiters` at `now`: those refused first, those
/// refused longest before them, then by kind and key.
pub fn counted(
    conn: &mut DbConnection,
    limiters: &[LoginLimiter],
    now: DateTime<Utc>,
) -> Result<Vec<CountedKey>, ServiceError> {
    let mut keys = Vec::new();
    for limiter in limiters {
        keys.extend(limiter.counted(conn, now)?);
    }
    keys.sort_by(|a, b| {
        b.refused_until
            .cmp(&a.refused_until)
            .then_with(|| a.key.kind().cmp(b.key.kind()))
            .then_with(|| a.key.value().cmp(b.key.value()))
            .then_with(|| a.scope.cmp(b.scope))
    });
    Ok(keys)
}

/// The failures counted against one account or address, per limit; empty when none are.
pub fn counted_for(
    conn: &mut DbConnection,
    limiters: &[LoginLimiter],
    key: &LimitKey,
    now: DateTime<Utc>,
) -> Result<Vec<CountedKey>, ServiceError> {
    let mut keys = Vec::new();
    for limiter in limiters {
        keys.extend(limiter.counted_for(conn, key, now)?);
    }
    Ok(keys)
}

/// Lifts every limit on `key` at `now`: its counted failures are forgotten, so it may try
/// again at once, and `actor` is recorded as having done so (`login_limit_lifted`, with the
/// failures that were counted per limit). Returns those counts; `NotFound` when nothing was
/// counted against the key, and then nothing is recorded.
pub fn lift(
    conn: &mut DbConnection,
    limiters: &[LoginLimiter],
    actor: &str,
    key: &LimitKey,
    now: DateTime<Utc>,
) -> Result<Vec<CountedKey>, ServiceError> {
    write_transaction(conn, |conn| {
        let lifted = counted_for(conn, limiters, key, now)?;
        if lifted.is_empty() {
            return Err(ServiceError::NotFound(match key {
                LimitKey::Account(email) => {
                    format!("Für „{email}“ sind keine fehlgeschlagenen Anmeldungen gezählt.")
                }
                LimitKey::Address(address) => format!(
                    "Für die Adresse „{address}“ sind keine fehlgeschlagenen Anmeldungen gezählt."
                ),
            }));
        }
        limiter::forget(conn, key)?;
        let failures: serde_json::Map<String, serde_json::Value> = lifted
            .iter()
            .map(|counted| (counted.scope.to_string(), json!(counted.failures)))
            .collect();
        admin_log::record(
            conn,
            now.naive_utc(),
            actor,
            admin_log::LOGIN_LIMIT_LIFTED,
            key.value(),
            &json!({ "kind": key.kind(), "failures": failures }),
        )?;
        tracing::info!(kind = key.kind(), %actor, "login limit lifted");
        Ok(lifted)
    })
}

/// Whose limit it is, within a German sentence: the e-mail address, or „die Adresse …“.
pub fn whose(key: &LimitKey) -> String {
    match key {
        LimitKey::Account(email) => email.clone(),
        LimitKey::Address(address) => format!("die Adresse {address}"),
    }
}

/// „Anmeldesperre für … aufgehoben (5 gezählte Fehlversuche gelöscht)“: a lift, as the record
/// page and the command line say it.
pub fn lifted_sentence(key: &LimitKey, failures: u64) -> String {
    format!(
        "Anmeldesperre für {} aufgehoben ({})",
        whose(key),
        failures_deleted(failures)
    )
}

/// „1 gezählter Fehlversuch gelöscht“, „5 gezählte Fehlversuche gelöscht“: what a lift removed.
fn failures_deleted(failures: u64) -> String {
    if failures == 1 {
        "1 gezählter Fehlversuch gelöscht".to_string()
    } else {
        format!("{failures} gezählte Fehlversuche gelöscht")
    }
}

#[cfg(test)]
mod tests {
    use super::failures_deleted;

    #[test]
    fn one_failure_is_named_in_the_singular() {
        assert_eq!(failures_deleted(1), "1 gezählter Fehlversuch gelöscht");
        assert_eq!(failures_deleted(6), "6 gezählte Fehlversuche gelöscht");
    }
}
