//! `/admin/protokoll`: the administration's record (`service::admin_log`), newest first, each
//! entry as a German sentence.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::{failure, local_time, page_or_refusal, query_value, refusal};
use crate::auth::{LimitKey, Permission};
use crate::db::Database;
use crate::db::models::Role;
use crate::service::ServiceError;
use crate::service::admin_chain;
use crate::service::admin_log::{self, AdminEvent, EventFilter};
use crate::service::retention::Decision;
use crate::web::api::ApiState;
use crate::web::ui::{UiSession, encode_query_value, layout, render, role_label};

/// Entries per page.
const PER_PAGE: i64 = 50;

/// The kinds as the filter offers them.
const KIND_LABELS: [(&str, &str); 15] = [
    (admin_log::USER_CREATED, "Benutzer angelegt"),
    (admin_log::ROLES_CHANGED, "Rollen geändert"),
    (
        admin_log::ACTIVATION_CHANGED,
        "Konto deaktiviert oder wieder aktiviert",
    ),
    (
        admin_log::PASSWORD_SET,
        "Passwort auf der Kommandozeile gesetzt",
    ),
    (admin_log::PASSWORD_RESET, "Einmalpasswort neu vergeben"),
    (
        admin_log::PASSWORD_RESET_BY_MAIL,
        "Passwort über E-Mail-Link neu festgelegt",
    ),
    (
        admin_log::ACCESS_LINK_SENT,
        "Zugangslink per E-Mail gesendet",
    ),
    (admin_log::TOKENS_REVOKED, "API-Zugangstoken gesperrt"),
    (admin_log::LOGIN_LIMIT_LIFTED, "Anmeldesperre aufgehoben"),
    (
        admin_log::FOLLOW_UPS_HANDED_OVER,
        "Wiedervorlagen übergeben",
    ),
    (
        admin_log::ORGANISATION_REGISTERED,
        "Organisation registriert",
    ),
    (admin_log::ADDRESSES_REPLACED, "Adressen ersetzt"),
    (admin_log::CASE_DISPOSED, "Vorgang ausgesondert"),
    (admin_log::TIME_WINDOW_ADDED, "Zeitraum eingetragen"),
    (admin_log::TIME_WINDOW_REMOVED, "Zeitraum entfernt"),
];

/// Role names of a record's list, as pages show them: „Koordination, Lesen“ („keine“ for none).
fn roles(list: &Value) -> String {
    let names: Vec<String> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|name| {
            name.parse::<Role>()
                .map_or_else(|_| name.to_string(), |role| role_label(role).to_string())
        })
        .collect();
    if names.is_empty() {
        "keine".to_string()
    } else {
        names.join(", ")
    }
}

/// What an entry says, in German.
pub(crate) fn describe(event: &AdminEvent) -> String {
    let details = event.details();
    let text = |key: &str| details[key].as_str().unwrap_or("").to_string();
    let subject = &event.subject;
    match event.kind.as_str() {
        admin_log::USER_CREATED => format!(
            "Benutzer {subject} angelegt (Organisation {}, Rollen: {})",
            text("organisation"),
            roles(&details["roles"])
        ),
        admin_log::ROLES_CHANGED => format!(
            "Rollen von {subject} geändert: vorher {}, jetzt {}",
            roles(&details["before"]),
            roles(&details["after"])
        ),
        admin_log::PASSWORD_SET => format!("Passwort von {subject} gesetzt"),
        admin_log::PASSWORD_RESET => format!("Einmalpasswort für {subject} neu vergeben"),
        admin_log::ACCESS_LINK_SENT => {
            format!("Zugangslink zum Festlegen des Passworts an {subject} gesendet")
        }
        admin_log::PASSWORD_RESET_BY_MAIL => {
            format!("{subject} hat über den E-Mail-Link ein neues Passwort festgelegt")
        }
        admin_log::TOKENS_REVOKED => format!("API-Zugangstoken von {subject} gesperrt"),
        admin_log::LOGIN_LIMIT_LIFTED => {
            let failures: u64 = details["failures"]
                .as_object()
                .into_iter()
                .flat_map(|limits| limits.values())
                .filter_map(Value::as_u64)
                .sum();
            let key = if details["kind"] == json!("address") {
                LimitKey::Address(subject.to_string())
            } else {
                LimitKey::Account(subject.to_string())
            };
            crate::service::login_limits::lifted_sentence(&key, failures)
        }
        admin_log::ACTIVATION_CHANGED if details["active"] == json!(true) => {
            format!("Benutzer {subject} wieder aktiviert")
        }
        admin_log::ACTIVATION_CHANGED => format!("Benutzer {subject} deaktiviert"),
        admin_log::FOLLOW_UPS_HANDED_OVER => {
            let cases = match details["cases"].as_u64().unwrap_or(0) {
                0 => String::new(),
                1 => " und die Zuständigkeit für 1 Vorgang".to_string(),
                n => format!(" und die Zuständigkeit für {n} Vorgänge"),
            };
            format!(
                "{} offene Wiedervorlagen{cases} von {subject} an {} übergeben",
                details["count"].as_u64().unwrap_or(0),
                text("to")
            )
        }
        admin_log::ORGANISATION_REGISTERED => {
            format!("Organisation „{}“ ({subject}) registriert", text("name"))
        }
        admin_log::ADDRESSES_REPLACED => {
            let mailbox = if details["mailbox"] == json!(true) {
                "mit Funktionspostfach"
            } else {
                "ohne Funktionspostfach"
            };
            let head = match details["head"].as_bool() {
                Some(true) => ", Leitung eingetragen",
                Some(false) => ", Leitung entfernt",
                None => "",
            };
            format!(
                "Adressen von {subject} ersetzt: {mailbox}, {} Kontakte{head}",
                details["contacts"].as_u64().unwrap_or(0)
            )
        }
        admin_log::CASE_DISPOSED => format!(
            "Vorgang {subject} ausgesondert ({})",
            Decision::parse(&text("decision")).map_or("Entscheidung unbekannt", Decision::label)
        ),
        admin_log::TIME_WINDOW_ADDED | admin_log::TIME_WINDOW_REMOVED => {
            let day = |key: &str| {
                text(key)
                    .parse::<chrono::NaiveDate>()
                    .map_or_else(|_| text(key), |d| d.format("%d.%m.%Y").to_string())
            };
            let done = if event.kind == admin_log::TIME_WINDOW_ADDED {
                "eingetragen"
            } else {
                "entfernt"
            };
            format!(
                "Zeitraum {subject}: „{}“ vom {} bis {} {done}",
                text("label"),
                day("opens_on"),
                day("closes_on")
            )
        }
        other => format!("{other}: {subject}"),
    }
}

/// Pages for `total` entries; one when there are none.
fn pages_of(total: i64) -> i64 {
    ((total + PER_PAGE - 1) / PER_PAGE).max(1)
}

/// The page's address for a filter and page (empty filters left out).
fn address(filter: &EventFilter, page: i64) -> String {
    let mut parts = Vec::new();
    if let Some(kind) = &filter.kind {
        parts.push(format!("art={kind}"));
    }
    if let Some(q) = &filter.q {
        parts.push(format!("q={}", encode_query_value(q)));
    }
    if page > 1 {
        parts.push(format!("seite={page}"));
    }
    if parts.is_empty() {
        "/admin/protokoll".to_string()
    } else {
        format!("/admin/protokoll?{}", parts.join("&"))
    }
}

/// `GET /admin/protokoll?art=&q=&seite=`: one page of entries, newest first; an unknown kind
/// shows all kinds, a page past the end the last page, a page that is no number a 400 page.
pub async fn list(
    req: HttpRequest,
    session: UiSession,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    let session = session.into_inner();
    if let Some(refused) = refusal(&api, &session, Permission::ManageUsers) {
        return refused;
    }
    let query = req.query_string();
    let art = query_value(query, "art").unwrap_or_default();
    let q = query_value(query, "q").unwrap_or_default();
    let filter = EventFilter {
        kind: admin_log::KINDS
            .iter()
            .find(|kind| **kind == art)
            .map(ToString::to_string),
        q: Some(q.trim().to_string()).filter(|q| !q.is_empty()),
    };
    let again = "Bitte öffnen Sie das Protokoll über „Verwaltung“ neu.";
    let asked = match page_or_refusal(&api, &session, query, again) {
        Ok(page) => page,
        Err(refused) => return *refused,
    };
    let search = filter.clone();
    let found = db
        .run(move |conn| {
            // The chain is checked on every view: administrators come here rarely, and the
            // record is small (changes of rights and addresses, not of cases).
            let chain = admin_chain::verify(conn)?;
            let (entries, total) = admin_log::search(conn, &search, asked, PER_PAGE)?;
            let pages = pages_of(total);
            if entries.is_empty() && asked > pages {
                // Past the end (entries of the filter are fewer now): the last page.
                let (entries, total) = admin_log::search(conn, &search, pages, PER_PAGE)?;
                return Ok((entries, total, pages, chain));
            }
            Ok((entries, total, asked, chain))
        })
        .await;
    let (entries, total, page, chain) = match found {
        Ok(found) => found,
        Err(error) => return failure(&api, &session, ServiceError::Db(error)),
    };
    let pages = pages_of(total);
    let mut context = layout("Verwaltungsprotokoll", Some(&session), Some("/admin"));
    context["kette_gebrochen"] = json!(chain.broken.as_ref().map(ToString::to_string));
    context["kette_eintraege"] = json!(chain.entries);
    context["eintraege"] = json!(
        entries
            .iter()
            .map(|event| json!({
                "zeit": local_time(event.at),
                "wer": event.actor,
                "was": describe(event),
            }))
            .collect::<Vec<_>>()
    );
    context["q"] = json!(filter.q.clone().unwrap_or_default());
    context["arten"] = json!(
        KIND_LABELS
            .iter()
            .map(|(kind, label)| json!({
                "wert": kind,
                "name": label,
                "gewaehlt": filter.kind.as_deref() == Some(*kind),
            }))
            .collect::<Vec<_>>()
    );
    context["gefiltert"] = json!(filter.kind.is_some() || filter.q.is_some());
    context["gesamt"] = json!(total);
    context["seite"] = json!(page);
    context["seiten"] = json!(pages);
    context["zurueck"] = json!((page > 1).then(|| address(&filter, page - 1)));
    context["weiter"] = json!((page < pages).then(|| address(&filter, page + 1)));
    render(&api, StatusCode::OK, "admin_protokoll", &context)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, subject: &str, details: Value) -> AdminEvent {
        AdminEvent {
            id: 1,
            at: chrono::NaiveDateTime::default(),
            actor: "admin@kreis-kleve.de".into(),
            kind: kind.into(),
            subject: subject.into(),
            details: details.to_string(),
        }
    }

    #[test]
    fn every_kind_reads_as_a_german_sentence() {
        let cases = [
            (
                event(
                    admin_log::USER_CREATED,
                    "a@kleve.de",
                    json!({ "organisation": "05154", "roles": ["koordination", "lesen"] }),
                ),
                "Benutzer a@kleve.de angelegt (Organisation 05154, Rollen: Koordination, Lesen)",
            ),
            (
                event(
                    admin_log::ROLES_CHANGED,
                    "a@kleve.de",
                    json!({ "before": ["lesen"], "after": ["admin"] }),
                ),
                "Rollen von a@kleve.de geändert: vorher Lesen, jetzt Administration",
            ),
            (
                event(
                    admin_log::ACTIVATION_CHANGED,
                    "a@kleve.de",
                    json!({ "active": false }),
                ),
                "Benutzer a@kleve.de deaktiviert",
            ),
            (
                event(
                    admin_log::ACTIVATION_CHANGED,
                    "a@kleve.de",
                    json!({ "active": true }),
                ),
                "Benutzer a@kleve.de wieder aktiviert",
            ),
            (
                event(
                    admin_log::FOLLOW_UPS_HANDED_OVER,
                    "a@kleve.de",
                    json!({ "to": "b@kleve.de", "count": 3 }),
                ),
                "3 offene Wiedervorlagen von a@kleve.de an b@kleve.de übergeben",
            ),
            (
                event(
                    admin_log::FOLLOW_UPS_HANDED_OVER,
                    "a@kleve.de",
                    json!({ "to": "b@kleve.de", "count": 0, "cases": 2 }),
                ),
                "0 offene Wiedervorlagen und die Zuständigkeit für 2 Vorgänge von a@kleve.de an b@kleve.de übergeben",
            ),
            (
                event(
                    admin_log::ORGANISATION_REGISTERED,
                    "SCHULAMT",
                    json!({ "name": "Schulamt Kleve", "kind": "partner" }),
                ),
                "Organisation „Schulamt Kleve“ (SCHULAMT) registriert",
            ),
            (
                event(
                    admin_log::ADDRESSES_REPLACED,
                    "05154",
                    json!({ "mailbox": true, "contacts": 2, "head": null }),
                ),
                "Adressen von 05154 ersetzt: mit Funktionspostfach, 2 Kontakte",
            ),
            (
                event(
                    admin_log::ADDRESSES_REPLACED,
                    "05154",
                    json!({ "mailbox": false, "contacts": 0, "head": false }),
                ),
                "Adressen von 05154 ersetzt: ohne Funktionspostfach, 0 Kontakte, Leitung entfernt",
            ),
            (
                event(
                    admin_log::CASE_DISPOSED,
                    "KI-05154-2019-0001",
                    json!({ "decision": "archived" }),
                ),
                "Vorgang KI-05154-2019-0001 ausgesondert (vom Archiv übernommen)",
            ),
            (
                event(
                    admin_log::TIME_WINDOW_ADDED,
                    "kfi_antrag",
                    json!({ "label": "Förderjahr 2027", "opens_on": "2026-04-17", "closes_on": "2026-10-31" }),
                ),
                "Zeitraum kfi_antrag: „Förderjahr 2027“ vom 17.04.2026 bis 31.10.2026 eingetragen",
            ),
            (
                event(
                    admin_log::TIME_WINDOW_REMOVED,
                    "kfi_antrag",
                    json!({ "label": "Förderjahr 2027", "opens_on": "2026-04-17", "closes_on": "2026-10-31" }),
                ),
                "Zeitraum kfi_antrag: „Förderjahr 2027“ vom 17.04.2026 bis 31.10.2026 entfernt",
            ),
            (
                event(admin_log::PASSWORD_SET, "a@kleve.de", json!({})),
                "Passwort von a@kleve.de gesetzt",
            ),
            (
                event(admin_log::PASSWORD_RESET, "a@kleve.de", json!({})),
                "Einmalpasswort für a@kleve.de neu vergeben",
            ),
            (event("kuenftig", "x", json!({})), "kuenftig: x"),
        ];
        for (event, sentence) in cases {
            assert_eq!(describe(&event), sentence);
        }
    }
}
