//! `GET/POST /passwort`: the logged-in user changes the password (current one, new one twice).
//!
//! Also the page a user with a one-time password is sent to until it is replaced. Wrong current
//! passwords count against the same failed-login limits as logins, so a stolen session cannot
//! be used to guess the password. A change ends the user's other sessions.
//!
//! A user the trusted proxy logs in (single sign-on) may have no password at all. Such a user
//! sets one here without a current one, but only in a request the proxy vouches for them: the
//! proxy's word replaces the current password, so a session cookie alone is not enough.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::session::AllowPending;
use super::{CsrfForm, Session, UiSession, error_page, layout, render, see_other};
use crate::auth::Auth;
use crate::auth::limiter::{LimitKey, Refused};
use crate::auth::login::{describe_wait, retry_after_seconds};
use crate::auth::password::{MIN_PASSWORD_CHARS, check_policy};
use crate::auth::session as store;
use crate::db::models::User;
use crate::db::{Database, write_transaction};
use crate::web::api::ApiState;

/// The form's fields, as typed.
#[derive(Deserialize, Default)]
pub struct PasswordInput {
    #[serde(default)]
    aktuell: String,
    #[serde(default)]
    neu: String,
    #[serde(default)]
    wiederholung: String,
}

/// A message for one field of the form (`feld` is the field's name).
pub(super) type FieldError = (&'static str, String);

/// What the page offers the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Offer {
    /// Replace the password, proving the current one.
    Change,
    /// Set a first password: the user has none and the proxy vouches for them right now.
    FirstThroughProxy,
    /// Nothing: the user has no password and nobody vouches for them in this request.
    Nothing,
}

impl Offer {
    fn for_session(session: &Session) -> Self {
        match (session.has_password(), session.vouched_by_proxy()) {
            (true, _) => Offer::Change,
            (false, true) => Offer::FirstThroughProxy,
            (false, false) => Offer::Nothing,
        }
    }
}

/// Why a user without a password cannot set one in this request.
const NO_PASSWORD_WITHOUT_PROXY: &str = "Sie haben in vorgang kein Passwort. Ein Passwort legen \
     Sie fest, wenn Sie über das Netz Ihrer Verwaltung angemeldet sind, oder die Administration \
     stellt Ihnen ein Einmalpasswort aus.";

/// `GET /passwort`: the form.
pub async fn show(session: UiSession<AllowPending>, api: web::Data<ApiState>) -> HttpResponse {
    page(&api, StatusCode::OK, &session, &[], None)
}

fn page(
    api: &ApiState,
    status: StatusCode,
    session: &Session,
    fehler: &[FieldError],
    meldung: Option<&str>,
) -> HttpResponse {
    let offer = Offer::for_session(session);
    let title = match offer {
        Offer::Change => "Passwort ändern",
        Offer::FirstThroughProxy | Offer::Nothing => "Passwort festlegen",
    };
    let mut context = layout(title, Some(session), Some("/passwort"));
    context["titel"] = json!(title);
    context["pflichtwechsel"] = json!(session.must_change_password());
    context["erstes_passwort"] = json!(offer == Offer::FirstThroughProxy);
    context["kein_formular"] = json!(offer == Offer::Nothing);
    context["ohne_passwort_hinweis"] = json!(NO_PASSWORD_WITHOUT_PROXY);
    context["mindestlaenge"] = json!(MIN_PASSWORD_CHARS);
    context["meldung"] = json!(meldung);
    add_field_errors(&mut context, fehler, &["aktuell", "neu", "wiederholung"]);
    render(api, status, "passwort", &context)
}

/// The form's errors as the summary and as messages at their fields.
pub(super) fn add_field_errors(context: &mut Value, fehler: &[FieldError], fields: &[&str]) {
    context["fehler"] = json!(
        fehler
            .iter()
            .map(|(feld, meldung)| json!({ "feld": feld, "meldung": meldung }))
            .collect::<Vec<Value>>()
    );
    for field in fields {
        let message = fehler.iter().find(|(f, _)| f == field).map(|(_, m)| m);
        context[format!("fehler_{field}")] = json!(message);
    }
}

/// The checks that need no password verification, in the order of the form's fields; the
/// current password only where the form asks for it.
fn check_input(input: &PasswordInput, offer: Offer) -> Vec<FieldError> {
    let mut fehler = Vec::new();
    if offer == Offer::Change && input.aktuell.is_empty() {
        fehler.push((
            "aktuell",
            "Bitte geben Sie Ihr bisheriges Passwort ein.".to_string(),
        ));
    }
    let same_as_current = offer == Offer::Change && input.neu == input.aktuell;
    fehler.extend(new_password_errors(
        &input.neu,
        &input.wiederholung,
        same_as_current,
    ));
    fehler
}

/// What is wrong with a new password typed twice (fields `neu` and `wiederholung`), also on
/// the page reached through a mailed link.
pub(super) fn new_password_errors(
    neu: &str,
    wiederholung: &str,
    same_as_current: bool,
) -> Vec<FieldError> {
    let mut fehler = Vec::new();
    if neu.is_empty() {
        fehler.push(("neu", "Bitte geben Sie ein neues Passwort ein.".to_string()));
    } else if check_policy(neu).is_err() {
        fehler.push((
            "neu",
            format!("Das neue Passwort muss mindestens {MIN_PASSWORD_CHARS} Zeichen lang sein."),
        ));
    } else if same_as_current {
        fehler.push((
            "neu",
            "Das neue Passwort muss sich vom bisherigen unterscheiden.".to_string(),
        ));
    }
    if wiederholung != neu {
        fehler.push((
            "wiederholung",
            "Die Wiederholung stimmt nicht mit dem neuen Passwort überein.".to_string(),
        ));
    }
    fehler
}

/// `POST /passwort`: checks the form, then the current password (under the login limits), then
/// stores the new hash, clears a pending change and ends the user's other sessions.
pub async fn submit(
    req: HttpRequest,
    form: CsrfForm<PasswordInput, AllowPending>,
    db: web::Data<Database>,
    auth: web::Data<Auth>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let CsrfForm {
        session,
        form: input,
        ..
    } = form;
    let offer = Offer::for_session(&session);
    if offer == Offer::Nothing {
        tracing::info!(user_id = %session.principal().user_id, "first password refused: not vouched for by the proxy");
        return page(
            &api,
            StatusCode::FORBIDDEN,
            &session,
            &[],
            Some(NO_PASSWORD_WITHOUT_PROXY),
        );
    }
    let fehler = check_input(&input, offer);
    if !fehler.is_empty() {
        return page(
            &api,
            StatusCode::UNPROCESSABLE_ENTITY,
            &session,
            &fehler,
            None,
        );
    }

    let hash = match offer {
        Offer::FirstThroughProxy => new_hash(&auth, input.neu, &api, &session).await,
        _ => verified_new_hash(&req, &session, &db, &auth, &api, input).await,
    };
    let hash = match hash {
        Ok(hash) => hash,
        Err(response) => return response,
    };

    let user_id = session.principal().user_id;
    let keep = session.id();
    let first = offer == Offer::FirstThroughProxy;
    let stored = db
        .run(move |conn| {
            write_transaction(conn, |conn| {
                let stored = if first {
                    User::set_first_password(conn, user_id, &hash)?
                } else {
                    User::change_password(conn, user_id, &hash)?
                };
                if stored {
                    store::delete_others(conn, user_id, keep)?;
                }
                Ok(stored)
            })
        })
        .await;
    match stored {
        Ok(true) => {
            tracing::info!(user_id = %user_id, first, "password changed");
            see_other("/?hinweis=passwort-geaendert")
        }
        Ok(false) if first => page(
            &api,
            StatusCode::CONFLICT,
            &session,
            &[],
            Some(
                "Für Ihr Konto ist inzwischen ein Passwort festgelegt, etwa in einem anderen \
                 Fenster. Bitte laden Sie die Seite neu und geben Sie es als bisheriges Passwort \
                 an.",
            ),
        ),
        Ok(false) => {
            tracing::error!(user_id = %user_id, "password change: the account is gone");
            internal(&api, &session)
        }
        Err(error) => {
            tracing::error!(%error, "password change: update failed");
            internal(&api, &session)
        }
    }
}

/// The hash of a first password (no current one to prove).
async fn new_hash(
    auth: &Auth,
    neu: String,
    api: &ApiState,
    session: &Session,
) -> Result<String, HttpResponse> {
    let hasher = auth.passwords.clone();
    match web::block(move || hasher.hash(&neu)).await {
        Ok(Ok(hash)) => Ok(hash),
        Ok(Err(error)) => {
            tracing::error!(%error, "first password: hashing failed");
            Err(internal(api, session))
        }
        Err(error) => {
            tracing::error!(%error, "first password: blocking pool failed");
            Err(internal(api, session))
        }
    }
}

/// The hash of the new password once the current one is proven, under the failed-login limits
/// (a wrong current password counts as a failed login); else the page to answer with.
async fn verified_new_hash(
    req: &HttpRequest,
    session: &Session,
    db: &Database,
    auth: &Auth,
    api: &ApiState,
    input: PasswordInput,
) -> Result<String, HttpResponse> {
    let keys = [
        LimitKey::account(&session.principal().email),
        LimitKey::address(auth.proxies.client_of(req)),
    ];
    let reservation = match auth.limiter.reserve(db, &keys).await {
        Ok(reservation) => reservation,
        Err(Refused::Database(error)) => {
            tracing::error!(%error, "password change: the attempt could not be counted");
            return Err(internal(api, session));
        }
        Err(Refused::TooMany(wait)) => {
            let seconds = retry_after_seconds(wait);
            let message = format!(
                "Zu viele fehlgeschlagene Versuche. Bitte versuchen Sie es in {} erneut.",
                describe_wait(seconds)
            );
            let mut response = page(
                api,
                StatusCode::TOO_MANY_REQUESTS,
                session,
                &[],
                Some(&message),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            return Err(response);
        }
    };

    let user_id = session.principal().user_id;
    let stored = db
        .run(move |conn| Ok(User::find_by_id(conn, user_id)?.and_then(|u| u.password_hash)))
        .await;
    let stored = match stored {
        Ok(stored) => stored,
        Err(error) => {
            reservation.give_back(db).await;
            tracing::error!(%error, "password change: user lookup failed");
            return Err(internal(api, session));
        }
    };
    let checker = auth.passwords.clone();
    let PasswordInput { aktuell, neu, .. } = input;
    let outcome = web::block(move || {
        if !checker.verify(stored.as_deref(), &aktuell) {
            return Ok(None);
        }
        checker.hash(&neu).map(Some)
    })
    .await;
    match outcome {
        Ok(Ok(Some(hash))) => {
            reservation.give_back(db).await;
            Ok(hash)
        }
        Ok(Ok(None)) => {
            drop(reservation); // a wrong password counts as a failed login
            tracing::info!(user_id = %user_id, "password change refused: wrong current password");
            Err(page(
                api,
                StatusCode::UNPROCESSABLE_ENTITY,
                session,
                &[(
                    "aktuell",
                    "Das bisherige Passwort ist nicht korrekt.".to_string(),
                )],
                None,
            ))
        }
        Ok(Err(error)) => {
            reservation.give_back(db).await;
            tracing::error!(%error, "password change: hashing failed");
            Err(internal(api, session))
        }
        Err(error) => {
            reservation.give_back(db).await;
            tracing::error!(%error, "password change: blocking pool failed");
            Err(internal(api, session))
        }
    }
}

fn internal(api: &ApiState, session: &Session) -> HttpResponse {
    error_page(
        api,
        StatusCode::INTERNAL_SERVER_ERROR,
        Some(session),
        "Interner Fehler",
        "Das Passwort konnte nicht geändert werden; es gilt weiterhin das bisherige. Bitte \
         versuchen Sie es später erneut.",
        "",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(aktuell: &str, neu: &str, wiederholung: &str) -> PasswordInput {
        PasswordInput {
            aktuell: aktuell.into(),
            neu: neu.into(),
            wiederholung: wiederholung.into(),
        }
    }

    #[test]
    fn each_field_gets_its_german_message() {
        let fields = |i: &PasswordInput| {
            check_input(i, Offer::Change)
                .into_iter()
                .map(|(f, _)| f)
                .collect::<Vec<_>>()
        };
        assert!(
            check_input(
                &input("alt-und-lang", "neu-und-lang!", "neu-und-lang!"),
                Offer::Change
            )
            .is_empty()
        );
        assert_eq!(fields(&input("", "", "")), ["aktuell", "neu"]);
        assert_eq!(fields(&input("a", "kurz", "kurz")), ["neu"]);
        assert_eq!(
            fields(&input(
                "gleich-und-lang",
                "gleich-und-lang",
                "gleich-und-lang"
            )),
            ["neu"]
        );
        assert_eq!(
            fields(&input("a", "neu-und-lang!", "anders-und-lang")),
            ["wiederholung"]
        );
        assert!(
            check_input(&input("a", "kurz", "kurz"), Offer::Change)[0]
                .1
                .contains("mindestens 12 Zeichen")
        );
    }

    #[test]
    fn a_first_password_asks_for_no_current_one() {
        let fields = |i: &PasswordInput| {
            check_input(i, Offer::FirstThroughProxy)
                .into_iter()
                .map(|(f, _)| f)
                .collect::<Vec<_>>()
        };
        assert!(fields(&input("", "neu-und-lang!", "neu-und-lang!")).is_empty());
        assert_eq!(fields(&input("", "", "")), ["neu"]);
        assert_eq!(fields(&input("", "kurz", "kurz")), ["neu"]);
        assert_eq!(
            fields(&input("", "neu-und-lang!", "anders-und-lang")),
            ["wiederholung"]
        );
    }
}
