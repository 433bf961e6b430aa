//! The staff web interface: German HTML pages, rendered on the server from `templates/ui/`,
//! without any script.
//!
//! Building blocks for pages (later pages use the same):
//! - [`page`] registers a resource with the security headers of [`headers`];
//! - [`UiSession`] / [`OptionalSession`] give GET handlers the logged-in [`Session`];
//! - [`CsrfForm`] gives POST handlers the session and the form, CSRF-checked;
//! - [`layout`] is the context every template's layout needs (title, user, logout token,
//!   navigation); the partial `{{> csrf}}` writes a form's hidden token;
//! - [`render`] and [`error_page`] answer with a page.

mod account;
mod account_absence;
pub mod admin;
mod case_actions;
mod case_assignment;
mod case_documents;
mod case_extension;
mod case_file;
mod case_follow_ups;
mod case_invitation;
mod case_list;
mod case_list_csv;
mod case_message;
mod case_notes;
pub(crate) mod case_page;
mod case_participant;
mod case_recorded_answer;
mod case_refusal;
mod case_relocation;
mod case_retraction;
mod case_withdrawal;
mod cookie;
pub mod csrf;
mod demo;
pub mod form;
pub mod headers;
pub mod legal;
pub mod login;
mod new_case;
pub mod password;
mod password_reset;
pub mod session;
mod start;
mod user_agent;

use actix_web::dev::HttpServiceFactory;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::middleware::from_fn;
use actix_web::{HttpRequest, HttpResponse, Resource, web};
use serde_json::{Value, json};

pub use csrf::CsrfForm;
pub use legal::LegalTexts;
pub use session::{AllowPending, OptionalSession, Ready, Session, SessionPolicy, UiSession};

use crate::auth::session::SessionLifetimes;
use crate::db::models::Role;
use crate::web::api::ApiState;

/// What the pages share besides the API state, built once at start-up.
#[derive(Debug, Clone)]
pub struct UiState {
    /// The operator's legal texts (or the built-in placeholders).
    pub legal: LegalTexts,
    /// Cookies get `Secure` (set when `public_url` is https).
    pub secure_cookies: bool,
    /// Idle and absolute lifetime of browser sessions.
    pub sessions: SessionLifetimes,
}

impl UiState {
    /// The settings for an installation reached at `public_url`, with default session lifetimes.
    pub fn new(public_url: &url::Url, legal: LegalTexts) -> Self {
        Self {
            legal,
            secure_cookies: public_url.scheme() == "https",
            sessions: SessionLifetimes::default(),
        }
    }

    /// The same with the configured session lifetimes.
    pub fn with_sessions(mut self, sessions: SessionLifetimes) -> Self {
        self.sessions = sessions;
        self
    }
}

/// Registers the pages of the web interface.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page("/", |r| r.route(web::get().to(start::show))))
        .service(page("/demo", |r| r.route(web::post().to(demo::load))))
        .service(page("/demo/entfernen", |r| {
            r.route(web::post().to(demo::remove))
        }))
        .service(page("/vorgaenge", |r| {
            r.route(web::get().to(case_list::show))
        }))
        .service(page("/konto", |r| r.route(web::get().to(account::show))))
        .service(page("/konto/sitzungen-beenden", |r| {
            r.route(web::post().to(account::end_other_sessions))
        }))
        .service(page("/konto/token-sperren", |r| {
            r.route(web::post().to(account::revoke_tokens))
        }))
        .service(page("/konto/abwesenheit", |r| {
            r.route(web::post().to(account_absence::set))
        }))
        .service(page("/konto/abwesenheit/beenden", |r| {
            r.route(web::post().to(account_absence::end))
        }))
        .service(page("/konto/kalender", |r| {
            r.route(web::post().to(account::issue))
        }))
        .service(page("/konto/kalender/{id}/widerrufen", |r| {
            r.route(web::post().to(account::revoke))
        }))
        .service(page("/login", |r| {
            r.route(web::get().to(login::show))
                .route(web::post().to(login::submit))
        }))
        .service(page("/logout", |r| r.route(web::post().to(login::logout))))
        .service(page("/login/passwort-vergessen", |r| {
            r.route(web::get().to(password_reset::show))
                .route(web::post().to(password_reset::submit))
        }))
        .service(page("/login/passwort-vergessen/{token}", |r| {
            r.route(web::get().to(password_reset::choose_form))
                .route(web::post().to(password_reset::choose))
        }))
        .service(page("/passwort", |r| {
            r.route(web::get().to(password::show))
                .route(web::post().to(password::submit))
        }))
        .service(page("/impressum", |r| {
            r.route(web::get().to(legal::impressum))
        }))
        .service(page("/datenschutz", |r| {
            r.route(web::get().to(legal::datenschutz))
        }))
        .service(page("/barrierefreiheit", |r| {
            r.route(web::get().to(legal::barrierefreiheit))
        }))
        .service(page("/admin", |r| r.route(web::get().to(admin::overview))))
        .service(page("/admin/workflows", |r| {
            r.route(web::get().to(admin::workflows::list))
        }))
        .service(page("/admin/workflows/neu", |r| {
            r.route(web::get().to(admin::workflows::new_form))
                .route(web::post().to(admin::workflows::submit_new))
        }))
        .service(page("/admin/workflows/neu/bpmn", |r| {
            r.route(web::post().to(admin::workflow_import::import))
        }))
        .service(page("/admin/workflows/{key}", |r| {
            r.route(web::get().to(admin::workflows::show))
        }))
        .service(page("/admin/workflows/{key}/bpmn", |r| {
            r.route(web::get().to(admin::workflows::bpmn))
        }))
        .service(page("/admin/workflows/{key}/umstellen", |r| {
            r.route(web::post().to(admin::workflows::migrate))
        }))
        .service(page("/admin/workflows/{key}/bearbeiten", |r| {
            r.route(web::get().to(admin::workflows::edit))
                .route(web::post().to(admin::workflows::submit_edit))
        }))
        .service(page("/admin/zeitraeume", |r| {
            r.route(web::get().to(admin::time_windows::list))
                .route(web::post().to(admin::time_windows::add))
        }))
        .service(page("/admin/zeitraeume/{id}/entfernen", |r| {
            r.route(web::post().to(admin::time_windows::remove))
        }))
        .service(page("/admin/organisationen", |r| {
            r.route(web::get().to(admin::organisations::list))
        }))
        .service(page("/admin/organisationen.csv", |r| {
            r.route(web::get().to(admin::organisation_table::download))
        }))
        .service(page("/admin/organisationen/neu", |r| {
            r.route(web::get().to(admin::organisations::new_form))
                .route(web::post().to(admin::organisations::register))
        }))
        .service(page("/admin/organisationen/neu/tabelle", |r| {
            r.route(web::get().to(admin::organisation_table::form))
                .route(web::post().to(admin::organisation_table::submit))
        }))
        .service(page("/admin/organisationen/{key}", |r| {
            r.route(web::get().to(admin::organisations::edit))
                .route(web::post().to(admin::organisations::submit))
        }))
        .service(page("/admin/benutzer", |r| {
            r.route(web::get().to(admin::users::list))
        }))
        .service(page("/admin/benutzer/neu", |r| {
            r.route(web::get().to(admin::users::new_form))
                .route(web::post().to(admin::users::create))
        }))
        .service(page("/admin/benutzer/{id}", |r| {
            r.route(web::get().to(admin::users::edit))
        }))
        .service(page("/admin/benutzer/{id}/rollen", |r| {
            r.route(web::post().to(admin::users::set_roles))
        }))
        .service(page("/admin/benutzer/{id}/aktiv", |r| {
            r.route(web::post().to(admin::users::set_active))
        }))
        .service(page("/admin/benutzer/{id}/zugangslink", |r| {
            r.route(web::post().to(admin::users::send_access_link))
        }))
        .service(page("/admin/benutzer/{id}/passwort", |r| {
            r.route(web::post().to(admin::users::reset_password))
        }))
        .service(page("/admin/benutzer/{id}/token-sperren", |r| {
            r.route(web::post().to(admin::users::revoke_tokens))
        }))
        .service(page("/admin/benutzer/{id}/wiedervorlagen", |r| {
            r.route(web::post().to(admin::users::hand_over))
        }))
        .service(page("/admin/benutzer/{id}/anmeldesperre", |r| {
            r.route(web::post().to(admin::users::lift_login_limit))
        }))
        .service(page("/admin/anmeldesperren", |r| {
            r.route(web::get().to(admin::login_limits::list))
        }))
        .service(page("/admin/anmeldesperren/aufheben", |r| {
            r.route(web::post().to(admin::login_limits::lift))
        }))
        .service(page("/admin/postausgang", |r| {
            r.route(web::get().to(admin::outbox::list))
        }))
        .service(page("/admin/postausgang/{id}/erneut", |r| {
            r.route(web::post().to(admin::outbox::retry))
        }))
        .service(page("/admin/aufgaben", |r| {
            r.route(web::get().to(admin::jobs::show))
        }))
        .service(page("/admin/protokoll", |r| {
            r.route(web::get().to(admin::events::list))
        }))
        .service(page("/admin/aussonderung", |r| {
            r.route(web::get().to(admin::retention::list))
        }))
        .service(page(r"/admin/aussonderung/{id:\d+}", |r| {
            r.route(web::get().to(admin::retention::form))
                .route(web::post().to(admin::retention::dispose))
        }))
        .service(page(case_list_csv::PATH, |r| {
            r.route(web::get().to(case_list_csv::download))
        }))
        .service(page("/vorgaenge/neu", |r| {
            r.route(web::get().to(new_case::choose))
        }))
        .service(page("/vorgaenge/neu/{workflow}", |r| {
            r.route(web::get().to(new_case::form))
                .route(web::post().to(new_case::create))
        }))
        .service(page(r"/vorgaenge/{id:\d+}", |r| {
            r.route(web::get().to(case_page::page))
        }))
        .service(page(r"/vorgaenge/{id:\d+}/akte.zip", |r| {
            r.route(web::get().to(case_file::download))
        }))
        .service(page(r"/vorgaenge/{id:\d+}/daten", |r| {
            r.route(web::post().to(case_actions::change_data))
        }))
        .service(page(r"/vorgaenge/{id:\d+}/aktionen/{action}", |r| {
            r.route(web::post().to(case_actions::take_action))
        }))
        .service(page(r"/vorgaenge/{id:\d+}/nachrichten/{name}", |r| {
            r.route(web::get().to(case_message::form))
                .route(web::post().to(case_message::receive))
        }))
        .service(page(r"/vorgaenge/{id:\d+}/korrektur", |r| {
            r.route(web::get().to(case_relocation::form))
                .route(web::post().to(case_relocation::submit))
        }))
        .service(page(r"/vorgaenge/{id:\d+}/zurueckziehen", |r| {
            r.route(web::get().to(case_retraction::form))
                .route(web::post().to(case_retraction::submit))
        }))
        .service(page(r"/vorgaenge/{id:\d+}/zustaendigkeit", |r| {
            r.route(web::post().to(case_assignment::set))
        }))
        .service(page(r"/vorgaenge/{id:\d+}/wiedervorlagen", |r| {
            r.route(web::post().to(case_follow_ups::set))
        }))
        .service(page(
            r"/vorgaenge/{id:\d+}/wiedervorlagen/{follow_up:\d+}/erledigt",
            |r| r.route(web::post().to(case_follow_ups::close)),
        ))
        .service(page(r"/vorgaenge/{id:\d+}/vermerke", |r| {
            r.route(web::post().to(case_notes::add))
        }))
        .service(page(
            r"/vorgaenge/{id:\d+}/einladungen/{invitation:\d+}/erneut-senden",
            |r| r.route(web::post().to(case_actions::resend)),
        ))
        .service(page(
            r"/vorgaenge/{id:\d+}/einladungen/{invitation:\d+}/stellungnahme",
            |r| {
                r.route(web::get().to(case_recorded_answer::form))
                    .route(web::post().to(case_recorded_answer::submit))
            },
        ))
        .service(page(
            r"/vorgaenge/{id:\d+}/einladungen/{invitation:\d+}/frist",
            |r| {
                r.route(web::get().to(case_extension::form))
                    .route(web::post().to(case_extension::submit))
            },
        ))
        .service(page(
            r"/vorgaenge/{id:\d+}/einladungen/{invitation:\d+}/ablehnen/{art}",
            |r| {
                r.route(web::get().to(case_refusal::form))
                    .route(web::post().to(case_refusal::submit))
            },
        ))
        .service(page(
            r"/vorgaenge/{id:\d+}/einladungen/{invitation:\d+}/zuruecknehmen",
            |r| {
                r.route(web::get().to(case_withdrawal::form))
                    .route(web::post().to(case_withdrawal::submit))
            },
        ))
        .service(page(
            r"/vorgaenge/{id:\d+}/beteiligungen/{step}/stelle",
            |r| {
                r.route(web::get().to(case_participant::form))
                    .route(web::post().to(case_participant::submit))
            },
        ))
        .service(page(r"/vorgaenge/{id:\d+}/dokumente", |r| {
            r.route(web::post().to(case_documents::upload))
        }))
        .service(page(r"/vorgaenge/{id:\d+}/dokumente/{doc:\d+}", |r| {
            r.route(web::get().to(case_documents::download))
        }))
        .service(page(
            r"/vorgaenge/{id:\d+}/stellungnahmen/{invitation:\d+}",
            |r| r.route(web::get().to(case_documents::statement)),
        ));
}

/// A page's resource at `path` with its routes, wrapped in the security headers middleware:
/// register every page of the web interface through this.
pub fn page<F>(path: &str, routes: F) -> impl HttpServiceFactory + use<F>
where
    F: FnOnce(Resource) -> Resource,
{
    routes(web::resource(path)).wrap(from_fn(headers::security_headers))
}

/// The main navigation of logged-in users: (address, label, who sees it).
const NAVIGATION: &[(&str, &str, Shown)] = &[
    ("/", "Startseite", Shown::Always),
    ("/vorgaenge", "Vorgänge", Shown::Always),
    ("/vorgaenge/neu", "Neuer Vorgang", Shown::CaseCreators),
    ("/admin", "Verwaltung", Shown::Admins),
    ("/konto", "Mein Konto", Shown::Always),
];

/// Which users see a navigation entry (what they could not use is not offered).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    Always,
    /// Administrators and coordinators.
    CaseCreators,
    Admins,
}

impl Shown {
    fn to(self, session: &Session) -> bool {
        let principal = session.principal();
        match self {
            Shown::Always => true,
            Shown::CaseCreators => {
                principal.has_role(Role::Admin) || principal.has_role(Role::Koordination)
            }
            Shown::Admins => principal.has_role(Role::Admin),
        }
    }
}

/// The context the layout needs: `titel`, and `sitzung` (user, organisation, the logout form's
/// CSRF token, navigation with `current` marked) when someone is logged in, else `null`. Pages
/// add their own keys to the returned object.
pub fn layout(titel: &str, session: Option<&Session>, current: Option<&str>) -> Value {
    let sitzung = session.map(|session| {
        let navigation: Vec<Value> = if session.must_change_password() {
            Vec::new()
        } else {
            NAVIGATION
                .iter()
                .filter(|(.., shown)| shown.to(session))
                .map(|(href, label, _)| {
                    json!({ "href": href, "label": label, "aktuell": current == Some(*href) })
                })
                .collect()
        };
        json!({
            "name": session.display_name(),
            "email": session.principal().email,
            "organisation": session.organisation().designation(),
            "csrf": session.csrf_token(),
            "navigation": navigation,
        })
    });
    json!({ "titel": titel, "sitzung": sitzung })
}

/// German name of a role, as pages show it.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Admin => "Administration",
        Role::Koordination => "Koordination",
        Role::Bewilligung => "Bewilligung",
        Role::Lesen => "Lesen",
    }
}

/// Renders page `ui/{name}.hbs` with `context` as an HTML response of `status`.
pub fn render(api: &ApiState, status: StatusCode, name: &str, context: &Value) -> HttpResponse {
    match api.outgoing.templates.render_page(name, context) {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(error) => {
            tracing::error!(%error, page = name, "page template failed");
            fallback_page()
        }
    }
}

/// The page shown when even the error template fails.
fn fallback_page() -> HttpResponse {
    HttpResponse::InternalServerError()
        .content_type("text/html; charset=utf-8")
        .body(
            "<!DOCTYPE html><html lang=\"de\"><title>Fehler</title><h1>Interner Fehler</h1>\
             <p>Die Seite kann gerade nicht angezeigt werden.</p></html>",
        )
}

/// A German error page (`ui/fehler.hbs`) in the layout, for `session` when there is one.
pub fn error_page(
    api: &ApiState,
    status: StatusCode,
    session: Option<&Session>,
    titel: &str,
    meldung: &str,
    hinweis: &str,
) -> HttpResponse {
    let mut context = layout(titel, session, None);
    context["meldung"] = json!(meldung);
    context["hinweis"] = json!(hinweis);
    render(api, status, "fehler", &context)
}

/// A German error page for a request no handler took (unknown address, wrong method), with the
/// navigation of the logged-in user where there is one, and with the security headers, which
/// no page's middleware added.
pub(crate) async fn status_page(
    req: &HttpRequest,
    status: StatusCode,
    titel: &str,
    meldung: &str,
    hinweis: &str,
) -> HttpResponse {
    let mut page = match session::api_state(req) {
        Ok(api) => {
            // A session that cannot be read (database down) leaves the page without navigation.
            let session = session::load(req).await.ok().flatten();
            let mut context = layout(titel, session.as_ref(), None);
            context["meldung"] = json!(meldung);
            context["hinweis"] = json!(hinweis);
            context["zurueck"] = json!({ "href": "/", "text": "Zur Startseite" });
            render(&api, status, "fehler", &context)
        }
        Err(_) => fallback_page(),
    };
    headers::apply(page.headers_mut());
    page
}

/// `303 See Other` to a local address (after a form, and to the login).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// `value` encoded for a query string.
pub fn encode_query_value(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// An extractor's way out with a ready response.
fn respond_with(response: HttpResponse) -> actix_web::Error {
    actix_web::error::InternalError::from_response("web interface", response).into()
}

/// An extractor's redirect.
fn redirect_error(location: &str) -> actix_web::Error {
    respond_with(see_other(location))
}

/// An error page from an extractor, rendered with the request's app state.
fn page_error(
    req: &HttpRequest,
    status: StatusCode,
    session: Option<&Session>,
    titel: &str,
    meldung: &str,
) -> actix_web::Error {
    let response = match session::api_state(req) {
        Ok(api) => error_page(&api, status, session, titel, meldung, ""),
        Err(_) => fallback_page(),
    };
    respond_with(response)
}

/// 500: something on the server failed; nothing was changed.
fn internal_error(req: &HttpRequest) -> actix_web::Error {
    page_error(
        req,
        StatusCode::INTERNAL_SERVER_ERROR,
        None,
        "Interner Fehler",
        "Die Seite kann gerade nicht angezeigt werden. Bitte versuchen Sie es später erneut; \
         es wurde nichts gespeichert.",
    )
}

/// Checks the CSRF token a multipart form carried (`CsrfForm` reads only urlencoded forms): the
/// refusal page, logged with the path, when it is missing or wrong.
pub(crate) fn check_multipart_csrf(
    req: &HttpRequest,
    session: &Session,
    token: Option<&str>,
) -> Result<(), actix_web::Error> {
    if token.is_some_and(|token| session.csrf_matches(token)) {
        return Ok(());
    }
    tracing::warn!(
        path = req.path(),
        "multipart form refused: CSRF token missing or wrong"
    );
    Err(csrf_refused(req, Some(session)))
}

/// 403: a form without its valid CSRF token; nothing was changed.
fn csrf_refused(req: &HttpRequest, session: Option<&Session>) -> actix_web::Error {
    page_error(
        req,
        StatusCode::FORBIDDEN,
        session,
        "Sicherheitsprüfung fehlgeschlagen",
        "Das Formular konnte nicht sicher zugeordnet werden, etwa weil es aus einer älteren \
         Sitzung stammt. Es wurde nichts geändert. Bitte laden Sie die Seite neu und versuchen \
         Sie es noch einmal.",
    )
}

/// 400: a form that does not parse or holds a NUL character; nothing was changed.
fn bad_form(req: &HttpRequest, session: Option<&Session>) -> actix_web::Error {
    page_error(
        req,
        StatusCode::BAD_REQUEST,
        session,
        "Ungültiges Formular",
        "Das Formular konnte nicht gelesen werden. Es wurde nichts geändert. Bitte laden Sie \
         die Seite neu und versuchen Sie es noch einmal.",
    )
}
