//! The OpenAPI 3 document of the JSON API, generated from the handlers' annotations.
//!
//! Served at [`PATH`] without authentication. Every operation but the token endpoint requires the
//! bearer token; that requirement and the scheme are added here, not per handler.

use std::sync::LazyLock;

use actix_web::HttpResponse;
use actix_web::http::header::ContentType;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::auth::login;
use crate::web::api::{
    absence, admin_events, assignments, beteiligung, calendar, case_file, cases, documents,
    follow_ups, jobs, login_limits, organisations, outbox, retention, time_windows, users, view,
    workflows,
};
use crate::web::problem::Problem;

/// Where the document is served.
pub const PATH: &str = "/api/openapi.json";

/// Name of the security scheme in the document.
const BEARER: &str = "bearer";

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "vorgang API",
        description = "JSON-API von vorgang: Verfahren (Workflows), Vorgänge, ihr Journal, ihre \
                       Dokumente, die Organisationen und der Postausgang. Außer der Anmeldung \
                       verlangt jeder Aufruf `Authorization: Bearer TOKEN`; Fehler kommen als \
                       `application/problem+json` (RFC 9457) mit deutscher Beschreibung.",
    ),
    paths(
        login::issue_token,
        workflows::list,
        workflows::deploy,
        workflows::show,
        workflows::bpmn,
        workflows::draft_from_bpmn,
        workflows::migrate_all,
        cases::list,
        cases::create,
        cases::show,
        cases::change_data,
        cases::act,
        cases::withdraw,
        cases::relocation_targets,
        cases::relocate,
        cases::receive_message,
        cases::correlate_message,
        cases::migrate,
        cases::journal,
        cases::related,
        cases::add_note,
        case_file::export,
        assignments::show,
        assignments::set,
        follow_ups::mine,
        follow_ups::list,
        follow_ups::set,
        follow_ups::close,
        documents::list,
        documents::upload,
        documents::download,
        beteiligung::matrix,
        beteiligung::resend,
        beteiligung::record_answer,
        beteiligung::extend_deadline,
        beteiligung::withdraw,
        beteiligung::refuse_extension_request,
        beteiligung::refuse_responsibility_notice,
        beteiligung::add_participant,
        beteiligung::show,
        beteiligung::answer,
        beteiligung::request_extension,
        beteiligung::report_not_responsible,
        organisations::list,
        organisations::show,
        organisations::register,
        organisations::replace_addresses,
        organisations::import,
        time_windows::list,
        time_windows::add,
        time_windows::remove,
        outbox::list,
        outbox::retry,
        jobs::list,
        retention::overview,
        retention::dispose,
        admin_events::list,
        users::me,
        users::list,
        users::show,
        users::create,
        users::set_roles,
        users::set_active,
        users::reset_password,
        users::send_access_link,
        users::revoke_tokens,
        login_limits::list,
        login_limits::lift,
        crate::auth::login::revoke_own_tokens,
        calendar::issue,
        calendar::list,
        calendar::revoke,
        absence::show,
        absence::set,
        absence::end,
    ),
    components(schemas(
        Problem,
        login::Credentials,
        login::IssuedToken,
        cases::CreateCase,
        cases::ChangeData,
        cases::TakeAction,
        cases::Withdraw,
        cases::Relocate,
        cases::RelocationTargets,
        crate::service::case_relocation::TargetOption,
        cases::ReceiveMessage,
        cases::CorrelateMessage,
        cases::Migrate,
        crate::service::case_links::CaseLinks,
        crate::service::case_links::LinkedCase,
        workflows::DeployReport,
        workflows::BpmnDraft,
        workflows::WarningView,
        workflows::StrandedStepView,
        workflows::MigrateAll,
        workflows::MigrationReport,
        workflows::RefusedMigration,
        workflows::UnmatchedStepView,
        workflows::StepCandidate,
        cases::AddNote,
        assignments::AssigneeView,
        assignments::SetAssignee,
        crate::service::assignments::Assignment,
        crate::service::assignments::Candidate,
        follow_ups::SetFollowUp,
        crate::service::follow_ups::OpenFollowUp,
        crate::service::follow_ups::DueFollowUp,
        view::CaseView,
        view::ActiveStepView,
        view::ActionView,
        view::ApplicantView,
        CaseList,
        WorkflowSummary,
        UploadForm,
        beteiligung::AnswerBody,
        beteiligung::RecordedAnswerBody,
        crate::service::beteiligung::MatrixRow,
        crate::service::beteiligung::RequestView,
        crate::service::beteiligung::NoticeView,
        crate::service::partner::RequestedView,
        crate::service::partner::ReportedView,
        crate::service::partner::PartnerPage,
        crate::service::partner::SummaryLine,
        crate::service::partner::PartnerDocument,
        crate::service::partner::AnswerVersionView,
        crate::service::partner::FieldError,
        crate::service::organisations::OrganisationView,
        crate::service::organisations::ContactView,
        crate::service::organisations::ContactInput,
        crate::service::organisations::RegisterOrganisation,
        crate::service::organisations::ReplaceAddresses,
        crate::service::organisation_table::ImportReport,
        crate::service::time_windows::WindowView,
        crate::service::time_windows::PeriodView,
        crate::service::time_windows::NewPeriod,
        outbox::OutboxList,
        outbox::OutboxItem,
        jobs::JobsOverview,
        jobs::JobView,
        jobs::JobRunView,
        retention::RetentionOverview,
        retention::Dispose,
        crate::service::retention::DueCase,
        crate::service::retention::DisposedCase,
        crate::service::retention::Decision,
        admin_events::AdminEventList,
        admin_events::AdminEventItem,
        users::UserItem,
        users::NewUserBody,
        users::CreatedUserItem,
        users::AccessLinkSent,
        users::RolesBody,
        users::ActiveBody,
        login_limits::LimitList,
        login_limits::LimitItem,
        calendar::NewFeed,
        calendar::FeedView,
        calendar::IssuedFeedView,
        absence::AbsenceInput,
        absence::AbsenceView,
        absence::DeputyView,
    )),
    modifiers(&Security),
    tags(
        (name = "Anmeldung", description = "Zugangstoken für Mitarbeitende"),
        (name = "Verfahren", description = "Workflow-Definitionen"),
        (name = "Vorgänge", description = "Vorgänge anlegen, bearbeiten und verfolgen"),
        (name = "Dokumente", description = "Dokumente zu einem Vorgang"),
        (name = "Beteiligung", description = "Beteiligung von Partnerstellen per E-Mail und persönlichem Link"),
        (name = "Organisationen", description = "Partnerstellen und andere Organisationen mit den Adressen, an die Beteiligungen gehen"),
        (name = "Zeiträume", description = "Zeiträume wie der jährliche Antragszeitraum, an die Aktionen gebunden sind; eintragen nur Administratoren"),
        (name = "Postausgang", description = "Versand der Mails (nur Administratoren)"),
        (name = "Aufgaben", description = "Regelmäßige Aufgaben und ihre Läufe (nur Administratoren)"),
        (name = "Aussonderung", description = "Löschen beendeter Vorgänge nach Ablauf der Aufbewahrungsfrist und Entscheidung des Archivs (nur Administratoren)"),
        (name = "Benutzer", description = "Konten der Mitarbeitenden: anlegen, Rollen ändern, deaktivieren (nur Administratoren)"),
        (name = "Verwaltungsprotokoll", description = "Wer Benutzer, Rollen, Organisationen, Zeiträume und Aussonderungen geändert hat (nur Administratoren)"),
        (name = "Kalender", description = "Persönliche Kalenderadressen (iCalendar) für die Fristen"),
    )
)]
pub struct ApiDoc;

/// Adds the bearer scheme, the version, and the requirement to every operation but the login.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.info.version = env!("CARGO_PKG_VERSION").to_string();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                BEARER,
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .description(Some(
                            "Zugangstoken von `POST /api/v1/auth/token` (JWT, HS256).",
                        ))
                        .build(),
                ),
            );
        for (path, item) in openapi.paths.paths.iter_mut() {
            // The partner's link (its token is the credential) needs no bearer, nor does the
            // login (POST on the token path; DELETE there revokes the caller's tokens).
            if path.starts_with("/api/v1/beteiligung/") {
                continue;
            }
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ]
            .into_iter()
            .flatten()
            {
                operation.security =
                    Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
            }
            if path == login::TOKEN_PATH
                && let Some(operation) = item.post.as_mut()
            {
                operation.security = None;
            }
        }
    }
}

/// Answer of `GET /api/v1/cases` (documentation only).
#[derive(Serialize, ToSchema)]
pub struct CaseList {
    pub items: Vec<view::CaseView>,
    /// Anzahl aller Treffer.
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// One workflow in `GET /api/v1/workflows` (documentation only).
#[derive(Serialize, ToSchema)]
pub struct WorkflowSummary {
    pub key: String,
    pub version: i32,
    pub title: String,
}

/// Multipart body of a document upload (documentation only).
#[derive(Serialize, ToSchema)]
pub struct UploadForm {
    /// Die Datei.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// Für die Beteiligten sichtbar: `true`, `1` oder `ja`; `false`, `0`, `nein` oder leer
    /// (Standard): nur für die Stellen, die den Vorgang lesen. Jeder andere Wert wird mit 400
    /// abgelehnt.
    #[schema(value_type = Option<String>, pattern = "^(true|false|1|0|ja|nein)?$")]
    pub partner_visible: Option<bool>,
    /// Nur für die eigene Stelle sichtbar (und für Administratoren): `true`, `1` oder `ja`;
    /// andere Stellen, die den Vorgang lesen, sehen das Dokument nicht und im Journal nur einen
    /// Platzhalter. Nicht zusammen mit `partner_visible`.
    #[schema(value_type = Option<String>, pattern = "^(true|false|1|0|ja|nein)?$")]
    pub internal: Option<bool>,
}

static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_json()
        .expect("the OpenAPI document serialises")
});

/// `GET /api/openapi.json`.
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(DOCUMENT.as_str())
}
