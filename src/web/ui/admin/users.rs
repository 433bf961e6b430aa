//! `/admin/benutzer…`: the staff users – list, create with a one-time password shown once, change
//! roles, deactivate and reactivate – through [`crate::service::users`].

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::{failure, field_errors, notice, query_value, refusal};
use crate::auth::{Auth, CountedKey, LimitKey, LoginLimiter, Permission};
use crate::db::Database;
use crate::db::models::{Role, UserId};
use crate::engine::data::DataError;
use crate::service::ServiceError;
use crate::service::follow_ups::{self, Successor};
use crate::service::login_limits;
use crate::service::organisations;
use crate::service::users::{self, CreateUser, UserView};
use crate::web::api::ApiState;
use crate::web::ui::{CsrfForm, Session, UiSession, layout, render, role_label, see_other};

const NOTICES: &[(&str, &str)] = &[
    ("rollen", "Die Rollen wurden gespeichert."),
    (
        "deaktiviert",
        "Das Konto wurde deaktiviert; der Benutzer wurde abgemeldet.",
    ),
    ("aktiviert", "Das Konto wurde wieder aktiviert."),
    (
        "zugangslink",
        "Der Zugangslink wurde per E-Mail gesendet; er gilt sieben Tage und nur einmal.",
    ),
    (
        "sperre-aufgehoben",
        "Die Anmeldesperre wurde aufgehoben; die gezählten Fehlversuche sind gelöscht.",
    ),
    (
        "token-gesperrt",
        "Alle API-Zugangstoken des Kontos wurden gesperrt; Programme müssen sich neu anmelden.",
    ),
    (
        "uebergeben",
        "Die offenen Wiedervorlagen und Zuständigkeiten wurden übergeben; sie erscheinen nun \
         auf der Startseite der gewählten Person.",
    ),
];

fn user_json(user: &UserView) -> Value {
    json!({
        "id": user.id.0,
        "email": user.email,
        "name": user.name,
        "organisation": user.organisation_name,
        "organisation_key": user.organisation_key,
        "rollen": user.roles.iter().map(|r| role_label(*r)).collect::<Vec<_>>(),
        "aktiv": user.active,
        "pflichtwechsel": user.must_change_password,
        "ohne_passwort": !user.has_password,
        "offene_wiedervorlagen": user.open_follow_ups,
        "zustaendigkeiten": user.assigned_cases,
        "uebergabe": handover_texts(user),
    })
}

/// What an account leaves for a colleague to take over, in words for the hand-over form and the
/// user list: `None` when nothing is open.
fn handover_texts(user: &UserView) -> Option<Value> {
    let (follow_ups, cases) = (user.open_follow_ups, user.assigned_cases);
    if follow_ups == 0 && cases == 0 {
        return None;
    }
    let follow_ups_text = match follow_ups {
        1 => "die offene Wiedervorlage".to_string(),
        n => format!("die {n} offenen Wiedervorlagen"),
    };
    let cases_text = match cases {
        1 => "die Zuständigkeit für 1 laufenden Vorgang".to_string(),
        n => format!("die Zuständigkeit für {n} laufende Vorgänge"),
    };
    let follow_ups_list = match follow_ups {
        1 => "eine offene Wiedervorlage".to_string(),
        n => format!("{n} offene Wiedervorlagen"),
    };
    let cases_list = match cases {
        1 => "eine Zuständigkeit".to_string(),
        n => format!("{n} Zuständigkeiten"),
    };
    let (title, what, list) = match (follow_ups > 0, cases > 0) {
        (true, false) => ("Wiedervorlagen übergeben", follow_ups_text, follow_ups_list),
        (false, _) => ("Zuständigkeiten übergeben", cases_text, cases_list),
        (true, true) => (
            "Wiedervorlagen und Zuständigkeiten übergeben",
            format!("{follow_ups_text} und {cases_text}"),
            format!("{follow_ups_list} und {cases_list}"),
        ),
    };
    let mut label = what;
    if let Some(first) = label.get(..1) {
        label = first.to_uppercase() + &label[1..];
    }
    Some(json!({
        "titel": title,
        "feld": format!("{label} dieses Kontos übernimmt"),
        "liste": format!("{list} nicht übergeben"),
    }))
}

/// The states the list can be narrowed to (`?status=`), with their labels in the form.
const STATES: [(&str, &str); 3] = [
    ("aktiv", "Aktive Konten"),
    ("deaktiviert", "Deaktivierte Konten"),
    ("gesperrt", "Nach Fehlversuchen gesperrte Konten"),
];

/// Whether `user` (whose logins are refused for now when `refused`) is listed for the search
/// text `q` (in the address, the name or the organisation, in any case) and the state `status`
/// (one of [`STATES`]; anything else lists every state, as the organisations' list does).
fn listed(user: &UserView, refused: bool, q: &str, status: &str) -> bool {
    let q = q.trim().to_lowercase();
    let text = q.is_empty()
        || [&user.email, &user.name, &user.organisation_name]
            .iter()
            .any(|field| field.to_lowercase().contains(&q));
    let state = match status {
        "aktiv" => user.active,
        "deaktiviert" => !user.active,
        "gesperrt" => refused,
        _ => true,
    };
    text && state
}

/// `GET /admin/benutzer?q=&status=`: every user, or those the search names; those whose logins
/// are refused for now marked.
pub async fn list(
    req: HttpRequest,
    session: UiSession,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
    auth: web::Data<Auth>,
) -> HttpResponse {
    if let Some(refused) = refusal(&api, &session, Permission::ManageUsers) {
        return refused;
    }
    let q = query_value(req.query_string(), "q").unwrap_or_default();
    let status = query_value(req.query_string(), "status").unwrap_or_default();
    let limiters = [auth.limiter];
    let loaded = db
        .run(move |conn| {
            Ok(users::list(conn).and_then(|list| {
                // Accounts refused for now; a refused client address is no account's.
                let refused: Vec<String> =
                    login_limits::counted(conn, &limiters, chrono::Utc::now())?
                        .into_iter()
                        .filter(|counted| counted.refused_until.is_some())
                        .filter_map(|counted| match counted.key {
                            LimitKey::Account(email) => Some(email),
                            LimitKey::Address(_) => None,
                        })
                        .collect();
                Ok((list, refused))
            }))
        })
        .await;
    match loaded {
        Ok(Ok((list, refused))) => {
            let mut context = layout("Benutzer", Some(&session), Some("/admin"));
            let shown: Vec<Value> = list
                .iter()
                .filter_map(|user| {
                    let refused = refused.contains(&user.email);
                    listed(user, refused, &q, &status).then(|| {
                        let mut shown = user_json(user);
                        shown["abgewiesen"] = json!(refused);
                        shown
                    })
                })
                .collect();
            context["anzahl"] = json!(shown.len());
            context["gesamt"] = json!(list.len());
            context["gefiltert"] = json!(shown.len() != list.len() || !q.trim().is_empty());
            context["benutzer"] = json!(shown);
            context["q"] = json!(q);
            context["status"] = json!(
                STATES
                    .iter()
                    .map(|(value, label)| json!({ "wert": value, "name": label, "gewaehlt": *value == status }))
                    .collect::<Vec<_>>()
            );
            render(&api, StatusCode::OK, "admin_benutzer", &context)
        }
        Ok(Err(error)) => failure(&api, &session, error),
        Err(error) => failure(&api, &session, ServiceError::Db(error)),
    }
}

/// Roles ticked in a form (`rolle=admin&rolle=lesen`); unknown values are ignored.
fn ticked_roles(pairs: &[(String, String)]) -> Vec<Role> {
    pairs
        .iter()
        .filter(|(k, _)| k == "rolle")
        .filter_map(|(_, v)| v.parse().ok())
        .collect()
}

fn role_boxes(ticked: &[Role]) -> Value {
    json!(
        Role::ALL
            .iter()
            .map(|r| json!({ "wert": r.as_str(), "name": role_label(*r), "gewaehlt": ticked.contains(r) }))
            .collect::<Vec<_>>()
    )
}

fn field(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// `GET /admin/benutzer/neu`: the form creating a user.
pub async fn new_form(
    session: UiSession,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    if let Some(refused) = refusal(&api, &session, Permission::ManageUsers) {
        return refused;
    }
    create_page(
        &api,
        &db,
        StatusCode::OK,
        &session,
        &CreateUser::default(),
        &[],
    )
    .await
}

/// `POST /admin/benutzer/neu`: creates the user and shows the one-time password once.
pub async fn create(
    form: CsrfForm<Vec<(String, String)>>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
    auth: web::Data<Auth>,
) -> HttpResponse {
    let CsrfForm { session, form, .. } = form;
    if let Some(refused) = refusal(&api, &session, Permission::ManageUsers) {
        return refused;
    }
    let input = CreateUser {
        email: field(&form, "email"),
        name: field(&form, "name"),
        organisation: field(&form, "organisation"),
        roles: ticked_roles(&form),
    };
    let request = input.clone();
    let by = super::administrator(&session);
    let single_sign_on = auth.proxy_login.is_some();
    let outcome = db
        .run(move |conn| {
            Ok(users::create(
                conn,
                &auth.passwords,
                &request,
                &by,
                chrono::Utc::now().naive_utc(),
            ))
        })
        .await;
    match outcome {
        Ok(Ok(created)) => {
            let mut context = layout("Benutzer angelegt", Some(&session), Some("/admin"));
            context["benutzer"] = user_json(&created.user);
            context["passwort"] = json!(created.password);
            context["single_sign_on"] = json!(single_sign_on);
            render(&api, StatusCode::OK, "admin_benutzer_angelegt", &context)
        }
        Ok(Err(ServiceError::InvalidInput(errors))) => {
            create_page(
                &api,
                &db,
                StatusCode::UNPROCESSABLE_ENTITY,
                &session,
                &input,
                &errors,
            )
            .await
        }
        Ok(Err(error)) => failure(&api, &session, error),
        Err(error) => failure(&api, &session, ServiceError::Db(error)),
    }
}

async fn create_page(
    api: &ApiState,
    db: &Database,
    status: StatusCode,
    session: &Session,
    input: &CreateUser,
    errors: &[DataError],
) -> HttpResponse {
    let all = db
        .run(|conn| {
            organisations::list(conn, None, None)
                .map_err(|e| crate::db::DbError::Blocking(e.to_string()))
        })
        .await;
    let all = match all {
        Ok(all) => all,
        Err(error) => return failure(api, session, ServiceError::Db(error)),
    };
    let mut context = layout("Benutzer anlegen", Some(session), Some("/admin"));
    context["email"] = json!(input.email);
    context["name"] = json!(input.name);
    context["organisationen"] = json!(
        all.iter()
            .map(
                |o| json!({ "key": o.key, "name": o.name, "gewaehlt": o.key == input.organisation })
            )
            .collect::<Vec<_>>()
    );
    context["rollen"] = role_boxes(&input.roles);
    field_errors(
        &mut context,
        errors,
        &["email", "name", "organisation", "rolle"],
        pointer_field,
    );
    render(api, status, "admin_benutzer_neu", &context)
}

fn pointer_field(pointer: &str) -> String {
    match pointer {
        "/email" => "email",
        "/name" => "name",
        "/organisation" => "organisation",
        "/active" => "aktiv",
        "/nachfolge" => "nachfolge",
        "/access_link" => "zugangslink",
        _ => "rolle",
    }
    .to_string()
}

/// A user's page: the account and who could take over its open Wiedervorlagen.
struct Shown {
    user: UserView,
    successors: Vec<Successor>,
    /// The failures counted against the account's address, per limit.
    limits: Vec<CountedKey>,
}

fn load(
    conn: &mut crate::db::DbConnection,
    id: UserId,
    limiters: &[LoginLimiter],
) -> Result<Shown, ServiceError> {
    let user = users::show(conn, id)?;
    let limits = login_limits::counted_for(
        conn,
        limiters,
        &LimitKey::account(&user.email),
        chrono::Utc::now(),
    )?;
    let successors = if user.open_follow_ups > 0 || user.assigned_cases > 0 {
        follow_ups::successors(conn, id)?
    } else {
        Vec::new()
    };
    Ok(Shown {
        user,
        successors,
        limits,
    })
}

/// `GET /admin/benutzer/{id}`: roles and activation of one user.
pub async fn edit(
    req: HttpRequest,
    session: UiSession,
    id: web::Path<i64>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
    auth: web::Data<Auth>,
) -> HttpResponse {
    if let Some(refused) = refusal(&api, &session, Permission::ManageUsers) {
        return refused;
    }
    let id = UserId(id.into_inner());
    let limiters = auth.limiters();
    match db.run(move |conn| Ok(load(conn, id, &limiters))).await {
        Ok(Ok(shown)) => {
            let roles = shown.user.roles.clone();
            edit_page(
                &api,
                StatusCode::OK,
                &session,
                &shown,
                &roles,
                &[],
                notice(req.query_string(), NOTICES),
            )
        }
        Ok(Err(error)) => failure(&api, &session, error),
        Err(error) => failure(&api, &session, ServiceError::Db(error)),
    }
}

fn edit_page(
    api: &ApiState,
    status: StatusCode,
    session: &Session,
    shown: &Shown,
    ticked: &[Role],
    errors: &[DataError],
    hinweis: Option<&str>,
) -> HttpResponse {
    let user = &shown.user;
    let mut context = layout(
        &format!("Benutzer {}", user.email),
        Some(session),
        Some("/admin"),
    );
    context["benutzer"] = user_json(user);
    context["selbst"] = json!(user.id == session.principal().user_id);
    context["rollen"] = role_boxes(ticked);
    context["nachfolge"] = json!(
        shown
            .successors
            .iter()
            .map(|s| json!({ "id": s.id.0, "name": s.name, "email": s.email }))
            .collect::<Vec<_>>()
    );
    context["sperren"] = json!(
        shown
            .limits
            .iter()
            .map(super::login_limits::key_json)
            .collect::<Vec<_>>()
    );
    context["hinweis"] = json!(hinweis);
    field_errors(
        &mut context,
        errors,
        &["rolle", "aktiv", "nachfolge", "zugangslink"],
        pointer_field,
    );
    render(api, status, "admin_benutzer_bearbeiten", &context)
}

/// Where a form of an account page answers: the state to render with, the database, the
/// limits whose counts the page shows, and who is logged in.
struct AccountForms<'a> {
    api: &'a ApiState,
    db: &'a Database,
    limiters: [LoginLimiter; 2],
    session: &'a Session,
}

impl<'a> AccountForms<'a> {
    fn new(api: &'a ApiState, db: &'a Database, auth: &Auth, session: &'a Session) -> Self {
        Self {
            api,
            db,
            limiters: auth.limiters(),
            session,
        }
    }
}

/// Runs `change` on account `id` and answers like every form of the account page: back to the
/// page with the notice `done`, or the page again (422) with the problems at their fields and,
/// where the form was one of roles, the roles as ticked (`ticked`).
async fn change_account<F>(
    forms: AccountForms<'_>,
    id: UserId,
    ticked: Option<Vec<Role>>,
    done: &str,
    change: F,
) -> HttpResponse
where
    F: FnOnce(&mut crate::db::DbConnection) -> Result<(), ServiceError> + Send + 'static,
{
    let AccountForms {
        api,
        db,
        limiters,
        session,
    } = forms;
    let outcome = db
        .run(move |conn| {
            let result = change(conn);
            Ok((result, load(conn, id, &limiters)))
        })
        .await;
    let errors = match outcome {
        Ok((Ok(()), _)) => return see_other(&format!("/admin/benutzer/{}?hinweis={done}", id.0)),
        Ok((Err(ServiceError::InvalidInput(errors)), Ok(shown))) => (errors, shown),
        Ok((Err(ServiceError::Unprocessable(message)), Ok(shown))) => (
            vec![DataError {
                pointer: "/active".into(),
                message,
            }],
            shown,
        ),
        Ok((Err(error), _)) => return failure(api, session, error),
        Err(error) => return failure(api, session, ServiceError::Db(error)),
    };
    let (errors, shown) = errors;
    let roles = ticked.unwrap_or_else(|| shown.user.roles.clone());
    edit_page(
        api,
        StatusCode::UNPROCESSABLE_ENTITY,
        session,
        &shown,
        &roles,
        &errors,
        None,
    )
}

/// `POST /admin/benutzer/{id}/rollen`: replaces the roles.
pub async fn set_roles(
    form: CsrfForm<Vec<(String, String)>>,
    id: web::Path<i64>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
    auth: web::Data<Auth>,
) -> HttpResponse {
    let CsrfForm { session, form, .. } = form;
    if let Some(refused) = refusal(&api, &session, Permission::ManageUsers) {
        return refused;
    }
    let id = UserId(id.into_inner());
    let actor = super::administrator(&session);
    let roles = ticked_roles(&form);
    let wanted = roles.clone();
    change_account(
        AccountForms::new(&api, &db, &auth, &session),
        id,
        Some(roles),
        "rollen",
        move |conn| {
            users::set_roles(conn, &actor, id, &wanted, chrono::Utc::now().naive_utc()).map(|_| ())
        },
    )
    .await
}

/// The activation form: `aktiv=ja` or `aktiv=nein`.
#[derive(serde::Deserialize)]
pub struct ActiveForm {
    #[serde(default)]
    aktiv: String,
}

/// `POST /admin/benutzer/{id}/aktiv`: deactivates or reactivates the user.
pub async fn set_active(
    form: CsrfForm<ActiveForm>,
    id: web::Path<i64>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
    auth: web::Data<Auth>,
) -> HttpResponse {
    let CsrfForm { session, form, .. } = form;
    if let Some(refused) = refusal(&api, &session, Permission::ManageUsers) {
        return refused;
    }
    let id = UserId(id.into_inner());
    let actor = super::administrator(&session);
    let active = form.aktiv == "ja";
    let done = if active { "aktiviert" } else { "deaktiviert" };
    change_account(
        AccountForms::new(&api, &db, &auth, &session),
        id,
        None,
        done,
        move |conn| {
            users::set_active(conn, &actor, id, active, chrono::Utc::now().naive_utc()).map(|_| ())
        },
    )
    .await
}

/// The hand-over form: the id of the colleague who takes over.
#[derive(serde::Deserialize)]
pub struct HandOverForm {
    #[serde(default)]
    nachfolge: String,
}

/// `POST /admin/benutzer/{id}/wiedervorlagen`: gives the user's open Wiedervorlagen to a
/// colleague of the same organisation.
pub async fn hand_over(
    form: CsrfForm<HandOverForm>,
    id: web::Path<i64>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
    auth: web::Data<Auth>,
) -> HttpResponse {
    let CsrfForm { session, form, .. } = form;
    if let Some(refused) = refusal(&api, &session, Permission::ManageUsers) {
        return refused;
    }
    let id = UserId(id.into_inner());
    // Anything but a number names nobody; the service refuses it like a wrong colleague.
    let to = UserId(form.nachfolge.trim().parse().unwrap_or(0));
    let by = super::administrator(&session);
    change_account(
        AccountForms::new(&api, &db, &auth, &session),
        id,
        None,
        "uebergeben",
        move |conn| {
            follow_ups::hand_over(conn, id, to, &by, chrono::Utc::now().naive_utc()).map(|_| ())
        },
    )
    .await
}

/// `POST /admin/benutzer/{id}/token-sperren`: ends every API access token of the user, e.g. one
/// that leaked or a program that must stop at once.
pub async fn revoke_tokens(
    form: CsrfForm<Vec<(String, String)>>,
    id: web::Path<i64>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
    auth: web::Data<Auth>,
) -> HttpResponse {
    let CsrfForm { session, .. } = form;
    if let Some(refused) = refusal(&api, &session, Permission::ManageUsers) {
        return refused;
    }
    let id = UserId(id.into_inner());
    let by = super::administrator(&session);
    change_account(
        AccountForms::new(&api, &db, &auth, &session),
        id,
        None,
        "token-gesperrt",
        move |conn| users::revoke_tokens(conn, &by, id, chrono::Utc::now().naive_utc()).map(|_| ()),
    )
    .await
}

/// `POST /admin/benutzer/{id}/anmeldesperre`: forgets the failed logins counted against the
/// account's address, so that the user may log in again at once.
pub async fn lift_login_limit(
    form: CsrfForm<Vec<(String, String)>>,
    id: web::Path<i64>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
    auth: web::Data<Auth>,
) -> HttpResponse {
    let CsrfForm { session, .. } = form;
    if let Some(refused) = refusal(&api, &session, Permission::ManageUsers) {
        return refused;
    }
    let id = UserId(id.into_inner());
    let limiters = auth.limiters();
    let actor = session.principal().email.clone();
    change_account(
        AccountForms::new(&api, &db, &auth, &session),
        id,
        None,
        "sperre-aufgehoben",
        move |conn| {
            let user = users::show(conn, id)?;
            let key = LimitKey::account(&user.email);
            login_limits::lift(conn, &limiters, &actor, &key, chrono::Utc::now()).map(|_| ())
        },
    )
    .await
}

/// `POST /admin/benutzer/{id}/zugangslink`: mails the user a link to choose a password
/// ([`crate::service::password_reset::send_access_link`]).
pub async fn send_access_link(
    form: CsrfForm<Vec<(String, String)>>,
    id: web::Path<i64>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
    auth: web::Data<Auth>,
) -> HttpResponse {
    let CsrfForm { session, .. } = form;
    if let Some(refused) = refusal(&api, &session, Permission::ManageUsers) {
        return refused;
    }
    let id = UserId(id.into_inner());
    let by = super::administrator(&session);
    let state = api.clone().into_inner();
    change_account(
        AccountForms::new(&api, &db, &auth, &session),
        id,
        None,
        "zugangslink",
        move |conn| {
            crate::service::password_reset::send_access_link(
                conn,
                &state.outgoing,
                &by,
                id,
                chrono::Utc::now(),
            )
            .map(|_| ())
        },
    )
    .await
}

/// `POST /admin/benutzer/{id}/passwort`: gives the user a new one-time password and shows it
/// once.
pub async fn reset_password(
    form: CsrfForm<Vec<(String, String)>>,
    id: web::Path<i64>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
    auth: web::Data<Auth>,
) -> HttpResponse {
    let CsrfForm { session, .. } = form;
    if let Some(refused) = refusal(&api, &session, Permission::ManageUsers) {
        return refused;
    }
    let id = UserId(id.into_inner());
    let by = super::administrator(&session);
    let outcome = db
        .run(move |conn| {
            Ok(users::reset_password(
                conn,
                &auth.passwords,
                &by,
                id,
                chrono::Utc::now().naive_utc(),
            ))
        })
        .await;
    match outcome {
        Ok(Ok(issued)) => {
            let mut context = layout("Einmalpasswort vergeben", Some(&session), Some("/admin"));
            context["benutzer"] = user_json(&issued.user);
            context["passwort"] = json!(issued.password);
            render(&api, StatusCode::OK, "admin_benutzer_passwort", &context)
        }
        Ok(Err(error)) => failure(&api, &session, error),
        Err(error) => failure(&api, &session, ServiceError::Db(error)),
    }
}
