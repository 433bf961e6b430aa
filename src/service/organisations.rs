//! The organisations consultations are mailed to: listing them for pickers, registering partner
//! bodies and maintaining every organisation's addresses.
//!
//! A Beteiligung invites organisations by key and mails each one's functional mailbox and contact
//! addresses ([`super::mail::organisation_addresses`]); an organisation that is not registered or
//! has no address refuses the invitation. So administrators register the partner bodies
//! (Schulamt, Jugendamt, Wohlfahrtsverbände, Integrationsrat …) and keep the addresses of every
//! organisation current – the seeded Kreise too, whose mailbox receives the result mails. The
//! Gebietskörperschaften themselves are reference data from the first migration and cannot be
//! added here.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::ServiceError;
use super::admin_log;
use crate::db::models::{NewOrganisation, Organisation, OrganisationId, OrganisationKind};
use crate::db::schema::{organisation_contacts, organisations};
use crate::db::{DbConnection, DbError, write_transaction};
use crate::engine::data::DataError;

/// Kinds an administrator may register. The Gebietskörperschaften, Bezirksregierungen and the
/// Bewilligungsbehörde are seeded reference data: a second „Kreis Soest“ would be an applicant
/// nobody can tell apart from the real one.
pub const REGISTRABLE_KINDS: [OrganisationKind; 2] =
    [OrganisationKind::Partner, OrganisationKind::Gemeinde];

/// Longest organisation key, as the `organisations.key` CHECK allows.
const KEY_MAX: usize = 64;
/// Longest organisation or contact name; longer text is a paste error, not a name.
const NAME_MAX: usize = 200;
/// Longest e-mail address (RFC 5321 path limit).
const EMAIL_MAX: usize = 254;
/// Most contact addresses per organisation: each invitation goes to all of them.
const CONTACTS_MAX: usize = 50;

/// An organisation as the API shows it, with the addresses invitations go to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrganisationView {
    /// AGS (`05974`) oder Schlüssel (`SCHULAMT-SO`); so wird die Organisation in den Daten eines
    /// Vorgangs genannt.
    pub key: String,
    pub name: String,
    /// `partner`, `gemeinde`, `kreis`, `kreisfreie_stadt`, `kreisfreie_stadt_in_staedteregion`,
    /// `bezirksregierung` oder `bewilligungsbehoerde`.
    pub kind: String,
    /// Schlüssel der übergeordneten Organisation.
    pub parent: Option<String>,
    pub regierungsbezirk: Option<String>,
    /// Funktionspostfach für Einladungen und Mitteilungen.
    pub mailbox: Option<String>,
    /// Adresse der Leitung: erhält Eskalationen, wenn eine Frist überschritten ist.
    pub head: Option<String>,
    /// Weitere Kontaktadressen, nach Adresse sortiert.
    pub contacts: Vec<ContactView>,
}

/// One further address of an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ContactView {
    pub email: String,
    /// Name der Ansprechperson; leer, wenn keiner angegeben ist.
    pub name: String,
}

/// A contact address as submitted.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    /// E-Mail-Adresse (wird kleingeschrieben gespeichert).
    #[serde(default)]
    pub email: Option<String>,
    /// Name der Ansprechperson.
    #[serde(default)]
    pub name: Option<String>,
}

/// Body of `POST /organisations`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterOrganisation {
    /// 1–64 Zeichen aus `A–Z`, `a–z`, `0–9`, `_` und `-`; eindeutig.
    #[serde(default)]
    #[schema(value_type = String, required = true, pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub key: Option<String>,
    /// Höchstens 200 Zeichen.
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// `partner` (Vorgabe) oder `gemeinde`.
    #[serde(default)]
    #[schema(pattern = "^(partner|gemeinde)$")]
    pub kind: Option<String>,
    /// Schlüssel der übergeordneten Organisation, z. B. des Kreises.
    #[serde(default)]
    pub parent: Option<String>,
    /// Funktionspostfach.
    #[serde(default)]
    pub mailbox: Option<String>,
    #[serde(default)]
    pub contacts: Option<Vec<ContactInput>>,
}

/// Body of `PUT /organisations/{key}/addresses`: both fields are required, since both are
/// replaced – a missing field must not silently delete an address.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceAddresses {
    /// Funktionspostfach; `null` entfernt es.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, required = true)]
    pub mailbox: Option<Option<String>>,
    /// Alle weiteren Kontaktadressen; `[]` entfernt sie.
    #[serde(default)]
    #[schema(required = true)]
    pub contacts: Option<Vec<ContactInput>>,
    /// Adresse der Leitung (Eskalationen bei Fristüberschreitung); fehlt das Feld, bleibt sie
    /// unverändert, `null` entfernt sie.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub head: Option<Option<String>>,
}

/// Tells a field given as `null` (`Some(None)`) from a missing one (`None`, by `default`).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// Every organisation, ordered by name as a German reader expects (Umlauts with their base
/// letter), optionally only of one `kind` and only those whose name or key contains `q`
/// (case-insensitively). Filtering and sorting happen here rather than in SQL so both backends
/// agree on case folding and order; the table holds a few hundred rows.
pub fn list(
    conn: &mut DbConnection,
    kind: Option<OrganisationKind>,
    q: Option<&str>,
) -> Result<Vec<OrganisationView>, ServiceError> {
    let needle = q.map(str::trim).filter(|q| !q.is_empty()).map(fold);
    let mut rows: Vec<Organisation> = Organisation::all(conn)?
        .into_iter()
        .filter(|o| kind.is_none_or(|kind| o.kind == kind))
        .filter(|o| {
            needle
                .as_deref()
                .is_none_or(|n| fold(&o.name).contains(n) || fold(&o.key).contains(n))
        })
        .collect();
    rows.sort_by_cached_key(|o| (fold(&o.name), o.name.clone(), o.key.clone()));
    views(conn, rows)
}

/// The organisation with this key.
pub fn show(conn: &mut DbConnection, key: &str) -> Result<OrganisationView, ServiceError> {
    let organisation = Organisation::find_by_key(conn, key)?.ok_or_else(|| unknown(key))?;
    one_view(conn, organisation)
}

/// Registers a partner body or Gemeinde with its addresses, in one transaction: every field error
/// at once (422), a taken key as a conflict (409), and nothing stored unless all is well.
/// Recorded in the administration's record as done by `by`; `None` for the demo data, which is
/// nobody's administrative act and leaves nothing behind when removed.
pub fn register(
    conn: &mut DbConnection,
    input: RegisterOrganisation,
    by: Option<&str>,
    at: NaiveDateTime,
) -> Result<OrganisationView, ServiceError> {
    write_transaction(conn, |conn| {
        let mut errors = Vec::new();
        let key = check_key(input.key.as_deref(), &mut errors);
        let name = check_name(input.name.as_deref(), &mut errors);
        let kind = check_kind(input.kind.as_deref(), &mut errors);
        let parent = match input.parent.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(parent) => {
                let found = Organisation::find_by_key(conn, parent)?;
                if found.is_none() {
                    errors.push(error(
                        "/parent",
                        format!("Die übergeordnete Organisation „{parent}“ gibt es nicht."),
                    ));
                }
                found
            }
        };
        let (mailbox, contacts) = check_addresses(
            input.mailbox.as_deref(),
            input.contacts.as_deref().unwrap_or_default(),
            &mut errors,
        );
        let (Some(key), Some(name), Some(kind), true) = (key, name, kind, errors.is_empty()) else {
            return Err(ServiceError::InvalidInput(errors));
        };
        if Organisation::find_by_key(conn, key)?.is_some() {
            return Err(taken(key));
        }
        let organisation = NewOrganisation {
            key,
            name: &name,
            kind: kind.as_str(),
            parent_id: parent.as_ref().map(|p| p.id),
            mailbox: mailbox.as_deref(),
        }
        .insert(conn)
        .map_err(|e| match e {
            // A concurrent registration of the same key (PostgreSQL; SQLite serialises writers).
            DbError::Query(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                taken(key)
            }
            other => ServiceError::Db(other),
        })?;
        // A partner or Gemeinde lies in its parent's Regierungsbezirk.
        let regierungsbezirk = parent.and_then(|p| p.regierungsbezirk);
        diesel::update(organisations::table.find(organisation.id))
            .set((
                organisations::regierungsbezirk.eq(regierungsbezirk),
                organisations::created_at.eq(at),
                organisations::updated_at.eq(at),
            ))
            .execute(conn)?;
        Organisation::set_addresses(conn, organisation.id, mailbox.as_deref(), &contacts)?;
        if let Some(by) = by {
            admin_log::record(
                conn,
                at,
                by,
                admin_log::ORGANISATION_REGISTERED,
                key,
                &json!({ "name": name, "kind": kind.as_str() }),
            )?;
        }
        tracing::info!(
            organisation = key,
            kind = kind.as_str(),
            "organisation registered"
        );
        show(conn, key)
    })
}

/// Replaces the functional mailbox and the contact addresses of any organisation (a Kreis needs
/// its mailbox for result mails as much as a partner for invitations), in one transaction;
/// recorded as done by `by` (see [`register`]).
pub fn replace_addresses(
    conn: &mut DbConnection,
    key: &str,
    input: ReplaceAddresses,
    by: Option<&str>,
    at: NaiveDateTime,
) -> Result<OrganisationView, ServiceError> {
    write_transaction(conn, |conn| {
        let organisation = Organisation::find_by_key(conn, key)?.ok_or_else(|| unknown(key))?;
        let mut errors = Vec::new();
        if input.mailbox.is_none() {
            errors.push(error(
                "/mailbox",
                "Bitte geben Sie das Funktionspostfach an (oder null, um es zu entfernen).".into(),
            ));
        }
        if input.contacts.is_none() {
            errors.push(error(
                "/contacts",
                "Bitte geben Sie die Kontaktadressen an (oder [], um alle zu entfernen).".into(),
            ));
        }
        let (mailbox, contacts) = check_addresses(
            input.mailbox.flatten().as_deref(),
            input.contacts.as_deref().unwrap_or_default(),
            &mut errors,
        );
        let head = match input.head.as_ref().map(|h| h.as_deref().map(str::trim)) {
            Some(Some(text)) if !text.is_empty() => match check_email(text) {
                Ok(address) => Some(Some(address)),
                Err(message) => {
                    errors.push(error("/head", message));
                    None
                }
            },
            Some(_) => Some(None),
            None => None,
        };
        if !errors.is_empty() {
            return Err(ServiceError::InvalidInput(errors));
        }
        Organisation::set_addresses(conn, organisation.id, mailbox.as_deref(), &contacts)?;
        let head_set = head.as_ref().map(Option::is_some);
        if let Some(head) = head {
            diesel::update(organisations::table.find(organisation.id))
                .set(organisations::head_email.eq(head))
                .execute(conn)?;
        }
        diesel::update(organisations::table.find(organisation.id))
            .set(organisations::updated_at.eq(at))
            .execute(conn)?;
        // What changed, not the addresses: they are gone once replaced.
        if let Some(by) = by {
            admin_log::record(
                conn,
                at,
                by,
                admin_log::ADDRESSES_REPLACED,
                key,
                &json!({
                    "mailbox": mailbox.is_some(),
                    "contacts": contacts.len(),
                    "head": head_set,
                }),
            )?;
        }
        tracing::info!(organisation = key, "organisation addresses replaced");
        show(conn, key)
    })
}

/// The addresses `input` would store, checked as [`replace_addresses`] checks them: the mailbox,
/// the contacts as `(email, name)` and the head (`None` also where `input` leaves it alone), so
/// a caller can tell whether a replacement would change anything.
#[allow(clippy::type_complexity)]
pub fn checked_addresses(
    input: &ReplaceAddresses,
) -> Result<(Option<String>, BTreeSet<(String, String)>, Option<String>), ServiceError> {
    let mut errors = Vec::new();
    let (mailbox, contacts) = check_addresses(
        input.mailbox.clone().flatten().as_deref(),
        input.contacts.as_deref().unwrap_or_default(),
        &mut errors,
    );
    let head = match input.head.clone().flatten() {
        Some(text) if !text.trim().is_empty() => match check_email(&text) {
            Ok(address) => Some(address),
            Err(message) => {
                errors.push(error("/head", message));
                None
            }
        },
        _ => None,
    };
    if !errors.is_empty() {
        return Err(ServiceError::InvalidInput(errors));
    }
    Ok((mailbox, contacts.into_iter().collect(), head))
}

/// Sets the head's address of the organisation `key` (escalations when a Frist is missed).
pub fn set_head(conn: &mut DbConnection, key: &str, head: &str) -> Result<(), ServiceError> {
    let address = check_email(head)
        .map_err(|message| ServiceError::InvalidInput(vec![error("/head", message)]))?;
    let updated = diesel::update(organisations::table.filter(organisations::key.eq(key)))
        .set(organisations::head_email.eq(address))
        .execute(conn)?;
    if updated == 0 {
        return Err(unknown(key));
    }
    Ok(())
}

fn unknown(key: &str) -> ServiceError {
    ServiceError::NotFound(format!("Die Organisation „{key}“ gibt es nicht."))
}

fn taken(key: &str) -> ServiceError {
    ServiceError::Conflict(format!(
        "Der Schlüssel „{key}“ ist bereits vergeben; bitte wählen Sie einen anderen."
    ))
}

fn error(pointer: &str, message: String) -> DataError {
    DataError {
        pointer: pointer.into(),
        message,
    }
}

/// Lower case with Umlauts and ß folded to their base letters: for case-insensitive search and
/// for the order of names (DIN 5007, variant 1).
fn fold(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .flat_map(|c| match c {
            'ä' => vec!['a'],
            'ö' => vec!['o'],
            'ü' => vec!['u'],
            'ß' => vec!['s', 's'],
            c => vec![c],
        })
        .collect()
}

fn check_key<'a>(key: Option<&'a str>, errors: &mut Vec<DataError>) -> Option<&'a str> {
    let message = match key {
        None | Some("") => "Bitte geben Sie einen Schlüssel an.".to_string(),
        Some(key) if key.chars().count() > KEY_MAX => {
            format!("Der Schlüssel darf höchstens {KEY_MAX} Zeichen lang sein.")
        }
        Some(key)
            if !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
        {
            "Der Schlüssel darf nur Buchstaben ohne Umlaute, Ziffern, „_“ und „-“ enthalten."
                .to_string()
        }
        Some(key) => return Some(key),
    };
    errors.push(error("/key", message));
    None
}

/// A trimmed name without control characters, at most [`NAME_MAX`] characters.
fn check_text(text: &str, pointer: &str, errors: &mut Vec<DataError>) -> Option<String> {
    let text = text.trim();
    let message = if text.chars().count() > NAME_MAX {
        format!("Der Name darf höchstens {NAME_MAX} Zeichen lang sein.")
    } else if text.chars().any(char::is_control) {
        "Der Name darf keine Steuerzeichen (z. B. Zeilenumbrüche) enthalten.".to_string()
    } else {
        return Some(text.to_string());
    };
    errors.push(error(pointer, message));
    None
}

fn check_name(name: Option<&str>, errors: &mut Vec<DataError>) -> Option<String> {
    match name.map(str::trim) {
        None | Some("") => {
            errors.push(error("/name", "Bitte geben Sie einen Namen an.".into()));
            None
        }
        Some(name) => check_text(name, "/name", errors),
    }
}

fn check_kind(kind: Option<&str>, errors: &mut Vec<DataError>) -> Option<OrganisationKind> {
    let Some(text) = kind else {
        return Some(OrganisationKind::Partner);
    };
    let message = match OrganisationKind::try_from(text.to_string()) {
        Ok(kind) if REGISTRABLE_KINDS.contains(&kind) => return Some(kind),
        Ok(_) => format!(
            "Organisationen der Art „{text}“ sind fest hinterlegt und können nicht angelegt \
             werden; möglich sind „partner“ und „gemeinde“."
        ),
        Err(_) => {
            format!("Unbekannte Art „{text}“; möglich sind „partner“ und „gemeinde“.")
        }
    };
    errors.push(error("/kind", message));
    None
}

/// A plausible mail address, lower-cased: lettre must accept it, since lettre sends the mails.
fn check_email(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Bitte geben Sie eine E-Mail-Adresse an.".into());
    }
    if text.chars().count() > EMAIL_MAX {
        return Err(format!(
            "Die E-Mail-Adresse darf höchstens {EMAIL_MAX} Zeichen lang sein."
        ));
    }
    let lower = text.to_lowercase();
    let plain = !lower
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '"');
    if !plain || lower.parse::<lettre::Address>().is_err() {
        return Err(format!(
            "„{text}“ ist keine gültige E-Mail-Adresse (Form: name@beispiel.de)."
        ));
    }
    Ok(lower)
}

/// The mailbox (empty means none) and the contacts as `(email, name)`, checked: valid addresses,
/// no address twice (a contact repeating the mailbox included), at most [`CONTACTS_MAX`].
fn check_addresses(
    mailbox: Option<&str>,
    contacts: &[ContactInput],
    errors: &mut Vec<DataError>,
) -> (Option<String>, Vec<(String, String)>) {
    let mailbox = match mailbox.map(str::trim) {
        None | Some("") => None,
        Some(text) => match check_email(text) {
            Ok(address) => Some(address),
            Err(message) => {
                errors.push(error("/mailbox", message));
                None
            }
        },
    };
    if contacts.len() > CONTACTS_MAX {
        errors.push(error(
            "/contacts",
            format!("Bitte geben Sie höchstens {CONTACTS_MAX} Kontaktadressen an."),
        ));
        return (mailbox, Vec::new());
    }
    let mut seen = HashSet::new();
    let mut checked = Vec::new();
    for (index, contact) in contacts.iter().enumerate() {
        let pointer = format!("/contacts/{index}/email");
        let email = match check_email(contact.email.as_deref().unwrap_or_default()) {
            Ok(email) if mailbox.as_ref() == Some(&email) => {
                errors.push(error(
                    &pointer,
                    "Diese Adresse ist bereits das Funktionspostfach.".into(),
                ));
                None
            }
            Ok(email) if !seen.insert(email.clone()) => {
                errors.push(error(
                    &pointer,
                    "Diese Adresse steht bereits in der Liste.".into(),
                ));
                None
            }
            Ok(email) => Some(email),
            Err(message) => {
                errors.push(error(&pointer, message));
                None
            }
        };
        let name = check_text(
            contact.name.as_deref().unwrap_or_default(),
            &format!("/contacts/{index}/name"),
            errors,
        );
        if let (Some(email), Some(name)) = (email, name) {
            checked.push((email, name));
        }
    }
    (mailbox, checked)
}

fn one_view(
    conn: &mut DbConnection,
    organisation: Organisation,
) -> Result<OrganisationView, ServiceError> {
    views(conn, vec![organisation])?
        .pop()
        .ok_or_else(|| ServiceError::Db(DbError::Query(DieselError::NotFound)))
}

/// The views of `rows`, in their order, with parent keys and contacts (two queries).
fn views(
    conn: &mut DbConnection,
    rows: Vec<Organisation>,
) -> Result<Vec<OrganisationView>, ServiceError> {
    let ids: Vec<OrganisationId> = rows.iter().map(|o| o.id).collect();
    let parent_ids: Vec<OrganisationId> = rows.iter().filter_map(|o| o.parent_id).collect();
    let parents: HashMap<OrganisationId, String> = organisations::table
        .filter(organisations::id.eq_any(&parent_ids))
        .select((organisations::id, organisations::key))
        .load::<(OrganisationId, String)>(conn)?
        .into_iter()
        .collect();
    let mut contacts: HashMap<OrganisationId, Vec<ContactView>> = HashMap::new();
    let rows_of_contacts: Vec<(OrganisationId, String, String)> = organisation_contacts::table
        .filter(organisation_contacts::organisation_id.eq_any(&ids))
        .order((
            organisation_contacts::organisation_id,
            organisation_contacts::email,
        ))
        .select((
            organisation_contacts::organisation_id,
            organisation_contacts::email,
            organisation_contacts::name,
        ))
        .load(conn)?;
    for (organisation, email, name) in rows_of_contacts {
        contacts
            .entry(organisation)
            .or_default()
            .push(ContactView { email, name });
    }
    Ok(rows
        .into_iter()
        .map(|o| OrganisationView {
            parent: o.parent_id.and_then(|p| parents.get(&p).cloned()),
            contacts: contacts.remove(&o.id).unwrap_or_default(),
            key: o.key,
            name: o.name,
            kind: o.kind.as_str().to_string(),
            regierungsbezirk: o.regierungsbezirk,
            mailbox: o.mailbox,
            head: o.head_email,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pointers(errors: &[DataError]) -> Vec<&str> {
        errors.iter().map(|e| e.pointer.as_str()).collect()
    }

    #[test]
    fn keys_are_short_plain_identifiers() {
        let mut errors = Vec::new();
        assert_eq!(
            check_key(Some("SCHULAMT-SO_2"), &mut errors),
            Some("SCHULAMT-SO_2")
        );
        assert_eq!(
            check_key(Some(&"K".repeat(64)), &mut errors),
            Some(&*"K".repeat(64))
        );
        assert!(errors.is_empty());
        for bad in [
            None,
            Some(""),
            Some("Schulamt Soest"),
            Some("Jugendamt-Lüdenscheid"),
            Some("a/b"),
        ] {
            assert_eq!(check_key(bad, &mut errors), None, "{bad:?}");
        }
        assert_eq!(check_key(Some(&"K".repeat(65)), &mut errors), None);
        assert_eq!(errors.len(), 6);
        assert!(errors.iter().all(|e| e.pointer == "/key"));
    }

    #[test]
    fn addresses_are_checked_lower_cased_and_unique() {
        let contact = |email: &str| ContactInput {
            email: Some(email.into()),
            name: None,
        };
        let mut errors = Vec::new();
        let (mailbox, contacts) = check_addresses(
            Some(" Schulamt@Kreis-Soest.DE "),
            &[
                contact("a.b@kreis-soest.de"),
                contact("müller@jugendamt.de"),
            ],
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(mailbox.as_deref(), Some("schulamt@kreis-soest.de"));
        assert_eq!(contacts[0], ("a.b@kreis-soest.de".into(), String::new()));

        let (_, contacts) = check_addresses(
            Some("schulamt@kreis-soest.de"),
            &[
                contact("SCHULAMT@kreis-soest.de"),
                contact("x@y.de"),
                contact("X@Y.DE"),
                contact("kein-at-zeichen"),
                contact("zwei @leer.de"),
                ContactInput {
                    email: None,
                    name: Some("Frau Muster".into()),
                },
                ContactInput {
                    email: Some("ok@z.de".into()),
                    name: Some("a\nb".into()),
                },
            ],
            &mut errors,
        );
        assert_eq!(contacts, [("x@y.de".to_string(), String::new())]);
        assert_eq!(
            pointers(&errors),
            [
                "/contacts/0/email",
                "/contacts/2/email",
                "/contacts/3/email",
                "/contacts/4/email",
                "/contacts/5/email",
                "/contacts/6/name",
            ]
        );
    }

    #[test]
    fn empty_mailbox_means_none_and_too_many_contacts_are_refused() {
        let mut errors = Vec::new();
        assert_eq!(check_addresses(Some("  "), &[], &mut errors).0, None);
        assert!(errors.is_empty());
        let many: Vec<ContactInput> = (0..=CONTACTS_MAX)
            .map(|i| ContactInput {
                email: Some(format!("p{i}@example.org")),
                name: None,
            })
            .collect();
        check_addresses(None, &many, &mut errors);
        assert_eq!(pointers(&errors), ["/contacts"]);
    }

    #[test]
    fn only_partners_and_gemeinden_may_be_registered() {
        let mut errors = Vec::new();
        assert_eq!(
            check_kind(None, &mut errors),
            Some(OrganisationKind::Partner)
        );
        assert_eq!(
            check_kind(Some("gemeinde"), &mut errors),
            Some(OrganisationKind::Gemeinde)
        );
        for seeded in [
            "kreis",
            "kreisfreie_stadt",
            "kreisfreie_stadt_in_staedteregion",
            "bezirksregierung",
            "bewilligungsbehoerde",
            "verein",
        ] {
            assert_eq!(check_kind(Some(seeded), &mut errors), None, "{seeded}");
        }
        assert_eq!(errors.len(), 6);
        assert!(
            errors[0].message.contains("fest hinterlegt"),
            "{}",
            errors[0].message
        );
        assert!(
            errors[5].message.contains("Unbekannte Art"),
            "{}",
            errors[5].message
        );
    }

    #[test]
    fn folding_ignores_case_and_umlauts() {
        assert_eq!(fold("Märkischer Kreis"), "markischer kreis");
        assert_eq!(fold("GROẞ Straße"), "gross strasse");
        assert!(fold("Mönchengladbach") < fold("Münster"));
        assert!(fold("Ölwerke") < fold("Paderborn"));
    }
}
