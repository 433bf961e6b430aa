//! `/api/v1/organisations`: the organisations a Beteiligung can invite – listed for every user
//! (pickers), registered and given their addresses by administrators.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use super::json_object::Json;
use super::{blocking, denied};
use crate::auth::{Permission, Principal, authorize};
use crate::db::Database;
use crate::db::models::OrganisationKind;
use crate::service::organisation_table::{self, ImportError, ImportReport};
use crate::service::organisations::{
    self, OrganisationView, RegisterOrganisation, ReplaceAddresses,
};
use crate::web::problem::Problem;

/// Query of `GET /organisations`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrganisationQuery {
    /// Nur Organisationen dieser Art (`partner`, `gemeinde`, `kreis`, `kreisfreie_stadt`,
    /// `kreisfreie_stadt_in_staedteregion`, `bezirksregierung`, `bewilligungsbehoerde`).
    pub kind: Option<String>,
    /// Suchtext: nur Organisationen, deren Name oder Schlüssel ihn enthält (ohne Rücksicht auf
    /// Groß- und Kleinschreibung).
    pub q: Option<String>,
}

/// `GET /organisations`: every organisation, ordered by name.
#[utoipa::path(
    get,
    path = "/api/v1/organisations",
    tag = "Organisationen",
    summary = "Organisationen auflisten",
    description = "Alle Organisationen mit ihren Adressen, nach Namen sortiert, z. B. für die Auswahl der zu beteiligenden Stellen; `kind` und `q` schränken ein.",
    params(OrganisationQuery),
    responses(
        (status = 200, description = "Die Organisationen", body = [OrganisationView]),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    principal: Principal,
    query: web::Query<OrganisationQuery>,
    db: web::Data<Database>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ListOrganisations, None).map_err(denied)?;
    let query = query.into_inner();
    let kind = match query.kind.as_deref() {
        None | Some("") => None,
        Some(text) => Some(OrganisationKind::try_from(text.to_string()).map_err(|_| {
            super::bad_request(format!(
                "Unbekannte Art „{text}“ (erlaubt: partner, gemeinde, kreis, kreisfreie_stadt, \
                 kreisfreie_stadt_in_staedteregion, bezirksregierung, bewilligungsbehoerde)."
            ))
        })?),
    };
    let items = blocking(&db, move |conn| {
        organisations::list(conn, kind, query.q.as_deref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(items))
}

/// `GET /organisations/{key}`: one organisation.
#[utoipa::path(
    get,
    path = "/api/v1/organisations/{key}",
    tag = "Organisationen",
    summary = "Organisation anzeigen",
    params(
        ("key" = String, Path, description = "AGS oder Schlüssel der Organisation"),
    ),
    responses(
        (status = 200, description = "Die Organisation mit ihren Adressen", body = OrganisationView),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn show(
    principal: Principal,
    key: web::Path<String>,
    db: web::Data<Database>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ListOrganisations, None).map_err(denied)?;
    let key = key.into_inner();
    let view = blocking(&db, move |conn| organisations::show(conn, &key)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// `POST /organisations`: registers a partner body (or Gemeinde) with its addresses.
#[utoipa::path(
    post,
    path = "/api/v1/organisations",
    tag = "Organisationen",
    summary = "Partnerstelle anlegen",
    description = "Nur für Administratoren: legt eine Partnerstelle (`partner`) oder Gemeinde (`gemeinde`) mit Funktionspostfach und Kontaktadressen an. Kreise, kreisfreie Städte, Bezirksregierungen und die Bewilligungsbehörde sind fest hinterlegt.",
    request_body = RegisterOrganisation,
    responses(
        (status = 201, description = "Die angelegte Organisation", body = OrganisationView),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Der Schlüssel ist bereits vergeben", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Ungültige Angaben (`errors` mit `pointer` und `message`); nichts wurde angelegt", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn register(
    principal: Principal,
    body: Json<RegisterOrganisation>,
    db: web::Data<Database>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ManageOrganisations, None).map_err(denied)?;
    let body = body.into_inner();
    let by = principal.email.clone();
    let view = blocking(&db, move |conn| {
        organisations::register(conn, body, Some(&by), chrono::Utc::now().naive_utc())
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// `PUT /organisations/{key}/addresses`: replaces mailbox and contacts of any organisation.
#[utoipa::path(
    put,
    path = "/api/v1/organisations/{key}/addresses",
    tag = "Organisationen",
    summary = "Adressen einer Organisation ersetzen",
    description = "Nur für Administratoren: ersetzt Funktionspostfach und Kontaktadressen – auch die eines Kreises oder einer kreisfreien Stadt. Beide Felder sind anzugeben.",
    params(
        ("key" = String, Path, description = "AGS oder Schlüssel der Organisation"),
    ),
    request_body = ReplaceAddresses,
    responses(
        (status = 200, description = "Die Organisation mit den neuen Adressen", body = OrganisationView),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Ungültige Angaben (`errors` mit `pointer` und `message`); nichts wurde geändert", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn replace_addresses(
    principal: Principal,
    key: web::Path<String>,
    body: Json<ReplaceAddresses>,
    db: web::Data<Database>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ManageOrganisations, None).map_err(denied)?;
    let key = key.into_inner();
    let body = body.into_inner();
    let by = principal.email.clone();
    let view = blocking(&db, move |conn| {
        organisations::replace_addresses(
            conn,
            &key,
            body,
            Some(&by),
            chrono::Utc::now().naive_utc(),
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Query of `POST /organisation-imports`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// `true`: nur prüfen und berichten, was geschähe; nichts wird gespeichert.
    #[serde(default)]
    pub dry_run: bool,
}

/// `POST /organisation-imports`: many organisations, and the addresses of registered ones, from
/// one CSV table ([`organisation_table`]).
#[utoipa::path(
    post,
    path = "/api/v1/organisation-imports",
    tag = "Organisationen",
    summary = "Organisationen aus einer Tabelle übernehmen",
    description = "Nur für Administratoren: eine CSV-Tabelle (UTF-8, Trennzeichen Semikolon, Komma oder Tabulator; erste Zeile: Spaltennamen `schluessel`, `name`, `art`, `uebergeordnet`, `funktionspostfach`, `kontakte`, `leitung`, nur `schluessel` ist nötig). Eine Zeile mit neuem Schlüssel legt eine Partnerstelle oder Gemeinde an, eine mit vorhandenem ersetzt deren Adressen, wo sie abweichen. Alles oder nichts: Fehler nennt `errors`, mit `pointer` `/{zeile}/{spalte}` (Zeile der Datei ab 1, die Spaltennamen sind Zeile 1). Mit `dry_run=true` wird nur geprüft.",
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "Die Tabelle (höchstens 2 MB, UTF-8)"),
    responses(
        (status = 200, description = "Was angelegt, geändert und unverändert gelassen wurde (bei `dry_run=true`: würde)", body = ImportReport),
        (status = 400, description = "Ungültige Anfrage (Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Die Tabelle ist größer als 2 MB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Falscher Inhaltstyp", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Nicht lesbar oder fehlerhafte Zeilen (`errors`); nichts wurde gespeichert", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn import(
    principal: Principal,
    request: HttpRequest,
    query: web::Query<ImportQuery>,
    payload: web::Payload,
    db: web::Data<Database>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ManageOrganisations, None).map_err(denied)?;
    if let Some(problem) = super::unsupported_media_type(
        &request,
        &["text/csv", "text/plain"],
        "Bitte senden Sie die Tabelle als CSV (Content-Type: text/csv).",
    ) {
        return Err(problem);
    }
    let body = super::read_capped(payload, organisation_table::MAX_BYTES, "Die Tabelle").await?;
    let by = principal.email.clone();
    let dry_run = query.dry_run;
    let outcome = blocking(&db, move |conn| {
        let at = chrono::Utc::now().naive_utc();
        Ok(organisation_table::import(conn, &body, &by, at, !dry_run))
    })
    .await?;
    let invalid = || {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-table",
            "Tabelle nicht übernommen",
        )
    };
    match outcome {
        Ok(report) => Ok(HttpResponse::Ok().json(report)),
        Err(ImportError::Unreadable(detail)) => Err(invalid().with_detail(detail)),
        Err(ImportError::Rows(errors)) => Err(invalid()
            .with_detail(format!(
                "{} Fehler in der Tabelle; es wurde nichts gespeichert.",
                errors.len()
            ))
            .with(
                "errors",
                json!(
                    errors
                        .iter()
                        .map(|e| json!({
                            "pointer": match e.column {
                                Some(column) => format!("/{}/{column}", e.line),
                                None => format!("/{}", e.line),
                            },
                            "message": e.message,
                        }))
                        .collect::<Vec<_>>()
                ),
            )),
        Err(ImportError::Service(error)) => Err(super::problem(error)),
    }
}
