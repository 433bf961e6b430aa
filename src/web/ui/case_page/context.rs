//! The case page's template context, built section by section in the order the page shows
//! them: the case, its progress, the active steps, the actions, the data form with the
//! messages about the last form, documents and Vermerke, Wiedervorlagen and Zuständigkeit,
//! the Beteiligung and the journal.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use serde_json::{Value, json};

use super::super::form::{self, Choices};
use super::super::{Session, layout};
use super::{
    Loaded, Overrides, actor_de, date_de, field_labels, journal_item, reason, reminders_de, since,
    size_de, status_de, status_invitation_de, time_de, title_of,
};
use crate::auth::{CaseScope, Permission};
use crate::engine::definition::{Definition, Step};
use crate::engine::{Refusal, available_actions, editors};
use crate::service::beteiligung;
use crate::service::further_participant;

/// What every section reads: the user, the case and what was loaded with it.
struct Page<'a> {
    session: &'a Session,
    loaded: &'a Loaded,
    definition: &'a Definition,
    scope: CaseScope,
    running: bool,
    /// Organisations' designations by key, for the journal and the documents.
    names: HashMap<&'a str, Cow<'a, str>>,
}

impl Page<'_> {
    /// Whether the user may do `permission` on this case.
    fn may(&self, permission: Permission) -> bool {
        self.session
            .authorize(permission, Some(&self.scope))
            .is_ok()
    }

    /// Whether the user may take the workflow's actions now.
    fn may_act(&self) -> bool {
        self.may(Permission::TakeAction) && self.running
    }
}

/// The whole context of the case page, with what the re-rendering form changes (`overrides`).
pub(super) fn context(session: &Session, loaded: &Loaded, overrides: Overrides) -> Value {
    let case = &loaded.case;
    let page = Page {
        session,
        loaded,
        definition: case.workflow.definition(),
        scope: CaseScope {
            applicant: case.row.applicant_id,
            submitted: case.row.submitted_at.is_some(),
        },
        running: case.row.status == "running",
        names: loaded
            .organisations
            .iter()
            .map(|o| (o.key.as_str(), o.designation()))
            .collect(),
    };
    let mut context = layout(&case.row.aktenzeichen, Some(session), None);
    facts(&page, &mut context);
    progress(&page, &mut context);
    active_steps(&page, &mut context);
    actions(&page, &mut context);
    data_form(&page, &overrides, &mut context);
    messages(&page, &overrides, &mut context);
    documents_and_notes(&page, &overrides, &mut context);
    follow_ups_and_assignment(&page, &overrides, &mut context);
    consultation(&page, &mut context);
    // After the sections whose links point into the data form.
    super::sections::fold(&mut context, &overrides.open_fields);
    // Journal, newest first.
    context["journal"] = json!(
        loaded
            .journal
            .iter()
            .rev()
            .map(|e| journal_item(e, page.definition, &page.names, &loaded.workflows))
            .collect::<Vec<_>>()
    );
    context
}

/// The case itself, and the cases linked to it.
fn facts(page: &Page<'_>, context: &mut Value) {
    let loaded = page.loaded;
    let case = &loaded.case;
    let workflow = &case.workflow;
    context["fall"] = json!({
        "id": case.row.id.0,
        "aktenzeichen": case.row.aktenzeichen,
        "verfahren": workflow.title,
        "workflow": workflow.key(),
        "workflow_version": workflow.version,
        "neuere_version": loaded.newer_version,
        "antragsteller": loaded.applicant.designation(),
        "status": status_de(page.definition, &case.row.status, case.row.outcome.as_deref()),
        "version": case.row.version,
        "angelegt": time_de(case.row.created_at),
    });
    context["bezug"] = loaded.links.clone();
}

/// Progress: the workflow's steps where people wait, in definition order, and the diagram.
fn progress(page: &Page<'_>, context: &mut Value) {
    let loaded = page.loaded;
    let active: BTreeSet<&str> = loaded
        .case
        .instance
        .active_steps()
        .map(|t| t.step.as_str())
        .collect();
    // A step the case was withdrawn from was not done, only left.
    let passed: BTreeSet<&str> = loaded
        .journal
        .iter()
        .filter(|e| e.kind == "step_left")
        .filter(|e| e.payload.get("via").and_then(Value::as_str) != Some("withdrawn"))
        .filter_map(|e| e.payload.get("step").and_then(Value::as_str))
        .collect();
    context["schritte"] = json!(
        page.definition
            .steps
            .iter()
            .filter(|(_, step)| !matches!(
                step,
                Step::Decision(_) | Step::Parallel(_) | Step::Join(_)
            ))
            .map(|(name, step)| json!({
                "titel": step.title(),
                "aktuell": active.contains(name.as_str()),
                "erledigt": passed.contains(name.as_str()) && !active.contains(name.as_str()),
            }))
            .collect::<Vec<_>>()
    );

    // The same in the diagram, which also shows branches and loops. Generated from the
    // definition, its titles escaped by the generator, so the template inserts it as markup.
    context["ablaufdiagramm"] = json!(crate::render::diagram::workflow_svg_marked(
        page.definition,
        &crate::render::diagram::Marks {
            current: active,
            done: passed,
        },
    ));
}

/// Active steps with their deadline (and why it falls on that day).
fn active_steps(page: &Page<'_>, context: &mut Value) {
    let (loaded, definition) = (page.loaded, page.definition);
    let case = &loaded.case;
    let active_steps = crate::web::api::view::active_steps(case);
    context["aktiv"] = json!(
        active_steps
            .iter()
            .map(|step| {
                let reason = loaded
                    .matrix
                    .iter()
                    .find(|row| row.step == step.step && Some(row.deadline) == step.deadline)
                    .and_then(|row| row.deadline_reason.clone());
                // A step waiting for a message offers to record its arrival.
                let message = definition
                    .steps
                    .get(&step.step)
                    .and_then(Step::awaited_message);
                let declared = message.and_then(|name| definition.messages.get(name));
                json!({
                    "titel": step.title,
                    "frist": step.deadline.map(date_de),
                    "frist_grund": reason,
                    "hilfe": definition.steps.get(&step.step).and_then(Step::help),
                    "nachricht": message.map(|name| definition.message_title(name)),
                    "nachricht_hilfe": declared.and_then(|m| m.help.as_deref()),
                    "nachricht_pfad": message.map(|name| super::super::case_message::path(case.row.id, name)),
                    // A message that brings data is recorded on a page of its own.
                    "nachricht_daten": declared.is_some_and(|m| !m.data.is_empty()),
                })
            })
            .collect::<Vec<_>>()
    );
}

/// Actions, with every reason and links to the missing fields; ending and correcting the case.
fn actions(page: &Page<'_>, context: &mut Value) {
    let (loaded, definition) = (page.loaded, page.definition);
    let workflow = &loaded.case.workflow;
    let labels = field_labels(definition);
    let actor = crate::web::api::actor(page.session.principal());
    let actions = available_actions(
        &workflow.workflow,
        &loaded.case.instance,
        &actor,
        &loaded.clock,
    );
    context["darf_handeln"] = json!(page.may_act());
    // Ending the case early is offered to the roles the workflow names, while it runs.
    context["beenden"] = json!(
        definition
            .withdraw
            .as_ref()
            .filter(|w| page.running && page.may(Permission::WithdrawCase) && w.open_to(&actor))
            .map(|w| w.title())
    );
    // The administration mends what the workflow's actions cannot (see `case_relocation`).
    context["korrigieren"] = json!(
        page.may(Permission::RelocateCase) && definition.relocation_targets().next().is_some()
    );
    // The actions of another role's step are named once, with who takes them, instead of each
    // with „Diese Aktion ist der Rolle … vorbehalten“ (the API lists them all).
    let (others, actions): (Vec<_>, Vec<_>) = actions.iter().partition(|a| {
        a.reasons
            .iter()
            .any(|r| matches!(r, Refusal::RoleNotAllowed { .. }))
    });
    let mut elsewhere: Vec<(String, String)> = Vec::new();
    for action in &others {
        let step = title_of(definition, &action.step);
        let Some(role) = definition.steps.get(&action.step).and_then(Step::role) else {
            continue;
        };
        let role = definition.role_title(role).to_string();
        if !elsewhere.contains(&(step.clone(), role.clone())) {
            elsewhere.push((step, role));
        }
    }
    context["bei_anderen"] = json!(
        elsewhere
            .iter()
            .map(|(schritt, rolle)| json!({ "schritt": schritt, "rolle": rolle }))
            .collect::<Vec<_>>()
    );
    // The actions by their step, in the order the steps are active: with two steps active (the
    // concept due while the Schwerpunkte run), an action is read with the step it concludes.
    let mut groups: Vec<(&str, Vec<Value>)> = Vec::new();
    for a in &actions {
        let item = json!({
            "aktion": a.action,
            "schritt": a.step,
            "titel": a.title,
            "moeglich": a.allowed,
            "gruende": a.reasons.iter().map(|r| reason(r, &labels)).collect::<Vec<_>>(),
            "warnungen": a.warnings,
        });
        match groups.iter_mut().find(|(step, _)| *step == a.step.as_str()) {
            Some((_, items)) => items.push(item),
            None => groups.push((a.step.as_str(), vec![item])),
        }
    }
    context["aktionen_je_schritt"] = json!(groups.len() > 1);
    context["aktionen"] = json!(
        groups
            .iter()
            .map(|(step, items)| json!({
                "schritt_titel": title_of(definition, step),
                "eintraege": items,
            }))
            .collect::<Vec<_>>()
    );
}

/// The data form, editable by the roles whose step is active.
fn data_form(page: &Page<'_>, overrides: &Overrides, context: &mut Value) {
    let loaded = page.loaded;
    let case = &loaded.case;
    let choices = Choices {
        organisations: loaded
            .organisations
            .iter()
            .map(|o| (o.key.clone(), o.designation().into_owned()))
            .collect(),
        // The procedure's fields are read by everyone who reads the case: an internal document
        // is not offered there.
        documents: loaded
            .documents
            .iter()
            .filter(|d| d.internal_to.is_none())
            .map(|d| (d.id.to_string(), d.filename.clone()))
            .collect(),
    };
    let data = overrides.data.as_ref().unwrap_or(&case.instance.data);
    // Only the roles whose step is active change the data (the Antrag stays as submitted while
    // the Bewilligungsbehörde examines it).
    let roles = crate::auth::workflow_roles(page.session.principal());
    let workflow = &case.workflow.workflow;
    let (acting, not_at_work) = match editors::at_work(workflow, &case.instance, &roles) {
        Ok(acting) => (acting, None),
        Err(refusal) => (Vec::new(), Some(refusal)),
    };
    let editing = form::Editing {
        definition: page.definition,
        roles: &acting,
    };
    let may_change = page.may(Permission::ChangeCaseData) && page.running;
    context["felder"] = json!(form::render(data, &overrides.errors, &choices, editing));
    context["felder_hinweis"] = json!(form::locked_by_default(editing));
    context["darf_aendern"] = json!(may_change && not_at_work.is_none());
    context["nur_lesen_grund"] = json!(
        not_at_work
            .filter(|_| may_change)
            .map(|refusal| refusal.message().to_string())
    );
}

/// What the last form left to say (errors, a notice, a confirmation, a version conflict), and
/// the mails of the case that did not go out.
fn messages(page: &Page<'_>, overrides: &Overrides, context: &mut Value) {
    let loaded = page.loaded;
    let mut summary: Vec<Value> = overrides
        .errors
        .iter()
        .map(|(pointer, message)| json!({ "ziel": form::field_id(pointer), "meldung": message }))
        .collect();
    summary.extend(
        overrides
            .summary
            .iter()
            .map(|(target, message)| json!({ "ziel": target, "meldung": message })),
    );
    context["nicht_versandt"] = json!(
        loaded
            .undelivered
            .iter()
            .map(|mail| json!({
                "betreff": mail.subject,
                "grund": mail.last_error,
                "zeit": time_de(mail.created_at),
            }))
            .collect::<Vec<_>>()
    );
    context["fehler"] = json!(summary);
    context["meldung"] = json!(overrides.notice);
    context["bestaetigung"] = json!(overrides.confirmation);
    context["konflikt"] = match &overrides.conflict {
        Some(conflict) => json!({
            "aenderungen": conflict.differences,
            "seither": since(
                &loaded.journal,
                conflict.submitted_version,
                loaded.case.row.version,
                page.definition,
                &page.names,
                &loaded.workflows,
            ),
        }),
        None => Value::Null,
    };
}

/// Documents, the upload and the Vermerk forms.
fn documents_and_notes(page: &Page<'_>, overrides: &Overrides, context: &mut Value) {
    let loaded = page.loaded;
    context["dokumente"] = json!(
        loaded
            .documents
            .iter()
            .map(|d| json!({
                "id": d.id,
                "name": d.filename,
                "von": actor_de(&d.uploaded_by, &page.names),
                "am": time_de(d.created_at),
                "groesse": size_de(d.size),
                "fuer_beteiligte": d.partner_visible,
                "intern": d.internal_to.is_some(),
            }))
            .collect::<Vec<_>>()
    );
    context["dokumente_anzahl"] = json!(loaded.documents.len());
    context["darf_hochladen"] = json!(page.may(Permission::UploadDocument));
    context["upload_fehler"] = json!(overrides.upload_error);
    context["darf_vermerken"] = json!(page.may(Permission::AddNote));
    context["vermerk_text"] = json!(overrides.note);
    context["vermerk_fehler"] = json!(overrides.note_error);
    context["vermerk_intern"] = json!(overrides.note_internal);
    context["dokument_intern"] = json!(overrides.document_internal);
    context["dokument_fuer_beteiligte"] = json!(overrides.document_partner_visible);
}

/// The user's organisation's Wiedervorlagen and who works on the case there.
fn follow_ups_and_assignment(page: &Page<'_>, overrides: &Overrides, context: &mut Value) {
    let loaded = page.loaded;
    let principal = page.session.principal();
    context["wiedervorlagen"] = json!(
        loaded
            .follow_ups
            .iter()
            .map(|f| json!({
                "id": f.id,
                "datum": date_de(f.due),
                "iso": f.due.format("%Y-%m-%d").to_string(),
                "anlass": f.reason,
                "von": f.set_by,
            }))
            .collect::<Vec<_>>()
    );
    context["wiedervorlagen_anzahl"] = json!(loaded.follow_ups.len());
    let (tag, anlass) = overrides.follow_up.clone().unwrap_or_default();
    context["wv"] = json!({ "tag": tag, "anlass": anlass });
    context["wv_fehler"] = json!(overrides.follow_up_errors);
    context["heute_iso"] = json!(loaded.clock.today.format("%Y-%m-%d").to_string());

    let assigned = loaded.assignment.as_ref().map(|a| a.email.as_str());
    context["zustaendig"] = json!(loaded.assignment.as_ref().map(|a| json!({
        "name": a.name,
        "seit": super::super::start::german_time(a.since),
        "von": a.by,
        "aktiv": a.active,
        "abwesend": loaded.assignee_absence.as_ref().map(|(absence, covering)| json!({
            "bis": date_de(absence.until),
            "vertretung": covering.name,
        })),
    })));
    context["zustaendig_auswahl"] = json!(
        loaded
            .assignable
            .iter()
            .map(|c| json!({
                "email": c.email,
                "name": c.name,
                "gewaehlt": Some(c.email.as_str()) == assigned,
            }))
            .collect::<Vec<_>>()
    );
    // „Mir zuweisen“ for someone who may be responsible and is not yet.
    context["mir_zuweisen"] = json!(
        (assigned != Some(principal.email.as_str())
            && loaded.assignable.iter().any(|c| c.email == principal.email))
        .then_some(&principal.email)
    );
    context["zustaendig_fehler"] = json!(overrides.assignment_error);
}

/// The Beteiligung: the matrix of invitations with what the coordinating role may do in each
/// row, and the consultations running now.
fn consultation(page: &Page<'_>, context: &mut Value) {
    let loaded = page.loaded;
    let case = &loaded.case;
    // Offered to the role coordinating a consultation, which alone decides about it.
    let roles = crate::auth::workflow_roles(page.session.principal());
    let coordinated: Vec<further_participant::Running> = if page.may_act() {
        further_participant::running(&case.workflow.workflow, &case.instance)
            .into_iter()
            .filter(|r| roles.contains(&r.role))
            .collect()
    } else {
        Vec::new()
    };
    let coordinates = |step: &str| coordinated.iter().any(|r| r.step == step);
    // A deadline all participants share (the usual case) is said once above the table, with
    // its reason, instead of in every row.
    let shared_deadline = loaded.matrix.first().filter(|first| {
        loaded.matrix.len() > 1
            && loaded.matrix.iter().all(|row| {
                (row.deadline, &row.deadline_reason) == (first.deadline, &first.deadline_reason)
            })
    });
    context["beteiligung_frist"] = json!(shared_deadline.map(|row| json!({
        "frist": date_de(row.deadline),
        "frist_grund": row.deadline_reason,
    })));
    context["beteiligung"] = json!(
        loaded
            .matrix
            .iter()
            .map(|row| json!({
                "einladung": row.invitation,
                "organisation": row.organisation_name,
                "eingeladen": time_de(row.invited_at),
                "frist": date_de(row.deadline),
                "frist_grund": if shared_deadline.is_some() { None } else { row.deadline_reason.as_deref() },
                "erinnerungen": reminders_de(row.reminders_sent),
                // Open past its own deadline: the consultation waits for another partner whose
                // deadline was extended; this one can no longer answer through its link.
                "status": match (row.status.as_str(), row.closed_at) {
                    ("open", _) if row.deadline < loaded.clock.today => "offen, Frist abgelaufen".to_string(),
                    ("withdrawn", Some(at)) => format!("zurückgenommen am {}", time_de(at)),
                    (status, _) => status_invitation_de(status).to_string(),
                },
                "beantwortet": row.answered_at.map(time_de),
                "eingegangen": row.received_on.map(|day| day.format("%d.%m.%Y").to_string()),
                "votum": row.votum.as_deref().and_then(beteiligung::parse_votum).map(beteiligung::votum_de),
                "verspaetet": row.late,
                "fassungen": (row.versions > 1).then(|| format!("{} Fassungen", row.versions)),
                // Resending makes sense while the link can still be answered.
                "offen": row.status == "open" && row.deadline >= loaded.clock.today,
                // Also once the deadline has passed (§ 31 (7) sentence 2 VwVfG NRW), and for an
                // answer in time, which the partner may then amend until the new day.
                "verlaengerbar": beteiligung::deadline_extendable(&row.status, row.late, row.closed_at) && coordinates(&row.step),
                // The partner's pending request, with the form filled in with the day it asked for.
                "erbeten": row.extension_request.as_ref().filter(|_| row.status == "open").map(|request| json!({
                    "bis": date_de(request.until),
                    "grund": request.reason,
                    "name": request.name,
                    "frist_iso": request.until.format("%Y-%m-%d").to_string(),
                })),
                // The partner's pending notice that it is not competent; the withdrawal form is
                // filled in with it.
                "nicht_zustaendig": row.responsibility_notice.as_ref().filter(|_| row.status == "open").map(|notice| json!({
                    "grund": notice.reason,
                    "zustaendig": notice.competent,
                    "name": notice.name,
                })),
                // Sent to the wrong body: withdrawn while it is open, by the coordinating role.
                "zuruecknehmbar": row.status == "open" && coordinates(&row.step),
                // A letter that came by the deadline can be entered after the consultation closed.
                "erfassbar": matches!(row.status.as_str(), "open" | "expired"),
            }))
            .collect::<Vec<_>>()
    );
    // The consultations running now, each with a link to invite a further partner.
    context["beteiligung_laufend"] = json!(
        coordinated
            .iter()
            .map(|r| json!({ "schritt": r.step, "titel": r.title }))
            .collect::<Vec<_>>()
    );
    context["beteiligung_mehrere"] = json!(coordinated.len() > 1);
    // The action column only where a row offers an action (an unanswered invitation), so that
    // a Beteiligung everyone answered shows its answers without an empty column.
    context["beteiligung_aktion"] = json!(
        page.may_act()
            && loaded
                .matrix
                .iter()
                .any(|row| matches!(row.status.as_str(), "open" | "expired"))
    );
}
