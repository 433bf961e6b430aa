//! `/admin/protokoll`: the administration's record (`service::admin_log`), newest first, each
//! entry as a German sentence.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use super::{failure, local_time, refusal};
use crate::auth::Permission;
use crate::db::Database;
use crate::db::models::Role;
use crate::service::ServiceError;
use crate::service::admin_log::{self, AdminEvent};
use crate::service::retention::Decision;
use crate::web::api::ApiState;
use crate::web::ui::{UiSession, layout, render, role_label};

/// Entries shown; older ones stay in the database.
const SHOWN: i64 = 500;

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
        admin_log::ACTIVATION_CHANGED if details["active"] == json!(true) => {
            format!("Benutzer {subject} wieder aktiviert")
        }
        admin_log::ACTIVATION_CHANGED => format!("Benutzer {subject} deaktiviert"),
        admin_log::FOLLOW_UPS_HANDED_OVER => format!(
            "{} offene Wiedervorlagen von {subject} an {} übergeben",
            details["count"].as_u64().unwrap_or(0),
            text("to")
        ),
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
        other => format!("{other}: {subject}"),
    }
}

/// `GET /admin/protokoll`: the newest entries.
pub async fn list(
    session: UiSession,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    let session = session.into_inner();
    if let Some(refused) = refusal(&api, &session, Permission::ManageUsers) {
        return refused;
    }
    let (entries, total) = match db.run(|conn| admin_log::newest(conn, SHOWN)).await {
        Ok(found) => found,
        Err(error) => return failure(&api, &session, ServiceError::Db(error)),
    };
    let mut context = layout("Verwaltungsprotokoll", Some(&session), Some("/admin"));
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
    context["gezeigt"] = json!(entries.len());
    context["gesamt"] = json!(total);
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
                event(admin_log::PASSWORD_SET, "a@kleve.de", json!({})),
                "Passwort von a@kleve.de gesetzt",
            ),
            (event("kuenftig", "x", json!({})), "kuenftig: x"),
        ];
        for (event, sentence) in cases {
            assert_eq!(describe(&event), sentence);
        }
    }
}
