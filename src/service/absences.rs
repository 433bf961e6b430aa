//! Abwesenheitsvertretung: a staff member on leave names the colleague who stands in, until a
//! given day. Meanwhile the Wiedervorlagen that come due for the absent user reach the deputy
//! too, by mail and on the deputy's start page, so that nothing waits for someone who is away.
//! The deputy is a colleague who could take the Wiedervorlagen over for good (the same
//! organisation, a role that works on cases; see [`super::follow_ups::successors`]).
//!
//! When the deputy is away as well, the deputy's own deputy stands in, and so on along the
//! chain (as a Vertretungsregelung names a second deputy): holidays in a small team overlap, and
//! a Wiedervorlage must not wait for two people at once. A chain that only leads back to people
//! away ends at the last of them, as if it had not been followed.
//!
//! An absence is a working arrangement, not part of any file: it changes no case and no journal.
//! It ends by itself after its last day, or when the user ends it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Months, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::ServiceError;
use super::follow_ups::{Successor, successors};
use crate::auth::Principal;
use crate::db::models::UserId;
use crate::db::schema::{absences, users};
use crate::db::{DbConnection, write_transaction};
use crate::engine::data::DataError;

/// How far ahead an absence may be set.
const MAX_MONTHS_AHEAD: u32 = 12;

/// A user's current absence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Absence {
    /// The last day of the absence.
    pub until: NaiveDate,
    pub deputy: UserId,
    pub deputy_name: String,
}

/// A colleague the user stands in for today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandingIn {
    pub user: UserId,
    pub name: String,
}

/// The absence of `user` that covers `today`, if any (a deputy since deactivated does not
/// count: nobody would read the mails).
pub fn current(
    conn: &mut DbConnection,
    user: UserId,
    today: NaiveDate,
) -> Result<Option<Absence>, ServiceError> {
    let row: Option<(NaiveDate, i64, String)> = absences::table
        .inner_join(users::table.on(users::id.eq(absences::deputy_id)))
        .filter(absences::user_id.eq(user.0))
        .filter(absences::until.ge(today))
        .filter(users::active.eq(true))
        .select((absences::until, absences::deputy_id, users::display_name))
        .first(conn)
        .optional()?;
    Ok(row.map(|(until, deputy, deputy_name)| Absence {
        until,
        deputy: UserId(deputy),
        deputy_name,
    }))
}

/// The current absence of the user with the e-mail address `email` (as assignments name
/// people) and who stands in (see [`covering`]), if the user is away.
pub fn covering_of_email(
    conn: &mut DbConnection,
    email: &str,
    today: NaiveDate,
) -> Result<Option<(Absence, StandingIn)>, ServiceError> {
    let user: Option<i64> = users::table
        .filter(users::email.eq(email))
        .select(users::id)
        .first(conn)
        .optional()?;
    match user {
        Some(user) => covering(conn, UserId(user), today),
        None => Ok(None),
    }
}

/// How many deputies a chain of absences is followed through at most.
const MAX_CHAIN: usize = 5;

/// One absence of the day, with the names the pages and mails show.
struct AbsenceRow {
    until: NaiveDate,
    deputy: i64,
    /// Display name of the absent user.
    name: String,
    deputy_name: String,
}

/// The absences that count on `today`: of active users, naming an active deputy. Few rows (the
/// people on leave today), read in one query, so chains are followed in memory.
struct Absences(BTreeMap<i64, AbsenceRow>);

impl Absences {
    fn load(conn: &mut DbConnection, today: NaiveDate) -> Result<Self, ServiceError> {
        let (absent, deputy) = diesel::alias!(users as absent, users as deputy);
        let rows: Vec<(i64, NaiveDate, i64, String, String)> = absences::table
            .inner_join(absent.on(absent.field(users::id).eq(absences::user_id)))
            .inner_join(deputy.on(deputy.field(users::id).eq(absences::deputy_id)))
            .filter(absences::until.ge(today))
            .filter(absent.field(users::active).eq(true))
            .filter(deputy.field(users::active).eq(true))
            .select((
                absences::user_id,
                absences::until,
                absences::deputy_id,
                absent.field(users::display_name),
                deputy.field(users::display_name),
            ))
            .load(conn)?;
        Ok(Absences(
            rows.into_iter()
                .map(|(user, until, deputy, name, deputy_name)| {
                    let row = AbsenceRow {
                        until,
                        deputy,
                        name,
                        deputy_name,
                    };
                    (user, row)
                })
                .collect(),
        ))
    }

    /// Who stands in for `user`: the deputy named, or while that one is away too, the next
    /// deputy along the chain; `None` when `user` is not away. The name comes from the row
    /// that named that person.
    fn covering(&self, user: i64) -> Option<StandingIn> {
        let mut row = self.0.get(&user)?;
        let mut seen = BTreeSet::from([user]);
        for _ in 1..MAX_CHAIN {
            match self.0.get(&row.deputy) {
                Some(next) if !seen.contains(&next.deputy) => {
                    seen.insert(row.deputy);
                    row = next;
                }
                _ => break,
            }
        }
        Some(StandingIn {
            user: UserId(row.deputy),
            name: row.deputy_name.clone(),
        })
    }
}

/// Who stands in for `user` on `today` (see the module's notes on chains), with the absence as
/// the user entered it; `None` when `user` is not away.
pub fn covering(
    conn: &mut DbConnection,
    user: UserId,
    today: NaiveDate,
) -> Result<Option<(Absence, StandingIn)>, ServiceError> {
    let absences = Absences::load(conn, today)?;
    Ok(absences
        .0
        .get(&user.0)
        .zip(absences.covering(user.0))
        .map(|(row, covering)| {
            let absence = Absence {
                until: row.until,
                deputy: UserId(row.deputy),
                deputy_name: row.deputy_name.clone(),
            };
            (absence, covering)
        }))
}

/// The active colleagues `deputy` stands in for on `today`, by name: those who named `deputy`,
/// and those whose chain of deputies away leads to `deputy`.
pub fn standing_in_for(
    conn: &mut DbConnection,
    deputy: UserId,
    today: NaiveDate,
) -> Result<Vec<StandingIn>, ServiceError> {
    let absences = Absences::load(conn, today)?;
    let mut covered: Vec<StandingIn> = absences
        .0
        .iter()
        .filter(|(user, _)| absences.covering(**user).is_some_and(|c| c.user == deputy))
        .map(|(user, row)| StandingIn {
            user: UserId(*user),
            name: row.name.clone(),
        })
        .collect();
    covered.sort_by(|a, b| (&a.name, a.user.0).cmp(&(&b.name, b.user.0)));
    Ok(covered)
}

/// The colleagues `principal` may name as deputy.
pub fn candidates(
    conn: &mut DbConnection,
    principal: &Principal,
) -> Result<Vec<Successor>, ServiceError> {
    successors(conn, principal.user_id)
}

/// Records that `principal` is away until `until` (`JJJJ-MM-TT` or `TT.MM.JJJJ`), with the
/// colleague `deputy` (a user id among [`candidates`]) standing in; replaces an earlier
/// absence. Every problem at its pointer (`/until`, `/deputy`), and nothing changes.
pub fn set(
    conn: &mut DbConnection,
    principal: &Principal,
    (until, deputy): (&str, &str),
    today: NaiveDate,
    at: NaiveDateTime,
) -> Result<Absence, ServiceError> {
    let mut errors = Vec::new();
    let mut error = |pointer: &str, message: &str| {
        errors.push(DataError {
            pointer: pointer.into(),
            message: message.into(),
        })
    };
    let latest = today
        .checked_add_months(Months::new(MAX_MONTHS_AHEAD))
        .unwrap_or(today);
    let day = match crate::frist::parse_day(until) {
        None if until.trim().is_empty() => {
            error(
                "/until",
                "Bitte geben Sie den letzten Tag Ihrer Abwesenheit an.",
            );
            None
        }
        None => {
            error(
                "/until",
                "Bitte geben Sie den letzten Tag als Datum an, zum Beispiel 31.12.2026.",
            );
            None
        }
        Some(day) if day < today => {
            error(
                "/until",
                "Der letzte Tag der Abwesenheit liegt in der Vergangenheit.",
            );
            None
        }
        Some(day) if day > latest => {
            error(
                "/until",
                "Eine Abwesenheit kann höchstens ein Jahr im Voraus eingetragen werden.",
            );
            None
        }
        Some(day) => Some(day),
    };
    let candidates = candidates(conn, principal)?;
    let chosen = deputy
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|id| candidates.into_iter().find(|c| c.id.0 == id));
    if chosen.is_none() {
        error(
            "/deputy",
            "Bitte wählen Sie eine Kollegin oder einen Kollegen Ihrer Organisation als Vertretung.",
        );
    }
    let (Some(day), Some(chosen)) = (day, chosen) else {
        return Err(ServiceError::InvalidInput(errors));
    };
    // Replaced as a whole: a failed insert keeps the earlier absence.
    write_transaction(conn, |conn| {
        diesel::delete(absences::table.find(principal.user_id.0)).execute(conn)?;
        diesel::insert_into(absences::table)
            .values((
                absences::user_id.eq(principal.user_id.0),
                absences::until.eq(day),
                absences::deputy_id.eq(chosen.id.0),
                absences::set_at.eq(at),
            ))
            .execute(conn)?;
        Ok::<_, ServiceError>(())
    })?;
    tracing::info!(user_id = %principal.user_id, deputy_id = %chosen.id, "absence set");
    Ok(Absence {
        until: day,
        deputy: chosen.id,
        deputy_name: chosen.name,
    })
}

/// Deletes the absences whose last day lies before `today`: over, they say nothing any more
/// (who was away when is no one's business afterwards). Returns how many.
pub fn purge_past(conn: &mut DbConnection, today: NaiveDate) -> Result<usize, ServiceError> {
    Ok(diesel::delete(absences::table.filter(absences::until.lt(today))).execute(conn)?)
}

/// Ends the absence of `principal` (back early, or set by mistake); none is no error.
pub fn end(conn: &mut DbConnection, principal: &Principal) -> Result<(), ServiceError> {
    diesel::delete(absences::table.find(principal.user_id.0)).execute(conn)?;
    Ok(())
}
