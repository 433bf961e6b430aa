//! `GET /`: the start page of a logged-in user: greeting, own tasks (and the cases waiting for a
//! message the user may record), deadlines of the next 14 days, the running cases per step (a
//! small chart with the same numbers as a table), and the latest partner answers. Four queries
//! in all; the page is opened all day.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, Weekday};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Session, UiSession, error_page, layout, render, role_label};
use crate::auth::Permission;
use crate::db::Database;
use crate::db::models::CaseId;
use crate::engine::definition::Step;
use crate::mail::outbox::{self, OutboxStatus};
use crate::service::beteiligung::{parse_votum, votum_de};
use crate::service::case_list::permitted;
use crate::service::retention::RetentionPolicy;
use crate::service::{ServiceError, calendar, clock, overview};
use crate::web::api::{ApiState, blocking};

/// Confirmations other pages send the user here with (`/?hinweis=…`); only these fixed texts
/// are ever shown, never the parameter itself.
const NOTICES: &[(&str, &str)] = &[
    ("passwort-geaendert", "Ihr Passwort wurde geändert."),
    ("demo-entfernt", "Die Demodaten wurden entfernt."),
];

/// How many days ahead the deadline list looks.
const DEADLINE_DAYS: u64 = 14;

/// How many partner answers are listed.
const ANSWERS: i64 = 10;

/// Width of the chart's longest bar, in SVG units.
const BAR_MAX: usize = 500;

#[derive(Deserialize)]
struct StartQuery {
    hinweis: Option<String>,
}

/// German weekday and date: „Mittwoch, 01.04.2026“.
pub(super) fn german_date(date: NaiveDate) -> String {
    let weekday = match date.weekday() {
        Weekday::Mon => "Montag",
        Weekday::Tue => "Dienstag",
        Weekday::Wed => "Mittwoch",
        Weekday::Thu => "Donnerstag",
        Weekday::Fri => "Freitag",
        Weekday::Sat => "Samstag",
        Weekday::Sun => "Sonntag",
    };
    format!("{weekday}, {}", date.format("%d.%m.%Y"))
}

/// Date and time as shown in lists: „01.04.2026, 14:05 Uhr“, stored in UTC and shown in German
/// local time (summer time included).
pub(super) fn german_time(at: NaiveDateTime) -> String {
    format!("{} Uhr", super::admin::local_time(at))
}

/// The start page.
pub async fn show(
    req: HttpRequest,
    session: UiSession,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let notice = serde_urlencoded::from_str::<StartQuery>(req.query_string())
        .ok()
        .and_then(|query| query.hinweis)
        .and_then(|key| NOTICES.iter().find(|(k, _)| *k == key))
        .map(|(_, text)| *text);
    let principal = session.principal().clone();
    let state = api.clone().into_inner();
    let for_offer = session.clone();
    let summary = blocking(&db, move |conn| {
        let mut summary = summarise(conn, &state, &principal)?;
        summary.push(("demo", super::demo::offer(conn, &for_offer)?));
        Ok(summary)
    })
    .await;
    let summary = match summary {
        Ok(summary) => summary,
        Err(error) => {
            tracing::error!(?error, "start page: summary failed");
            return error_page(
                &api,
                StatusCode::INTERNAL_SERVER_ERROR,
                Some(&session),
                "Interner Fehler",
                "Die Übersicht kann gerade nicht angezeigt werden. Bitte versuchen Sie es später \
                 erneut.",
                "",
            );
        }
    };
    let organisation = session.organisation();
    let mut context = layout("Startseite", Some(&session), Some("/"));
    context["hinweis"] = json!(notice);
    context["benutzer"] = json!({
        "name": session.display_name(),
        "email": session.principal().email,
        "organisation": organisation.designation(),
        "organisation_schluessel": organisation.key,
        "rollen": session.principal().roles.iter().map(|r| role_label(*r)).collect::<Vec<_>>(),
    });
    context["tage"] = json!(DEADLINE_DAYS);
    context["neuer_vorgang"] = json!(may_create(&session));
    for (key, value) in summary {
        context[key] = value;
    }
    render(&api, StatusCode::OK, "start", &context)
}

fn may_create(session: &Session) -> bool {
    let principal = session.principal();
    permitted(
        principal,
        Permission::CreateCase,
        principal.organisation_id,
        false,
    )
}

/// The page's sections: `postausgang` (failed mails, for administrators), `aufgaben`,
/// `wiedervorlagen` (the user's own, due within the deadline horizon, then the due ones of
/// colleagues away whom the user stands in for), `fristen`,
/// `stand` (rows and chart), `stellungnahmen`.
fn summarise(
    conn: &mut crate::db::DbConnection,
    api: &ApiState,
    principal: &crate::auth::Principal,
) -> Result<Vec<(&'static str, Value)>, ServiceError> {
    let today = clock::now().today;
    let until = today
        .checked_add_days(Days::new(DEADLINE_DAYS))
        .unwrap_or(today);
    let running = overview::running_cases(conn, principal)?;
    // The roles the engine checks an action against (an admin acts in every role), so the list
    // holds exactly the tasks whose actions the case page offers.
    let roles = crate::auth::workflow_roles(principal);
    // A case the organisation assigned to a colleague is the colleague's task (Camunda's
    // assignee before candidate group); one assigned to the user comes first.
    let assigned = crate::service::assignments::assigned_in(conn, principal.organisation_id)?;
    // Colleagues away whom the user stands in for: their cases are the user's tasks meanwhile.
    let standing_in = crate::service::absences::standing_in_for(conn, principal.user_id, today)?;
    let deputy_for = |case: i64| {
        assigned.get(&CaseId(case)).and_then(|user| {
            standing_in
                .iter()
                .find(|absent| absent.user == *user)
                .map(|absent| absent.name.clone())
        })
    };
    let mut tasks = Vec::new();
    let mut colleagues_tasks = 0;
    // Cases waiting for a message from outside whose arrival the user may record.
    let mut awaited = Vec::new();
    // (workflow title, step title) → number of cases.
    let mut per_step: BTreeMap<(String, String), usize> = BTreeMap::new();
    for case in &running {
        let workflow = api.registry.by_id(conn, case.definition_id)?;
        let may_act = permitted(
            principal,
            Permission::TakeAction,
            case.applicant_id,
            case.submitted,
        );
        for step in &case.steps {
            let found = workflow.workflow.step(step);
            let title = found.map_or(step.as_str(), Step::title).to_string();
            *per_step
                .entry((workflow.title.clone(), title.clone()))
                .or_default() += 1;
            if let Some(message) = found.and_then(Step::awaited_message)
                && may_act
                && (assigned
                    .get(&CaseId(case.id))
                    .is_none_or(|user| *user == principal.user_id)
                    || deputy_for(case.id).is_some())
            {
                awaited.push(json!({
                    "id": case.id,
                    "aktenzeichen": case.aktenzeichen,
                    "schritt": title,
                    "nachricht": workflow.definition().message_title(message),
                    "antragsteller": (case.applicant_id != principal.organisation_id)
                        .then_some(&case.applicant),
                    "verfahren": workflow.title,
                }));
            }
            if let Some(Step::Task(task)) = found
                && may_act
                && !task.actions.is_empty()
                && roles.contains(&task.role)
            {
                let assignee = assigned.get(&CaseId(case.id));
                let vertretung = deputy_for(case.id);
                if assignee.is_some_and(|user| *user != principal.user_id) && vertretung.is_none() {
                    colleagues_tasks += 1;
                    continue;
                }
                tasks.push(json!({
                    "zugewiesen": assignee.is_some() && vertretung.is_none(),
                    // Assigned to a colleague away whom the user stands in for.
                    "vertretung": vertretung,
                    "id": case.id,
                    "aktenzeichen": case.aktenzeichen,
                    "schritt": title,
                    // Whose case it is, where it is not the viewer's own organisation's.
                    "antragsteller": (case.applicant_id != principal.organisation_id)
                        .then_some(&case.applicant),
                    "verfahren": workflow.title,
                    "geaendert": german_time(case.updated_at),
                }));
            }
        }
    }
    let responsible = running
        .iter()
        .filter(|case| assigned.get(&CaseId(case.id)) == Some(&principal.user_id))
        .count();
    // Stable: the user's own assignments first, otherwise as the cases were listed.
    tasks.sort_by_key(|task| !task["zugewiesen"].as_bool().unwrap_or(false));
    let deadlines = calendar::visible_between(conn, &api.registry, principal, today, until)?;
    let fristen: Vec<Value> = deadlines
        .iter()
        .map(|d| {
            json!({
                "id": d.case_id,
                "aktenzeichen": d.aktenzeichen,
                "datum": german_date(d.end),
                "iso": d.end.format("%Y-%m-%d").to_string(),
                "schritt": d.step_title,
                "antragsteller": d.applicant_name,
                "grund": d.reason,
            })
        })
        .collect();
    // The user's own Wiedervorlagen: due ones and those of the coming days listed, later ones
    // counted.
    let (soon, later): (Vec<_>, Vec<_>) =
        crate::service::follow_ups::open_for(conn, principal, today)?
            .into_iter()
            .partition(|f| f.due <= until);
    // Then, for colleagues away whom the user stands in for, theirs that are due.
    let deputised =
        crate::service::follow_ups::due_standing_in(conn, principal, &standing_in, today)?;
    let follow_ups: Vec<Value> = soon
        .into_iter()
        .map(|f| (None, f))
        .chain(deputised.into_iter().map(|(name, f)| (Some(name), f)))
        .map(|(vertretung, f)| {
            json!({
                "id": f.case_id,
                "aktenzeichen": f.aktenzeichen,
                "datum": german_date(f.due),
                "iso": f.due.format("%Y-%m-%d").to_string(),
                "anlass": f.reason,
                "heute": f.due == today,
                "ueberfaellig": f.due < today,
                "vertretung": vertretung,
                "beendet": f.case_status != "running",
            })
        })
        .collect();
    let notices: Vec<Value> = overview::open_notices(conn, &api.registry, principal)?
        .iter()
        .map(|n| {
            json!({
                "id": n.case_id,
                "aktenzeichen": n.aktenzeichen,
                "organisation": n.organisation,
                "grund": n.reason,
                "zustaendig": n.competent,
                "einladung": n.invitation,
            })
        })
        .collect();
    let requests: Vec<Value> = overview::open_requests(conn, &api.registry, principal)?
        .iter()
        .map(|r| {
            json!({
                "id": r.case_id,
                "aktenzeichen": r.aktenzeichen,
                "organisation": r.organisation,
                "bis": german_date(r.until),
                "frist": german_date(r.deadline),
                "grund": r.reason,
                "einladung": r.invitation,
                "bis_iso": r.until.format("%Y-%m-%d").to_string(),
            })
        })
        .collect();
    let answers = overview::recent_answers(conn, principal, ANSWERS)?;
    let stellungnahmen: Vec<Value> = answers
        .iter()
        .map(|a| {
            let votum = a
                .votum
                .as_deref()
                .and_then(parse_votum)
                .map_or("ohne Votum", votum_de);
            json!({
                "id": a.case_id,
                "aktenzeichen": a.aktenzeichen,
                "organisation": a.organisation,
                "votum": votum,
                // One the office entered came on its own day; the entry is newer.
                "datum": match a.received_on {
                    Some(day) => format!(
                        "{} (erfasst {})",
                        day.format("%d.%m.%Y"),
                        german_time(a.answered_at)
                    ),
                    None => german_time(a.answered_at),
                },
                "verspaetet": a.late,
            })
        })
        .collect();
    let failed_mails = if permitted(
        principal,
        Permission::ManageOutbox,
        principal.organisation_id,
        false,
    ) {
        outbox::count(conn, OutboxStatus::Failed)?
    } else {
        0
    };
    let postausgang = match failed_mails {
        0 => Value::Null,
        1 => json!("1 Mail wurde nicht versandt"),
        n => json!(format!("{n} Mails wurden nicht versandt")),
    };
    let due_for_disposal = if permitted(
        principal,
        Permission::DisposeCases,
        principal.organisation_id,
        false,
    ) {
        let policy = RetentionPolicy::load(conn, api.retention_years)?;
        crate::service::retention::count_due(conn, today, &policy)?
    } else {
        0
    };
    let aussonderung = match due_for_disposal {
        0 => Value::Null,
        1 => json!("1 Vorgang ist zur Aussonderung fällig"),
        n => json!(format!("{n} Vorgänge sind zur Aussonderung fällig")),
    };
    Ok(vec![
        ("postausgang", postausgang),
        ("aussonderung", aussonderung),
        ("aufgaben", json!(tasks)),
        ("aufgaben_kollegen", json!(colleagues_tasks)),
        ("nachrichten", json!(awaited)),
        ("verlaengerungen", json!(requests)),
        ("nicht_zustaendig", json!(notices)),
        ("zustaendig_fuer", json!(responsible)),
        ("wiedervorlagen", json!(follow_ups)),
        (
            "wiedervorlagen_spaeter",
            json!(later.first().map(|next| json!({
                "anzahl": later.len(),
                "naechste": german_date(next.due),
            }))),
        ),
        ("fristen", json!(fristen)),
        ("stand", chart(&per_step, running.len())),
        ("stellungnahmen", json!(stellungnahmen)),
    ])
}

/// The counts per step as table rows and as bars of an inline SVG (presentation attributes
/// only; the content security policy forbids `style`). Each step's title stands on its own line
/// above its bar, so that long titles („Aktualisiertes Integrationskonzept vorlegen“) are not cut.
fn chart(per_step: &BTreeMap<(String, String), usize>, cases: usize) -> Value {
    let max = per_step.values().copied().max().unwrap_or(0).max(1);
    let row_height = 48;
    let rows: Vec<Value> = per_step
        .iter()
        .enumerate()
        .map(|(index, ((workflow, step), count))| {
            let y = index * row_height;
            let bar = (count * BAR_MAX).div_ceil(max).max(2);
            json!({
                "verfahren": workflow,
                "schritt": step,
                "anzahl": count,
                "text_y": y + 15,
                "y": y + 21,
                "zahl_y": y + 36,
                "breite": bar,
                "zahl_x": bar + 6,
            })
        })
        .collect();
    json!({
        "zeilen": rows,
        "vorgaenge": cases,
        "hoehe": per_step.len() * row_height,
        "breite": BAR_MAX + 60,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_titles_stand_above_their_bars_and_every_bar_fits() {
        let per_step = BTreeMap::from([
            (("Antrag".to_string(), "Entwurf".to_string()), 1),
            (
                (
                    "Betrieb".to_string(),
                    "Aktualisiertes Integrationskonzept vorlegen".to_string(),
                ),
                4,
            ),
        ]);
        let chart = chart(&per_step, 5);
        let width = chart["breite"].as_u64().unwrap();
        let rows = chart["zeilen"].as_array().unwrap();
        let mut previous_bottom = 0;
        for row in rows {
            let number = |key: &str| row[key].as_u64().unwrap();
            // The title's baseline is above the bar, below the previous row's bar.
            assert!(
                number("text_y") > previous_bottom && number("text_y") < number("y"),
                "{row}"
            );
            assert!(number("breite") > 0, "{row}");
            // The bar and the number after it stay inside the drawing.
            assert!(number("zahl_x") + 20 <= width, "{row} in {width}");
            previous_bottom = number("y") + 20;
        }
        assert_eq!(
            rows[1]["breite"].as_u64(),
            Some(BAR_MAX as u64),
            "the largest count is the longest bar"
        );
        assert!(previous_bottom <= chart["hoehe"].as_u64().unwrap());
    }

    #[test]
    fn dates_read_in_german_with_the_weekday() {
        let date = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
        assert_eq!(german_date(date), "Mittwoch, 01.04.2026");
    }
}
