//! `/admin/postausgang`: the mail outbox – failed mails first, with recipient, subject, attempts
//! and the last error – and the retry of a failed mail.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::{failure, local_time, notice, page_or_refusal, query_value, refusal};
use crate::auth::Permission;
use crate::db::Database;
use crate::mail::WorkerHandle;
use crate::mail::compose::Rendered;
use crate::mail::outbox::{self, ListFilter, ListOrder, OutboxRow, OutboxStatus, RetryError};
use crate::service::{ServiceError, mail};
use crate::web::api::ApiState;
use crate::web::ui::{CsrfForm, UiSession, error_page, layout, render, see_other};

/// Most mails of one table.
const PAGE: i64 = 100;

const NOTICES: &[(&str, &str)] = &[(
    "erneut",
    "Die Mail wird erneut gesendet; sie steht wieder in der Warteschlange.",
)];

/// Every status with its German name, in the order of the filter.
const STATUSES: [(OutboxStatus, &str); 4] = [
    (OutboxStatus::Failed, "Fehlgeschlagen"),
    (OutboxStatus::Pending, "Wartend"),
    (OutboxStatus::Sending, "Wird gesendet"),
    (OutboxStatus::Sent, "Gesendet"),
];

fn status_label(status: &str) -> &'static str {
    STATUSES
        .iter()
        .find(|(s, _)| s.as_str() == status)
        .map_or("Unbekannt", |(_, label)| label)
}

fn row_json(row: &OutboxRow) -> Value {
    let to = Rendered::parse(&row.rendered)
        .map(|r| r.to)
        .unwrap_or_default();
    json!({
        "id": row.id,
        "status": status_label(&row.status),
        "fehlgeschlagen": row.status == OutboxStatus::Failed.as_str(),
        "empfaenger": to,
        "betreff": row.subject,
        "versuche": row.attempts,
        "fehler": row.last_error,
        "erstellt": local_time(row.created_at),
    })
}

/// The address of page `page` of the list narrowed by `filter`.
fn address(filter: &ListFilter, page: i64) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(status) = filter.status {
        query.append_pair("status", status.as_str());
    }
    if let Some(text) = filter.text.as_deref().filter(|s| !s.trim().is_empty()) {
        query.append_pair("q", text);
    }
    query.append_pair("seite", &page.to_string());
    format!("/admin/postausgang?{}", query.finish())
}

/// `GET /admin/postausgang?status=&q=&seite=`: the mails, a hundred a page, failed ones first
/// when no status is chosen; `q` searches the subjects (the Aktenzeichen) and the addresses.
pub async fn list(
    req: HttpRequest,
    session: UiSession,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    if let Some(refused) = refusal(&api, &session, Permission::ManageOutbox) {
        return refused;
    }
    let query = req.query_string();
    let filter = ListFilter {
        status: query_value(query, "status").and_then(|s| OutboxStatus::parse(&s)),
        text: query_value(query, "q"),
    };
    let again = "Bitte öffnen Sie den Postausgang über „Verwaltung“ neu.";
    let page = match page_or_refusal(&api, &session, query, again) {
        Ok(page) => page,
        Err(refused) => return *refused,
    };
    let listed = filter.clone();
    let rows = db
        .run(move |conn| outbox::list(conn, &listed, ListOrder::FailedFirst, page, PAGE))
        .await;
    let (rows, total) = match rows {
        Ok(rows) => rows,
        Err(error) => return failure(&api, &session, ServiceError::Db(error)),
    };
    let pages = ((total + PAGE - 1) / PAGE).max(1);
    let mut context = layout("Postausgang", Some(&session), Some("/admin"));
    context["hinweis"] = json!(notice(query, NOTICES));
    context["status"] = json!(
        STATUSES
            .iter()
            .map(|(s, label)| json!({ "wert": s.as_str(), "name": label, "gewaehlt": filter.status == Some(*s) }))
            .collect::<Vec<_>>()
    );
    context["mails"] = json!(rows.iter().map(row_json).collect::<Vec<_>>());
    context["gesamt"] = json!(total);
    context["seite"] = json!(page);
    context["seiten"] = json!(pages);
    context["q"] = json!(filter.text.as_deref().unwrap_or_default());
    context["zurueck"] = json!((page > 1).then(|| address(&filter, page.min(pages + 1) - 1)));
    context["weiter"] = json!((page < pages).then(|| address(&filter, page + 1)));
    render(&api, StatusCode::OK, "admin_postausgang", &context)
}

/// `POST /admin/postausgang/{id}/erneut`: a failed mail is queued again.
pub async fn retry(
    form: CsrfForm<Vec<(String, String)>>,
    id: web::Path<i64>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
    worker: Option<web::Data<WorkerHandle>>,
) -> HttpResponse {
    let session = form.session;
    if let Some(refused) = refusal(&api, &session, Permission::ManageOutbox) {
        return refused;
    }
    let id = id.into_inner();
    let retried = db
        .run(move |conn| Ok(mail::retry(conn, id, chrono::Utc::now().naive_utc())))
        .await;
    match retried {
        Ok(Ok(_)) => {
            if let Some(worker) = worker {
                worker.wake();
            }
            tracing::info!(
                outbox_id = id,
                "failed mail queued again in the web interface"
            );
            see_other("/admin/postausgang?hinweis=erneut")
        }
        Ok(Err(RetryError::NotFound)) => failure(
            &api,
            &session,
            ServiceError::NotFound("Diese Mail gibt es nicht.".into()),
        ),
        Ok(Err(RetryError::NotFailed(_))) => error_page(
            &api,
            StatusCode::CONFLICT,
            Some(&session),
            "Nicht möglich",
            "Diese Mail ist nicht fehlgeschlagen und wird daher nicht erneut gesendet.",
            "",
        ),
        Ok(Err(RetryError::NoAddress(reason))) => error_page(
            &api,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&session),
            "Keine Empfängeradresse",
            &reason,
            "",
        ),
        Ok(Err(RetryError::Db(error))) | Err(error) => {
            failure(&api, &session, ServiceError::Db(error))
        }
    }
}
