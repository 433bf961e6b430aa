//! `/konto`: the user's own settings: the way to the password change, the live web sessions
//! (ending all others), revoking the own API tokens, the absence with its deputy (handled in
//! `account_absence`), and the personal calendar addresses (see `service::calendar`). A new
//! address is shown exactly once, on the page that answers its creation, because only its hash
//! is stored.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::UiState;
use super::start::german_time;
use super::{CsrfForm, Session, UiSession, error_page, layout, render, see_other};
use crate::auth::session as store;
use crate::db::Database;
use crate::service::{absences, calendar, clock, users};
use crate::web::api::{ApiState, blocking};

/// Confirmations after a redirect (`/konto?hinweis=…`); only these fixed texts are shown.
const NOTICES: &[(&str, &str)] = &[
    (
        "widerrufen",
        "Die Kalenderadresse wurde widerrufen. Kalenderprogramme, die sie abonniert haben, \
         erhalten keine Fristen mehr.",
    ),
    (
        "abgemeldet",
        "Alle anderen Anmeldungen wurden beendet; angemeldet sind Sie nur noch in diesem Browser.",
    ),
    (
        "abwesenheit",
        "Ihre Abwesenheit ist eingetragen. Fällige Wiedervorlagen erhält bis dahin auch Ihre \
         Vertretung.",
    ),
    (
        "abwesenheit-beendet",
        "Ihre Abwesenheit ist beendet; Ihre Wiedervorlagen erhalten wieder nur Sie.",
    ),
    (
        "token-gesperrt",
        "Alle API-Zugangstoken Ihres Kontos wurden gesperrt. Programme, die eines benutzen, \
         müssen sich neu anmelden.",
    ),
];

#[derive(Deserialize)]
struct AccountQuery {
    hinweis: Option<String>,
}

/// The creation form's field.
#[derive(Deserialize)]
pub struct IssueInput {
    #[serde(default)]
    bezeichnung: String,
}

/// The revoke button's form has no field besides the token.
#[derive(Deserialize)]
pub struct NoFields {}

/// What the page shows besides the account: a confirmation, a new address, an error, the
/// absence form as typed with its errors.
#[derive(Default)]
pub(super) struct Shown<'a> {
    pub(super) notice: Option<&'a str>,
    pub(super) new: Option<NewAddress>,
    pub(super) fehler: Option<&'a str>,
    pub(super) absence: Option<AbsenceInput>,
}

/// The absence form as typed, with its errors (form field, message).
pub(super) struct AbsenceInput {
    pub(super) until: String,
    pub(super) deputy: String,
    pub(super) errors: Vec<(String, String)>,
}

/// A freshly issued address, to be shown this once.
pub(super) struct NewAddress {
    label: String,
    url: String,
}

/// `GET /konto`.
pub async fn show(
    req: HttpRequest,
    session: UiSession,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
    ui: web::Data<UiState>,
) -> HttpResponse {
    let notice = serde_urlencoded::from_str::<AccountQuery>(req.query_string())
        .ok()
        .and_then(|query| query.hinweis)
        .and_then(|key| NOTICES.iter().find(|(k, _)| *k == key))
        .map(|(_, text)| *text);
    let shown = Shown {
        notice,
        ..Shown::default()
    };
    page(&db, &api, &ui, &session, StatusCode::OK, shown).await
}

/// `POST /konto/kalender`: issues an address and shows it once.
pub async fn issue(
    form: CsrfForm<IssueInput>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
    ui: web::Data<UiState>,
) -> HttpResponse {
    let CsrfForm { session, form, .. } = form;
    let user = session.principal().user_id;
    let label = form.bezeichnung.trim().to_string();
    let label = if label.is_empty() {
        "Kalender".to_string()
    } else {
        label
    };
    let issued = blocking(&db, move |conn| {
        calendar::issue(conn, user, &label, clock::now().now.naive_utc())
    })
    .await;
    match issued {
        Ok(issued) => {
            let url = api
                .outgoing
                .link(&format!("kalender/{}.ics", issued.secret));
            tracing::info!(user_id = %user, token = issued.token.id, "calendar address issued");
            let new = NewAddress {
                label: issued.token.label,
                url,
            };
            let shown = Shown {
                new: Some(new),
                ..Shown::default()
            };
            page(&db, &api, &ui, &session, StatusCode::OK, shown).await
        }
        Err(problem) => {
            let message = problem
                .detail
                .unwrap_or_else(|| "Die Kalenderadresse konnte nicht angelegt werden.".into());
            let shown = Shown {
                fehler: Some(&message),
                ..Shown::default()
            };
            page(
                &db,
                &api,
                &ui,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                shown,
            )
            .await
        }
    }
}

/// `POST /konto/token-sperren`: ends every API token of the own account (one that leaked, a
/// script that must stop); the web session goes on.
pub async fn revoke_tokens(
    form: CsrfForm<NoFields>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let session = form.session;
    let user = session.principal().user_id;
    let revoked = blocking(&db, move |conn| {
        users::revoke_own_tokens(conn, user, clock::now().now.naive_utc())
    })
    .await;
    match revoked {
        Ok(()) => see_other("/konto?hinweis=token-gesperrt"),
        Err(problem) => {
            tracing::error!(?problem, "revoking the own tokens failed");
            failed(
                &api,
                &session,
                "Die Zugangstoken konnten nicht gesperrt werden; sie gelten weiter.",
            )
        }
    }
}

/// The page for a change of the own account that failed on the server's side.
pub(super) fn failed(api: &ApiState, session: &Session, what: &str) -> HttpResponse {
    error_page(
        api,
        StatusCode::INTERNAL_SERVER_ERROR,
        Some(session),
        "Interner Fehler",
        &format!("{what} Bitte versuchen Sie es später erneut."),
        "",
    )
}

/// `POST /konto/sitzungen-beenden`: logs the user out everywhere but here (a browser left
/// logged in on another computer).
pub async fn end_other_sessions(
    form: CsrfForm<NoFields>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let session = form.session;
    let user = session.principal().user_id;
    let keep = session.id();
    let ended = db
        .run(move |conn| store::delete_others(conn, user, keep))
        .await;
    match ended {
        Ok(count) => {
            tracing::info!(user_id = %user, count, "other sessions ended by their user");
            see_other("/konto?hinweis=abgemeldet")
        }
        Err(error) => {
            tracing::error!(%error, "ending other sessions failed");
            failed(
                &api,
                &session,
                "Die anderen Anmeldungen konnten nicht beendet werden.",
            )
        }
    }
}

/// `POST /konto/kalender/{id}/widerrufen`.
pub async fn revoke(
    path: web::Path<i64>,
    form: CsrfForm<NoFields>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let session = form.session;
    let user = session.principal().user_id;
    let id = path.into_inner();
    let revoked = blocking(&db, move |conn| {
        calendar::revoke(conn, user, id, clock::now().now.naive_utc())
    })
    .await;
    match revoked {
        Ok(()) => {
            tracing::info!(user_id = %user, token = id, "calendar address revoked");
            see_other("/konto?hinweis=widerrufen")
        }
        Err(_) => error_page(
            &api,
            StatusCode::NOT_FOUND,
            Some(&session),
            "Nicht gefunden",
            "Diese Kalenderadresse gibt es nicht.",
            "",
        ),
    }
}

pub(super) async fn page(
    db: &Database,
    api: &ApiState,
    ui: &UiState,
    session: &Session,
    status: StatusCode,
    shown: Shown<'_>,
) -> HttpResponse {
    let Shown {
        notice,
        new,
        fehler,
        absence: typed,
    } = shown;
    let user = session.principal().user_id;
    let principal = session.principal().clone();
    let lifetimes = ui.sessions;
    let now = clock::now();
    let (at, today) = (now.now.naive_utc(), now.today);
    let loaded = blocking(db, move |conn| {
        Ok((
            calendar::list(conn, user)?,
            store::live(conn, user, at, lifetimes)?,
            absences::current(conn, user, today)?,
            absences::candidates(conn, &principal)?,
        ))
    })
    .await;
    let (tokens, sessions, absence, candidates) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => {
            tracing::error!(?error, "account page: calendar addresses failed");
            return error_page(
                api,
                StatusCode::INTERNAL_SERVER_ERROR,
                Some(session),
                "Interner Fehler",
                "Ihr Konto kann gerade nicht angezeigt werden. Bitte versuchen Sie es später \
                 erneut.",
                "",
            );
        }
    };
    let mut context = layout("Mein Konto", Some(session), Some("/konto"));
    context["ohne_passwort"] = json!(!session.has_password());
    context["hinweis"] = json!(notice);
    context["fehler"] = json!(fehler);
    context["neu"] = json!(new.map(|n| json!({ "label": n.label, "url": n.url })));
    context["adressen"] = json!(
        tokens
            .iter()
            .map(|t| json!({
                "id": t.id,
                "label": t.label,
                "angelegt": german_time(t.created_at),
                "widerrufen": t.revoked_at.map(german_time),
            }))
            .collect::<Vec<_>>()
    );
    let current = session.id();
    context["sitzungen"] = json!(
        sessions
            .iter()
            .map(|s| json!({
                "angemeldet": german_time(s.created_at),
                "zuletzt": german_time(s.last_seen_at),
                "diese": s.id == current,
                "browser": s.browser.as_deref().unwrap_or("unbekannter Browser"),
            }))
            .collect::<Vec<_>>()
    );
    context["andere_sitzungen"] = json!(sessions.iter().any(|s| s.id != current));
    super::account_absence::fill(
        &mut context,
        absence.as_ref(),
        &candidates,
        typed.as_ref(),
        today,
    );
    render(api, status, "konto", &context)
}
