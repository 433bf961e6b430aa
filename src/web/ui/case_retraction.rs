//! Ending a whole case early on its page (`/vorgaenge/{id}/zurueckziehen`): the office withdraws
//! the Antrag, or ends the Begleitung of a KI, with the reason for the file (the workflow's
//! `withdraw`, `service::cases::withdraw`). The form first says what ends with the case (its
//! steps and Fristen, the open Beteiligungen, whose partners are told) and what stays in the file.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;

use super::case_actions::{bad_version, form_facts, run_case_command};
use super::{CsrfForm, Session, UiSession, layout, render};
use crate::auth::Permission;
use crate::db::models::{CaseId, Organisation};
use crate::db::schema::{invitations, organisations};
use crate::db::{Database, DbConnection};
use crate::engine::data::DataError;
use crate::service::extension::required_reason;
use crate::service::{ServiceError, cases};
use crate::web::api::ApiState;
use crate::web::api::cases::permitted_row;

/// The form as submitted (kept to show it again next to its error).
#[derive(Debug, Default, Deserialize)]
pub struct Input {
    grund: Option<String>,
    version: Option<String>,
}

/// What the form names about the case it would end.
struct Ending {
    aktenzeichen: String,
    /// The case's version when the form was loaded: a change since is a conflict, not lost.
    version: i64,
    /// The command as the workflow names it („Antrag zurückziehen“).
    title: String,
    /// How the ended case will read („Zurückgezogen“).
    outcome: String,
    /// Titles of the steps that end.
    steps: Vec<String>,
    /// The partners asked for a Stellungnahme that is still open: they get a mail.
    partners: Vec<String>,
}

/// Case `id` as the form shows it, for someone who may withdraw it; a case that has ended, a
/// workflow without `withdraw` or a user without its role is refused with why (the engine
/// decides again when the form is sent).
fn load(
    conn: &mut DbConnection,
    api: &ApiState,
    session: &Session,
    id: CaseId,
) -> Result<Ending, ServiceError> {
    let principal = session.principal();
    let row = permitted_row(conn, principal, Permission::WithdrawCase, id)?;
    let case = cases::from_row(conn, api.case_context().registry, row)?;
    let definition = case.workflow.definition();
    if case.row.status != "running" {
        return Err(ServiceError::Unprocessable(
            "Der Vorgang ist bereits beendet.".into(),
        ));
    }
    let Some(withdraw) = &definition.withdraw else {
        return Err(ServiceError::Unprocessable(
            "Vorgänge dieses Verfahrens lassen sich nicht vorzeitig beenden.".into(),
        ));
    };
    let actor = crate::web::api::actor(principal);
    if !withdraw.open_to(&actor) {
        let roles: Vec<&str> = withdraw
            .roles
            .iter()
            .map(|role| definition.role_title(role))
            .collect();
        return Err(ServiceError::Unprocessable(format!(
            "„{}“ ist der Rolle {} vorbehalten.",
            withdraw.title(),
            roles.join(" oder ")
        )));
    }
    // The invitations still open, with their partners, in one query.
    let partners: Vec<Organisation> = invitations::table
        .inner_join(organisations::table)
        .filter(invitations::case_id.eq(id.0))
        .filter(invitations::status.eq("open"))
        .order(invitations::id)
        .select(Organisation::as_select())
        .load(conn)?;
    Ok(Ending {
        aktenzeichen: case.row.aktenzeichen.clone(),
        version: case.row.version,
        title: withdraw.title().to_string(),
        outcome: withdraw.outcome_title().to_string(),
        steps: case
            .instance
            .active_steps()
            .map(|token| definition.step_title(&token.step).to_string())
            .collect(),
        partners: partners
            .iter()
            .map(|o| o.designation().into_owned())
            .collect(),
    })
}

fn page(
    api: &ApiState,
    session: &Session,
    status: StatusCode,
    (id, ending): (CaseId, &Ending),
    input: &Input,
    errors: &[DataError],
) -> HttpResponse {
    let mut context = layout(
        &format!("{}: {}", ending.title, ending.aktenzeichen),
        Some(session),
        Some("/vorgaenge"),
    );
    context["fall"] = json!({ "id": id.0, "aktenzeichen": ending.aktenzeichen });
    context["titel"] = json!(ending.title);
    context["ergebnis"] = json!(ending.outcome);
    context["schritte"] = json!(ending.steps);
    context["stellen"] = json!(ending.partners);
    context["version"] = json!(ending.version);
    context["eingabe"] = json!({ "grund": input.grund.as_deref().unwrap_or_default() });
    super::form::data_errors(&mut context, &["grund"], errors);
    render(api, status, "vorgang_zurueckziehen", &context)
}

/// `GET /vorgaenge/{id}/zurueckziehen`: the form, saying what ends and what stays.
pub async fn form(
    session: UiSession,
    path: web::Path<i64>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let session = session.into_inner();
    let id = CaseId(path.into_inner());
    let found = form_facts(&db, &api, &session, id, move |conn, api, reader| {
        load(conn, api, reader, id)
    });
    match found.await {
        Ok(ending) => page(
            &api,
            &session,
            StatusCode::OK,
            (id, &ending),
            &Input::default(),
            &[],
        ),
        Err(answer) => answer,
    }
}

/// `POST /vorgaenge/{id}/zurueckziehen`: ends the case at the version the form was loaded with,
/// then back to the case page; without a reason the form comes back with the error at its
/// field, and a case changed since gives the conflict page: nothing changed in either case.
pub async fn submit(
    path: web::Path<i64>,
    form: CsrfForm<Input>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let CsrfForm {
        session,
        form: input,
        ..
    } = form;
    let id = CaseId(path.into_inner());
    let Some(version) = input.version.as_deref().and_then(|v| v.trim().parse().ok()) else {
        return bad_version(&api, &session);
    };
    let reason = match required_reason(
        input.grund.as_deref(),
        "Bitte geben Sie an, warum der Vorgang beendet wird.",
    ) {
        Ok(reason) => reason,
        Err(errors) => {
            let found = form_facts(&db, &api, &session, id, move |conn, api, reader| {
                load(conn, api, reader, id)
            });
            return match found.await {
                Ok(ending) => page(
                    &api,
                    &session,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    // Sent again, it still ends only the case the user looked at.
                    (id, &Ending { version, ..ending }),
                    &input,
                    &errors,
                ),
                Err(answer) => answer,
            };
        }
    };
    let command = (id, version, Permission::WithdrawCase);
    run_case_command(&db, &api, &session, command, "beendet", {
        move |conn, ctx, call| cases::withdraw(conn, ctx, id, version, Some(reason), call)
    })
    .await
}
