//! Wiedervorlagen: a staff member asks to see a case again on a given day and says why
//! („Rückmeldung des Schulamts prüfen“). The start page of whoever set one lists it once it is
//! due; the case page shows the open ones to the setter's organisation, and anyone there who may
//! write to the case closes one (a colleague standing in), recorded with who and when.
//!
//! They are working notes, not part of the file: they change neither the case nor its journal,
//! and another organisation reading the case (the Bewilligungsbehörde) neither sees nor closes
//! them.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::ServiceError;
use super::cases::AccessCheck;
use crate::auth::{CaseScope, Permission, Principal, authorize};
use crate::db::models::{CaseId, CaseRow, OrganisationId, Role, UserId};
use crate::db::schema::{case_assignments, cases, follow_ups, user_roles, users};
use crate::db::{DbConnection, write_transaction};
use crate::engine::Clock;
use crate::engine::data::DataError;

/// Longest reason, in characters (the database allows no more).
pub const MAX_REASON_CHARS: usize = 500;

/// How far ahead a Wiedervorlage may be set, in years.
const MAX_YEARS_AHEAD: i32 = 5;

/// An open Wiedervorlage as the case page shows it.
#[derive(Debug, Clone, PartialEq, Queryable, serde::Serialize, utoipa::ToSchema)]
pub struct OpenFollowUp {
    pub id: i64,
    /// The day it comes back (`YYYY-MM-DD`).
    #[schema(value_type = String, format = Date)]
    pub due: NaiveDate,
    /// Why, in a line.
    pub reason: String,
    /// Display name of whoever set it.
    pub set_by: String,
}

/// A Wiedervorlage of the user's, with its case, as the start page lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct DueFollowUp {
    pub id: i64,
    /// The case's number (its address: `/api/v1/cases/{case_id}`).
    #[schema(value_type = i64)]
    pub case_id: CaseId,
    pub aktenzeichen: String,
    /// The day it comes back (`YYYY-MM-DD`).
    #[schema(value_type = String, format = Date)]
    pub due: NaiveDate,
    pub reason: String,
    /// The case's status (`running`, `completed`, `withdrawn`): a Wiedervorlage on a case that
    /// has ended is usually only to be closed, and is shown as such.
    pub case_status: String,
}

/// Sets a Wiedervorlage of `user` on case `id` for the day `due` (`YYYY-MM-DD`, or `TT.MM.JJJJ`
/// as typed): only if `check` allows the caller on the case, then only a day from the clock's
/// today on and a reason of up to 500 characters (every problem at its pointer, `/due` and
/// `/reason`). Returns what was stored.
pub fn set(
    conn: &mut DbConnection,
    id: CaseId,
    user: UserId,
    (due, reason): (&str, &str),
    clock: &Clock,
    check: AccessCheck<'_>,
) -> Result<OpenFollowUp, ServiceError> {
    write_transaction(conn, |conn| {
        let row = CaseRow::find(conn, id)?.ok_or_else(super::cases::not_found)?;
        check(super::cases::access(&row))?;
        let (due, reason) = checked(due, reason, clock.today)?;
        let id: i64 = diesel::insert_into(follow_ups::table)
            .values((
                follow_ups::case_id.eq(id.0),
                follow_ups::user_id.eq(user.0),
                follow_ups::due.eq(due),
                follow_ups::reason.eq(&reason),
                follow_ups::created_at.eq(clock.now.naive_utc()),
            ))
            .returning(follow_ups::id)
            .get_result(conn)?;
        let set_by = users::table
            .find(user.0)
            .select(users::display_name)
            .first(conn)?;
        Ok(OpenFollowUp {
            id,
            due,
            reason,
            set_by,
        })
    })
}

/// Closes Wiedervorlage `follow_up` of case `id`, by `by` at `at`. Closing one that is closed
/// already changes nothing (a second click); one of another case, or set in another
/// organisation than the closer's, is not found.
pub fn close(
    conn: &mut DbConnection,
    id: CaseId,
    follow_up: i64,
    by: &Principal,
    at: NaiveDateTime,
    check: AccessCheck<'_>,
) -> Result<(), ServiceError> {
    write_transaction(conn, |conn| {
        let row = CaseRow::find(conn, id)?.ok_or_else(super::cases::not_found)?;
        check(super::cases::access(&row))?;
        let found: Option<Option<NaiveDateTime>> = follow_ups::table
            .inner_join(users::table)
            .filter(follow_ups::id.eq(follow_up))
            .filter(follow_ups::case_id.eq(id.0))
            .filter(users::organisation_id.eq(by.organisation_id))
            .select(follow_ups::done_at)
            .first(conn)
            .optional()?;
        match found {
            None => Err(ServiceError::NotFound(
                "Diese Wiedervorlage gibt es nicht.".into(),
            )),
            Some(Some(_)) => Ok(()),
            Some(None) => {
                diesel::update(follow_ups::table.find(follow_up))
                    .filter(follow_ups::done_at.is_null())
                    .set((
                        follow_ups::done_at.eq(at),
                        follow_ups::done_by.eq(&by.email),
                    ))
                    .execute(conn)?;
                Ok(())
            }
        }
    })
}

/// The open Wiedervorlagen of a case set in `organisation`, earliest first.
pub fn open_of_case(
    conn: &mut DbConnection,
    id: CaseId,
    organisation: OrganisationId,
) -> Result<Vec<OpenFollowUp>, ServiceError> {
    Ok(follow_ups::table
        .inner_join(users::table)
        .filter(follow_ups::case_id.eq(id.0))
        .filter(users::organisation_id.eq(organisation))
        .filter(follow_ups::done_at.is_null())
        .order((follow_ups::due, follow_ups::id))
        .select((
            follow_ups::id,
            follow_ups::due,
            follow_ups::reason,
            users::display_name,
        ))
        .load(conn)?)
}

/// The principal's open Wiedervorlagen due on or before `until`, earliest first, on cases the
/// principal may still read (a user moved to another organisation does not see the old ones).
pub fn due_for(
    conn: &mut DbConnection,
    principal: &Principal,
    until: NaiveDate,
) -> Result<Vec<DueFollowUp>, ServiceError> {
    Ok(open_rows(conn, Some(principal.user_id), until, false)?
        .into_iter()
        .filter(|row| row.readable_by(principal))
        .map(|row| row.follow_up)
        .collect())
}

/// The open Wiedervorlagen due by `today` of the colleagues `deputy` stands in for (`away`,
/// see `service::absences::standing_in_for`), each with its colleague's name, earliest first:
/// those both the colleague and the deputy may read.
pub fn due_standing_in(
    conn: &mut DbConnection,
    deputy: &Principal,
    away: &[super::absences::StandingIn],
    today: NaiveDate,
) -> Result<Vec<(String, DueFollowUp)>, ServiceError> {
    let mut due = Vec::new();
    for absent in away {
        let Some(colleague) = Principal::load(conn, absent.user)? else {
            continue;
        };
        due.extend(
            open_rows(conn, Some(absent.user), today, false)?
                .into_iter()
                .filter(|row| row.readable_by(&colleague) && row.readable_by(deputy))
                .map(|row| (absent.name.clone(), row.follow_up)),
        );
    }
    due.sort_by_key(|(_, f)| (f.due, f.id));
    Ok(due)
}

/// An open Wiedervorlage with what deciding whether its user may still see it needs.
struct OpenRow {
    user: i64,
    user_name: String,
    follow_up: DueFollowUp,
    applicant: OrganisationId,
    submitted: bool,
}

impl OpenRow {
    fn readable_by(&self, principal: &Principal) -> bool {
        let scope = CaseScope {
            applicant: self.applicant,
            submitted: self.submitted,
        };
        authorize(principal, Permission::ReadCase, Some(&scope)).is_ok()
    }
}

/// The open Wiedervorlagen due by `until`, earliest first: `user`'s or everyone's, and with
/// `unmailed` only those the `reminders` job has not mailed yet.
fn open_rows(
    conn: &mut DbConnection,
    user: Option<UserId>,
    until: NaiveDate,
    unmailed: bool,
) -> Result<Vec<OpenRow>, ServiceError> {
    type Row = (
        i64,
        String,
        i64,
        i64,
        String,
        NaiveDate,
        String,
        OrganisationId,
        Option<NaiveDateTime>,
        String,
    );
    let mut query = follow_ups::table
        .inner_join(cases::table)
        .inner_join(users::table)
        .filter(follow_ups::done_at.is_null())
        .filter(follow_ups::due.le(until))
        .into_boxed();
    if let Some(user) = user {
        query = query.filter(follow_ups::user_id.eq(user.0));
    }
    if unmailed {
        query = query.filter(follow_ups::notified_at.is_null());
    }
    let rows: Vec<Row> = query
        .order((follow_ups::due, follow_ups::id))
        .select((
            follow_ups::user_id,
            users::display_name,
            follow_ups::id,
            cases::id,
            cases::aktenzeichen,
            follow_ups::due,
            follow_ups::reason,
            cases::applicant_id,
            cases::submitted_at,
            cases::status,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(
                user,
                user_name,
                id,
                case,
                aktenzeichen,
                due,
                reason,
                applicant,
                submitted,
                status,
            )| {
                OpenRow {
                    user,
                    user_name,
                    follow_up: DueFollowUp {
                        id,
                        case_id: CaseId(case),
                        aktenzeichen,
                        due,
                        reason,
                        case_status: status,
                    },
                    applicant,
                    submitted: submitted.is_some(),
                }
            },
        )
        .collect())
}

/// Every open Wiedervorlage of the principal's, on cases the principal may still read: those due
/// already and all ahead (none lies more than five years after the day it was set).
pub fn open_for(
    conn: &mut DbConnection,
    principal: &Principal,
    today: NaiveDate,
) -> Result<Vec<DueFollowUp>, ServiceError> {
    let horizon = today
        .with_year(today.year() + MAX_YEARS_AHEAD + 1)
        .unwrap_or(NaiveDate::MAX);
    due_for(conn, principal, horizon)
}

/// The template of the mail about due Wiedervorlagen (`templates/mail/wiedervorlage.*`).
pub const TEMPLATE: &str = "wiedervorlage";

/// Mails each user the open Wiedervorlagen due by `clock.today` that were not mailed yet (due
/// on a weekend or a holiday, they come with the next working day's run), one mail per user,
/// each Wiedervorlage once: the mail and the mark are written in one transaction. Users no
/// longer active, and cases they may no longer read, are left out. A user away today (see
/// `service::absences`) has the colleague standing in mailed as well, in the same transaction.
/// Returns the mails queued.
pub fn mail_due(
    conn: &mut DbConnection,
    out: &super::mail::Outgoing,
    clock: &Clock,
) -> Result<usize, ServiceError> {
    let mut by_user: std::collections::BTreeMap<i64, Vec<OpenRow>> = Default::default();
    for row in open_rows(conn, None, clock.today, true)? {
        by_user.entry(row.user).or_default().push(row);
    }
    let base = out.public_url.as_str().trim_end_matches('/').to_string();
    let mut mails = 0;
    for (user, rows) in by_user {
        let Some(principal) = Principal::load(conn, UserId(user))? else {
            continue;
        };
        let name = rows[0].user_name.clone();
        let visible: Vec<OpenRow> = rows
            .into_iter()
            .filter(|row| row.readable_by(&principal))
            .collect();
        if visible.is_empty() {
            continue;
        }
        let entries: Vec<serde_json::Value> = visible
            .iter()
            .map(|row| &row.follow_up)
            .map(|f| {
                serde_json::json!({
                    "aktenzeichen": f.aktenzeichen,
                    "anlass": f.reason,
                    "datum": f.due.format("%d.%m.%Y").to_string(),
                    "wochentag": super::mail::weekday_de(f.due),
                    "ueberfaellig": f.due < clock.today,
                    "link": format!("{base}/vorgaenge/{}#wiedervorlage", f.case_id.0),
                })
            })
            .collect();
        let context = serde_json::json!({
            "name": name,
            "datum": clock.today.format("%d.%m.%Y").to_string(),
            "anzahl": entries.len(),
            "erste": entries[0],
            "wiedervorlagen": entries,
            "vertretung": null,
        });
        // Away, the user has them mailed to the colleague standing in as well (along the chain
        // when the deputy named is away too): those of them that colleague may read.
        let standing_in = match super::absences::covering(conn, UserId(user), clock.today)? {
            Some((absence, covering)) => {
                Principal::load(conn, covering.user)?.map(|deputy| (absence, covering.name, deputy))
            }
            None => None,
        };
        let deputy_mail = standing_in.and_then(|(absence, deputy_name, deputy)| {
            let entries: Vec<serde_json::Value> = visible
                .iter()
                .zip(&entries)
                .filter(|(row, _)| row.readable_by(&deputy))
                .map(|(_, entry)| entry.clone())
                .collect();
            let first = entries.first()?.clone();
            let context = serde_json::json!({
                "name": deputy_name,
                "datum": clock.today.format("%d.%m.%Y").to_string(),
                "anzahl": entries.len(),
                "erste": first,
                "wiedervorlagen": entries,
                "vertretung": {
                    "fuer": name,
                    "bis": absence.until.format("%d.%m.%Y").to_string(),
                },
            });
            Some((deputy, context))
        });
        let ids: Vec<i64> = visible.iter().map(|row| row.follow_up.id).collect();
        let at = clock.now.naive_utc();
        let sent = write_transaction(conn, |conn| {
            let marked = diesel::update(
                follow_ups::table
                    .filter(follow_ups::id.eq_any(&ids))
                    .filter(follow_ups::notified_at.is_null()),
            )
            .set(follow_ups::notified_at.eq(at))
            .execute(conn)?;
            if marked != ids.len() {
                // Another run mailed some of them meanwhile: this mail would repeat them.
                return Err(ServiceError::Conflict("bereits versandt".into()));
            }
            let mails = std::iter::once((
                serde_json::json!({ "kind": "user", "user": user }),
                &principal.email,
                &context,
            ))
            .chain(deputy_mail.iter().map(|(deputy, context)| {
                (
                    serde_json::json!({
                        "kind": "user", "user": deputy.user_id.0, "vertretung_fuer": user,
                    }),
                    &deputy.email,
                    context,
                )
            }));
            for (recipients, address, context) in mails {
                let envelope = super::mail::Envelope {
                    case: None,
                    invitation: None,
                    template: TEMPLATE,
                    recipients,
                    to: vec![address.clone()],
                };
                super::mail::queue_with(conn, out, envelope, context, context, at)?;
            }
            Ok(())
        });
        match sent {
            Ok(()) => mails += 1 + usize::from(deputy_mail.is_some()),
            Err(ServiceError::Conflict(_)) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(mails)
}

/// A colleague who can take over a user's open Wiedervorlagen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Successor {
    pub id: UserId,
    pub name: String,
    pub email: String,
}

/// Roles that may write to the organisation's cases, i.e. close a Wiedervorlage there.
const SUCCESSOR_ROLES: [Role; 3] = [Role::Admin, Role::Koordination, Role::Bewilligung];

/// The active colleagues of `from`'s organisation who may write to its cases, by name: whoever
/// takes over `from`'s open Wiedervorlagen (someone leaves, changes office, goes on leave).
pub fn successors(conn: &mut DbConnection, from: UserId) -> Result<Vec<Successor>, ServiceError> {
    let organisation: OrganisationId = users::table
        .find(from.0)
        .select(users::organisation_id)
        .first(conn)
        .optional()?
        .ok_or_else(|| ServiceError::NotFound("Diesen Benutzer gibt es nicht.".into()))?;
    let rows: Vec<(UserId, String, String)> = users::table
        .filter(users::organisation_id.eq(organisation))
        .filter(users::active.eq(true))
        .filter(users::id.ne(from.0))
        .filter(
            users::id.eq_any(
                user_roles::table
                    .filter(user_roles::role.eq_any(SUCCESSOR_ROLES.map(Role::as_str)))
                    .select(user_roles::user_id),
            ),
        )
        .order((users::display_name, users::email))
        .select((users::id, users::display_name, users::email))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, email)| Successor { id, name, email })
        .collect())
}

/// Gives every open Wiedervorlage of `from` to `to`, one of [`successors`]: from now on they
/// come back on `to`'s start page, and those due are mailed to `to` with the next morning's
/// reminders even where `from` had been mailed already. The cases `from` is responsible for
/// (`service::assignments`) go to `to` with them, as assigned by `by` at `at`. Returns how many
/// Wiedervorlagen were handed over, recorded with the number of cases as done by `by`; anyone
/// else as `to` is refused at `/nachfolge` and nothing changes.
pub fn hand_over(
    conn: &mut DbConnection,
    from: UserId,
    to: UserId,
    by: &super::admin_log::Administrator,
    at: NaiveDateTime,
) -> Result<usize, ServiceError> {
    write_transaction(conn, |conn| {
        let successors = successors(conn, from)?;
        let Some(successor) = successors.iter().find(|s| s.id == to) else {
            return Err(ServiceError::InvalidInput(vec![DataError {
                pointer: "/nachfolge".into(),
                message: "Bitte wählen Sie ein aktives Konto derselben Organisation, das deren \
                          Vorgänge bearbeiten darf."
                    .into(),
            }]));
        };
        let count = diesel::update(follow_ups::table)
            .filter(follow_ups::user_id.eq(from.0))
            .filter(follow_ups::done_at.is_null())
            .set((
                follow_ups::user_id.eq(to.0),
                follow_ups::notified_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        let cases = diesel::update(case_assignments::table)
            .filter(case_assignments::user_id.eq(from.0))
            .set((
                case_assignments::user_id.eq(to.0),
                case_assignments::assigned_at.eq(at),
                case_assignments::assigned_by.eq(&by.email),
            ))
            .execute(conn)?;
        let from_email: String = users::table.find(from.0).select(users::email).first(conn)?;
        super::admin_log::record(
            conn,
            at,
            &by.email,
            super::admin_log::FOLLOW_UPS_HANDED_OVER,
            &from_email,
            &serde_json::json!({ "to": successor.email, "count": count, "cases": cases }),
        )?;
        Ok(count)
    })
}

/// Renders the mail with sample data, so a broken override stops start-up instead of a
/// morning's run.
pub fn sample_mails() -> Vec<crate::render::SampleMail> {
    let entry = |aktenzeichen: &str, overdue: bool| {
        serde_json::json!({
            "aktenzeichen": aktenzeichen,
            "anlass": "Rückmeldung des Schulamts prüfen",
            "datum": "04.01.2027",
            "wochentag": "Montag",
            "ueberfaellig": overdue,
            "link": "https://vorgang.example/vorgaenge/1#wiedervorlage",
        })
    };
    let deputy = serde_json::json!({ "fuer": "Ben Kaya", "bis": "15.01.2027" });
    // The user's own mail and, while away, the deputy's, with one entry and with several.
    [
        (vec![entry("KI-05558-2027-0001", false)], None),
        (
            vec![
                entry("KI-05558-2027-0001", true),
                entry("KIB-05558-2027-0002", false),
            ],
            None,
        ),
        (vec![entry("KI-05558-2027-0001", false)], Some(&deputy)),
        (
            vec![
                entry("KI-05558-2027-0001", true),
                entry("KIB-05558-2027-0002", false),
            ],
            Some(&deputy),
        ),
    ]
    .into_iter()
    .map(|(entries, vertretung)| {
        crate::render::SampleMail::new(
            TEMPLATE,
            serde_json::json!({
                "name": "Anna Berg",
                "datum": "05.01.2027",
                "anzahl": entries.len(),
                "erste": entries[0],
                "wiedervorlagen": entries,
                "vertretung": vertretung,
            }),
        )
    })
    .collect()
}

/// The day and reason as stored, or every problem with them.
fn checked(due: &str, reason: &str, today: NaiveDate) -> Result<(NaiveDate, String), ServiceError> {
    let mut errors = Vec::new();
    let mut error = |pointer: &str, message: &str| {
        errors.push(DataError {
            pointer: pointer.into(),
            message: message.into(),
        })
    };
    let latest = today
        .with_year(today.year() + MAX_YEARS_AHEAD)
        .unwrap_or(NaiveDate::MAX);
    let typed = due.trim();
    let due = crate::frist::parse_day(typed);
    match due {
        None if typed.is_empty() => error("/due", "Bitte geben Sie den Tag der Wiedervorlage an."),
        None => error(
            "/due",
            "Bitte geben Sie den Tag als Datum an, zum Beispiel 15.01.2027.",
        ),
        Some(due) if due < today => error(
            "/due",
            "Der Tag der Wiedervorlage liegt in der Vergangenheit; bitte wählen Sie heute oder einen späteren Tag.",
        ),
        Some(due) if due > latest => error(
            "/due",
            "Der Tag der Wiedervorlage liegt mehr als fünf Jahre in der Zukunft.",
        ),
        Some(_) => {}
    }
    let reason = reason.trim();
    if reason.is_empty() {
        error(
            "/reason",
            "Bitte geben Sie an, worum es bei der Wiedervorlage geht.",
        );
    } else if reason.chars().count() > MAX_REASON_CHARS {
        error("/reason", "Der Anlass ist zu lang (höchstens 500 Zeichen).");
    } else if reason.chars().any(char::is_control) {
        error(
            "/reason",
            "Der Anlass enthält Steuerzeichen oder Zeilenumbrüche; bitte geben Sie eine Zeile Text ein.",
        );
    }
    match (due, errors.is_empty()) {
        (Some(due), true) => Ok((due, reason.to_string())),
        _ => Err(ServiceError::InvalidInput(errors)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn pointers(result: Result<(NaiveDate, String), ServiceError>) -> Vec<(String, String)> {
        match result {
            Err(ServiceError::InvalidInput(errors)) => {
                errors.into_iter().map(|e| (e.pointer, e.message)).collect()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn today_and_later_days_with_a_reason_are_accepted() {
        let today = day("2026-12-04");
        assert_eq!(
            checked("2026-12-04", "  Rückmeldung prüfen ", today).unwrap(),
            (today, "Rückmeldung prüfen".to_string())
        );
        assert!(
            checked(" 04.12.2031 ", "x", today).is_ok(),
            "as typed in German"
        );
    }

    #[test]
    fn every_problem_is_named_at_its_field() {
        let today = day("2026-12-04");
        let errors = pointers(checked("2026-12-03", " ", today));
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].0, "/due");
        assert!(errors[0].1.contains("Vergangenheit"));
        assert_eq!(errors[1].0, "/reason");
        let message = |due: &str, reason: &str| pointers(checked(due, reason, today))[0].1.clone();
        assert!(message("", "x").contains("Bitte geben Sie den Tag"));
        assert!(message("31.02.2027", "x").contains("zum Beispiel 15.01.2027"));
        assert!(message("2031-12-05", "x").contains("fünf Jahre"));
        assert!(message("2026-12-04", &"ä".repeat(501)).contains("500"));
        assert!(message("2026-12-04", "a\nb").contains("Zeilenumbrüche"));
        assert!(
            checked("2026-12-04", &"ä".repeat(500), today).is_ok(),
            "characters, not bytes"
        );
    }
}
