//! `/admin/organisationen…`: the organisations with their addresses, the form replacing an
//! organisation's addresses (mailbox, Leitung, contacts) and the registration of partner bodies
//! and Gemeinden – all through [`crate::service::organisations`], whose field errors (JSON
//! pointers) are shown at the fields.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::{failure, field_errors, notice, query_value, refusal};
use crate::auth::Permission;
use crate::db::Database;
use crate::db::models::OrganisationKind;
use crate::designation::designation;
use crate::engine::data::DataError;
use crate::service::ServiceError;
use crate::service::organisations::{
    self, ContactInput, OrganisationView, REGISTRABLE_KINDS, RegisterOrganisation, ReplaceAddresses,
};
use crate::web::api::ApiState;
use crate::web::ui::{CsrfForm, Session, UiSession, encode_query_value, layout, render, see_other};

/// Every kind, in the order of the filter, with its German name.
const KINDS: [(OrganisationKind, &str); 7] = [
    (OrganisationKind::Kreis, "Kreis"),
    (OrganisationKind::KreisfreieStadt, "Kreisfreie Stadt"),
    (
        OrganisationKind::KreisfreieStadtInStaedteregion,
        "Kreisfreie Stadt in der StädteRegion",
    ),
    (OrganisationKind::Gemeinde, "Gemeinde"),
    (OrganisationKind::Bezirksregierung, "Bezirksregierung"),
    (
        OrganisationKind::Bewilligungsbehoerde,
        "Bewilligungsbehörde",
    ),
    (OrganisationKind::Partner, "Partnerstelle"),
];

const NOTICES: &[(&str, &str)] = &[
    ("gespeichert", "Die Adressen wurden gespeichert."),
    ("angelegt", "Die Organisation wurde angelegt."),
];

/// The list's filter in `query`: the search text, the kind as given and the kind it names.
pub(super) fn list_filter(query: &str) -> (String, String, Option<OrganisationKind>) {
    let q = query_value(query, "q").unwrap_or_default();
    let art = query_value(query, "art").unwrap_or_default();
    let kind = KINDS.iter().map(|(k, _)| *k).find(|k| k.as_str() == art);
    (q, art, kind)
}

fn kind_label(kind: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _)| k.as_str() == kind)
        .map_or("Unbekannt", |(_, label)| label)
}

fn view_json(view: &OrganisationView) -> Value {
    json!({
        "key": view.key,
        "pfad": encode_query_value(&view.key),
        "name": view.name,
        "bezeichnung": designation(&view.kind, &view.name),
        "art": kind_label(&view.kind),
        "postfach": view.mailbox,
        "leitung": view.head,
        "kontakte": view.contacts.iter().map(|c| json!({ "email": c.email, "name": c.name })).collect::<Vec<_>>(),
    })
}

/// `GET /admin/organisationen`: the organisations, searchable (`q`) and filtered by kind (`art`).
pub async fn list(
    req: HttpRequest,
    session: UiSession,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    if let Some(refused) = refusal(&api, &session, Permission::ManageOrganisations) {
        return refused;
    }
    let query = req.query_string();
    let (q, art, kind) = list_filter(query);
    let search = q.clone();
    let found = db
        .run(move |conn| {
            organisations::list(conn, kind, Some(&search))
                .map_err(|e| crate::db::DbError::Blocking(e.to_string()))
        })
        .await;
    let views = match found {
        Ok(views) => views,
        Err(error) => return failure(&api, &session, ServiceError::Db(error)),
    };
    let mut context = layout("Organisationen", Some(&session), Some("/admin"));
    context["hinweis"] = json!(match query_value(query, "hinweis").as_deref() {
        Some("tabelle") => Some(table_notice(query)),
        _ => notice(query, NOTICES).map(str::to_string),
    });
    context["q"] = json!(q);
    context["arten"] = json!(
        KINDS
            .iter()
            .map(|(k, label)| json!({ "wert": k.as_str(), "name": label, "gewaehlt": kind == Some(*k) }))
            .collect::<Vec<_>>()
    );
    context["organisationen"] = json!(views.iter().map(view_json).collect::<Vec<_>>());
    context["anzahl"] = json!(views.len());
    context["tabelle"] = json!(format!(
        "/admin/organisationen.csv?q={}&art={}",
        encode_query_value(&q),
        encode_query_value(&art)
    ));
    render(&api, StatusCode::OK, "admin_organisationen", &context)
}

/// What a table taken over did, from the counts the redirect carries.
fn table_notice(query: &str) -> String {
    let count = |name| {
        query_value(query, name)
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0)
    };
    let organisations = |n: usize| match n {
        1 => "1 Organisation".to_string(),
        n => format!("{n} Organisationen"),
    };
    format!(
        "Die Tabelle wurde übernommen: {} neu angelegt, bei {} die Adressen ersetzt.",
        organisations(count("neu")),
        organisations(count("geaendert"))
    )
}

/// `GET /admin/organisationen/{key}`: the address form of one organisation.
pub async fn edit(
    req: HttpRequest,
    session: UiSession,
    key: web::Path<String>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    if let Some(refused) = refusal(&api, &session, Permission::ManageOrganisations) {
        return refused;
    }
    let key = key.into_inner();
    let found = db
        .run(move |conn| Ok(organisations::show(conn, &key)))
        .await;
    let view = match found {
        Ok(Ok(view)) => view,
        Ok(Err(error)) => return failure(&api, &session, error),
        Err(error) => return failure(&api, &session, ServiceError::Db(error)),
    };
    let form = AddressForm {
        mailbox: view.mailbox.clone().unwrap_or_default(),
        head: view.head.clone().unwrap_or_default(),
        contacts: view
            .contacts
            .iter()
            .map(|c| (c.email.clone(), c.name.clone()))
            .collect(),
    };
    address_page(
        &api,
        StatusCode::OK,
        &session,
        &view,
        &form,
        &[],
        notice(req.query_string(), NOTICES),
    )
}

/// The address form as submitted: repeated `kontakt_email` / `kontakt_name` fields, one pair
/// per row.
#[derive(Debug, Default)]
struct AddressForm {
    mailbox: String,
    head: String,
    contacts: Vec<(String, String)>,
}

impl AddressForm {
    fn parse(pairs: &[(String, String)]) -> Self {
        let mut form = Self::default();
        for (name, value) in pairs {
            match name.as_str() {
                "postfach" => form.mailbox.clone_from(value),
                "leitung" => form.head.clone_from(value),
                "kontakt_email" => form.contacts.push((value.clone(), String::new())),
                "kontakt_name" => match form.contacts.last_mut() {
                    Some(last) if last.1.is_empty() => last.1.clone_from(value),
                    _ => form.contacts.push((String::new(), value.clone())),
                },
                _ => {}
            }
        }
        form
    }

    /// The rows with any content, with their row numbers (for the errors' field ids).
    fn filled(&self) -> Vec<(usize, &(String, String))> {
        self.contacts
            .iter()
            .enumerate()
            .filter(|(_, (email, name))| !email.trim().is_empty() || !name.trim().is_empty())
            .collect()
    }
}

/// `POST /admin/organisationen/{key}`: replaces mailbox, Leitung and contacts.
pub async fn submit(
    form: CsrfForm<Vec<(String, String)>>,
    key: web::Path<String>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    let CsrfForm { session, form, .. } = form;
    if let Some(refused) = refusal(&api, &session, Permission::ManageOrganisations) {
        return refused;
    }
    let key = key.into_inner();
    let form = AddressForm::parse(&form);
    let filled = form.filled();
    let rows: Vec<usize> = filled.iter().map(|(row, _)| *row).collect();
    let optional = |text: &str| {
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_string())
    };
    let input = ReplaceAddresses {
        mailbox: Some(optional(&form.mailbox)),
        head: Some(optional(&form.head)),
        contacts: Some(
            filled
                .iter()
                .map(|(_, (email, name))| ContactInput {
                    email: Some(email.clone()),
                    name: Some(name.clone()),
                })
                .collect(),
        ),
    };
    let target = key.clone();
    let by = session.principal().email.clone();
    let outcome = db
        .run(move |conn| {
            let result = organisations::replace_addresses(
                conn,
                &target,
                input,
                Some(&by),
                chrono::Utc::now().naive_utc(),
            );
            let current = organisations::show(conn, &target);
            Ok((result, current))
        })
        .await;
    match outcome {
        Ok((Ok(_), _)) => see_other(&format!(
            "/admin/organisationen/{}?hinweis=gespeichert",
            encode_query_value(&key)
        )),
        Ok((Err(ServiceError::InvalidInput(errors)), Ok(view))) => {
            let errors: Vec<DataError> = errors
                .into_iter()
                .map(|e| DataError {
                    pointer: contact_field(&e.pointer, &rows),
                    message: e.message,
                })
                .collect();
            address_page(
                &api,
                StatusCode::UNPROCESSABLE_ENTITY,
                &session,
                &view,
                &form,
                &errors,
                None,
            )
        }
        Ok((Err(error), _)) => failure(&api, &session, error),
        Err(error) => failure(&api, &session, ServiceError::Db(error)),
    }
}

/// The form field of a service pointer: `/mailbox` → `postfach`, `/head` → `leitung`,
/// `/contacts/2/email` → `kontakt-<row of the third filled row>-email`.
fn contact_field(pointer: &str, rows: &[usize]) -> String {
    match pointer {
        "/mailbox" => "postfach".into(),
        "/head" => "leitung".into(),
        _ => {
            let mut parts = pointer.trim_start_matches("/contacts").split('/').skip(1);
            match (
                parts.next().and_then(|i| i.parse::<usize>().ok()),
                parts.next(),
            ) {
                (Some(index), Some(part)) => {
                    let row = rows.get(index).copied().unwrap_or(index);
                    format!("kontakt-{row}-{part}")
                }
                _ => "kontakt-0-email".into(),
            }
        }
    }
}

fn address_page(
    api: &ApiState,
    status: StatusCode,
    session: &Session,
    view: &OrganisationView,
    form: &AddressForm,
    errors: &[DataError],
    hinweis: Option<&str>,
) -> HttpResponse {
    let mut context = layout(
        &format!("Adressen: {}", designation(&view.kind, &view.name)),
        Some(session),
        Some("/admin"),
    );
    context["organisation"] = view_json(view);
    context["ziel"] = json!(format!(
        "/admin/organisationen/{}",
        encode_query_value(&view.key)
    ));
    context["hinweis"] = json!(hinweis);
    context["postfach"] = json!(form.mailbox);
    context["leitung"] = json!(form.head);
    field_errors(&mut context, errors, &["postfach", "leitung"], |pointer| {
        pointer.to_string()
    });
    let message_for = |field: String| -> Value {
        let found: Vec<&str> = errors
            .iter()
            .filter(|e| e.pointer == field)
            .map(|e| e.message.as_str())
            .collect();
        if found.is_empty() {
            Value::Null
        } else {
            json!(found.join(" "))
        }
    };
    let mut rows: Vec<Value> = form
        .contacts
        .iter()
        .enumerate()
        .filter(|(_, (email, name))| !email.trim().is_empty() || !name.trim().is_empty())
        .map(|(row, (email, name))| {
            json!({
                "nr": row,
                "anzeige": row + 1,
                "email": email,
                "name": name,
                "fehler_email": message_for(format!("kontakt-{row}-email")),
                "fehler_name": message_for(format!("kontakt-{row}-name")),
            })
        })
        .collect();
    // One empty row to add a contact.
    let next = form.contacts.len();
    rows.push(json!({
        "nr": next, "anzeige": rows.len() + 1, "email": "", "name": "", "neu": true,
        "fehler_email": null, "fehler_name": null,
    }));
    context["kontakte"] = json!(rows);
    render(api, status, "admin_organisation", &context)
}

/// `GET /admin/organisationen/neu`: the registration form.
pub async fn new_form(
    session: UiSession,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    if let Some(refused) = refusal(&api, &session, Permission::ManageOrganisations) {
        return refused;
    }
    register_page(
        &api,
        &db,
        StatusCode::OK,
        &session,
        &RegisterForm::default(),
        &[],
    )
    .await
}

/// The registration form's fields.
#[derive(Debug, Default, serde::Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    schluessel: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    art: String,
    #[serde(default)]
    uebergeordnet: String,
    #[serde(default)]
    postfach: String,
}

/// `POST /admin/organisationen/neu`: registers a partner body or Gemeinde.
pub async fn register(
    form: CsrfForm<RegisterForm>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    let CsrfForm { session, form, .. } = form;
    if let Some(refused) = refusal(&api, &session, Permission::ManageOrganisations) {
        return refused;
    }
    let input = RegisterOrganisation {
        key: Some(form.schluessel.trim().to_string()),
        name: Some(form.name.clone()),
        kind: Some(form.art.clone()).filter(|k| !k.is_empty()),
        parent: Some(form.uebergeordnet.clone()),
        mailbox: Some(form.postfach.clone()),
        contacts: None,
    };
    let by = session.principal().email.clone();
    let outcome = db
        .run(move |conn| {
            Ok(organisations::register(
                conn,
                input,
                Some(&by),
                chrono::Utc::now().naive_utc(),
            ))
        })
        .await;
    let errors = match outcome {
        Ok(Ok(view)) => {
            return see_other(&format!(
                "/admin/organisationen/{}?hinweis=angelegt",
                encode_query_value(&view.key)
            ));
        }
        Ok(Err(ServiceError::InvalidInput(errors))) => errors,
        Ok(Err(ServiceError::Conflict(message))) => vec![DataError {
            pointer: "/key".into(),
            message,
        }],
        Ok(Err(error)) => return failure(&api, &session, error),
        Err(error) => return failure(&api, &session, ServiceError::Db(error)),
    };
    register_page(
        &api,
        &db,
        StatusCode::UNPROCESSABLE_ENTITY,
        &session,
        &form,
        &errors,
    )
    .await
}

async fn register_page(
    api: &ApiState,
    db: &Database,
    status: StatusCode,
    session: &Session,
    form: &RegisterForm,
    errors: &[DataError],
) -> HttpResponse {
    // Parents: every organisation that is not itself a partner body or Gemeinde.
    let parents = db
        .run(|conn| {
            organisations::list(conn, None, None)
                .map_err(|e| crate::db::DbError::Blocking(e.to_string()))
        })
        .await;
    let parents = match parents {
        Ok(all) => all
            .into_iter()
            .filter(|o| o.kind != "partner" && o.kind != "gemeinde")
            .collect::<Vec<_>>(),
        Err(error) => return failure(api, session, ServiceError::Db(error)),
    };
    let mut context = layout("Organisation anlegen", Some(session), Some("/admin"));
    context["schluessel"] = json!(form.schluessel);
    context["name"] = json!(form.name);
    context["postfach"] = json!(form.postfach);
    context["arten"] = json!(
        REGISTRABLE_KINDS
            .iter()
            .map(|k| json!({ "wert": k.as_str(), "name": kind_label(k.as_str()), "gewaehlt": form.art == k.as_str() }))
            .collect::<Vec<_>>()
    );
    context["eltern"] = json!(
        parents
            .iter()
            .map(
                |o| json!({ "key": o.key, "name": o.name, "gewaehlt": form.uebergeordnet == o.key })
            )
            .collect::<Vec<_>>()
    );
    let fields = ["schluessel", "name", "art", "uebergeordnet", "postfach"];
    field_errors(&mut context, errors, &fields, |pointer| {
        match pointer {
            "/key" => "schluessel",
            "/name" => "name",
            "/kind" => "art",
            "/parent" => "uebergeordnet",
            _ => "postfach",
        }
        .to_string()
    });
    render(api, status, "admin_organisation_neu", &context)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn contact_rows_pair_up_and_errors_find_their_row() {
        let form = AddressForm::parse(&pairs(&[
            ("postfach", "a@b.de"),
            ("kontakt_email", "x@y.de"),
            ("kontakt_name", "X"),
            ("kontakt_email", ""),
            ("kontakt_name", ""),
            ("kontakt_email", "kaputt"),
            ("kontakt_name", ""),
        ]));
        assert_eq!(form.contacts.len(), 3);
        let rows: Vec<usize> = form.filled().iter().map(|(row, _)| *row).collect();
        assert_eq!(rows, [0, 2]);
        assert_eq!(contact_field("/contacts/1/email", &rows), "kontakt-2-email");
        assert_eq!(contact_field("/head", &rows), "leitung");
    }
}
