//! `GET/POST /login/passwort-vergessen`: asking for a link to choose a new password, and
//! `GET/POST /login/passwort-vergessen/{token}`: choosing it ([`crate::service::password_reset`]).
//!
//! Below `/login`, so the forms carry the login form's token bound to the browser's nonce
//! cookie (no session exists yet). The request page reads the same whether or not the address
//! has an account and takes as long (at least [`ANSWER_FLOOR`]), and requests count per address
//! and per client against [`crate::auth::RESET_LIMITS`], so the page can neither tell who has an
//! account nor flood a mailbox.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::login::{form_token, form_token_matches, internal, keep_nonce};
use super::password::{FieldError, add_field_errors, new_password_errors};
use super::{UiState, layout, render, see_other};
use crate::auth::Auth;
use crate::auth::limiter::{LimitKey, Refused};
use crate::auth::login::{describe_wait, retry_after_seconds};
use crate::auth::password::MIN_PASSWORD_CHARS;
use crate::db::Database;
use crate::service::password_reset::{self, LINK_MINUTES, LinkProblem, ResetAccount};
use crate::web::api::ApiState;

/// Longest address taken (RFC 5321's limit on a path).
const MAX_EMAIL_CHARS: usize = 254;

/// How long the answer to a request takes at least: queuing a mail (a durable commit) takes
/// longer than finding no account, and the time must not tell which happened.
const ANSWER_FLOOR: std::time::Duration = std::time::Duration::from_millis(400);

/// The request form's fields.
#[derive(Deserialize, Default)]
struct RequestInput {
    #[serde(default)]
    email: String,
    csrf: Option<String>,
}

/// The new password's fields.
#[derive(Deserialize, Default)]
struct ChooseInput {
    #[serde(default)]
    neu: String,
    #[serde(default)]
    wiederholung: String,
    csrf: Option<String>,
}

/// What the request page shows.
#[derive(Default)]
struct RequestView<'a> {
    email: &'a str,
    fehler: Vec<FieldError>,
    meldung: Option<String>,
    /// The address a link was sent to, if it has an account.
    gesendet: Option<&'a str>,
}

/// `GET /login/passwort-vergessen`.
pub async fn show(
    req: HttpRequest,
    api: web::Data<ApiState>,
    ui: web::Data<UiState>,
) -> HttpResponse {
    request_page(&req, &api, &ui, StatusCode::OK, RequestView::default())
}

fn request_page(
    req: &HttpRequest,
    api: &ApiState,
    ui: &UiState,
    status: StatusCode,
    view: RequestView<'_>,
) -> HttpResponse {
    let Some((nonce, token)) = form_token(req, api) else {
        return internal(api);
    };
    let mut context = layout("Passwort vergessen", None, None);
    context["email"] = json!(view.email);
    context["login_csrf"] = json!(token);
    context["meldung"] = json!(view.meldung);
    context["gesendet"] = json!(view.gesendet);
    context["minuten"] = json!(LINK_MINUTES);
    add_field_errors(&mut context, &view.fehler, &["email"]);
    let mut response = render(api, status, "passwort_vergessen", &context);
    keep_nonce(&mut response, &nonce, ui);
    response
}

/// Why the form could not be matched to this browser.
const FORM_REFUSED: &str = "Die Anfrage konnte nicht sicher zugeordnet werden, etwa weil die \
     Seite zu lange geöffnet war oder Ihr Browser keine Cookies zulässt. Bitte versuchen Sie es \
     noch einmal.";

/// `POST /login/passwort-vergessen`: mails a link to the address's account, if it has one.
pub async fn submit(
    req: HttpRequest,
    body: web::Bytes,
    db: web::Data<Database>,
    auth: web::Data<Auth>,
    api: web::Data<ApiState>,
    ui: web::Data<UiState>,
) -> HttpResponse {
    let input: RequestInput = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let email = input.email.trim();
    let view = |fehler, meldung| RequestView {
        email,
        fehler,
        meldung,
        gesendet: None,
    };
    if !form_token_matches(&req, &api, input.csrf.as_deref()) {
        tracing::warn!("password reset request refused: form token missing or wrong");
        let view = view(Vec::new(), Some(FORM_REFUSED.to_string()));
        return request_page(&req, &api, &ui, StatusCode::FORBIDDEN, view);
    }
    let problem = if email.is_empty() {
        Some("Bitte geben Sie Ihre E-Mail-Adresse ein.")
    } else if email.chars().count() > MAX_EMAIL_CHARS || !plausible_address(email) {
        Some("Bitte geben Sie eine E-Mail-Adresse wie name@kreis-beispiel.de ein.")
    } else {
        None
    };
    if let Some(problem) = problem {
        let view = view(vec![("email", problem.to_string())], None);
        return request_page(&req, &api, &ui, StatusCode::UNPROCESSABLE_ENTITY, view);
    }
    let keys = [
        LimitKey::account(email),
        LimitKey::address(auth.proxies.client_of(&req)),
    ];
    // Every request counts, whether or not a mail goes out: the reservation is kept.
    let _counted = match auth.reset_limiter.reserve(&db, &keys).await {
        Ok(reservation) => reservation,
        Err(Refused::Database(error)) => {
            tracing::error!(%error, "password reset request could not be counted");
            return internal(&api);
        }
        Err(Refused::TooMany(wait)) => {
            let seconds = retry_after_seconds(wait);
            let message = format!(
                "Für diese Adresse oder von diesem Rechner aus wurden in kurzer Zeit zu viele \
                 Links angefordert. Bitte versuchen Sie es in {} erneut.",
                describe_wait(seconds)
            );
            let mut response = request_page(
                &req,
                &api,
                &ui,
                StatusCode::TOO_MANY_REQUESTS,
                view(Vec::new(), Some(message)),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            return response;
        }
    };
    let started = std::time::Instant::now();
    let state = api.clone().into_inner();
    let address = email.to_string();
    let now = chrono::Utc::now();
    let queued = db
        .run(move |conn| {
            password_reset::request(conn, &state.outgoing, &address, now)
                .map_err(|error| crate::db::DbError::Blocking(error.to_string()))
        })
        .await;
    if let Some(rest) = ANSWER_FLOOR.checked_sub(started.elapsed()) {
        actix_web::rt::time::sleep(rest).await;
    }
    match queued {
        Ok(sent) => {
            tracing::info!(sent, "password reset requested");
            let view = RequestView {
                gesendet: Some(email),
                ..RequestView::default()
            };
            request_page(&req, &api, &ui, StatusCode::OK, view)
        }
        Err(error) => {
            tracing::error!(%error, "password reset request failed");
            internal(&api)
        }
    }
}

/// Something before and after one `@`, no spaces: enough to catch a name typed instead of an
/// address; whether it has an account decides the rest.
fn plausible_address(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// `GET /login/passwort-vergessen/{token}`: the form for the new password.
pub async fn choose_form(
    req: HttpRequest,
    token: web::Path<String>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
    ui: web::Data<UiState>,
) -> HttpResponse {
    match opened(&db, &api, token.into_inner()).await {
        Ok(Ok(account)) => choose_page(&req, &api, &ui, StatusCode::OK, &account, &[]),
        Ok(Err(problem)) => link_problem(&api, problem),
        Err(response) => response,
    }
}

/// The account the link opens, or why it does not.
async fn opened(
    db: &Database,
    api: &web::Data<ApiState>,
    token: String,
) -> Result<Result<password_reset::ResetAccount, LinkProblem>, HttpResponse> {
    let state = api.clone().into_inner();
    db.run(move |conn| {
        password_reset::open(conn, &state.outgoing.signer, &token)
            .map_err(|error| crate::db::DbError::Blocking(error.to_string()))
    })
    .await
    .map_err(|error| {
        tracing::error!(%error, "password reset link: lookup failed");
        internal(api)
    })
}

fn choose_page(
    req: &HttpRequest,
    api: &ApiState,
    ui: &UiState,
    status: StatusCode,
    account: &ResetAccount,
    fehler: &[FieldError],
) -> HttpResponse {
    let Some((nonce, token)) = form_token(req, api) else {
        return internal(api);
    };
    // An account with the administration's one-time password chooses its first own one.
    let title = if account.first {
        "Passwort festlegen"
    } else {
        "Neues Passwort festlegen"
    };
    let mut context = layout(title, None, None);
    context["erstes"] = json!(account.first);
    context["email"] = json!(account.email);
    context["login_csrf"] = json!(token);
    context["mindestlaenge"] = json!(MIN_PASSWORD_CHARS);
    add_field_errors(&mut context, fehler, &["neu", "wiederholung"]);
    let mut response = render(api, status, "passwort_neu", &context);
    keep_nonce(&mut response, &nonce, ui);
    response
}

/// The page for a link that does not open the form: 403 for an invalid one, 410 for one that
/// expired or was used.
fn link_problem(api: &ApiState, problem: LinkProblem) -> HttpResponse {
    let status = match problem {
        LinkProblem::Invalid => StatusCode::FORBIDDEN,
        LinkProblem::Expired | LinkProblem::Used => StatusCode::GONE,
    };
    let mut context = layout("Neues Passwort festlegen", None, None);
    context["link_fehler"] = json!(problem.to_string());
    render(api, status, "passwort_neu", &context)
}

/// `POST /login/passwort-vergessen/{token}`: sets the new password and sends the browser to
/// the login page.
pub async fn choose(
    req: HttpRequest,
    token: web::Path<String>,
    body: web::Bytes,
    db: web::Data<Database>,
    auth: web::Data<Auth>,
    api: web::Data<ApiState>,
    ui: web::Data<UiState>,
) -> HttpResponse {
    let input: ChooseInput = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let account = match opened(&db, &api, token.into_inner()).await {
        Ok(Ok(account)) => account,
        Ok(Err(problem)) => return link_problem(&api, problem),
        Err(response) => return response,
    };
    if !form_token_matches(&req, &api, input.csrf.as_deref()) {
        tracing::warn!("new password refused: form token missing or wrong");
        let fehler = [("neu", FORM_REFUSED.to_string())];
        return choose_page(&req, &api, &ui, StatusCode::FORBIDDEN, &account, &fehler);
    }
    let fehler = new_password_errors(&input.neu, &input.wiederholung, false);
    if !fehler.is_empty() {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return choose_page(&req, &api, &ui, status, &account, &fehler);
    }
    let hasher = auth.passwords.clone();
    let neu = input.neu;
    let hash = match web::block(move || hasher.hash(&neu)).await {
        Ok(Ok(hash)) => hash,
        Ok(Err(error)) => {
            tracing::error!(%error, "new password: hashing failed");
            return internal(&api);
        }
        Err(error) => {
            tracing::error!(%error, "new password: blocking pool failed");
            return internal(&api);
        }
    };
    let state = api.clone().into_inner();
    let user = account.user;
    let done = if account.first {
        "/login?passwort=festgelegt"
    } else {
        "/login?passwort=neu"
    };
    let stored = db
        .run(move |conn| {
            password_reset::complete(conn, &state.outgoing, &account, &hash, chrono::Utc::now())
                .map_err(|error| crate::db::DbError::Blocking(error.to_string()))
        })
        .await;
    match stored {
        Ok(true) => {
            tracing::info!(user_id = %user, "password set through a mailed link");
            see_other(done)
        }
        // Changed meanwhile (the same link in another tab, the administration): nothing done.
        Ok(false) => link_problem(&api, LinkProblem::Used),
        Err(error) => {
            tracing::error!(%error, "new password: update failed");
            internal(&api)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::plausible_address;

    #[test]
    fn addresses_need_one_at_with_text_around_it() {
        for good in ["a@b", "anna.berg@kreis-soest.de"] {
            assert!(plausible_address(good), "{good}");
        }
        for bad in ["anna", "@kreis.de", "anna@", "a@b@c", "anna berg@kreis.de"] {
            assert!(!plausible_address(bad), "{bad}");
        }
    }
}
