//! `GET/POST /passwort`: the logged-in user changes the password (current one, new one twice).
//!
//! Also the page a user with a one-time password is sent to until it is replaced. Wrong current
//! passwords count against the same failed-login limits as logins, so a stolen session cannot
//! be used to guess the password. A change ends the user's other sessions.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::session::AllowPending;
use super::{CsrfForm, Session, UiSession, error_page, layout, render, see_other};
use crate::auth::Auth;
use crate::auth::limiter::LimitKey;
use crate::auth::login::{describe_wait, retry_after_seconds};
use crate::auth::password::{MIN_PASSWORD_CHARS, check_policy};
use crate::auth::session as store;
use crate::db::models::User;
use crate::db::{Database, DbError, write_transaction};
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
type FieldError = (&'static str, String);

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
    let mut context = layout("Passwort ändern", Some(session), Some("/passwort"));
    context["pflichtwechsel"] = json!(session.must_change_password());
    context["mindestlaenge"] = json!(MIN_PASSWORD_CHARS);
    context["meldung"] = json!(meldung);
    context["fehler"] = json!(
        fehler
            .iter()
            .map(|(feld, meldung)| json!({ "feld": feld, "meldung": meldung }))
            .collect::<Vec<Value>>()
    );
    for field in ["aktuell", "neu", "wiederholung"] {
        let message = fehler.iter().find(|(f, _)| *f == field).map(|(_, m)| m);
        context[format!("fehler_{field}")] = json!(message);
    }
    render(api, status, "passwort", &context)
}

/// The checks that need no password verification, in the order of the form's fields.
fn check_input(input: &PasswordInput) -> Vec<FieldError> {
    let mut fehler = Vec::new();
    if input.aktuell.is_empty() {
        fehler.push((
            "aktuell",
            "Bitte geben Sie Ihr bisheriges Passwort ein.".to_string(),
        ));
    }
    if input.neu.is_empty() {
        fehler.push(("neu", "Bitte geben Sie ein neues Passwort ein.".to_string()));
    } else if check_policy(&input.neu).is_err() {
        fehler.push((
            "neu",
            format!("Das neue Passwort muss mindestens {MIN_PASSWORD_CHARS} Zeichen lang sein."),
        ));
    } else if input.neu == input.aktuell {
        fehler.push((
            "neu",
            "Das neue Passwort muss sich vom bisherigen unterscheiden.".to_string(),
        ));
    }
    if input.wiederholung != input.neu {
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
    let fehler = check_input(&input);
    if !fehler.is_empty() {
        return page(
            &api,
            StatusCode::UNPROCESSABLE_ENTITY,
            &session,
            &fehler,
            None,
        );
    }

    let keys = [
        LimitKey::account(&session.principal().email),
        LimitKey::address(auth.proxies.client_of(&req)),
    ];
    let reservation = match auth.limiter.reserve(&keys) {
        Ok(reservation) => reservation,
        Err(wait) => {
            let seconds = retry_after_seconds(wait);
            let message = format!(
                "Zu viele fehlgeschlagene Versuche. Bitte versuchen Sie es in {} erneut.",
                describe_wait(seconds)
            );
            let mut response = page(
                &api,
                StatusCode::TOO_MANY_REQUESTS,
                &session,
                &[],
                Some(&message),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            return response;
        }
    };

    let user_id = session.principal().user_id;
    let stored = db
        .run(move |conn| Ok(User::find_by_id(conn, user_id)?.and_then(|u| u.password_hash)))
        .await;
    let stored = match stored {
        Ok(stored) => stored,
        Err(error) => {
            reservation.give_back();
            tracing::error!(%error, "password change: user lookup failed");
            return internal(&api, &session);
        }
    };
    let checker = auth.clone();
    let PasswordInput { aktuell, neu, .. } = input;
    let outcome = web::block(move || {
        if !checker.passwords.verify(stored.as_deref(), &aktuell) {
            return Ok(None);
        }
        checker.passwords.hash(&neu).map(Some)
    })
    .await;
    let hash = match outcome {
        Ok(Ok(Some(hash))) => {
            reservation.give_back();
            hash
        }
        Ok(Ok(None)) => {
            drop(reservation); // a wrong password counts as a failed login
            tracing::info!(user_id = %user_id, "password change refused: wrong current password");
            return page(
                &api,
                StatusCode::UNPROCESSABLE_ENTITY,
                &session,
                &[(
                    "aktuell",
                    "Das bisherige Passwort ist nicht korrekt.".to_string(),
                )],
                None,
            );
        }
        Ok(Err(error)) => {
            reservation.give_back();
            tracing::error!(%error, "password change: hashing failed");
            return internal(&api, &session);
        }
        Err(error) => {
            reservation.give_back();
            tracing::error!(%error, "password change: blocking pool failed");
            return internal(&api, &session);
        }
    };

    let keep = session.id();
    let stored = db
        .run(move |conn| {
            write_transaction(conn, |conn| {
                if !User::change_password(conn, user_id, &hash)? {
                    return Err(DbError::Query(diesel::result::Error::NotFound));
                }
                store::delete_others(conn, user_id, keep)?;
                Ok(())
            })
        })
        .await;
    match stored {
        Ok(()) => {
            tracing::info!(user_id = %user_id, "password changed");
            see_other("/?hinweis=passwort-geaendert")
        }
        Err(error) => {
            tracing::error!(%error, "password change: update failed");
            internal(&api, &session)
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
            check_input(i)
                .into_iter()
                .map(|(f, _)| f)
                .collect::<Vec<_>>()
        };
        assert!(check_input(&input("alt-und-lang", "neu-und-lang!", "neu-und-lang!")).is_empty());
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
            check_input(&input("a", "kurz", "kurz"))[0]
                .1
                .contains("mindestens 12 Zeichen")
        );
    }
}
