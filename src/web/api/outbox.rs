//! `/api/v1/admin/outbox`: the mail outbox for administrators – what failed, and a retry.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{blocking, denied};
use crate::auth::{Permission, Principal, authorize};
use crate::db::Database;
use crate::mail::WorkerHandle;
use crate::mail::compose::Rendered;
use crate::mail::outbox::{self, OutboxRow, OutboxStatus, RetryError};
use crate::service::{ServiceError, mail};
use crate::utc::rfc3339;
use crate::web::problem::Problem;

/// Query of `GET /admin/outbox`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    /// `pending`, `sending`, `sent` oder `failed`; ohne: alle.
    pub status: Option<String>,
    /// Suchtext: Teil des Betreffs (etwa ein Aktenzeichen) oder einer Empfängeradresse, ohne
    /// Unterscheidung von Groß- und Kleinschreibung.
    pub q: Option<String>,
    /// Seite, 1 bis 1.000.000 (Standard 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<i64>,
    /// Mails je Seite, 1 bis 100 (Standard 20).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
}

/// One mail of the outbox as administrators see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxItem {
    pub id: i64,
    /// Message-ID der Mail (mit spitzen Klammern), bei jedem Versuch dieselbe.
    pub message_id: String,
    pub case_id: Option<i64>,
    pub template: String,
    pub subject: String,
    /// Empfängeradressen.
    pub to: Vec<String>,
    /// `pending`, `sending`, `sent` oder `failed`.
    pub status: String,
    pub attempts: i32,
    /// Letzter Fehler, mit der Antwort des Mailservers.
    pub last_error: Option<String>,
    pub next_attempt_at: String,
    pub created_at: String,
    pub sent_at: Option<String>,
}

/// Answer of `GET /admin/outbox`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxList {
    pub items: Vec<OutboxItem>,
    /// Anzahl aller Treffer.
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl From<OutboxRow> for OutboxItem {
    fn from(row: OutboxRow) -> Self {
        Self {
            id: row.id,
            to: Rendered::parse(&row.rendered)
                .map(|r| r.to)
                .unwrap_or_default(),
            message_id: row.message_id,
            case_id: row.case_id.map(|c| c.0),
            template: row.template,
            subject: row.subject,
            status: row.status,
            attempts: row.attempts,
            last_error: row.last_error,
            next_attempt_at: rfc3339(row.next_attempt_at),
            created_at: rfc3339(row.created_at),
            sent_at: row.sent_at.map(rfc3339),
        }
    }
}

/// `GET /admin/outbox`: one page of outbox mails, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/outbox",
    tag = "Postausgang",
    summary = "Postausgang anzeigen",
    description = "Nur für Administratoren: Mails im Postausgang, neueste zuerst, z. B. `?status=failed` für die fehlgeschlagenen oder `?q=schulamt` für die Mails an ein Schulamt.",
    params(OutboxQuery),
    responses(
        (status = 200, description = "Eine Seite Mails", body = OutboxList),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    principal: Principal,
    query: web::Query<OutboxQuery>,
    db: web::Data<Database>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ManageOutbox, None).map_err(denied)?;
    let query = query.into_inner();
    let (page, per_page) = super::paging(query.page, query.per_page).map_err(super::bad_request)?;
    let status = match query.status.as_deref() {
        None | Some("") => None,
        Some(text) => Some(OutboxStatus::parse(text).ok_or_else(|| {
            super::bad_request(format!(
                "Unbekannter Status „{text}“ (erlaubt: pending, sending, sent, failed)."
            ))
        })?),
    };
    let (rows, total) = blocking(&db, move |conn| {
        let filter = outbox::ListFilter {
            status,
            text: query.q,
        };
        Ok(outbox::list(
            conn,
            &filter,
            outbox::ListOrder::Newest,
            page,
            per_page,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(OutboxList {
        items: rows.into_iter().map(OutboxItem::from).collect(),
        total,
        page,
        per_page,
    }))
}

/// `POST /admin/outbox/{id}/retry`: a failed mail is sent again.
#[utoipa::path(
    post,
    path = "/api/v1/admin/outbox/{id}/retry",
    tag = "Postausgang",
    summary = "Fehlgeschlagene Mail erneut senden",
    description = "Nur für Administratoren: stellt eine fehlgeschlagene Mail mit neuen Versuchen wieder in die Warteschlange.",
    params(
        ("id" = i64, Path, description = "Nummer der Mail im Postausgang"),
    ),
    responses(
        (status = 200, description = "Die Mail, wieder wartend (`pending`)", body = OutboxItem),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Die Mail ist nicht fehlgeschlagen", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Für die Mail ist weiterhin keine Empfängeradresse hinterlegt", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn retry(
    principal: Principal,
    id: web::Path<i64>,
    db: web::Data<Database>,
    worker: Option<web::Data<WorkerHandle>>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ManageOutbox, None).map_err(denied)?;
    let id = id.into_inner();
    let retried = blocking(&db, move |conn| {
        Ok(mail::retry(conn, id, chrono::Utc::now().naive_utc()))
    })
    .await?;
    match retried {
        Ok(row) => {
            if let Some(worker) = worker {
                worker.wake();
            }
            Ok(HttpResponse::Ok().json(OutboxItem::from(row)))
        }
        Err(RetryError::NotFound) => {
            Err(Problem::not_found().with_detail(RetryError::NotFound.to_string()))
        }
        Err(error @ RetryError::NotFailed(_)) => Err(Problem::new(
            StatusCode::CONFLICT,
            "not-failed",
            "Mail nicht fehlgeschlagen",
        )
        .with_detail(error.to_string())),
        Err(error @ RetryError::NoAddress(_)) => Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no-address",
            "Keine Empfängeradresse",
        )
        .with_detail(error.to_string())),
        Err(RetryError::Db(error)) => Err(super::problem(ServiceError::Db(error))),
    }
}
