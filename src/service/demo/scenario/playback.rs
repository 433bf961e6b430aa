//! Playing a demo case back: the commands as their users would give them, at the times of
//! the story.

use chrono::{DateTime, Days, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::Value;

use super::super::pdf;
use crate::db::models::{CaseId, CaseRow, User};
use crate::db::schema::{answers, cases, documents, invitations, timers};
use crate::documents::{self as store, NewDocument};
use crate::engine::instance::Votum;
use crate::engine::{Actor, EngineError, LocalId};
use crate::service::ServiceError;
use crate::service::cases::{self as commands, Invocation, LoadedCase};
use crate::service::partner::{self, PartnerAnswer};

use super::{Audience, Loader, Note, Reply, berlin};

impl Loader<'_, '_> {
    /// Fires the scheduled timers of `family` that the server would have fired by `until`, in
    /// order: flow timers at the start of their day, reminders with the `reminders` job at 07:00
    /// on the first working day from their day on.
    pub(super) fn advance(
        &mut self,
        family: &[CaseId],
        until: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let ids: Vec<i64> = family.iter().map(|id| id.0).collect();
        let calendar = crate::frist::HolidayCalendar::for_land("NW")
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        loop {
            let pending: Vec<(i64, i64, i64, NaiveDate, String)> = timers::table
                .filter(timers::case_id.eq_any(&ids))
                .filter(timers::status.eq("scheduled"))
                .order((timers::due, timers::id))
                .select((
                    timers::id,
                    timers::case_id,
                    timers::local_id,
                    timers::due,
                    timers::kind,
                ))
                .load(self.conn)?;
            let mut next: Option<(DateTime<Utc>, i64, i64, i64)> = None;
            for (id, case, local, due, kind) in pending {
                let at = if kind == "reminder" {
                    let mut day = due;
                    while !calendar
                        .is_working_day(day)
                        .map_err(|e| ServiceError::Internal(e.to_string()))?
                    {
                        day = day + Days::new(1);
                    }
                    berlin(day, 7, 0)
                } else {
                    berlin(due, 0, 1)
                };
                if next.is_none_or(|(best, ..)| at < best) {
                    next = Some((at, id, case, local));
                }
            }
            let Some((at, id, case, local)) = next.filter(|(at, ..)| *at <= until) else {
                return Ok(());
            };
            match commands::fire_timer(
                self.conn,
                self.ctx,
                CaseId(case),
                LocalId(local as u64),
                &crate::service::clock::at(at),
            ) {
                Ok(_) => {}
                Err(ServiceError::Engine(
                    EngineError::UnknownTimer(_) | EngineError::NotRunning,
                )) => {
                    diesel::update(timers::table.find(id))
                        .set(timers::status.eq("cancelled"))
                        .execute(self.conn)?;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Starts a case at `at` for the office `key`; `note` says what the visitor finds there.
    pub(super) fn start(
        &mut self,
        key: &str,
        coordinator: &Actor,
        data: Value,
        at: DateTime<Utc>,
        note: Note,
    ) -> Result<CaseId, ServiceError> {
        let applicant = self.organisation(key)?;
        let case = commands::start_case(
            self.conn,
            self.ctx,
            "ki-antrag",
            &applicant,
            data,
            coordinator,
            &crate::service::clock::at(at),
        )?;
        self.mark("case", case.row.id.0)?;
        self.cases.push((case.row.id, note));
        Ok(case.row.id)
    }

    pub(super) fn version(&mut self, case: CaseId) -> Result<i64, ServiceError> {
        Ok(CaseRow::find(self.conn, case)?
            .ok_or_else(|| ServiceError::NotFound("Demo-Vorgang fehlt.".into()))?
            .version)
    }

    /// Takes `action` at `at`, after the timers due before then have fired.
    pub(super) fn act(
        &mut self,
        case: CaseId,
        who: &Actor,
        at: DateTime<Utc>,
        action: &str,
        data: Option<Value>,
    ) -> Result<LoadedCase, ServiceError> {
        self.advance(&[case], at)?;
        let version = self.version(case)?;
        let clock = crate::service::clock::at(at);
        let allow = |_| Ok(());
        commands::take_action(
            self.conn,
            self.ctx,
            case,
            version,
            action,
            None,
            data,
            Invocation {
                actor: who,
                clock: &clock,
                check: &allow,
            },
        )
    }

    /// An Aktenvermerk in the journal of `case`, written by `who` at `at`; internal to the
    /// organisation with key `internal_to` if given.
    pub(super) fn note(
        &mut self,
        case: CaseId,
        who: &Actor,
        at: DateTime<Utc>,
        text: &str,
        internal_to: Option<&str>,
    ) -> Result<(), ServiceError> {
        self.advance(&[case], at)?;
        let organisation = User::find_by_email(self.conn, &who.id)?
            .map(|user| user.organisation_id)
            .ok_or_else(|| ServiceError::Internal("Demo-Benutzer fehlt".into()))?;
        if let Some(key) = internal_to
            && self.organisation(key)?.id != organisation
        {
            return Err(ServiceError::Internal(format!(
                "Demo: ein interner Vermerk von {} für {key}",
                who.id
            )));
        }
        let author = crate::service::notes::Author {
            actor: who,
            organisation,
            internal: internal_to.is_some(),
        };
        let clock = crate::service::clock::at(at);
        let allow = |_| Ok(());
        crate::service::notes::add(self.conn, self.ctx.mail, case, text, author, &clock, &allow)?;
        Ok(())
    }

    pub(super) fn change(
        &mut self,
        case: CaseId,
        who: &Actor,
        at: DateTime<Utc>,
        patch: Value,
    ) -> Result<(), ServiceError> {
        self.advance(&[case], at)?;
        let version = self.version(case)?;
        let clock = crate::service::clock::at(at);
        let allow = |_| Ok(());
        commands::change_data(
            self.conn,
            self.ctx,
            case,
            version,
            patch,
            Invocation {
                actor: who,
                clock: &clock,
                check: &allow,
            },
        )?;
        Ok(())
    }

    /// Stores a generated PDF about `case` as a blob (remembering it if it is new); the first
    /// line names the case's Aktenzeichen, as letters in a file do.
    pub(super) fn blob(
        &mut self,
        case: CaseId,
        title: &str,
        text: &[&str],
    ) -> Result<store::StoredBlob, ServiceError> {
        let aktenzeichen: String = cases::table
            .find(case.0)
            .select(cases::aktenzeichen)
            .first(self.conn)?;
        let reference = format!("Aktenzeichen {aktenzeichen}");
        let mut paragraphs = vec![reference.as_str()];
        paragraphs.extend_from_slice(text);
        let bytes = pdf::one_page(title, &paragraphs);
        let blob = self
            .documents
            .store(&bytes)
            .map_err(|e| ServiceError::Internal(format!("Demo-Dokument „{title}“: {e}")))?;
        if blob.newly_written {
            self.written.push(blob.sha256.clone());
        }
        Ok(blob)
    }

    /// Uploads a generated PDF to the case as `who` at `at`, journaled as an upload is; returns
    /// its id as case data holds it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn upload(
        &mut self,
        case: CaseId,
        who: &str,
        at: DateTime<Utc>,
        filename: &str,
        title: &str,
        text: &[&str],
        audience: Audience,
    ) -> Result<Value, ServiceError> {
        self.advance(&[case], at)?;
        let blob = self.blob(case, title, text)?;
        let internal_to = match audience {
            Audience::Internal(key) => Some(self.organisation(key)?.id),
            Audience::Partners | Audience::Staff => None,
        };
        let new = NewDocument::for_blob(
            case.0,
            &blob,
            filename,
            who,
            matches!(audience, Audience::Partners),
        )
        .internal_to(internal_to);
        let mut document = store::insert(self.conn, new)?;
        document.created_at = at.naive_utc();
        diesel::update(documents::table.find(document.id))
            .set(documents::created_at.eq(document.created_at))
            .execute(self.conn)?;
        crate::journal::append(
            self.conn,
            case.0,
            &[crate::service::documents::uploaded(&document)],
        )?;
        Ok(Value::String(document.id.to_string()))
    }

    /// A partner answers through its (open) invitation of `case`, at 10:00 on its day.
    pub(super) fn reply(&mut self, case: CaseId, reply: &Reply<'_>) -> Result<(), ServiceError> {
        let at = berlin(self.day(reply.day), 10, 15);
        self.advance(&[case], at)?;
        let organisation = self.organisation(reply.partner)?;
        let invitation: i64 = invitations::table
            .filter(invitations::case_id.eq(case.0))
            .filter(invitations::organisation_id.eq(organisation.id))
            .filter(invitations::status.eq("open"))
            .filter(invitations::closed_at.is_null())
            .order(invitations::id.desc())
            .select(invitations::id)
            .first(self.conn)?;
        let attachment = match reply.attachment {
            Some((filename, title, text)) => {
                Some((self.blob(case, title, text)?, filename.to_string()))
            }
            None => None,
        };
        partner::answer(
            self.conn,
            self.ctx,
            invitation,
            PartnerAnswer {
                votum: reply.votum,
                text: reply.text.to_string(),
                name: reply.name.to_string(),
                function: reply.function.to_string(),
            },
            attachment,
            &crate::service::clock::at(at),
        )?;
        // The attachment was recorded now; date it to the answer.
        let attached: Option<i64> = answers::table
            .filter(answers::invitation_id.eq(invitation))
            .order(answers::version.desc())
            .select(answers::document_id)
            .first::<Option<i64>>(self.conn)?;
        if let Some(document) = attached {
            diesel::update(documents::table.find(document))
                .set(documents::created_at.eq(at.naive_utc()))
                .execute(self.conn)?;
        }
        Ok(())
    }

    /// Every Coesfeld partner answers (the four kinds of Votum, one amendment-free round).
    pub(super) fn all_reply(&mut self, case: CaseId, first_day: i64) -> Result<(), ServiceError> {
        let replies = [
            Reply {
                partner: "DEMO-COE-SCHULAMT",
                day: first_day,
                votum: Votum::ZustimmungMitHinweisen,
                text: "Das Schulamt unterstützt den Antrag. Die beiden Lehrerstellen nach Nr. 4.2 \
                       des Erlasses sollten zum Schulhalbjahr besetzt werden; bitte stimmen Sie \
                       den Schwerpunkt „Seiteneinstieg in die Sekundarstufe I“ frühzeitig mit \
                       uns ab.",
                name: "Dr. Petra Lindemann (Demo)",
                function: "Schulrätin",
                attachment: None,
            },
            Reply {
                partner: "DEMO-COE-JUGENDAMT",
                day: first_day + 2,
                votum: Votum::Zustimmung,
                text: "Wir stimmen zu und beteiligen uns an der Arbeitsgruppe „Übergang Kita – \
                       Schule“.",
                name: "Markus Tenbrink (Demo)",
                function: "Leitung Kreisjugendamt",
                attachment: None,
            },
            Reply {
                partner: "DEMO-COE-AWO",
                day: first_day + 3,
                votum: Votum::Zustimmung,
                text: "",
                name: "Claudia Wessels (Demo)",
                function: "Fachbereichsleitung Migration",
                attachment: None,
            },
            Reply {
                partner: "DEMO-COE-SCHULVERWALTUNG",
                day: first_day + 6,
                votum: Votum::KeineStellungnahme,
                text: "",
                name: "Stefan Brüning (Demo)",
                function: "Sachgebietsleitung",
                attachment: None,
            },
            Reply {
                partner: "DEMO-COE-CARITAS",
                day: first_day + 9,
                votum: Votum::ZustimmungMitHinweisen,
                text: "Wir begrüßen das Vorhaben. Die Migrationsberatung für Erwachsene und der \
                       Jugendmigrationsdienst sollten im Netzwerk von Anfang an vertreten sein.",
                name: "Jonas Kemper (Demo)",
                function: "Fachdienstleitung Integration und Migration",
                attachment: None,
            },
            // After the reminder, a week before the deadline.
            Reply {
                partner: "DEMO-COE-DUELMEN",
                day: first_day + 23,
                votum: Votum::Zustimmung,
                text: "Die Stadt Dülmen unterstützt den Antrag des Kreises.",
                name: "Heike Schulze Althoff (Demo)",
                function: "Fachbereich Bildung, Familie und Soziales",
                attachment: None,
            },
        ];
        for reply in &replies {
            self.reply(case, reply)?;
        }
        Ok(())
    }

    // --- The cases ---------------------------------------------------------------------------

    /// The demo user `email`, as the permission checks see them.
    pub(super) fn principal(
        &mut self,
        email: &str,
    ) -> Result<crate::auth::Principal, ServiceError> {
        User::find_by_email(self.conn, email)?
            .map(|user| user.id)
            .and_then(|id| crate::auth::Principal::load(self.conn, id).transpose())
            .transpose()?
            .ok_or_else(|| ServiceError::Internal("Demo-Benutzer fehlt".into()))
    }

    /// Makes the user `email` responsible for `case` in their organisation, as they did at `at`.
    pub(super) fn assign(
        &mut self,
        case: CaseId,
        email: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), ServiceError> {
        let principal = self.principal(email)?;
        let allow = |_| Ok(());
        crate::service::assignments::assign(
            self.conn,
            self.ctx.mail,
            case,
            &principal,
            Some(email),
            at.naive_utc(),
            &allow,
        )?;
        Ok(())
    }
}
