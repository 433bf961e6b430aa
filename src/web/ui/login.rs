//! `GET/POST /login` and `POST /logout`.
//!
//! The credentials are checked by [`crate::auth::login::authenticate`], the same function and
//! the same failed-login limiter as `POST /api/v1/auth/token`. Every failure reads the same
//! ("E-Mail-Adresse oder Passwort ist nicht korrekt."), whether or not the address exists. After
//! a login the browser goes to `next` when that is a local path, else to `/`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::json;

use super::cookie::{self, Lifetime};
use super::session::AllowPending;
use super::{CsrfForm, OptionalSession, UiState, csrf, error_page, layout, render, see_other};
use crate::auth::Auth;
use crate::auth::login::{LoginError, authenticate, describe_wait, retry_after_seconds};
use crate::auth::proxy_login::Vouched;
use crate::auth::session as store;
use crate::db::Database;
use crate::db::models::User;
use crate::web::api::ApiState;

/// Longest `next` accepted; longer ones are ignored.
const MAX_NEXT_CHARS: usize = 2048;

/// `next` when it is a path on this server (`/…`), else `None`: never another host
/// (`//host`, `/\host`, `https://…`), never control characters or spaces, ASCII only so it is
/// a valid `Location`.
pub fn local_path(next: &str) -> Option<&str> {
    let bytes = next.as_bytes();
    let local = !next.is_empty()
        && next.len() <= MAX_NEXT_CHARS
        && bytes[0] == b'/'
        && bytes.get(1).is_none_or(|b| *b != b'/')
        && bytes.iter().all(|b| b.is_ascii_graphic() && *b != b'\\');
    local.then_some(next)
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    next: Option<String>,
    abgemeldet: Option<String>,
    /// `neu` after a password was chosen through a mailed link.
    passwort: Option<String>,
}

/// The fields of the login form, as typed.
#[derive(Deserialize, Default)]
struct LoginInput {
    #[serde(default)]
    email: String,
    #[serde(default)]
    passwort: String,
    next: Option<String>,
    csrf: Option<String>,
}

/// What the login page shows besides the form.
struct LoginView<'a> {
    email: &'a str,
    next: Option<&'a str>,
    meldung: Option<&'a str>,
    fehler: Vec<(&'static str, String)>,
    hinweis: Option<&'static str>,
    /// Offer to log in again through the proxy (after logging out, where it names users).
    again_through_proxy: bool,
}

/// `GET /login`: the form; a logged-in user goes on to `next` (or `/`) at once, and so does a
/// user a trusted proxy names (`proxy_login_header`), with a new session, except right after
/// logging out (else logging out would be impossible).
pub async fn show(
    req: HttpRequest,
    session: OptionalSession,
    db: web::Data<Database>,
    auth: web::Data<Auth>,
    api: web::Data<ApiState>,
    ui: web::Data<UiState>,
) -> HttpResponse {
    let query: LoginQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let next = query.next.as_deref().and_then(local_path);
    if let OptionalSession(Some(session)) = &session {
        if session.must_change_password() {
            return see_other("/passwort");
        }
        return see_other(next.unwrap_or("/"));
    }
    let logged_out = query.abgemeldet.is_some();
    if let Some(login) = auth.proxy_login.as_ref().filter(|_| !logged_out)
        && let Vouched::Email(email) = login.vouched(&req, &auth.proxies)
    {
        return proxy_login(&req, &db, &api, &ui, email, next).await;
    }
    let hinweis = if logged_out {
        Some("Sie haben sich abgemeldet.")
    } else if query.passwort.as_deref() == Some("neu") {
        Some("Ihr neues Passwort ist festgelegt. Bitte melden Sie sich damit an.")
    } else if query.passwort.as_deref() == Some("festgelegt") {
        Some("Ihr Passwort ist festgelegt. Bitte melden Sie sich damit an.")
    } else {
        None
    };
    login_page(
        &req,
        &api,
        &ui,
        StatusCode::OK,
        LoginView {
            email: "",
            next,
            meldung: None,
            fehler: Vec::new(),
            hinweis,
            again_through_proxy: logged_out && auth.proxy_login.is_some(),
        },
    )
}

/// Starts a session for the active account of `email`, which a trusted proxy names as logged
/// in; without one, the login form says so (403) and no session starts.
async fn proxy_login(
    req: &HttpRequest,
    db: &Database,
    api: &ApiState,
    ui: &UiState,
    email: String,
    next: Option<&str>,
) -> HttpResponse {
    let address = email.clone();
    let user = match db
        .run(move |conn| User::find_by_email(conn, &address))
        .await
    {
        Ok(user) => user.filter(|user| user.active),
        Err(error) => {
            tracing::error!(%error, "proxy login: user lookup failed");
            return internal(api);
        }
    };
    let Some(mut user) = user else {
        tracing::info!("proxy login refused: no active account for the named user");
        let meldung = format!(
            "Sie sind im Netz Ihrer Verwaltung als „{email}“ angemeldet; dazu gibt es in \
             vorgang kein aktives Konto. Bitte wenden Sie sich an die Administration, oder \
             melden Sie sich mit E-Mail-Adresse und Passwort an."
        );
        return login_page(
            req,
            api,
            ui,
            StatusCode::FORBIDDEN,
            LoginView {
                email: &email,
                next,
                meldung: Some(&meldung),
                fehler: Vec::new(),
                hinweis: None,
                again_through_proxy: false,
            },
        );
    };
    if user.must_change_password {
        // The proxy vouched for the user; the one-time password would only stay valid for
        // whoever else saw it, and nobody needs to choose a password they never type.
        let id = user.id;
        match db
            .run(move |conn| User::discard_one_time_password(conn, id))
            .await
        {
            Ok(discarded) => {
                if discarded {
                    tracing::info!(user_id = %user.id, "one-time password discarded at a login through the proxy");
                }
                user.must_change_password = false;
            }
            Err(error) => {
                tracing::error!(%error, "proxy login: cannot discard the one-time password");
                return internal(api);
            }
        }
    }
    tracing::info!(user_id = %user.id, "login through the proxy");
    start_session(req, db, api, ui, &user, next, store::Started::ThroughProxy).await
}

/// Renders the login form with a login CSRF token bound to the browser's nonce cookie (a new
/// nonce when the browser has none, so two open login tabs keep working).
fn login_page(
    req: &HttpRequest,
    api: &ApiState,
    ui: &UiState,
    status: StatusCode,
    view: LoginView<'_>,
) -> HttpResponse {
    let Some((nonce, token)) = form_token(req, api) else {
        return internal(api);
    };
    let mut context = layout("Anmeldung", None, None);
    super::password::add_field_errors(&mut context, &view.fehler, &["email", "passwort"]);
    context["meldung"] = json!(view.meldung);
    context["hinweis"] = json!(view.hinweis);
    context["erneut_ueber_netz"] = json!(view.again_through_proxy);
    context["email"] = json!(view.email);
    context["next"] = json!(view.next);
    context["login_csrf"] = json!(token);
    let mut response = render(api, status, "login", &context);
    keep_nonce(&mut response, &nonce, ui);
    response
}

/// The browser's login nonce (a new one when it has none, so two open tabs keep working) and
/// a form token bound to it, for the forms below `/login`, which no session protects yet;
/// `None` (logged) when no randomness or no signature could be had.
pub(super) fn form_token(req: &HttpRequest, api: &ApiState) -> Option<(String, String)> {
    let nonce = match cookie::read(req, cookie::LOGIN).filter(|n| nonce_well_formed(n)) {
        Some(nonce) => nonce,
        None => match store::random_hex(16) {
            Ok(nonce) => nonce,
            Err(error) => {
                tracing::error!(%error, "no randomness for the login form");
                return None;
            }
        },
    };
    let token = csrf::login_token(&api.outgoing.signer, &nonce)?;
    Some((nonce, token))
}

/// Sets the nonce cookie [`form_token`] bound its token to (valid below `/login` only).
pub(super) fn keep_nonce(response: &mut HttpResponse, nonce: &str, ui: &UiState) {
    let lifetime = Lifetime::Seconds(csrf::LOGIN_FORM_LIFETIME.num_seconds());
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie::set(
            cookie::LOGIN,
            nonce,
            "/login",
            "Strict",
            lifetime,
            ui.secure_cookies,
        ),
    );
}

/// Whether `token` is the form token of the browser's login nonce.
pub(super) fn form_token_matches(req: &HttpRequest, api: &ApiState, token: Option<&str>) -> bool {
    let nonce = cookie::read(req, cookie::LOGIN).filter(|n| nonce_well_formed(n));
    match (nonce, token) {
        (Some(nonce), Some(token)) => {
            csrf::login_token_matches(&api.outgoing.signer, token, &nonce)
        }
        _ => false,
    }
}

fn nonce_well_formed(nonce: &str) -> bool {
    nonce.len() == 32 && nonce.bytes().all(|b| b.is_ascii_hexdigit())
}

pub(super) fn internal(api: &ApiState) -> HttpResponse {
    error_page(
        api,
        StatusCode::INTERNAL_SERVER_ERROR,
        None,
        "Interner Fehler",
        "Die Anmeldung ist gerade nicht möglich. Bitte versuchen Sie es später erneut.",
        "",
    )
}

/// The answer to every wrong combination of address and password.
const WRONG_CREDENTIALS: &str = "E-Mail-Adresse oder Passwort ist nicht korrekt.";

/// `POST /login`: checks the form's CSRF token, then the credentials (under the shared limits),
/// then starts a session and redirects.
pub async fn submit(
    req: HttpRequest,
    body: web::Bytes,
    db: web::Data<Database>,
    auth: web::Data<Auth>,
    api: web::Data<ApiState>,
    ui: web::Data<UiState>,
) -> HttpResponse {
    let input: LoginInput = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let next = input.next.as_deref().and_then(local_path);
    let view = |meldung, fehler| LoginView {
        email: &input.email,
        next,
        meldung,
        fehler,
        hinweis: None,
        again_through_proxy: false,
    };

    if !form_token_matches(&req, &api, input.csrf.as_deref()) {
        tracing::warn!("login refused: login form token missing or wrong");
        return login_page(
            &req,
            &api,
            &ui,
            StatusCode::FORBIDDEN,
            view(
                Some(
                    "Die Anmeldung konnte nicht sicher zugeordnet werden, etwa weil die Seite \
                     zu lange geöffnet war oder Ihr Browser keine Cookies zulässt. Bitte melden \
                     Sie sich noch einmal an.",
                ),
                Vec::new(),
            ),
        );
    }

    let mut fehler = Vec::new();
    if input.email.trim().is_empty() {
        fehler.push((
            "email",
            "Bitte geben Sie Ihre E-Mail-Adresse ein.".to_string(),
        ));
    }
    if input.passwort.is_empty() {
        fehler.push(("passwort", "Bitte geben Sie Ihr Passwort ein.".to_string()));
    }
    if !fehler.is_empty() {
        return login_page(
            &req,
            &api,
            &ui,
            StatusCode::UNPROCESSABLE_ENTITY,
            view(None, fehler),
        );
    }

    let peer = auth.proxies.client_of(&req);
    let user = match authenticate(
        &auth,
        &db,
        peer,
        input.email.clone(),
        input.passwort.clone(),
    )
    .await
    {
        Ok(user) => user,
        Err(LoginError::InvalidCredentials) => {
            return login_page(
                &req,
                &api,
                &ui,
                StatusCode::UNPROCESSABLE_ENTITY,
                view(Some(WRONG_CREDENTIALS), Vec::new()),
            );
        }
        Err(LoginError::TooManyAttempts(wait)) => {
            let seconds = retry_after_seconds(wait);
            let message = format!(
                "Zu viele fehlgeschlagene Anmeldeversuche. Bitte versuchen Sie es in {} erneut. \
                 Wenn es eilt, kann Ihre Administration die Sperre aufheben.",
                describe_wait(seconds)
            );
            let mut response = login_page(
                &req,
                &api,
                &ui,
                StatusCode::TOO_MANY_REQUESTS,
                view(Some(&message), Vec::new()),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            return response;
        }
        Err(LoginError::Internal(_)) => return internal(&api),
    };

    start_session(&req, &db, &api, &ui, &user, next, store::Started::Password).await
}

/// Starts a session for `user` (ending the browser's old one) and sends the browser on: to
/// the password form when the user must choose one, else to `next` or `/`.
async fn start_session(
    req: &HttpRequest,
    db: &Database,
    api: &ApiState,
    ui: &UiState,
    user: &User,
    next: Option<&str>,
    started: store::Started,
) -> HttpResponse {
    let old = cookie::read(req, cookie::SESSION);
    let browser = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .and_then(super::user_agent::describe);
    let now = chrono::Utc::now().naive_utc();
    let lifetimes = ui.sessions;
    let user_id = user.id;
    let created = db
        .run(move |conn| {
            if let Some(old) = old {
                store::delete_by_cookie(conn, &old)?;
            }
            store::create(conn, user_id, now, lifetimes, browser.as_deref(), started).map_err(
                |error| match error {
                    store::SessionError::Db(error) => error,
                    other => crate::db::DbError::Blocking(other.to_string()),
                },
            )
        })
        .await;
    let session = match created {
        Ok(session) => session,
        Err(error) => {
            tracing::error!(%error, "cannot start a session");
            return internal(api);
        }
    };
    let target = if user.must_change_password {
        "/passwort"
    } else {
        next.unwrap_or("/")
    };
    let mut response = see_other(target);
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        cookie::set(
            cookie::SESSION,
            &session.cookie_value,
            "/",
            "Lax",
            Lifetime::Browser,
            ui.secure_cookies,
        ),
    );
    headers.append(
        header::SET_COOKIE,
        cookie::set(
            cookie::LOGIN,
            "",
            "/login",
            "Strict",
            Lifetime::Remove,
            ui.secure_cookies,
        ),
    );
    response
}

/// `POST /logout`: deletes the session (server side, so the cookie is worthless from now on),
/// removes the cookie and shows the login page.
pub async fn logout(
    form: CsrfForm<IgnoredAny, AllowPending>,
    db: web::Data<Database>,
    ui: web::Data<UiState>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let user = form.session.principal().user_id;
    let id = form.session.id();
    let deleted = db.run(move |conn| store::delete(conn, id)).await;
    if let Err(error) = deleted {
        tracing::error!(%error, "cannot end a session");
        return internal(&api);
    }
    tracing::info!(user_id = %user, "logout");
    let mut response = see_other("/login?abgemeldet=1");
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie::set(
            cookie::SESSION,
            "",
            "/",
            "Lax",
            Lifetime::Remove,
            ui.secure_cookies,
        ),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        for good in ["/", "/passwort", "/vorgaenge?seite=2&q=a%20b", "/a/b#x"] {
            assert_eq!(local_path(good), Some(good), "{good}");
        }
        for bad in [
            "",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example/",
            "evil.example",
            "/a b",
            "/a\r\nLocation: x",
            "/ä",
            "\t/",
            "/a\\b",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
        assert_eq!(
            local_path(&format!("/{}", "a".repeat(MAX_NEXT_CHARS))),
            None
        );
    }
}
