//! `GET /vorgaenge`: the cases the user may read, filtered, sorted and paged by a plain GET
//! form, so the list works without script and every state of it has its own address.
//!
//! Reads through `service::case_list::search`, the function the API lists with. Parameters are
//! checked against fixed lists; anything else is answered with a German 400 page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use super::start::german_time;
use super::{Session, UiSession, encode_query_value, error_page, layout, render};
use crate::db::models::{CaseId, DefinitionRow, Organisation, OrganisationId, UserId};
use crate::db::{Database, DbConnection};
use crate::engine::definition::Step;
use crate::service::case_list::{self, CaseFilter, STATUSES, Sort, SortKey};
use crate::service::cases::{self, LoadedCase};
use crate::service::{ServiceError, assignments, clock};
use crate::web::api::{ApiState, blocking};

/// Cases per page.
const PER_PAGE: i64 = 20;

/// Sortable columns: (parameter, service key, column heading).
const COLUMNS: &[(&str, SortKey, &str)] = &[
    ("aktenzeichen", SortKey::Aktenzeichen, "Aktenzeichen"),
    ("antragsteller", SortKey::Applicant, "Antragsteller"),
    ("stand", SortKey::Stand, "Stand"),
    ("frist", SortKey::Deadline, "Nächste Frist"),
    ("geaendert", SortKey::Updated, "geändert"),
];

/// The choices of the filter „Nächste Frist endet“: (parameter, label, the last day it admits
/// as days from today). Each admits passed deadlines too: what is due by then.
const DEADLINE_CHOICES: &[(&str, &str, i64)] = &[
    ("abgelaufen", "bereits abgelaufen", -1),
    ("heute", "bis heute", 0),
    ("7", "bis in 7 Tagen", 7),
    ("30", "bis in 30 Tagen", 30),
];

/// German names of the statuses in `cases.status`.
pub(crate) fn status_label(status: &str) -> &'static str {
    match status {
        "running" => "laufend",
        "completed" => "abgeschlossen",
        // Withdrawn or, for a KI's Begleitung, ended: not „zurückgenommen“ either way.
        "withdrawn" => "vorzeitig beendet",
        _ => "neu",
    }
}

/// One case as the list shows it (the page and the CSV file).
pub(super) struct Listed {
    pub id: i64,
    pub aktenzeichen: String,
    pub antragsteller: String,
    /// The applicant's AGS or key.
    pub ags: String,
    pub verfahren: String,
    /// „laufend“, „abgeschlossen: Bewilligt“ …
    pub status: String,
    /// Titles of the steps where the case waits.
    pub schritte: Vec<String>,
    /// The earliest legal deadline of those steps.
    pub frist: Option<chrono::NaiveDate>,
    pub angelegt: chrono::NaiveDateTime,
    pub geaendert: chrono::NaiveDateTime,
    pub eingereicht: Option<chrono::NaiveDateTime>,
    /// Who works on it in the viewer's organisation (see [`Listed::with_assignees`]).
    pub zustaendig: Option<String>,
}

impl Listed {
    pub(super) fn of(case: &LoadedCase, applicant: &Organisation) -> Self {
        let steps = crate::web::api::view::active_steps(case);
        Self {
            id: case.row.id.0,
            aktenzeichen: case.row.aktenzeichen.clone(),
            antragsteller: applicant.designation().into_owned(),
            ags: applicant.key.clone(),
            verfahren: case.workflow.title.clone(),
            status: match (case.row.status.as_str(), case.row.outcome.as_deref()) {
                (status @ ("completed" | "withdrawn"), Some(outcome)) => format!(
                    "{}: {}",
                    status_label(status),
                    case.workflow.definition().outcome_title(outcome)
                ),
                (status, _) => status_label(status).to_string(),
            },
            frist: steps.iter().filter_map(|s| s.deadline).min(),
            schritte: steps.into_iter().map(|s| s.title).collect(),
            angelegt: case.row.created_at,
            geaendert: case.row.updated_at,
            eingereicht: case.row.submitted_at,
            zustaendig: None,
        }
    }

    /// Fills in who works on each case in `organisation`, with one query for all of them.
    pub(super) fn with_assignees(
        conn: &mut DbConnection,
        organisation: OrganisationId,
        mut rows: Vec<Self>,
    ) -> Result<Vec<Self>, ServiceError> {
        let ids: Vec<CaseId> = rows.iter().map(|row| CaseId(row.id)).collect();
        let mut names = assignments::names_of(conn, organisation, &ids)?;
        for row in &mut rows {
            row.zustaendig = names.remove(&CaseId(row.id));
        }
        Ok(rows)
    }
}

/// The form's parameters, as typed (unknown parameters are ignored).
#[derive(Deserialize, Default)]
pub(super) struct ListQuery {
    workflow: Option<String>,
    step: Option<String>,
    status: Option<String>,
    q: Option<String>,
    /// `ich`: only the cases the user is assigned to.
    zustaendig: Option<String>,
    /// One of [`DEADLINE_CHOICES`].
    frist: Option<String>,
    sort: Option<String>,
    richtung: Option<String>,
    seite: Option<String>,
}

/// The checked parameters.
pub(super) struct Checked {
    pub filter: CaseFilter,
    /// The key of the deadline filter's choice (its day is in `filter.due_by`).
    pub frist: Option<&'static str>,
    pub sort: &'static str,
    pub descending: bool,
    pub page: i64,
}

impl Checked {
    /// The sort order for the service.
    pub(super) fn order(&self) -> Sort {
        Sort {
            key: COLUMNS
                .iter()
                .find(|(key, ..)| *key == self.sort)
                .map_or(SortKey::Updated, |(_, key, _)| *key),
            descending: self.descending,
        }
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The page a list's `seite` asks for (from 1; none or blank: the first), or why it names none.
pub(crate) fn page_number(seite: Option<&str>) -> Result<i64, &'static str> {
    match seite.map(str::trim).filter(|text| !text.is_empty()) {
        None => Ok(1),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|p| (1..=1_000_000).contains(p))
            .ok_or("Die Seitenzahl muss eine positive ganze Zahl sein."),
    }
}

/// Checks the parameters of `user`'s list on `today`.
pub(super) fn check(query: ListQuery, user: UserId, today: NaiveDate) -> Result<Checked, String> {
    let status = non_empty(query.status);
    let frist = match non_empty(query.frist) {
        None => None,
        Some(value) => Some(
            DEADLINE_CHOICES
                .iter()
                .find(|(key, ..)| *key == value)
                .ok_or("Diesen Filter „Nächste Frist endet“ gibt es nicht. Bitte wählen Sie einen Eintrag aus der Liste.")?,
        ),
    };
    let due_by =
        frist.and_then(|(_, _, days)| today.checked_add_signed(chrono::TimeDelta::days(*days)));
    let assigned_to = match non_empty(query.zustaendig).as_deref() {
        None => None,
        Some("ich") => Some(user),
        Some(_) => {
            return Err("Der Filter „Zuständig“ kennt nur den Wert „ich“.".into());
        }
    };
    if let Some(status) = &status
        && !STATUSES.contains(&status.as_str())
    {
        return Err(
            "Diesen Status gibt es nicht. Bitte wählen Sie einen Status aus der Liste.".into(),
        );
    }
    let sort = match non_empty(query.sort) {
        None => "geaendert",
        Some(value) => COLUMNS
            .iter()
            .find(|(key, ..)| *key == value)
            .map(|(key, ..)| *key)
            .ok_or("Nach dieser Spalte kann nicht sortiert werden. Sortiert werden kann nach Aktenzeichen, Antragsteller, Stand, nächster Frist und Änderungsdatum.")?,
    };
    let descending = match non_empty(query.richtung).as_deref() {
        None => sort == "geaendert",
        Some("auf") => false,
        Some("ab") => true,
        Some(_) => {
            return Err("Die Sortierrichtung muss „auf“ oder „ab“ sein.".into());
        }
    };
    let page = page_number(query.seite.as_deref())?;
    Ok(Checked {
        filter: CaseFilter {
            status,
            step: non_empty(query.step),
            workflow: non_empty(query.workflow),
            q: non_empty(query.q),
            assigned_to,
            due_by,
        },
        frist: frist.map(|(key, ..)| *key),
        sort,
        descending,
        page,
    })
}

/// The list's query with these parameters (filters kept, empty ones left out).
fn query_of(checked: &Checked, sort: &str, descending: bool, page: i64) -> String {
    let filter = &checked.filter;
    let mut parts = Vec::new();
    for (name, value) in [
        ("workflow", &filter.workflow),
        ("step", &filter.step),
        ("status", &filter.status),
        ("q", &filter.q),
    ] {
        if let Some(value) = value {
            parts.push(format!("{name}={}", encode_query_value(value)));
        }
    }
    if filter.assigned_to.is_some() {
        parts.push("zustaendig=ich".into());
    }
    if let Some(frist) = checked.frist {
        parts.push(format!("frist={frist}"));
    }
    parts.push(format!("sort={sort}"));
    parts.push(format!(
        "richtung={}",
        if descending { "ab" } else { "auf" }
    ));
    if page > 1 {
        parts.push(format!("seite={page}"));
    }
    parts.join("&")
}

/// The list's address with these parameters.
fn address(checked: &Checked, sort: &str, descending: bool, page: i64) -> String {
    format!("/vorgaenge?{}", query_of(checked, sort, descending, page))
}

/// `GET /vorgaenge`.
pub async fn show(
    req: HttpRequest,
    session: UiSession,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let query = match serde_urlencoded::from_str::<ListQuery>(req.query_string()) {
        Ok(query) => query,
        Err(_) => {
            return refused(
                &api,
                &session,
                "Die Suchangaben konnten nicht gelesen werden.",
            );
        }
    };
    let today = clock::now().today;
    let checked = match check(query, session.principal().user_id, today) {
        Ok(checked) => checked,
        Err(message) => return refused(&api, &session, &message),
    };
    let principal = session.principal().clone();
    let state = api.clone().into_inner();
    let filter = checked.filter.clone();
    let sort = checked.order();
    let page = checked.page;
    let found = blocking(&db, move |conn| {
        let found = case_list::search(conn, &principal, &filter, sort, page, PER_PAGE)?;
        let mut listed = Vec::with_capacity(found.rows.len());
        for (row, applicant) in found.rows {
            listed.push(Listed::of(
                &cases::from_row(conn, &state.registry, row)?,
                &applicant,
            ));
        }
        let rows: Vec<Value> = Listed::with_assignees(conn, principal.organisation_id, listed)?
            .into_iter()
            .map(|listed| {
                json!({
                    "id": listed.id,
                    "aktenzeichen": listed.aktenzeichen,
                    "antragsteller": listed.antragsteller,
                    "verfahren": listed.verfahren,
                    "status": listed.status,
                    "schritte": listed.schritte,
                    "geaendert": german_time(listed.geaendert),
                    "zustaendig": listed.zustaendig,
                    "frist": listed.frist.map(|day| json!({
                        "datum": day.format("%d.%m.%Y").to_string(),
                        "iso": day.to_string(),
                        "abgelaufen": day < today,
                        "heute": day == today,
                    })),
                })
            })
            .collect();
        let workflows = workflow_options(conn, &state)?;
        Ok((rows, found.total, workflows))
    })
    .await;
    let (rows, total, (workflows, steps)) = match found {
        Ok(found) => found,
        Err(error) => {
            tracing::error!(?error, "case list failed");
            return error_page(
                &api,
                StatusCode::INTERNAL_SERVER_ERROR,
                Some(&session),
                "Interner Fehler",
                "Die Vorgänge können gerade nicht angezeigt werden. Bitte versuchen Sie es \
                 später erneut.",
                "",
            );
        }
    };
    let Checked {
        ref filter,
        frist,
        sort,
        descending,
        page,
    } = checked;
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let columns: Vec<Value> = COLUMNS
        .iter()
        .map(|(key, _, label)| {
            let sorted = *key == sort;
            // A click on the sorted column turns the order round; other columns start ascending.
            let next_descending = sorted && !descending;
            json!({
                "label": label,
                "href": address(&checked, key, next_descending, 1),
                "aria_sort": if sorted { if descending { "descending" } else { "ascending" } } else { "" },
                "richtung": if sorted { if descending { "absteigend sortiert" } else { "aufsteigend sortiert" } } else { "" },
            })
        })
        .collect();
    let mut context = layout("Vorgänge", Some(&session), Some("/vorgaenge"));
    let selected = |value: &Option<String>, option: &str| value.as_deref() == Some(option);
    context["verfahren"] = json!(
        workflows
            .iter()
            .map(|(key, title)| json!({ "key": key, "title": title, "gewaehlt": selected(&filter.workflow, key) }))
            .collect::<Vec<_>>()
    );
    context["schritte"] = json!(
        steps
            .iter()
            .map(|(key, title)| json!({ "key": key, "title": title, "gewaehlt": selected(&filter.step, key) }))
            .collect::<Vec<_>>()
    );
    context["status"] = json!(
        STATUSES
            .iter()
            .map(|s| json!({ "key": s, "title": status_label(s), "gewaehlt": selected(&filter.status, s) }))
            .collect::<Vec<_>>()
    );
    context["fristen"] = json!(
        DEADLINE_CHOICES
            .iter()
            .map(|(key, title, _)| json!({ "key": key, "title": title, "gewaehlt": frist == Some(*key) }))
            .collect::<Vec<_>>()
    );
    context["q"] = json!(filter.q.clone().unwrap_or_default());
    context["nur_meine"] = json!(filter.assigned_to.is_some());
    context["sort"] = json!(sort);
    context["richtung"] = json!(if descending { "ab" } else { "auf" });
    context["spalten"] = json!(columns);
    context["vorgaenge"] = json!(rows);
    context["anzahl"] = json!(total);
    context["seite"] = json!(page);
    context["seiten"] = json!(pages);
    context["zurueck"] = json!((page > 1).then(|| address(&checked, sort, descending, page - 1)));
    context["weiter"] =
        json!((page < pages).then(|| address(&checked, sort, descending, page + 1)));
    context["csv"] = json!(format!(
        "{}?{}",
        super::case_list_csv::PATH,
        query_of(&checked, sort, descending, 1)
    ));
    render(&api, StatusCode::OK, "vorgaenge", &context)
}

/// The workflows for the filter (key, title) and their steps (key, "title (workflow)"), newest
/// versions only.
#[allow(clippy::type_complexity)]
fn workflow_options(
    conn: &mut DbConnection,
    api: &ApiState,
) -> Result<(Vec<(String, String)>, Vec<(String, String)>), ServiceError> {
    let rows = DefinitionRow::all_latest(conn)?;
    let mut workflows = Vec::new();
    let mut steps: Vec<(String, String)> = Vec::new();
    for row in rows {
        let deployed = api.registry.by_id(conn, row.id)?;
        for (key, step) in &deployed.definition().steps {
            if matches!(step, Step::Task(_) | Step::Consultation(_) | Step::Wait(_))
                && !steps.iter().any(|(k, _)| k == key)
            {
                steps.push((key.clone(), format!("{} ({})", step.title(), row.title)));
            }
        }
        workflows.push((row.key, row.title));
    }
    Ok((workflows, steps))
}

pub(super) fn refused(api: &ApiState, session: &Session, message: &str) -> HttpResponse {
    error_page(
        api,
        StatusCode::BAD_REQUEST,
        Some(session),
        "Ungültige Suchangaben",
        message,
        "Bitte passen Sie die Suche an oder beginnen Sie neu über „Vorgänge“ in der Navigation.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_a_positive_whole_number_and_none_is_the_first() {
        for (seite, page) in [(None, 1), (Some(""), 1), (Some("  "), 1), (Some(" 3 "), 3)] {
            assert_eq!(page_number(seite), Ok(page), "{seite:?}");
        }
        assert_eq!(page_number(Some("1000000")), Ok(1_000_000));
        for bad in ["0", "-1", "zwei", "1.5", "1000001", "99999999999999999999"] {
            assert_eq!(
                page_number(Some(bad)),
                Err("Die Seitenzahl muss eine positive ganze Zahl sein."),
                "{bad}"
            );
        }
    }

    #[test]
    fn only_known_columns_and_directions_are_accepted() {
        let query = |sort: &str, richtung: &str| ListQuery {
            sort: Some(sort.into()),
            richtung: Some(richtung.into()),
            ..Default::default()
        };
        let user = UserId(7);
        assert!(check(query("aktenzeichen", "ab"), user, day()).is_ok());
        assert!(check(query("id; DROP TABLE cases", "auf"), user, day()).is_err());
        assert!(check(query("stand", "seitwärts"), user, day()).is_err());
        let checked = check(ListQuery::default(), user, day()).unwrap();
        assert_eq!(
            (checked.sort, checked.descending, checked.page),
            ("geaendert", true, 1)
        );
    }

    #[test]
    fn only_the_users_own_assignment_is_a_filter() {
        let query = |value: &str| ListQuery {
            zustaendig: Some(value.into()),
            ..Default::default()
        };
        let user = UserId(7);
        let mine = check(query("ich"), user, day()).unwrap();
        assert_eq!(mine.filter.assigned_to, Some(user));
        assert!(query_of(&mine, "geaendert", true, 1).contains("zustaendig=ich"));
        assert_eq!(
            check(query(""), user, day()).unwrap().filter.assigned_to,
            None
        );
        assert!(check(query("alle"), user, day()).is_err());
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()
    }

    #[test]
    fn the_deadline_filter_admits_what_is_due_by_its_day() {
        let query = |value: &str| ListQuery {
            frist: Some(value.into()),
            ..Default::default()
        };
        let due_by = |value: &str| check(query(value), UserId(7), day()).map(|c| c.filter.due_by);
        let on = |m, d| NaiveDate::from_ymd_opt(2026, m, d);
        assert_eq!(due_by("abgelaufen"), Ok(on(3, 30)));
        assert_eq!(due_by("heute"), Ok(on(3, 31)));
        assert_eq!(due_by("7"), Ok(on(4, 7)));
        assert_eq!(due_by("30"), Ok(on(4, 30)));
        assert_eq!(due_by(""), Ok(None));
        for bad in ["31", "morgen", "-1"] {
            let refused = due_by(bad).unwrap_err();
            assert!(
                refused.contains("„Nächste Frist endet“"),
                "{bad}: {refused}"
            );
        }
        let checked = check(query("7"), UserId(7), day()).unwrap();
        assert!(query_of(&checked, "frist", false, 2).contains("frist=7"));
    }
}
