//! The partner's answer page `/beteiligung/{token}` (HTML, no account, the link is the
//! credential) and its documents; the same for programs under `/api/v1/beteiligung/{token}`.
//!
//! Every refused link gets a German page (403 invalid, 410 expired or replaced) and records
//! nothing. Pages carry a strict Content-Security-Policy and `Referrer-Policy: no-referrer`, so
//! the token in the address never leaves through a link.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{Either, HttpResponse, HttpResponseBuilder, web};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{ApiState, blocking};
use super::problem::Problem;
use crate::db::Database;
use crate::documents::{Declared, DocumentError, StoredBlob};
use crate::engine::EngineError;
use crate::service::partner::{self, FieldError, PartnerAnswer, PartnerPage};
use crate::service::partner_link::{self, LinkError, ResolveError};
use crate::service::{ServiceError, extension_request, responsibility_notice};

/// The Content-Security-Policy of HTML pages: no script at all, styles from here only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Registers the partner pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/beteiligung/{token}")
            .app_data(form_config())
            .route(web::get().to(show))
            .route(web::post().to(submit)),
    )
    .service(
        web::resource("/beteiligung/{token}/fristverlaengerung")
            .app_data(form_config())
            .route(web::post().to(request_extension)),
    )
    .service(
        web::resource("/beteiligung/{token}/nicht-zustaendig")
            .app_data(form_config())
            .route(web::post().to(report_not_responsible)),
    )
    .service(web::resource("/beteiligung/{token}/dokumente/{id}").route(web::get().to(download)));
}

/// The partner forms' size limit and their refusal: a form that does not parse (a field sent
/// twice, a value of the wrong kind, too large) is answered with a German page like every other
/// refusal, not with the framework's English text, and nothing is stored.
fn form_config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(256 * 1024)
        .error_handler(|error, req| {
            tracing::info!(%error, "partner form does not parse");
            let status = actix_web::ResponseError::status_code(&error);
            let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                "Das Formular ist zu groß. Es wurde nichts gespeichert."
            } else {
                "Das Formular konnte nicht gelesen werden. Es wurde nichts gespeichert. Bitte \
                 laden Sie die Seite neu und versuchen Sie es noch einmal."
            };
            let response = match req.app_data::<web::Data<ApiState>>() {
                Some(api) => error_page(api, status, "Ungültiges Formular", message),
                None => HttpResponse::build(status).finish(),
            };
            actix_web::error::InternalError::from_response(error, response).into()
        })
}

/// Adds the security headers every HTML page carries.
pub fn secure(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::HeaderName::from_static("x-robots-tag"),
            HeaderValue::from_static("noindex"),
        ));
    builder
}

fn render(api: &ApiState, status: StatusCode, page: &str, context: &Value) -> HttpResponse {
    match api.outgoing.templates.render_page(page, context) {
        Ok(body) => secure(HttpResponse::build(status)).body(body),
        Err(error) => {
            tracing::error!(%error, page, "page template failed");
            secure(HttpResponse::InternalServerError()).body(
                "<!DOCTYPE html><html lang=\"de\"><title>Fehler</title><h1>Interner Fehler</h1>\
                 <p>Die Seite kann gerade nicht angezeigt werden.</p></html>",
            )
        }
    }
}

/// Status and German page of a refused link.
pub fn link_status(error: &LinkError) -> (StatusCode, &'static str) {
    match error {
        LinkError::Invalid => (StatusCode::FORBIDDEN, "Link ungültig"),
        LinkError::Expired => (StatusCode::GONE, "Link abgelaufen"),
        LinkError::Revoked => (StatusCode::GONE, "Link ersetzt"),
        LinkError::Withdrawn => (StatusCode::GONE, "Beteiligung zurückgenommen"),
    }
}

fn error_page(api: &ApiState, status: StatusCode, title: &str, message: &str) -> HttpResponse {
    render(
        api,
        status,
        "fehler",
        &json!({
            "titel": title,
            "meldung": message,
            "hinweis": "Wenn Sie Fragen haben, wenden Sie sich bitte an die Stelle, die Sie um \
                        Ihre Stellungnahme gebeten hat.",
        }),
    )
}

fn internal_page(api: &ApiState) -> HttpResponse {
    error_page(
        api,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Interner Fehler",
        "Die Seite kann gerade nicht angezeigt werden. Bitte versuchen Sie es später erneut; es wurde nichts gespeichert.",
    )
}

/// Resolves a link token to its invitation.
pub(crate) async fn resolve(
    db: &Database,
    api: &web::Data<ApiState>,
    token: String,
) -> Result<i64, Result<LinkError, Problem>> {
    let state = api.clone();
    let db = db.clone();
    let outcome = web::block(move || {
        let mut conn = db.get().map_err(ServiceError::Db)?;
        Ok::<_, ServiceError>(partner_link::resolve(
            &mut conn,
            &state.outgoing.signer,
            &token,
            state.outgoing.link_grace,
            chrono::Utc::now().naive_utc(),
        ))
    })
    .await;
    match outcome {
        Ok(Ok(Ok(access))) => Ok(access.invitation),
        Ok(Ok(Err(ResolveError::Link(error)))) => Err(Ok(error)),
        Ok(Ok(Err(ResolveError::Service(error)))) | Ok(Err(error)) => {
            Err(Err(super::api::problem(error)))
        }
        Err(error) => Err(Err(super::api::problem(ServiceError::Db(
            crate::db::DbError::Blocking(error.to_string()),
        )))),
    }
}

/// The invitation a link names, or the German page that refuses the link.
async fn invitation_or_page(
    db: &Database,
    api: &web::Data<ApiState>,
    token: String,
) -> Result<i64, HttpResponse> {
    match resolve(db, api, token).await {
        Ok(invitation) => Ok(invitation),
        Err(Ok(error)) => {
            let (status, title) = link_status(&error);
            Err(error_page(api, status, title, &error.to_string()))
        }
        Err(Err(_)) => Err(internal_page(api)),
    }
}

pub(crate) async fn load_page(
    db: &Database,
    api: &web::Data<ApiState>,
    invitation: i64,
) -> Result<PartnerPage, Problem> {
    let state = api.clone();
    blocking(db, move |conn| {
        partner::page(
            conn,
            &state.case_context(),
            invitation,
            &crate::service::clock::now(),
        )
    })
    .await
}

fn page_context(
    token: &str,
    page: &PartnerPage,
    input: Option<&FormInput>,
    errors: &[FieldError],
) -> Value {
    let mut context = json!({
        "titel": format!("Beteiligung {}", page.aktenzeichen),
        "basis": format!("/beteiligung/{token}"),
        "seite": page,
        "antragsteller_satzanfang": crate::designation::in_sentence(&page.antragsteller).subject,
        "voten": partner::votum_options(input.and_then(|i| i.votum.as_deref())),
        "eingabe": {
            "stellungnahme": input.map(|i| i.stellungnahme.as_str()).unwrap_or_default(),
            "name": input.map(|i| i.name.as_str()).unwrap_or_default(),
            "funktion": input.map(|i| i.funktion.as_str()).unwrap_or_default(),
        },
        "fehler": errors.iter().map(|e| json!({
            "feld": e.pointer.trim_start_matches('/'),
            "message": e.message,
        })).collect::<Vec<_>>(),
    });
    let answer_fields = ["votum", "stellungnahme", "name", "funktion", "anhang"];
    field_messages(&mut context, "fehler_", &answer_fields, errors);
    // The partner's requests to the office: empty until one is sent (see `partner_request`).
    for form in [EXTENSION_FORM, NOTICE_FORM] {
        form.reset(&mut context);
    }
    context
}

/// One of the partner's requests to the office beside its answer, as the page shows its form:
/// `{key}_gesendet` once sent, `{key}_abgelehnt` with why it is not taken now,
/// `{key}_eingabe` and `{key}_fehler` as typed and refused, `{prefix}{field}` at each field.
#[derive(Clone, Copy)]
struct RequestForm {
    key: &'static str,
    prefix: &'static str,
    fields: &'static [&'static str],
}

/// The request for more time.
const EXTENSION_FORM: RequestForm = RequestForm {
    key: "verlaengerung",
    prefix: "vfehler_",
    fields: &["frist", "grund", "name"],
};

/// The notice that the partner is not competent.
const NOTICE_FORM: RequestForm = RequestForm {
    key: "zustaendigkeit",
    prefix: "zfehler_",
    fields: &["grund", "zustaendig", "name"],
};

impl RequestForm {
    fn reset(self, context: &mut Value) {
        let empty: serde_json::Map<String, Value> = self
            .fields
            .iter()
            .map(|f| (f.to_string(), json!("")))
            .collect();
        self.fill(context, None, Value::Object(empty), &[]);
    }

    /// The form as not sent: `refused` says why it was not taken, `typed` and `errors` are shown
    /// at its fields. A form that was sent is `reset` and marked `{key}_gesendet`.
    fn fill(
        self,
        context: &mut Value,
        refused: Option<String>,
        typed: Value,
        errors: &[FieldError],
    ) {
        let key = self.key;
        context[format!("{key}_gesendet")] = json!(false);
        context[format!("{key}_abgelehnt")] = json!(refused);
        context[format!("{key}_eingabe")] = typed;
        context[format!("{key}_fehler")] = json!(
            errors
                .iter()
                .map(|e| json!({ "feld": e.pointer.trim_start_matches('/'), "message": e.message }))
                .collect::<Vec<_>>()
        );
        field_messages(context, self.prefix, self.fields, errors);
    }
}

/// Sets `{prefix}{field}` to the message of the error at `/{field}`, or to null, for each of
/// `fields`: what the page's template shows at each field.
fn field_messages(context: &mut Value, prefix: &str, fields: &[&str], errors: &[FieldError]) {
    for field in fields {
        let message = errors
            .iter()
            .find(|e| e.pointer.strip_prefix('/') == Some(field))
            .map(|e| e.message.clone());
        context[format!("{prefix}{field}")] = json!(message);
    }
}

async fn show(
    path: web::Path<String>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let token = path.into_inner();
    let invitation = match invitation_or_page(&db, &api, token.clone()).await {
        Ok(invitation) => invitation,
        Err(page) => return page,
    };
    match load_page(&db, &api, invitation).await {
        Ok(page) => render(
            &api,
            StatusCode::OK,
            "beteiligung",
            &page_context(&token, &page, None, &[]),
        ),
        Err(_) => internal_page(&api),
    }
}

/// The submitted form fields, as typed (kept to show them again next to errors).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct FormInput {
    votum: Option<String>,
    #[serde(default)]
    stellungnahme: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    funktion: String,
}

/// Upper bound of one text field of the form.
const TEXT_FIELD_LIMIT: usize = 128 * 1024;

async fn read_multipart(
    mut form: Multipart,
    api: &ApiState,
) -> Result<(FormInput, Option<(Vec<u8>, Option<String>, Option<String>)>), FieldError> {
    let mut input = FormInput::default();
    let mut file = None;
    let broken = |e: String| FieldError {
        pointer: "/anhang".into(),
        message: format!("Das Formular konnte nicht gelesen werden: {e}"),
    };
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| broken(e.to_string()))?;
        let name = field.name().unwrap_or_default().to_string();
        if name == "anhang" {
            let filename = field
                .content_disposition()
                .and_then(|d| d.get_filename())
                .map(str::to_string);
            let content_type = field.content_type().map(|m| m.essence_str().to_string());
            let mut buffer = api.documents.upload_buffer();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|e| broken(e.to_string()))?;
                buffer.push(&chunk).map_err(|e| FieldError {
                    pointer: "/anhang".into(),
                    message: e.to_string(),
                })?;
            }
            let bytes = buffer.into_bytes();
            // An empty file input (nothing chosen) sends an empty part without a name.
            if !bytes.is_empty() || filename.as_deref().is_some_and(|f| !f.is_empty()) {
                file = Some((bytes, filename, content_type));
            }
            continue;
        }
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| broken(e.to_string()))?;
            if value.len() + chunk.len() > TEXT_FIELD_LIMIT {
                return Err(FieldError {
                    pointer: format!("/{name}"),
                    message: "Die Eingabe ist zu lang.".into(),
                });
            }
            value.extend_from_slice(&chunk);
        }
        let text = String::from_utf8_lossy(&value).into_owned();
        match name.as_str() {
            "votum" => input.votum = Some(text),
            "stellungnahme" => input.stellungnahme = text,
            "name" => input.name = text,
            "funktion" => input.funktion = text,
            _ => {}
        }
    }
    Ok((input, file))
}

async fn submit(
    path: web::Path<String>,
    body: Either<web::Form<FormInput>, Multipart>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let token = path.into_inner();
    let invitation = match invitation_or_page(&db, &api, token.clone()).await {
        Ok(invitation) => invitation,
        Err(page) => return page,
    };
    let (input, file, mut errors) = match body {
        Either::Left(form) => (form.into_inner(), None, Vec::new()),
        Either::Right(multipart) => match read_multipart(multipart, &api).await {
            Ok((input, file)) => (input, file, Vec::new()),
            Err(error) => (FormInput::default(), None, vec![error]),
        },
    };
    let checked = partner::check_answer(
        input.votum.as_deref(),
        &input.stellungnahme,
        &input.name,
        &input.funktion,
    );
    let answer = match checked {
        Ok(answer) => Some(answer),
        Err(mut field_errors) => {
            errors.append(&mut field_errors);
            None
        }
    };
    let mut blob: Option<(StoredBlob, String)> = None;
    if errors.is_empty()
        && let Some((bytes, filename, content_type)) = &file
    {
        let declared = Declared {
            content_type: content_type.as_deref(),
            filename: filename.as_deref(),
        };
        match api.documents.store_upload(bytes, &declared) {
            Ok(stored) => {
                blob = Some((stored, filename.clone().unwrap_or_else(|| "anhang".into())));
            }
            Err(DocumentError::Io(error)) => {
                tracing::error!(%error, "document store failed");
                return internal_page(&api);
            }
            Err(error) => errors.push(FieldError {
                pointer: "/anhang".into(),
                message: error.to_string(),
            }),
        }
    }
    let answer = match (answer, errors.is_empty()) {
        (Some(answer), true) => answer,
        _ => {
            return match load_page(&db, &api, invitation).await {
                Ok(page) => render(
                    &api,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "beteiligung",
                    &page_context(&token, &page, Some(&input), &errors),
                ),
                Err(_) => internal_page(&api),
            };
        }
    };
    let kept = blob.as_ref().map(|(stored, _)| stored.sha256.clone());
    match record(&db, &api, invitation, answer, blob).await {
        Ok(page) => {
            if let (Some(sha256), Some((bytes, ..))) = (kept, &file) {
                api.documents.keep(&sha256, bytes);
            }
            let verspaetet = page.antworten.last().is_some_and(|a| a.late);
            render(
                &api,
                StatusCode::OK,
                "beteiligung_danke",
                &json!({
                    "titel": "Stellungnahme eingegangen",
                    "basis": format!("/beteiligung/{token}"),
                    "seite": page,
                    "verspaetet": verspaetet,
                }),
            )
        }
        Err(RecordError::Closed) => match load_page(&db, &api, invitation).await {
            Ok(page) => render(
                &api,
                StatusCode::CONFLICT,
                "beteiligung",
                &page_context(&token, &page, Some(&input), &[]),
            ),
            Err(_) => internal_page(&api),
        },
        Err(RecordError::Other(_)) => internal_page(&api),
    }
}

/// Why recording an answer failed: the consultation no longer takes it, or something broke.
pub(crate) enum RecordError {
    Closed,
    Other(Problem),
}

pub(crate) async fn record(
    db: &Database,
    api: &web::Data<ApiState>,
    invitation: i64,
    answer: PartnerAnswer,
    blob: Option<(StoredBlob, String)>,
) -> Result<PartnerPage, RecordError> {
    let state = api.clone();
    let outcome = blocking(db, move |conn| {
        let clock = crate::service::clock::now();
        let ctx = state.case_context();
        match partner::answer(conn, &ctx, invitation, answer, blob, &clock) {
            Ok(()) => partner::page(conn, &ctx, invitation, &clock).map(Ok),
            Err(ServiceError::Engine(
                EngineError::DeadlinePassed(_)
                | EngineError::InvitationClosed(_)
                | EngineError::NotRunning,
            )) => Ok(Err(())),
            Err(other) => Err(other),
        }
    })
    .await;
    match outcome {
        Ok(Ok(page)) => Ok(page),
        Ok(Err(())) => Err(RecordError::Closed),
        Err(problem) => Err(RecordError::Other(problem)),
    }
}

/// The fields of the request for more time, as typed (kept to show them again next to errors).
#[derive(Debug, Default, Deserialize, serde::Serialize)]
pub(crate) struct RequestInput {
    pub frist: Option<String>,
    pub grund: Option<String>,
    pub name: Option<String>,
}

/// The fields of the notice that the partner is not competent, as typed.
#[derive(Debug, Default, Deserialize, serde::Serialize)]
pub(crate) struct NoticeInput {
    pub grund: Option<String>,
    pub zustaendig: Option<String>,
    pub name: Option<String>,
}

/// Records one of the partner's requests to the office with `command`; the page, or what
/// refused it (a field's error, or why no such request is taken now).
pub(crate) async fn record_with<F>(
    db: &Database,
    api: &web::Data<ApiState>,
    invitation: i64,
    command: F,
) -> Result<Result<PartnerPage, ServiceError>, Problem>
where
    F: FnOnce(
            &mut crate::db::DbConnection,
            &crate::service::cases::CaseContext<'_>,
            &crate::engine::Clock,
        ) -> Result<(), ServiceError>
        + Send
        + 'static,
{
    let state = api.clone();
    blocking(db, move |conn| {
        let clock = crate::service::clock::now();
        let ctx = state.case_context();
        match command(conn, &ctx, &clock) {
            Ok(()) => partner::page(conn, &ctx, invitation, &clock).map(Ok),
            Err(refused @ (ServiceError::InvalidInput(_) | ServiceError::Unprocessable(_))) => {
                Ok(Err(refused))
            }
            Err(other) => Err(other),
        }
    })
    .await
}

/// Records the partner's request for more time (see [`record_with`]).
pub(crate) async fn record_request(
    db: &Database,
    api: &web::Data<ApiState>,
    invitation: i64,
    input: RequestInput,
) -> Result<Result<PartnerPage, ServiceError>, Problem> {
    record_with(db, api, invitation, move |conn, ctx, clock| {
        let fields = (
            input.frist.as_deref(),
            input.grund.as_deref(),
            input.name.as_deref(),
        );
        extension_request::request(conn, ctx, invitation, fields, clock).map(drop)
    })
    .await
}

/// Records the partner's notice that it is not competent (see [`record_with`]).
pub(crate) async fn record_notice(
    db: &Database,
    api: &web::Data<ApiState>,
    invitation: i64,
    input: NoticeInput,
) -> Result<Result<PartnerPage, ServiceError>, Problem> {
    record_with(db, api, invitation, move |conn, ctx, clock| {
        let fields = (
            input.grund.as_deref(),
            input.zustaendig.as_deref(),
            input.name.as_deref(),
        );
        responsibility_notice::report(conn, ctx, invitation, fields, clock).map(drop)
    })
    .await
}

/// `POST /beteiligung/{token}/fristverlaengerung`: the partner asks for more time; the page
/// again, saying the request went to the office, or with the request's errors at its fields.
async fn request_extension(
    path: web::Path<String>,
    form: web::Form<RequestInput>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let token = path.into_inner();
    let invitation = match invitation_or_page(&db, &api, token.clone()).await {
        Ok(invitation) => invitation,
        Err(page) => return page,
    };
    let input = form.into_inner();
    let typed = typed_fields(&input);
    let outcome = record_request(&db, &api, invitation, input).await;
    partner_request(
        &db,
        &api,
        (&token, invitation),
        EXTENSION_FORM,
        typed,
        outcome,
    )
    .await
}

/// `POST /beteiligung/{token}/nicht-zustaendig`: the partner tells the office it is not
/// competent; the page again, saying the notice went to the office, or with its errors.
async fn report_not_responsible(
    path: web::Path<String>,
    form: web::Form<NoticeInput>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let token = path.into_inner();
    let invitation = match invitation_or_page(&db, &api, token.clone()).await {
        Ok(invitation) => invitation,
        Err(page) => return page,
    };
    let input = form.into_inner();
    let typed = typed_fields(&input);
    let outcome = record_notice(&db, &api, invitation, input).await;
    partner_request(&db, &api, (&token, invitation), NOTICE_FORM, typed, outcome).await
}

/// The typed fields, each as a string (absent ones empty), to show them again.
fn typed_fields(input: &impl serde::Serialize) -> Value {
    let mut typed = json!(input);
    if let Some(fields) = typed.as_object_mut() {
        for value in fields.values_mut() {
            if value.is_null() {
                *value = json!("");
            }
        }
    }
    typed
}

/// The page after one of the partner's requests: saying it went to the office (200), with its
/// errors at its fields (422), or with why no such request is taken now (409).
async fn partner_request(
    db: &Database,
    api: &web::Data<ApiState>,
    (token, invitation): (&str, i64),
    form: RequestForm,
    typed: Value,
    outcome: Result<Result<PartnerPage, ServiceError>, Problem>,
) -> HttpResponse {
    let (status, errors, refused) = match outcome {
        Ok(Ok(page)) => {
            let mut context = page_context(token, &page, None, &[]);
            context[format!("{}_gesendet", form.key)] = json!(true);
            return render(api, StatusCode::OK, "beteiligung", &context);
        }
        Ok(Err(ServiceError::InvalidInput(errors))) => {
            let errors: Vec<FieldError> = errors
                .into_iter()
                .map(|e| FieldError {
                    pointer: e.pointer,
                    message: e.message,
                })
                .collect();
            (StatusCode::UNPROCESSABLE_ENTITY, errors, None)
        }
        Ok(Err(other)) => (StatusCode::CONFLICT, Vec::new(), Some(other.to_string())),
        Err(_) => return internal_page(api),
    };
    let page = match load_page(db, api, invitation).await {
        Ok(page) => page,
        Err(_) => return internal_page(api),
    };
    let mut context = page_context(token, &page, None, &[]);
    form.fill(&mut context, refused, typed, &errors);
    render(api, status, "beteiligung", &context)
}

async fn download(
    path: web::Path<(String, i64)>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let (token, id) = path.into_inner();
    let invitation = match invitation_or_page(&db, &api, token).await {
        Ok(invitation) => invitation,
        Err(page) => return page,
    };
    let found = blocking(&db, move |conn| partner::document(conn, invitation, id)).await;
    let document = match found {
        Ok(Some(document)) => document,
        Ok(None) => {
            return error_page(
                &api,
                StatusCode::NOT_FOUND,
                "Dokument nicht gefunden",
                "Dieses Dokument gibt es nicht oder es ist für Sie nicht freigegeben.",
            );
        }
        Err(_) => return internal_page(&api),
    };
    match std::fs::read(api.documents.path_of(&document.sha256).unwrap_or_default()) {
        Ok(bytes) => HttpResponse::Ok()
            .content_type(document.content_type.clone())
            .insert_header((header::CONTENT_DISPOSITION, document.content_disposition()))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(bytes),
        Err(error) => {
            tracing::error!(%error, "document blob missing");
            internal_page(&api)
        }
    }
}
