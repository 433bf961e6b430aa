//! `/api/v1/admin/users`: staff accounts for programs, e.g. provisioning from the directory
//! service: list, create with a one-time password, replace roles, deactivate and reactivate.
//! The same rules as the administration pages (`service::users`): nobody locks themselves out,
//! and each change is in the administration's record.

use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::json_object::Json;
use super::{blocking, denied};
use crate::auth::{Auth, Permission, Principal, authorize};
use crate::db::Database;
use crate::db::models::{Role, UserId};
use crate::engine::data::DataError;
use crate::service::ServiceError;
use crate::service::admin_log::Administrator;
use crate::service::users::{self, CreateUser, CreatedUser, UserView};
use crate::web::problem::Problem;

/// A staff account as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserItem {
    pub id: i64,
    /// Anmeldeadresse, kleingeschrieben.
    pub email: String,
    pub name: String,
    /// Schlüssel (bei Kreisen und kreisfreien Städten der AGS) der Organisation.
    pub organisation: String,
    /// Die Organisation, wie sie im Text genannt wird („Kreis Kleve“).
    pub organisation_name: String,
    /// `admin`, `koordination`, `bewilligung`, `lesen`.
    #[schema(value_type = Vec<Role>)]
    pub roles: Vec<String>,
    /// Deaktivierte Konten können sich nicht anmelden.
    pub active: bool,
    /// Das Einmalpasswort ist noch nicht ersetzt.
    pub must_change_password: bool,
    /// Das Konto hat ein Passwort; ohne eines meldet es nur der Proxy an (Single Sign-on).
    pub has_password: bool,
    /// Offene Wiedervorlagen, die das Konto gesetzt hat.
    pub open_follow_ups: i64,
    /// Laufende Vorgänge, für die das Konto zuständig ist.
    pub assigned_cases: i64,
}

impl From<UserView> for UserItem {
    fn from(view: UserView) -> Self {
        Self {
            id: view.id.0,
            email: view.email,
            name: view.name,
            organisation: view.organisation_key,
            organisation_name: view.organisation_name,
            roles: view.roles.iter().map(|r| r.as_str().to_string()).collect(),
            active: view.active,
            must_change_password: view.must_change_password,
            has_password: view.has_password,
            open_follow_ups: view.open_follow_ups,
            assigned_cases: view.assigned_cases,
        }
    }
}

/// Body of `POST /admin/users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    pub email: String,
    pub name: String,
    /// Schlüssel oder AGS der Organisation.
    pub organisation: String,
    /// Mindestens eine von `admin`, `koordination`, `bewilligung`, `lesen`.
    #[schema(value_type = Vec<Role>, min_items = 1)]
    pub roles: Vec<String>,
}

/// Answer of `POST /admin/users`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUserItem {
    pub user: UserItem,
    /// Einmalpasswort: wird nur in dieser Antwort genannt und muss bei der ersten Anmeldung
    /// ersetzt werden.
    pub password: String,
}

/// Body of `PUT /admin/users/{id}/roles`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesBody {
    /// Die neuen Rollen (ersetzen die bisherigen), mindestens eine.
    #[schema(value_type = Vec<Role>, min_items = 1)]
    pub roles: Vec<String>,
}

/// Body of `PUT /admin/users/{id}/active`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActiveBody {
    /// `false` deaktiviert das Konto und beendet seine Sitzungen; `true` aktiviert es wieder.
    pub active: bool,
}

/// The roles named, or an error at `/roles/{i}` for each unknown name.
fn parse_roles(names: &[String]) -> Result<Vec<Role>, ServiceError> {
    let mut roles = Vec::new();
    let mut errors = Vec::new();
    for (i, name) in names.iter().enumerate() {
        match name.parse::<Role>() {
            Ok(role) => roles.push(role),
            Err(_) => errors.push(DataError {
                pointer: format!("/roles/{i}"),
                message: format!(
                    "Unbekannte Rolle „{name}“ (erlaubt: {}).",
                    Role::ALL.map(Role::as_str).join(", ")
                ),
            }),
        }
    }
    if errors.is_empty() {
        Ok(roles)
    } else {
        Err(ServiceError::InvalidInput(errors))
    }
}

/// `GET /me`: the caller's own account, so a program can tell whose token it holds and what it
/// may do before it tries.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "Anmeldung",
    summary = "Eigenes Konto",
    description = "Das Konto, dem das gesendete Zugangstoken gehört: Organisation, Rollen und Status, wie die Datenbank sie jetzt hält.",
    responses(
        (status = 200, description = "Das eigene Konto", body = UserItem),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn me(principal: Principal, db: web::Data<Database>) -> Result<HttpResponse, Problem> {
    let id = principal.user_id;
    let view = blocking(&db, move |conn| users::show(conn, id)).await?;
    Ok(HttpResponse::Ok().json(UserItem::from(view)))
}

/// `GET /admin/users`: every account, ordered by e-mail address.
#[utoipa::path(
    get,
    path = "/api/v1/admin/users",
    tag = "Benutzer",
    summary = "Benutzer auflisten",
    description = "Nur für Administratoren: alle Konten mit Organisation, Rollen und Status, nach E-Mail-Adresse geordnet.",
    responses(
        (status = 200, description = "Alle Konten", body = Vec<UserItem>),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(principal: Principal, db: web::Data<Database>) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ManageUsers, None).map_err(denied)?;
    let views = blocking(&db, users::list).await?;
    Ok(HttpResponse::Ok().json(views.into_iter().map(UserItem::from).collect::<Vec<_>>()))
}

/// `GET /admin/users/{id}`: one account.
#[utoipa::path(
    get,
    path = "/api/v1/admin/users/{id}",
    tag = "Benutzer",
    summary = "Benutzer anzeigen",
    params(("id" = i64, Path, description = "Nummer des Kontos")),
    responses(
        (status = 200, description = "Das Konto", body = UserItem),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Konto nicht gefunden", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn show(
    principal: Principal,
    id: web::Path<i64>,
    db: web::Data<Database>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ManageUsers, None).map_err(denied)?;
    let id = UserId(id.into_inner());
    let view = blocking(&db, move |conn| users::show(conn, id)).await?;
    Ok(HttpResponse::Ok().json(UserItem::from(view)))
}

/// `POST /admin/users`: creates an account with a one-time password, named once in the answer.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users",
    tag = "Benutzer",
    summary = "Benutzer anlegen",
    description = "Nur für Administratoren: legt ein Konto mit einem Einmalpasswort an, das nur diese Antwort nennt (`Cache-Control: no-store`) und bei der ersten Anmeldung ersetzt werden muss.",
    request_body = NewUserBody,
    responses(
        (status = 201, description = "Das Konto mit seinem Einmalpasswort", body = CreatedUserItem),
        (status = 400, description = "Ungültige Anfrage (JSON)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Ungültige Angaben (`errors` mit Zeigern `/email`, `/name`, `/organisation`, `/roles`), auch eine schon vergebene Adresse", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    principal: Principal,
    body: Json<NewUserBody>,
    db: web::Data<Database>,
    auth: web::Data<Auth>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ManageUsers, None).map_err(denied)?;
    let body = body.into_inner();
    let by = Administrator::from(&principal);
    let created = blocking(&db, move |conn| {
        let input = CreateUser {
            roles: parse_roles(&body.roles)?,
            email: body.email,
            name: body.name,
            organisation: body.organisation,
        };
        users::create(
            conn,
            &auth.passwords,
            &input,
            &by,
            chrono::Utc::now().naive_utc(),
        )
    })
    .await?;
    Ok(with_password(HttpResponse::Created(), created))
}

/// The account with its one-time password, kept out of every cache.
fn with_password(mut status: actix_web::HttpResponseBuilder, created: CreatedUser) -> HttpResponse {
    status
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .json(CreatedUserItem {
            user: UserItem::from(created.user),
            password: created.password,
        })
}

/// `POST /admin/users/{id}/password`: a new one-time password for a forgotten one.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/password",
    tag = "Benutzer",
    summary = "Einmalpasswort vergeben",
    description = "Nur für Administratoren: ersetzt das Passwort des Kontos durch ein Einmalpasswort, das nur diese Antwort nennt (`Cache-Control: no-store`) und bei der nächsten Anmeldung ersetzt werden muss; die Sitzungen des Kontos in der Weboberfläche, seine ausgestellten API-Token und seine Kalenderadressen enden. Das eigene Passwort ändert man in der Weboberfläche.",
    params(("id" = i64, Path, description = "Nummer des Kontos")),
    responses(
        (status = 200, description = "Das Konto mit seinem Einmalpasswort", body = CreatedUserItem),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Konto nicht gefunden", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Das eigene Konto", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn reset_password(
    principal: Principal,
    id: web::Path<i64>,
    db: web::Data<Database>,
    auth: web::Data<Auth>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ManageUsers, None).map_err(denied)?;
    let id = UserId(id.into_inner());
    let by = Administrator::from(&principal);
    let issued = blocking(&db, move |conn| {
        users::reset_password(
            conn,
            &auth.passwords,
            &by,
            id,
            chrono::Utc::now().naive_utc(),
        )
    })
    .await?;
    Ok(with_password(HttpResponse::Ok(), issued))
}

/// What `POST /admin/users/{id}/access-link` did.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessLinkSent {
    /// Die Adresse, an die der Link ging.
    pub email: String,
    /// Bis wann der Link gilt (UTC).
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// `POST /admin/users/{id}/access-link`: mails the account a link to choose its password.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/access-link",
    tag = "Benutzer",
    summary = "Zugangslink per E-Mail senden",
    description = "Nur für Administratoren: sendet dem Konto eine E-Mail mit einem Link, über den es sein Passwort selbst festlegt – statt ein Einmalpasswort weiterzugeben. Der Link gilt sieben Tage und nur einmal; das bisherige Passwort gilt bis dahin weiter. Nicht für das eigene Konto, ein deaktiviertes oder eines ohne Passwort (Anmeldung über den Proxy).",
    params(("id" = i64, Path, description = "Nummer des Kontos")),
    responses(
        (status = 202, description = "Die E-Mail ist im Postausgang", body = AccessLinkSent),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Konto nicht gefunden", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Das eigene, ein deaktiviertes oder ein Konto ohne Passwort (`errors` mit Zeiger `/access_link`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn send_access_link(
    principal: Principal,
    id: web::Path<i64>,
    db: web::Data<Database>,
    api: web::Data<super::ApiState>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ManageUsers, None).map_err(denied)?;
    let id = UserId(id.into_inner());
    let by = Administrator::from(&principal);
    let now = chrono::Utc::now();
    let state = api.into_inner();
    let email = blocking(&db, move |conn| {
        crate::service::password_reset::send_access_link(conn, &state.outgoing, &by, id, now)
    })
    .await?;
    let expires_at =
        now + chrono::TimeDelta::days(crate::service::password_reset::ACCESS_LINK_DAYS);
    Ok(HttpResponse::Accepted().json(AccessLinkSent { email, expires_at }))
}

/// `PUT /admin/users/{id}/roles`: replaces the roles of an account.
#[utoipa::path(
    put,
    path = "/api/v1/admin/users/{id}/roles",
    tag = "Benutzer",
    summary = "Rollen ersetzen",
    description = "Nur für Administratoren; die eigene Rolle `admin` kann man sich nicht selbst entziehen.",
    params(("id" = i64, Path, description = "Nummer des Kontos")),
    request_body = RolesBody,
    responses(
        (status = 200, description = "Das Konto mit den neuen Rollen", body = UserItem),
        (status = 400, description = "Ungültige Anfrage (JSON)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Konto nicht gefunden", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Keine oder unbekannte Rolle, oder die eigene Rolle `admin` entzogen (`errors` mit Zeiger `/roles`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn set_roles(
    principal: Principal,
    id: web::Path<i64>,
    body: Json<RolesBody>,
    db: web::Data<Database>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ManageUsers, None).map_err(denied)?;
    let id = UserId(id.into_inner());
    let by = Administrator::from(&principal);
    let view = blocking(&db, move |conn| {
        let roles = parse_roles(&body.roles)?;
        users::set_roles(conn, &by, id, &roles, chrono::Utc::now().naive_utc())
    })
    .await?;
    Ok(HttpResponse::Ok().json(UserItem::from(view)))
}

/// `PUT /admin/users/{id}/active`: deactivates or reactivates an account.
#[utoipa::path(
    put,
    path = "/api/v1/admin/users/{id}/active",
    tag = "Benutzer",
    summary = "Konto deaktivieren oder wieder aktivieren",
    description = "Nur für Administratoren: Deaktivieren beendet die Sitzungen des Kontos; ausgestellte API-Token und Kalenderadressen gelten nicht mehr, auch nicht nach einer Reaktivierung. Das eigene Konto kann man nicht deaktivieren.",
    params(("id" = i64, Path, description = "Nummer des Kontos")),
    request_body = ActiveBody,
    responses(
        (status = 200, description = "Das Konto", body = UserItem),
        (status = 400, description = "Ungültige Anfrage (JSON)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Konto nicht gefunden", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Das eigene Konto soll deaktiviert werden", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn set_active(
    principal: Principal,
    id: web::Path<i64>,
    body: Json<ActiveBody>,
    db: web::Data<Database>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ManageUsers, None).map_err(denied)?;
    let id = UserId(id.into_inner());
    let by = Administrator::from(&principal);
    let active = body.active;
    let view = blocking(&db, move |conn| {
        users::set_active(conn, &by, id, active, chrono::Utc::now().naive_utc())
    })
    .await?;
    Ok(HttpResponse::Ok().json(UserItem::from(view)))
}

/// `DELETE /admin/users/{id}/tokens`: ends every API access token of an account.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/users/{id}/tokens",
    tag = "Benutzer",
    summary = "API-Zugangstoken eines Kontos sperren",
    description = "Nur für Administratoren: Alle ausgestellten API-Zugangstoken des Kontos gelten sofort nicht mehr (z. B. wenn eines in falsche Hände geraten ist); mit E-Mail-Adresse und Passwort erhält es neue. Passwort und Sitzungen in der Weboberfläche bleiben unverändert. Auch für das eigene Konto, dann einschließlich des gesendeten Tokens.",
    params(("id" = i64, Path, description = "Nummer des Kontos")),
    responses(
        (status = 200, description = "Das Konto", body = UserItem),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Konto nicht gefunden", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke_tokens(
    principal: Principal,
    id: web::Path<i64>,
    db: web::Data<Database>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ManageUsers, None).map_err(denied)?;
    let id = UserId(id.into_inner());
    let by = Administrator::from(&principal);
    let view = blocking(&db, move |conn| {
        users::revoke_tokens(conn, &by, id, chrono::Utc::now().naive_utc())
    })
    .await?;
    Ok(HttpResponse::Ok().json(UserItem::from(view)))
}
