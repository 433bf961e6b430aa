//! `GET/POST /admin/organisationen/neu/tabelle`: many organisations from one table (CSV), and
//! `GET /admin/organisationen.csv`: the organisations listed as such a table
//! ([`crate::service::organisation_table`]).
//!
//! The form sends the file (multipart: `csrf`, `datei`, `aktion` = `pruefen` or `uebernehmen`).
//! „Prüfen“ stores nothing and shows what would happen; its page carries the file's content
//! (`inhalt`, base64) with a button to take it over, so the administrator need not pick the
//! file again. Errors are listed by line and column, and nothing is stored.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::{administrator, refusal};
use crate::auth::Permission;
use crate::db::Database;
use crate::service::organisation_table::{
    self, ImportError, ImportReport, MAX_BYTES as MAX_TABLE_BYTES, MAX_ROWS,
};
use crate::web::api::ApiState;
use crate::web::ui::case_documents::{read_file_field, text_field};
use crate::web::ui::session::{self, Ready};
use crate::web::ui::{Session, UiSession, layout, render, see_other};

/// What the form sent.
#[derive(Default)]
struct Upload {
    csrf: Option<String>,
    /// `uebernehmen` stores; anything else only checks.
    apply: bool,
    /// File name and content; `None` content when it was too large.
    file: Option<(String, Option<Vec<u8>>)>,
    /// The content carried over from a check, base64.
    carried: Option<String>,
}

/// What the page shows below the form.
#[derive(Default)]
struct Outcome<'a> {
    file: Option<&'a str>,
    /// A message about the file as a whole.
    problem: Option<String>,
    /// Row errors: line, column, message.
    errors: Vec<(u64, Option<&'static str>, String)>,
    /// The report of a check, with the content to take over.
    checked: Option<(ImportReport, String)>,
}

/// `GET /admin/organisationen/neu/tabelle`.
pub async fn form(session: UiSession, api: web::Data<ApiState>) -> HttpResponse {
    if let Some(refused) = refusal(&api, &session, Permission::ManageOrganisations) {
        return refused;
    }
    page(&api, &session, StatusCode::OK, Outcome::default())
}

fn page(
    api: &ApiState,
    session: &Session,
    status: StatusCode,
    outcome: Outcome<'_>,
) -> HttpResponse {
    let mut context = layout(
        "Organisationen aus einer Tabelle",
        Some(session),
        Some("/admin"),
    );
    context["max_mb"] = json!(MAX_TABLE_BYTES / (1024 * 1024));
    context["max_zeilen"] = json!(MAX_ROWS);
    context["datei"] = json!(outcome.file);
    context["problem"] = json!(outcome.problem);
    context["zeilenfehler"] = json!(
        outcome
            .errors
            .iter()
            .map(|(line, column, message)| json!({ "zeile": line, "spalte": column, "meldung": message }))
            .collect::<Vec<Value>>()
    );
    if let Some((report, content)) = &outcome.checked {
        context["geprueft"] = json!(report_json(report));
        context["inhalt"] = json!(content);
    }
    render(api, status, "admin_organisationen_tabelle", &context)
}

fn report_json(report: &ImportReport) -> Value {
    json!({
        "neu": report.registered,
        "geaendert": report.updated,
        "unveraendert": report.unchanged,
        "etwas": !report.registered.is_empty() || !report.updated.is_empty(),
    })
}

/// `POST /admin/organisationen/neu/tabelle`.
pub async fn submit(
    req: HttpRequest,
    mut multipart: Multipart,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> Result<HttpResponse, actix_web::Error> {
    let session = session::require::<Ready>(session::load(&req).await?, None)?;
    if let Some(refused) = refusal(&api, &session, Permission::ManageOrganisations) {
        return Ok(refused);
    }
    let mut upload = Upload::default();
    while let Some(field) = multipart.next().await {
        let Ok(mut field) = field else {
            return Err(crate::web::ui::bad_form(&req, Some(&session)));
        };
        match field.name().unwrap_or_default() {
            "csrf" => upload.csrf = text_field(&mut field, 128).await,
            "aktion" => {
                upload.apply = text_field(&mut field, 32).await.as_deref() == Some("uebernehmen")
            }
            "inhalt" => upload.carried = text_field(&mut field, MAX_TABLE_BYTES * 2).await,
            "datei" if upload.file.is_none() => {
                let Some((name, content)) = read_file_field(&mut field, MAX_TABLE_BYTES).await
                else {
                    return Err(crate::web::ui::bad_form(&req, Some(&session)));
                };
                if !name.is_empty() {
                    upload.file = Some((name, content));
                }
            }
            _ => while field.next().await.is_some() {},
        }
    }
    crate::web::ui::check_multipart_csrf(&req, &session, upload.csrf.as_deref())?;
    let refused = |file: Option<&str>, problem: String| {
        let outcome = Outcome {
            file,
            problem: Some(problem),
            ..Outcome::default()
        };
        page(&api, &session, StatusCode::UNPROCESSABLE_ENTITY, outcome)
    };
    let (name, content) = match (upload.file, upload.carried) {
        (Some((name, Some(content))), _) => (name, content),
        (Some((name, None)), _) => {
            let message = format!(
                "Die Datei ist größer als {} MB.",
                MAX_TABLE_BYTES / (1024 * 1024)
            );
            return Ok(refused(Some(&name), message));
        }
        (None, Some(carried)) => match STANDARD.decode(carried.trim()) {
            Ok(content) if content.len() <= MAX_TABLE_BYTES => {
                ("geprüfte Tabelle".to_string(), content)
            }
            _ => {
                let message = "Die geprüfte Tabelle kam nicht vollständig an. Bitte wählen Sie \
                               die Datei noch einmal aus."
                    .to_string();
                return Ok(refused(None, message));
            }
        },
        (None, None) => {
            let message = "Bitte wählen Sie eine Tabelle (CSV-Datei) aus.".to_string();
            return Ok(refused(None, message));
        }
    };
    let by = administrator(&session).email;
    let apply = upload.apply;
    let bytes = content.clone();
    let result = db
        .run(move |conn| {
            let at = chrono::Utc::now().naive_utc();
            Ok(organisation_table::import(conn, &bytes, &by, at, apply))
        })
        .await;
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(error) => {
            return Ok(super::failure(
                &api,
                &session,
                crate::service::ServiceError::Db(error),
            ));
        }
    };
    Ok(match outcome {
        Ok(report) if apply => {
            tracing::info!(
                registered = report.registered.len(),
                updated = report.updated.len(),
                "organisations taken over from a table"
            );
            see_other(&format!(
                "/admin/organisationen?hinweis=tabelle&neu={}&geaendert={}",
                report.registered.len(),
                report.updated.len()
            ))
        }
        Ok(report) => {
            let outcome = Outcome {
                file: Some(&name),
                checked: Some((report, STANDARD.encode(&content))),
                ..Outcome::default()
            };
            page(&api, &session, StatusCode::OK, outcome)
        }
        Err(ImportError::Unreadable(problem)) => refused(Some(&name), problem),
        Err(ImportError::Rows(errors)) => {
            let outcome = Outcome {
                file: Some(&name),
                errors: errors
                    .into_iter()
                    .map(|e| (e.line, e.column, e.message))
                    .collect(),
                ..Outcome::default()
            };
            page(&api, &session, StatusCode::UNPROCESSABLE_ENTITY, outcome)
        }
        Err(ImportError::Service(error)) => super::failure(&api, &session, error),
    })
}

/// `GET /admin/organisationen.csv?q=&art=`: the organisations the list shows, as a table the
/// form above takes back.
pub async fn download(
    req: HttpRequest,
    session: UiSession,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    if let Some(refused) = refusal(&api, &session, Permission::ManageOrganisations) {
        return refused;
    }
    let (q, _, kind) = super::organisations::list_filter(req.query_string());
    let written = db
        .run(move |conn| {
            crate::service::organisations::list(conn, kind, Some(&q))
                .and_then(|views| organisation_table::export(&views))
                .map_err(|e| crate::db::DbError::Blocking(e.to_string()))
        })
        .await;
    match written {
        Ok(bytes) => {
            let today = crate::service::clock::now().today.format("%Y-%m-%d");
            HttpResponse::Ok()
                .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
                .insert_header((
                    CONTENT_DISPOSITION,
                    format!("attachment; filename=\"organisationen-{today}.csv\""),
                ))
                .body(bytes)
        }
        Err(error) => super::failure(&api, &session, crate::service::ServiceError::Db(error)),
    }
}
