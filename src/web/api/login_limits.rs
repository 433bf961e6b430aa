//! `/api/v1/admin/login-limits`: the accounts and client addresses with failed logins counted,
//! and lifting the limit on one of them ([`crate::service::login_limits`]).

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::{blocking, denied};
use crate::auth::{Auth, CountedKey, LimitKey, Permission, Principal, authorize};
use crate::db::Database;
use crate::service::ServiceError;
use crate::service::login_limits;
use crate::web::problem::Problem;

/// One account or address under one limit.
#[derive(Debug, Serialize, ToSchema)]
pub struct LimitItem {
    /// `login` (fehlgeschlagene Anmeldungen) oder `reset-link` (angeforderte Links zum
    /// Zurücksetzen des Passworts).
    pub limit: &'static str,
    /// `account` (die eingegebene E-Mail-Adresse, ob es das Konto gibt oder nicht) oder
    /// `address` (die Adresse des Clients).
    pub kind: &'static str,
    /// Die E-Mail-Adresse oder die Client-Adresse.
    pub key: String,
    /// Noch gezählte Fehlversuche (höchstens die erlaubte Zahl).
    pub failures: u32,
    /// Bis wann Versuche abgewiesen werden (UTC); `null`, solange noch Versuche frei sind.
    pub refused_until: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<CountedKey> for LimitItem {
    fn from(counted: CountedKey) -> Self {
        Self {
            limit: counted.scope,
            kind: counted.key.kind(),
            key: counted.key.value().to_string(),
            failures: counted.failures,
            refused_until: counted.refused_until,
        }
    }
}

/// Answer of both routes: the keys counted, or those whose limit was lifted.
#[derive(Debug, Serialize, ToSchema)]
pub struct LimitList {
    pub items: Vec<LimitItem>,
}

impl LimitList {
    fn of(keys: Vec<CountedKey>) -> Self {
        Self {
            items: keys.into_iter().map(LimitItem::from).collect(),
        }
    }
}

/// `GET /admin/login-limits`: who has failed logins counted, and who is refused for now.
#[utoipa::path(
    get,
    path = "/api/v1/admin/login-limits",
    tag = "Benutzer",
    summary = "Gezählte Fehlversuche und Anmeldesperren",
    description = "Nur für Administratoren: die E-Mail-Adressen und Client-Adressen, für die fehlgeschlagene Anmeldungen (`login`) oder angeforderte Links zum Zurücksetzen des Passworts (`reset-link`) gezählt sind; zuerst die abgewiesenen, die am längsten abgewiesenen zuerst. Nach fünf Fehlversuchen wird abgewiesen, bis wieder ein Versuch frei ist (bei Anmeldungen alle drei Minuten einer); nach 15 Minuten ohne Fehlversuch ist nichts mehr gezählt.",
    responses(
        (status = 200, description = "Die gezählten Schlüssel", body = LimitList),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    principal: Principal,
    db: web::Data<Database>,
    auth: web::Data<Auth>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ManageUsers, None).map_err(denied)?;
    let limiters = auth.limiters();
    let keys = blocking(&db, move |conn| {
        login_limits::counted(conn, &limiters, chrono::Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(LimitList::of(keys)))
}

/// `DELETE /admin/login-limits/{kind}/{key}`: lifts the limit on one account or address.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/login-limits/{kind}/{key}",
    tag = "Benutzer",
    summary = "Anmeldesperre aufheben",
    description = "Nur für Administratoren: löscht die gezählten Fehlversuche einer E-Mail-Adresse oder Client-Adresse unter allen Grenzen; sie kann es sofort wieder versuchen. Steht im Verwaltungsprotokoll (`login_limit_lifted`). Antwort: was gezählt war. Hält die Adresse des Clients die Anmeldung weiter auf, ist sie gesondert aufzuheben.",
    params(
        ("kind" = String, Path, description = "`account` oder `address`"),
        ("key" = String, Path, description = "Die E-Mail-Adresse (Groß- und Kleinschreibung gleich) oder die Client-Adresse, wie `GET /api/v1/admin/login-limits` sie nennt; ein `/` darin darf stehen bleiben oder als `%2F` kodiert sein"),
    ),
    responses(
        (status = 200, description = "Die aufgehobenen Zählungen", body = LimitList),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unbekannte Art, keine Adresse, oder nichts gezählt", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn lift(
    principal: Principal,
    path: web::Path<(String, String)>,
    db: web::Data<Database>,
    auth: web::Data<Auth>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ManageUsers, None).map_err(denied)?;
    let (kind, key) = path.into_inner();
    let key = named_key(&kind, &key).map_err(super::problem)?;
    let limiters = auth.limiters();
    let actor = principal.email.clone();
    let lifted = blocking(&db, move |conn| {
        login_limits::lift(conn, &limiters, &actor, &key, chrono::Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(LimitList::of(lifted)))
}

/// The key an address of this API names; `NotFound` for a kind or address that cannot be one.
fn named_key(kind: &str, key: &str) -> Result<LimitKey, ServiceError> {
    match kind {
        "account" => Ok(LimitKey::account(key)),
        "address" => LimitKey::address_named(key).ok_or_else(|| {
            ServiceError::NotFound(format!(
                "„{}“ ist keine Client-Adresse (IPv4, IPv6 oder „unbekannt“).",
                key.chars().take(100).collect::<String>()
            ))
        }),
        _ => Err(ServiceError::NotFound(format!(
            "Unbekannte Art „{}“: erlaubt sind „account“ und „address“.",
            kind.chars().take(100).collect::<String>()
        ))),
    }
}
