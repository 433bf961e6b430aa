//! `/api/v1/admin/events`: the administration's record (`service::admin_log`) for programs,
//! such as an audit's export or a log archive.

use actix_web::{HttpResponse, web};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{bad_request, blocking, denied, paging};
use crate::auth::{Permission, Principal, authorize};
use crate::db::Database;
use crate::service::admin_log::{self, AdminEvent, EventFilter};
use crate::web::problem::Problem;

/// Query of `GET /admin/events`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// Art der Einträge: `user_created`, `user_password_set`, `user_password_reset`,
    /// `user_password_reset_by_mail`, `user_access_link_sent`, `user_tokens_revoked`,
    /// `login_limit_lifted`, `user_roles_changed`, `user_activation_changed`,
    /// `follow_ups_handed_over`,
    /// `organisation_registered`, `organisation_addresses_replaced`, `case_disposed`,
    /// `time_window_added` oder `time_window_removed`; ohne: alle.
    pub kind: Option<String>,
    /// Text im Betroffenen (E-Mail-Adresse, Organisationsschlüssel, Aktenzeichen) oder im
    /// Handelnden, ohne Unterscheidung von Groß- und Kleinschreibung.
    pub q: Option<String>,
    /// Seite, 1 bis 1.000.000 (Standard 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<i64>,
    /// Einträge je Seite, 1 bis 100 (Standard 20).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
}

/// One entry of the administration's record.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminEventItem {
    pub id: i64,
    #[serde(serialize_with = "crate::utc::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub at: NaiveDateTime,
    /// Wer: E-Mail-Adresse des Kontos, „Kommandozeile“ oder „Erststart“.
    pub actor: String,
    /// Art des Eintrags (siehe `kind` der Anfrage).
    pub kind: String,
    /// Betroffen: E-Mail-Adresse eines Kontos, Schlüssel einer Organisation oder Aktenzeichen.
    pub subject: String,
    /// Einzelheiten je Art, z. B. `{"before":["lesen"],"after":["admin"]}` bei
    /// `user_roles_changed`; Adressen von Organisationen nur als Anzahl.
    #[schema(value_type = Object)]
    pub details: Value,
}

impl From<AdminEvent> for AdminEventItem {
    fn from(event: AdminEvent) -> Self {
        Self {
            details: event.details(),
            id: event.id,
            at: event.at,
            actor: event.actor,
            kind: event.kind,
            subject: event.subject,
        }
    }
}

/// Answer of `GET /admin/events`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminEventList {
    pub items: Vec<AdminEventItem>,
    /// Anzahl aller Treffer.
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// `GET /admin/events`: one page of the administration's record, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/events",
    tag = "Verwaltungsprotokoll",
    summary = "Verwaltungsprotokoll lesen",
    description = "Nur für Administratoren: wer wann Benutzer angelegt, Rollen geändert, Einmalpasswörter vergeben, Konten deaktiviert, Wiedervorlagen übergeben, Organisationen registriert, Adressen ersetzt oder Vorgänge ausgesondert hat, neueste zuerst; z. B. `?q=anna@kreis-kleve.de` für alles zu einem Konto.",
    params(EventQuery),
    responses(
        (status = 200, description = "Eine Seite Einträge", body = AdminEventList),
        (status = 400, description = "Ungültige Anfrage (unbekannte Art oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    principal: Principal,
    query: web::Query<EventQuery>,
    db: web::Data<Database>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ManageUsers, None).map_err(denied)?;
    let query = query.into_inner();
    let (page, per_page) = paging(query.page, query.per_page).map_err(bad_request)?;
    let kind = match query.kind.as_deref() {
        None | Some("") => None,
        Some(text) if admin_log::KINDS.contains(&text) => Some(text.to_string()),
        Some(text) => {
            return Err(bad_request(format!(
                "Unbekannte Art „{text}“ (erlaubt: {}).",
                admin_log::KINDS.join(", ")
            )));
        }
    };
    let filter = EventFilter { kind, q: query.q };
    let (entries, total) = blocking(&db, move |conn| {
        Ok(admin_log::search(conn, &filter, page, per_page)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(AdminEventList {
        items: entries.into_iter().map(AdminEventItem::from).collect(),
        total,
        page,
        per_page,
    }))
}
