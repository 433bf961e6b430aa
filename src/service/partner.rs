//! What a consulted partner sees and does through its personal link: the page data (only what
//! the workflow marks as visible to partners), answering, and its documents. The partner has no
//! account; the link (see [`super::partner_link`]) is its only credential.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::ServiceError;
use super::beteiligung::{self, InvitationRow, parse_votum, votum_de, votum_key};
use super::cases::{self, CaseContext};
pub use super::data_summary::SummaryLine;
use super::data_summary::{Readers, References, summary};
use super::documents as documents_service;
use super::mail::weekday_de;
use crate::db::models::{CaseId, Organisation};
use crate::db::schema::documents as document_rows;
use crate::db::{DbConnection, write_transaction};
use crate::documents::{self, Document, NewDocument};
use crate::engine::definition::Step;
use crate::engine::instance::{Answer, LocalId, Votum};
use crate::engine::{Actor, Clock, Event, step};
use crate::journal;

/// The partner's answer as submitted (form or API).
#[derive(Debug, Clone)]
pub struct PartnerAnswer {
    pub votum: Votum,
    pub text: String,
    /// Name of the person answering.
    pub name: String,
    /// Their function (e.g. „Schulrätin“).
    pub function: String,
}

/// A field error of a submitted answer: which form field, what is wrong (German).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON pointer of the field (`/votum`, `/stellungnahme`, `/name`, `/funktion`, `/anhang`).
    pub pointer: String,
    pub message: String,
}

/// Who fills in an answer's fields, and so whom its error messages address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answering {
    /// The partner itself, through its link: „Bitte wählen Sie Ihr Votum.“
    Partner,
    /// The office, for a Stellungnahme that came another way: „… das Votum der Stelle.“
    Office,
}

/// Checks the submitted fields; every problem at once.
pub fn check_answer(
    votum: Option<&str>,
    text: &str,
    name: &str,
    function: &str,
) -> Result<PartnerAnswer, Vec<FieldError>> {
    check_fields(votum, text, name, function, Answering::Partner)
}

/// The fields of a Stellungnahme the office enters for a partner, as typed (form or API).
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordedFields<'a> {
    pub votum: Option<&'a str>,
    pub stellungnahme: &'a str,
    pub name: &'a str,
    pub funktion: &'a str,
    /// How it came: `post`, `email`, `telefon` or `persoenlich`.
    pub eingang: Option<&'a str>,
    /// The day it reached the office (`JJJJ-MM-TT` or `TT.MM.JJJJ`); absent means today.
    pub eingegangen_am: Option<&'a str>,
}

/// A checked Stellungnahme the office enters for a partner ([`record_for_partner`]).
#[derive(Debug, Clone)]
pub struct RecordedAnswer {
    pub answer: PartnerAnswer,
    pub channel: Channel,
    /// The day it reached the office, which decides whether it was in time.
    pub received_on: NaiveDate,
}

/// Checks a Stellungnahme the office enters for a partner: the partner's fields, worded for the
/// office, how it came, and the day it came, which can be neither after `today` nor before the
/// invitation (`invited_on`); every problem at once.
pub fn check_recorded_answer(
    fields: RecordedFields<'_>,
    today: NaiveDate,
    invited_on: NaiveDate,
) -> Result<RecordedAnswer, Vec<FieldError>> {
    let answer = check_fields(
        fields.votum,
        fields.stellungnahme,
        fields.name,
        fields.funktion,
        Answering::Office,
    );
    let channel = fields.eingang.map(str::trim).and_then(Channel::parse);
    let received_on = received_on(fields.eingegangen_am, today, invited_on);
    match (answer, channel, received_on) {
        (Ok(answer), Some(channel), Ok(received_on)) => Ok(RecordedAnswer {
            answer,
            channel,
            received_on,
        }),
        (answer, channel, received_on) => {
            let mut errors = answer.err().unwrap_or_default();
            if channel.is_none() {
                errors.push(FieldError {
                    pointer: "/eingang".into(),
                    message: "Bitte geben Sie an, wie die Stellungnahme eingegangen ist.".into(),
                });
            }
            if let Err(message) = received_on {
                errors.push(FieldError {
                    pointer: "/eingegangen_am".into(),
                    message,
                });
            }
            Err(errors)
        }
    }
}

/// The day of receipt as typed, or what is wrong with it.
fn received_on(
    typed: Option<&str>,
    today: NaiveDate,
    invited_on: NaiveDate,
) -> Result<NaiveDate, String> {
    let Some(typed) = typed.map(str::trim) else {
        return Ok(today);
    };
    if typed.is_empty() {
        return Err("Bitte geben Sie an, an welchem Tag die Stellungnahme eingegangen ist.".into());
    }
    let day = crate::frist::parse_day(typed).ok_or_else(|| {
        "Bitte geben Sie den Tag des Eingangs als Datum an, zum Beispiel 01.04.2026.".to_string()
    })?;
    if day > today {
        Err("Der Tag des Eingangs liegt in der Zukunft; bitte geben Sie den Tag an, an dem die Stellungnahme eingegangen ist.".into())
    } else if day < invited_on {
        Err(format!(
            "Die Stellungnahme kann nicht vor der Einladung vom {} eingegangen sein.",
            invited_on.format("%d.%m.%Y")
        ))
    } else {
        Ok(day)
    }
}

fn check_fields(
    votum: Option<&str>,
    text: &str,
    name: &str,
    function: &str,
    answering: Answering,
) -> Result<PartnerAnswer, Vec<FieldError>> {
    let office = answering == Answering::Office;
    let mut errors = Vec::new();
    let error = |pointer: &str, message: &str| FieldError {
        pointer: pointer.into(),
        message: message.into(),
    };
    let votum = match votum.map(str::trim).filter(|v| !v.is_empty()) {
        None => {
            errors.push(error(
                "/votum",
                if office {
                    "Bitte wählen Sie das Votum der Stelle."
                } else {
                    "Bitte wählen Sie Ihr Votum."
                },
            ));
            None
        }
        Some(v) => match parse_votum(v) {
            Some(votum) => Some(votum),
            None => {
                errors.push(error(
                    "/votum",
                    "Bitte wählen Sie eines der angebotenen Voten.",
                ));
                None
            }
        },
    };
    let text = text.trim().replace("\r\n", "\n");
    if matches!(votum, Some(Votum::Bedenken | Votum::ZustimmungMitHinweisen)) && text.is_empty() {
        errors.push(error(
            "/stellungnahme",
            if office {
                "Bitte geben Sie die Begründung des Votums in der Stellungnahme an."
            } else {
                "Bitte begründen Sie Ihr Votum in der Stellungnahme."
            },
        ));
    }
    if text.chars().count() > 20_000 {
        errors.push(error(
            "/stellungnahme",
            if office {
                "Die Stellungnahme ist zu lang (höchstens 20.000 Zeichen); bitte fügen Sie das Schreiben als Dokument des Vorgangs hinzu."
            } else {
                "Die Stellungnahme ist zu lang (höchstens 20.000 Zeichen); bitte fügen Sie längere Ausführungen als Anhang bei."
            },
        ));
    }
    let name = name.trim();
    if name.is_empty() {
        errors.push(error(
            "/name",
            "Bitte geben Sie an, wer die Stellungnahme abgibt.",
        ));
    } else if name.chars().count() > 200 {
        errors.push(error(
            "/name",
            "Der Name ist zu lang (höchstens 200 Zeichen).",
        ));
    }
    let function = function.trim();
    if function.chars().count() > 200 {
        errors.push(error(
            "/funktion",
            "Die Funktion ist zu lang (höchstens 200 Zeichen).",
        ));
    }
    match (votum, errors.is_empty()) {
        (Some(votum), true) => Ok(PartnerAnswer {
            votum,
            text,
            name: name.to_string(),
            function: function.to_string(),
        }),
        _ => Err(errors),
    }
}

/// A document the partner may download.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartnerDocument {
    pub id: i64,
    pub filename: String,
    pub content_type: String,
    /// Human-readable size (`1,2 MB`).
    pub size: String,
}

/// One stored version of the partner's answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AnswerVersionView {
    pub version: i32,
    /// Stored name (`zustimmung_mit_hinweisen`).
    pub votum: String,
    /// German label.
    pub votum_label: String,
    pub text: String,
    pub answered_by: String,
    pub late: bool,
    /// German local time.
    pub at: String,
    /// Attached document, if any.
    pub attachment: Option<PartnerDocument>,
}

/// Everything the partner page shows; also the JSON of `/api/v1/beteiligung/{token}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartnerPage {
    pub aktenzeichen: String,
    pub verfahren: String,
    /// Who asks (the applicant organisation).
    pub antragsteller: String,
    /// The consultation step's title.
    pub schritt: String,
    /// What is asked.
    pub frage: String,
    /// The invited organisation.
    pub organisation: String,
    /// Deadline as `TT.MM.JJJJ`.
    pub frist: String,
    /// Its weekday.
    pub frist_wochentag: String,
    /// Why the deadline is that day, when it was moved.
    pub frist_begruendung: Option<String>,
    /// `offen`, `beantwortet` or `abgeschlossen`.
    pub status: String,
    /// Whether an answer (or amendment) is accepted now.
    pub kann_antworten: bool,
    /// Whether an answer now would be recorded as late.
    pub verspaetet: bool,
    /// Why the page is read-only, when it is.
    pub hinweis: Option<String>,
    /// Case data the workflow shows to partners.
    pub angaben: Vec<SummaryLine>,
    /// Documents shared with partners.
    pub dokumente: Vec<PartnerDocument>,
    /// The partner's answer versions, newest last.
    pub antworten: Vec<AnswerVersionView>,
    /// Whether the partner may ask for more time now: it has not answered, and its deadline
    /// has not passed.
    pub kann_verlaengerung_erbitten: bool,
    /// Its pending request for more time, while the office has not extended the deadline.
    pub verlaengerung_erbeten: Option<RequestedView>,
    /// Whether the partner may tell the office now that it is not competent: it has not
    /// answered, the invitation is not withdrawn, its deadline has not passed.
    pub kann_zustaendigkeit_melden: bool,
    /// Its pending notice that it is not competent, while the office has not withdrawn.
    pub nicht_zustaendig_gemeldet: Option<ReportedView>,
}

/// A pending notice that the partner is not competent, as the partner's page shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportedView {
    pub grund: String,
    /// The body the partner named as competent instead.
    pub zustaendig: Option<String>,
    /// Who wrote it.
    pub name: String,
    /// When, `TT.MM.JJJJ, HH:MM Uhr` (Berlin).
    pub am: String,
}

/// A pending request for more time, as the partner's page shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestedView {
    /// The day asked for, `TT.MM.JJJJ`.
    pub bis: String,
    pub grund: String,
    /// Who asked.
    pub name: String,
    /// When, `TT.MM.JJJJ, HH:MM Uhr` (Berlin).
    pub am: String,
}

/// Loads the page data of an invitation; `today` decides whether answering is still possible.
pub fn page(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    invitation: i64,
    clock: &Clock,
) -> Result<PartnerPage, ServiceError> {
    let row = InvitationRow::find(conn, invitation)?.ok_or_else(gone)?;
    let cases::LoadedCase {
        row: case,
        instance,
        workflow,
    } = cases::load(conn, ctx.registry, CaseId(row.case_id))?;
    let organisation = Organisation::find(conn, row.organisation_id)?.ok_or_else(gone)?;
    let definition = workflow.definition();
    let (schritt, frage) = match workflow.workflow.step(&row.step) {
        Some(Step::Consultation(c)) => (c.title.clone(), c.question.clone()),
        Some(other) => (other.title().to_string(), String::new()),
        None => (row.step.clone(), String::new()),
    };
    // Whether the engine would take an answer now: a dry run of the real command.
    let probe = Answer {
        votum: Votum::KeineStellungnahme,
        text: String::new(),
        answered_by: String::from("-"),
        attachment: None,
        received_on: None,
    };
    let trial = step(
        &workflow.workflow,
        &instance,
        Event::Answer {
            invitation: LocalId(row.local_id as u64),
            answer: probe,
        },
        clock,
    );
    let (kann_antworten, verspaetet, hinweis) = match &trial {
        Ok(outcome) => {
            let late = outcome.journal.iter().any(|entry| {
                matches!(
                    entry,
                    crate::engine::JournalEntry::AnswerRecorded { late: true, .. }
                )
            });
            let note = late.then(|| {
                "Die Frist ist abgelaufen. Das Verfahren nimmt Ihre Stellungnahme dennoch entgegen; sie wird als verspätet vermerkt.".to_string()
            });
            (true, late, note)
        }
        Err(error) => (false, false, Some(read_only_reason(error, &row))),
    };
    // Neither answered nor closed nor withdrawn, in a running case.
    let open = row.status == "open" && row.closed_at.is_none() && case.status == "running";
    let status = match row.status.as_str() {
        "answered" if row.closed_at.is_none() => "beantwortet",
        "open" => "offen",
        _ => "abgeschlossen",
    };
    // Every document of the case, once: the shared ones are listed, an answer's attachment is
    // shown to its author, and the data's references are named (see [`References`]).
    let case_documents = case_documents(conn, row.case_id)?;
    let dokumente = case_documents
        .iter()
        .filter(|(_, shared)| *shared)
        .map(|(document, _)| document.clone())
        .collect();
    let mut antworten = Vec::new();
    for version in beteiligung::answer_versions(conn, row.id)? {
        let attachment = version.document_id.and_then(|id| {
            case_documents
                .iter()
                .find(|(document, _)| document.id == id)
                .map(|(document, _)| document.clone())
        });
        antworten.push(AnswerVersionView {
            version: version.version,
            votum_label: parse_votum(&version.votum)
                .map(votum_de)
                .unwrap_or_default()
                .to_string(),
            votum: version.votum,
            text: version.text,
            answered_by: version.answered_by,
            late: version.late,
            at: super::clock::berlin_time_de(version.created_at.and_utc()),
            attachment,
        });
    }
    Ok(PartnerPage {
        aktenzeichen: case.aktenzeichen,
        verfahren: definition.title.clone(),
        antragsteller: instance.applicant.designation().into_owned(),
        schritt,
        frage,
        organisation: organisation.designation().into_owned(),
        frist: row.deadline.format("%d.%m.%Y").to_string(),
        frist_wochentag: weekday_de(row.deadline).to_string(),
        frist_begruendung: row.deadline_reason.clone(),
        status: status.to_string(),
        kann_antworten,
        verspaetet,
        hinweis,
        angaben: summary(
            &definition.data,
            &instance.data,
            &References::load(
                conn,
                Readers::Partners,
                case_documents.iter().map(|(document, shared)| {
                    (document.id, shared.then(|| document.filename.clone()))
                }),
                &definition.data,
                &instance.data,
            )?,
        ),
        dokumente,
        antworten,
        kann_verlaengerung_erbitten: kann_antworten && !verspaetet && row.status == "open",
        // Pending while the partner may still answer; afterwards there is nothing to decide.
        verlaengerung_erbeten: super::extension_request::pending(conn, row.id)?
            .filter(|_| row.status == "open" && row.closed_at.is_none())
            .map(|p| RequestedView {
                bis: p.requested_until.format("%d.%m.%Y").to_string(),
                grund: p.reason,
                name: p.requested_by,
                am: super::clock::berlin_time_de(p.requested_at.and_utc()),
            }),
        kann_zustaendigkeit_melden: open && row.deadline >= clock.today,
        nicht_zustaendig_gemeldet: super::responsibility_notice::pending(conn, row.id)?
            .filter(|_| open)
            .map(|n| ReportedView {
                grund: n.reason,
                zustaendig: n.competent,
                name: n.reported_by,
                am: super::clock::berlin_time_de(n.reported_at.and_utc()),
            }),
    })
}

fn gone() -> ServiceError {
    ServiceError::NotFound("Diese Beteiligung gibt es nicht mehr.".into())
}

fn read_only_reason(error: &crate::engine::EngineError, row: &InvitationRow) -> String {
    use crate::engine::EngineError;
    match error {
        EngineError::DeadlinePassed(date) => format!(
            "Die Frist ist am {date} abgelaufen. Eine Stellungnahme kann nicht mehr abgegeben werden; Sie können diese Seite noch lesen."
        ),
        EngineError::InvitationClosed(_) if row.status == "answered" => {
            "Die Beteiligung ist abgeschlossen. Ihre Stellungnahme liegt vor; sie kann nicht mehr geändert werden.".to_string()
        }
        EngineError::InvitationClosed(_) | EngineError::NotRunning => {
            "Die Beteiligung ist abgeschlossen; eine Stellungnahme ist nicht mehr möglich.".to_string()
        }
        other => other.to_string(),
    }
}

/// Records the partner's answer (with an optional attachment already stored as a blob) in one
/// transaction: the document row, the engine command, the answer version, the confirmation mail.
pub fn answer(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    invitation: i64,
    input: PartnerAnswer,
    attachment: Option<(crate::documents::StoredBlob, String)>,
    clock: &Clock,
) -> Result<(), ServiceError> {
    write_transaction(conn, |conn| {
        let row = InvitationRow::find(conn, invitation)?.ok_or_else(gone)?;
        let organisation = Organisation::find(conn, row.organisation_id)?.ok_or_else(gone)?;
        let actor = Actor {
            id: format!("beteiligung:{}", organisation.key),
            roles: Vec::new(),
        };
        let answered_by = answered_by(&input);
        let call = cases::Invocation {
            actor: &actor,
            clock,
            check: &|_| Ok(()),
        };
        record(
            conn,
            ctx,
            &row,
            input,
            (answered_by, None),
            attachment,
            call,
        )
    })
}

/// How a Stellungnahme reached the office when the partner did not use its link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// A letter.
    Post,
    /// An e-mail (a reply to the invitation, say).
    Email,
    /// By phone, noted by the office.
    Telefon,
    /// In person, in a meeting.
    Persoenlich,
}

impl Channel {
    /// Every channel with its form value and German label, for the form's choice.
    pub const ALL: [(Channel, &'static str, &'static str); 4] = [
        (Channel::Post, "post", "per Post"),
        (Channel::Email, "email", "per E-Mail"),
        (Channel::Telefon, "telefon", "telefonisch"),
        (Channel::Persoenlich, "persoenlich", "persönlich"),
    ];

    /// The channel of a form value.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(_, key, _)| *key == value)
            .map(|(channel, ..)| *channel)
    }

    /// „per Post“, „telefonisch“ …
    pub fn label(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(channel, ..)| *channel == self)
            .map_or("", |(.., label)| label)
    }
}

/// Records a Stellungnahme that reached the office another way (letter, e-mail, phone) as the
/// partner's answer to its invitation, checked like any command on the case (`check`). It counts
/// as the partner's answer in the matrix and the engine, in time if it reached the office by the
/// deadline, whenever it is entered; who recorded it, how and when it came, stand with the name
/// of the person who gave it, and the journal names the recording user. The partner gets the
/// usual confirmation with the text as recorded, and may still amend it through its link until
/// the deadline.
pub fn record_for_partner(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    case: CaseId,
    invitation: i64,
    recorded: RecordedAnswer,
    call: cases::Invocation<'_>,
) -> Result<(), ServiceError> {
    write_transaction(conn, |conn| {
        let row = invitation_of(conn, case, invitation)?;
        let RecordedAnswer {
            answer,
            channel,
            received_on,
        } = recorded;
        let answered_by = format!(
            "{} (am {} {} eingegangen, erfasst von {})",
            answered_by(&answer),
            received_on.format("%d.%m.%Y"),
            channel.label(),
            call.actor.id
        );
        record(
            conn,
            ctx,
            &row,
            answer,
            (answered_by, Some(received_on)),
            None,
            call,
        )
        .map_err(|error| match error {
            // Late by its day of receipt: the office can correct that day, so it is named there.
            ServiceError::Engine(crate::engine::EngineError::DeadlinePassed(date)) => {
                ServiceError::InvalidInput(vec![crate::engine::data::DataError {
                    pointer: "/eingegangen_am".into(),
                    message: format!(
                        "Die Frist ist am {date} abgelaufen; eine danach eingegangene Stellungnahme nimmt dieses Verfahren nicht an."
                    ),
                }])
            }
            other => other,
        })
    })
}

/// The invitation of the case, for the office entering a Stellungnahme.
pub fn invitation_of(
    conn: &mut DbConnection,
    case: CaseId,
    invitation: i64,
) -> Result<InvitationRow, ServiceError> {
    InvitationRow::find(conn, invitation)?
        .filter(|row| row.case_id == case.0)
        .ok_or_else(|| ServiceError::NotFound("Diese Einladung gibt es nicht.".into()))
}

/// „Name, Funktion“ as the answer shows who gave it.
fn answered_by(input: &PartnerAnswer) -> String {
    if input.function.is_empty() {
        input.name.clone()
    } else {
        format!("{}, {}", input.name, input.function)
    }
}

/// The common part of [`answer`] and [`record_for_partner`], inside their transaction.
fn record(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    row: &InvitationRow,
    input: PartnerAnswer,
    (answered_by, received_on): (String, Option<NaiveDate>),
    attachment: Option<(crate::documents::StoredBlob, String)>,
    call: cases::Invocation<'_>,
) -> Result<(), ServiceError> {
    let document = match &attachment {
        Some((blob, filename)) => Some(documents::insert(
            conn,
            NewDocument::for_blob(row.case_id, blob, filename, &call.actor.id, false),
        )?),
        None => None,
    };
    let answer = Answer {
        votum: input.votum,
        text: input.text,
        answered_by,
        attachment: document.as_ref().map(|d| d.id.to_string()),
        received_on,
    };
    let at = call.clock.now.naive_utc();
    cases::record_answer_as(
        conn,
        ctx,
        CaseId(row.case_id),
        LocalId(row.local_id as u64),
        answer,
        call,
    )?;
    // The attachment's content enters the journal by its hash, after the answer it belongs to
    // and at the answer's time, so that the journal reads in order of time.
    if let Some(document) = &document {
        let mut uploaded = documents_service::uploaded(document);
        uploaded.at = at;
        journal::append(conn, row.case_id, &[uploaded])?;
    }
    Ok(())
}

/// A document the partner may download: shared with partners, or attached to its own answer.
pub fn document(
    conn: &mut DbConnection,
    invitation: i64,
    id: i64,
) -> Result<Option<Document>, ServiceError> {
    let Some(row) = InvitationRow::find(conn, invitation)? else {
        return Ok(None);
    };
    let Some(document) = documents::find(conn, row.case_id, id)? else {
        return Ok(None);
    };
    if document.partner_visible && document.internal_to.is_none() {
        return Ok(Some(document));
    }
    let own = beteiligung::answer_versions(conn, row.id)?
        .iter()
        .any(|v| v.document_id == Some(id));
    Ok(own.then_some(document))
}

/// The stored name of a Votum, for forms.
pub fn votum_options(selected: Option<&str>) -> Vec<Value> {
    [
        Votum::Zustimmung,
        Votum::ZustimmungMitHinweisen,
        Votum::Bedenken,
        Votum::KeineStellungnahme,
    ]
    .into_iter()
    .map(|v| {
        serde_json::json!({
            "key": votum_key(v),
            "label": votum_de(v),
            "selected": selected == Some(votum_key(v)),
        })
    })
    .collect()
}

/// Every document of `case`, oldest first, with whether partners may see it.
fn case_documents(
    conn: &mut DbConnection,
    case: i64,
) -> Result<Vec<(PartnerDocument, bool)>, ServiceError> {
    Ok(document_rows::table
        .filter(document_rows::case_id.eq(case))
        .order(document_rows::id)
        .select((
            document_rows::id,
            document_rows::filename,
            document_rows::content_type,
            document_rows::size,
            document_rows::partner_visible,
        ))
        .load::<(i64, String, String, i64, bool)>(conn)?
        .into_iter()
        .map(|(id, filename, content_type, size, shared)| {
            let document = PartnerDocument {
                id,
                filename,
                content_type,
                size: human_size(size),
            };
            (document, shared)
        })
        .collect())
}

fn human_size(bytes: i64) -> String {
    let bytes = bytes.max(0) as f64;
    if bytes >= 1024.0 * 1024.0 {
        format!("{:.1} MB", bytes / (1024.0 * 1024.0)).replace('.', ",")
    } else {
        format!("{} KB", (bytes / 1024.0).ceil() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn the_day_of_receipt_lies_between_the_invitation_and_today() {
        let (today, invited) = (day("2026-04-03"), day("2026-03-04"));
        let letter = |received| RecordedFields {
            votum: Some("zustimmung"),
            name: "Frau Muster",
            eingang: Some("post"),
            eingegangen_am: received,
            ..RecordedFields::default()
        };
        let received =
            |typed| check_recorded_answer(letter(typed), today, invited).map(|r| r.received_on);
        assert_eq!(received(None).unwrap(), today, "absent: today");
        assert_eq!(received(Some("2026-04-01")).unwrap(), day("2026-04-01"));
        assert_eq!(received(Some(" 01.04.2026 ")).unwrap(), day("2026-04-01"));
        assert_eq!(
            received(Some("2026-03-04")).unwrap(),
            invited,
            "the day of the invitation"
        );
        for (typed, message) in [
            ("", "an welchem Tag"),
            ("gestern", "als Datum"),
            ("2026-04-04", "in der Zukunft"),
            ("2026-03-03", "vor der Einladung vom 04.03.2026"),
        ] {
            let errors = received(Some(typed)).unwrap_err();
            assert_eq!(errors.len(), 1, "{typed}: {errors:?}");
            assert_eq!(errors[0].pointer, "/eingegangen_am");
            assert!(errors[0].message.contains(message), "{typed}: {errors:?}");
        }
        // Every problem at once, the day's among them.
        let errors = check_recorded_answer(
            RecordedFields {
                votum: None,
                eingegangen_am: Some("x"),
                ..RecordedFields::default()
            },
            today,
            invited,
        )
        .unwrap_err();
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/votum", "/name", "/eingang", "/eingegangen_am"]);
    }

    #[test]
    fn every_problem_of_a_submitted_answer_is_reported_at_once() {
        let errors = check_answer(Some("bedenken"), "  ", "", "").unwrap_err();
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/stellungnahme", "/name"]);
        let errors = check_answer(Some("vielleicht"), "", "Frau Muster", "").unwrap_err();
        assert_eq!(errors[0].pointer, "/votum");
        assert!(check_answer(None, "", "Frau Muster", "").is_err());
    }

    #[test]
    fn a_complete_answer_is_trimmed() {
        let answer = check_answer(
            Some("zustimmung_mit_hinweisen"),
            " Bitte beachten Sie …\r\n",
            " Frau Muster ",
            "Schulrätin",
        )
        .unwrap();
        assert_eq!(answer.votum, Votum::ZustimmungMitHinweisen);
        assert_eq!(answer.text, "Bitte beachten Sie …");
        assert_eq!(answer.name, "Frau Muster");
    }

    #[test]
    fn sizes_read_like_german_numbers() {
        assert_eq!(human_size(1536), "2 KB");
        assert_eq!(human_size(1_572_864), "1,5 MB");
    }
}
