//! Registering partner bodies and Gemeinden, and keeping the addresses of any organisation
//! current, from one table (CSV, as a spreadsheet saves it) instead of one form per body: a Kreis
//! starting with vorgang has a dozen Gemeinden and as many partner bodies, the whole of NRW some
//! hundreds. [`export`] writes the registered organisations as such a table, so the addresses
//! can be kept in a spreadsheet: downloaded, edited, taken back.
//!
//! Columns, named in the first line (any order; only `schluessel` is required):
//! `schluessel`, `name`, `art` (`partner` or `gemeinde`), `uebergeordnet` (the parent's key),
//! `funktionspostfach`, `kontakte` (`Name <adresse>` or `adresse`, separated by commas) and
//! `leitung`. Semicolons, commas or tabs separate the columns (whichever the first line uses);
//! a UTF-8 byte order mark, as spreadsheets write one, is skipped.
//!
//! A row whose key is not registered yet registers that organisation
//! ([`super::organisations::register`]); a row naming a registered one replaces its addresses
//! ([`super::organisations::replace_addresses`]) where they differ, and must not contradict its
//! name, kind or parent. An address column the table lacks leaves that address alone; an empty
//! cell of a column it has removes the address. The whole file is one transaction: every row's errors are reported
//! with its line, and nothing is stored unless every row is right. A trial run reports what
//! would happen and stores nothing.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

use super::ServiceError;
use super::organisations::{
    self, ContactInput, OrganisationView, RegisterOrganisation, ReplaceAddresses,
};
use crate::db::models::Organisation;
use crate::db::{DbConnection, write_transaction};
use crate::render::spreadsheet;

/// Most rows one file may hold (NRW has 396 Gemeinden).
pub const MAX_ROWS: usize = 5_000;
/// Largest file taken (some thousand rows of addresses are well under it).
pub const MAX_BYTES: usize = 2 * 1024 * 1024;

/// A column of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Key,
    Name,
    Kind,
    Parent,
    Mailbox,
    Contacts,
    Head,
}

impl Column {
    const ALL: [Column; 7] = [
        Column::Key,
        Column::Name,
        Column::Kind,
        Column::Parent,
        Column::Mailbox,
        Column::Contacts,
        Column::Head,
    ];

    /// The column's name in the first line.
    fn name(self) -> &'static str {
        match self {
            Column::Key => "schluessel",
            Column::Name => "name",
            Column::Kind => "art",
            Column::Parent => "uebergeordnet",
            Column::Mailbox => "funktionspostfach",
            Column::Contacts => "kontakte",
            Column::Head => "leitung",
        }
    }

    /// The column a heading names: its name in any case, with Umlauts as written or spelt out.
    fn named(heading: &str) -> Option<Column> {
        let heading = heading
            .trim()
            .to_lowercase()
            .replace('ü', "ue")
            .replace('ö', "oe")
            .replace('ä', "ae");
        Column::ALL.into_iter().find(|c| c.name() == heading)
    }

    /// The column a service error's pointer names.
    fn of_pointer(pointer: &str) -> Option<Column> {
        let first = pointer.trim_start_matches('/').split('/').next()?;
        Some(match first {
            "key" => Column::Key,
            "name" => Column::Name,
            "kind" => Column::Kind,
            "parent" => Column::Parent,
            "mailbox" => Column::Mailbox,
            "contacts" => Column::Contacts,
            "head" => Column::Head,
            _ => return None,
        })
    }
}

/// What was done (or, in a trial run, would be done), by key in the file's order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ImportReport {
    /// Neu registrierte Organisationen.
    pub registered: Vec<String>,
    /// Registrierte Organisationen, deren Adressen ersetzt wurden.
    pub updated: Vec<String>,
    /// Registrierte Organisationen, deren Adressen schon so hinterlegt waren.
    pub unchanged: Vec<String>,
}

/// One thing wrong with one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Line in the file, from 1 (the headings are line 1).
    pub line: u64,
    /// The column's name, where the error lies in one.
    pub column: Option<&'static str>,
    pub message: String,
}

/// Why a file was not taken.
#[derive(Debug)]
pub enum ImportError {
    /// Not a table this reads (encoding, headings, size); German.
    Unreadable(String),
    /// Rows with errors; nothing was stored.
    Rows(Vec<RowError>),
    Service(ServiceError),
}

impl From<ServiceError> for ImportError {
    fn from(error: ServiceError) -> Self {
        ImportError::Service(error)
    }
}

impl From<diesel::result::Error> for ImportError {
    fn from(error: diesel::result::Error) -> Self {
        ImportError::Service(ServiceError::from(error))
    }
}

/// One row as read.
#[derive(Debug, Default)]
struct Row {
    line: u64,
    cells: HashMap<Column, String>,
}

impl Row {
    /// The cell of `column`, trimmed; `None` where the file has no such column.
    fn cell(&self, column: Column) -> Option<&str> {
        self.cells.get(&column).map(|c| c.trim())
    }

    /// The cell of `column` unless the column is missing or the cell empty.
    fn given(&self, column: Column) -> Option<&str> {
        self.cell(column).filter(|c| !c.is_empty())
    }
}

/// Reads `bytes` as a table of organisations and applies it in one transaction as done by
/// `by` at `at`; with `apply` false nothing is stored, and the report says what would happen.
pub fn import(
    conn: &mut DbConnection,
    bytes: &[u8],
    by: &str,
    at: NaiveDateTime,
    apply: bool,
) -> Result<ImportReport, ImportError> {
    let rows = read(bytes)?;
    /// Ends the transaction of a trial run without storing anything.
    enum Outcome {
        Failed(ImportError),
        Tried(ImportReport),
    }
    impl From<diesel::result::Error> for Outcome {
        fn from(error: diesel::result::Error) -> Self {
            Outcome::Failed(error.into())
        }
    }
    let outcome = write_transaction(conn, |conn| {
        let mut report = ImportReport::default();
        let mut errors = Vec::new();
        for row in &rows {
            match apply_row(conn, row, by, at) {
                Ok(Applied::Registered(key)) => report.registered.push(key),
                Ok(Applied::Updated(key)) => report.updated.push(key),
                Ok(Applied::Unchanged(key)) => report.unchanged.push(key),
                Err(RowFailure::Row(mut found)) => errors.append(&mut found),
                Err(RowFailure::Service(error)) => return Err(Outcome::Failed(error.into())),
            }
        }
        if !errors.is_empty() {
            return Err(Outcome::Failed(ImportError::Rows(errors)));
        }
        if apply {
            Ok(report)
        } else {
            Err(Outcome::Tried(report))
        }
    });
    match outcome {
        Ok(report) => {
            tracing::info!(
                registered = report.registered.len(),
                updated = report.updated.len(),
                "organisations imported"
            );
            Ok(report)
        }
        Err(Outcome::Tried(report)) => Ok(report),
        Err(Outcome::Failed(error)) => Err(error),
    }
}

/// The rows of the table, checked for what needs no database: headings, encoding, size, keys
/// given once each.
fn read(bytes: &[u8]) -> Result<Vec<Row>, ImportError> {
    let unreadable = |message: &str| ImportError::Unreadable(message.to_string());
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(unreadable(
            "Die Datei ist nicht in UTF-8 kodiert. Bitte speichern Sie die Tabelle als „CSV \
             UTF-8 (durch Trennzeichen getrennt)“.",
        ));
    };
    let first = text.lines().next().unwrap_or_default();
    if first.trim().is_empty() {
        return Err(unreadable(
            "Die Datei ist leer oder ihre erste Zeile nennt keine Spalten.",
        ));
    }
    let delimiter = [b';', b'\t', b',']
        .into_iter()
        .find(|d| first.as_bytes().contains(d))
        .unwrap_or(b';');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headings = reader
        .headers()
        .map_err(|error| ImportError::Unreadable(format!("Zeile 1 ist nicht lesbar: {error}")))?
        .clone();
    let mut columns = Vec::new();
    for heading in headings.iter() {
        let Some(column) = Column::named(heading) else {
            let known: Vec<&str> = Column::ALL.iter().map(|c| c.name()).collect();
            return Err(ImportError::Unreadable(format!(
                "Zeile 1: Die Spalte „{}“ ist unbekannt; möglich sind {}.",
                heading.trim(),
                known.join(", ")
            )));
        };
        if columns.contains(&column) {
            return Err(ImportError::Unreadable(format!(
                "Zeile 1: Die Spalte „{}“ steht zweimal in der Tabelle.",
                column.name()
            )));
        }
        columns.push(column);
    }
    if !columns.contains(&Column::Key) {
        return Err(unreadable(
            "Zeile 1: Die Spalte „schluessel“ fehlt; sie nennt, welche Organisation eine Zeile \
             meint.",
        ));
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut lines_of_key: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, |p| p.line());
                errors.push(RowError {
                    line,
                    column: None,
                    message: format!("Die Zeile ist nicht lesbar: {error}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if record.len() != columns.len() {
            errors.push(RowError {
                line,
                column: None,
                message: format!(
                    "Die Zeile hat {} Spalten, die erste Zeile nennt {}.",
                    record.len(),
                    columns.len()
                ),
            });
            continue;
        }
        let row = Row {
            line,
            cells: columns
                .iter()
                .copied()
                .zip(
                    record
                        .iter()
                        .map(|cell| spreadsheet::read_cell(cell).to_string()),
                )
                .collect(),
        };
        if let Some(key) = row.given(Column::Key)
            && let Some(earlier) = lines_of_key.insert(key.to_string(), line)
        {
            errors.push(RowError {
                line,
                column: Some(Column::Key.name()),
                message: format!("„{key}“ steht schon in Zeile {earlier}."),
            });
            continue;
        }
        rows.push(row);
        if rows.len() > MAX_ROWS {
            return Err(ImportError::Unreadable(format!(
                "Die Datei hat mehr als {MAX_ROWS} Zeilen; bitte teilen Sie sie auf."
            )));
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    if rows.is_empty() {
        return Err(unreadable(
            "Die Datei enthält außer der ersten Zeile keine Organisation.",
        ));
    }
    Ok(rows)
}

/// What one row did.
enum Applied {
    Registered(String),
    Updated(String),
    Unchanged(String),
}

enum RowFailure {
    Row(Vec<RowError>),
    Service(ServiceError),
}

/// The contacts of a cell: `Name <adresse>` or `adresse`, separated by commas, semicolons or
/// line breaks outside quotes and angle brackets (`"Kaya, Ben" <kaya@kreis.de>`).
fn contacts_of(cell: &str) -> Vec<ContactInput> {
    let mut parts = Vec::new();
    let (mut part, mut quoted, mut bracketed) = (String::new(), false, false);
    for c in cell.chars() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => bracketed = true,
            '>' if !quoted => bracketed = false,
            ',' | ';' | '\n' if !quoted && !bracketed => {
                parts.push(std::mem::take(&mut part));
                continue;
            }
            _ => {}
        }
        part.push(c);
    }
    parts.push(part);
    parts
        .iter()
        .map(|part| part.trim())
        .filter(|part| !part.is_empty())
        .map(|part| match part.rsplit_once('<') {
            Some((name, rest)) if rest.ends_with('>') => ContactInput {
                email: Some(rest.trim_end_matches('>').trim().to_string()),
                name: Some(name.trim().trim_matches('"').trim().to_string()),
            },
            _ => ContactInput {
                email: Some(part.to_string()),
                name: None,
            },
        })
        .collect()
}

fn apply_row(
    conn: &mut DbConnection,
    row: &Row,
    by: &str,
    at: NaiveDateTime,
) -> Result<Applied, RowFailure> {
    let line = row.line;
    let row_error = |column: Option<Column>, message: String| {
        RowFailure::Row(vec![RowError {
            line,
            column: column.map(Column::name),
            message,
        }])
    };
    // A service's refusal, at the row and column it concerns.
    let refused = |error: ServiceError| match error {
        ServiceError::InvalidInput(found) => RowFailure::Row(
            found
                .into_iter()
                .map(|e| RowError {
                    line,
                    column: Column::of_pointer(&e.pointer).map(Column::name),
                    message: e.message,
                })
                .collect(),
        ),
        ServiceError::Conflict(message) | ServiceError::NotFound(message) => {
            row_error(None, message)
        }
        other => RowFailure::Service(other),
    };
    let Some(key) = row.given(Column::Key) else {
        return Err(row_error(
            Some(Column::Key),
            "Bitte geben Sie einen Schlüssel an.".into(),
        ));
    };
    let contacts = contacts_of(row.cell(Column::Contacts).unwrap_or_default());
    let existing = Organisation::find_by_key(conn, key)
        .map_err(|e| RowFailure::Service(ServiceError::Db(e)))?;
    let Some(existing) = existing else {
        let input = RegisterOrganisation {
            key: Some(key.to_string()),
            name: row.cell(Column::Name).map(str::to_string),
            kind: row.given(Column::Kind).map(str::to_string),
            parent: row.given(Column::Parent).map(str::to_string),
            mailbox: row.given(Column::Mailbox).map(str::to_string),
            contacts: Some(contacts),
        };
        organisations::register(conn, input, Some(by), at).map_err(refused)?;
        if let Some(head) = row.given(Column::Head) {
            organisations::set_head(conn, key, head).map_err(refused)?;
        }
        return Ok(Applied::Registered(key.to_string()));
    };
    let current = organisations::show(conn, key).map_err(refused)?;
    let mut contradictions = Vec::new();
    // The name as stored („Soest“) or as the pages show it („Kreis Soest“).
    let shown = crate::designation::designation(&current.kind, &existing.name);
    if let Some(name) = row
        .given(Column::Name)
        .filter(|n| *n != existing.name && *n != shown)
    {
        contradictions.push(RowError {
            line,
            column: Some(Column::Name.name()),
            message: format!(
                "„{key}“ ist als „{shown}“ registriert, nicht als „{name}“; den Namen ändert die \
                 Tabelle nicht. Lassen Sie die Zelle leer oder prüfen Sie den Schlüssel."
            ),
        });
    }
    if let Some(kind) = row.given(Column::Kind).filter(|k| *k != current.kind) {
        contradictions.push(RowError {
            line,
            column: Some(Column::Kind.name()),
            message: format!(
                "„{key}“ ist von der Art „{}“, nicht „{kind}“; die Art ändert die Tabelle nicht.",
                current.kind
            ),
        });
    }
    if let Some(parent) = row
        .given(Column::Parent)
        .filter(|p| current.parent.as_deref() != Some(*p))
    {
        contradictions.push(RowError {
            line,
            column: Some(Column::Parent.name()),
            message: format!(
                "„{key}“ gehört zu „{}“, nicht zu „{parent}“; die Zuordnung ändert die Tabelle \
                 nicht.",
                current
                    .parent
                    .as_deref()
                    .unwrap_or("keiner übergeordneten Organisation")
            ),
        });
    }
    if !contradictions.is_empty() {
        return Err(RowFailure::Row(contradictions));
    }
    // A column the table does not have leaves that address as it is; an empty cell of a column
    // it has removes it.
    let head_column = row.cell(Column::Head);
    let mailbox = match row.cell(Column::Mailbox) {
        Some(cell) => Some(cell.to_string()).filter(|m| !m.is_empty()),
        None => current.mailbox.clone(),
    };
    let contacts = match row.cell(Column::Contacts) {
        Some(_) => contacts,
        None => current
            .contacts
            .iter()
            .map(|c| ContactInput {
                email: Some(c.email.clone()),
                name: Some(c.name.clone()),
            })
            .collect(),
    };
    let input = ReplaceAddresses {
        mailbox: Some(mailbox),
        contacts: Some(contacts),
        head: head_column.map(|head| Some(head.to_string()).filter(|h| !h.is_empty())),
    };
    // Replaced only where something differs, so the record keeps no empty changes.
    let wanted = organisations::checked_addresses(&input).map_err(refused)?;
    let held = (
        current.mailbox.clone(),
        current
            .contacts
            .iter()
            .map(|c| (c.email.clone(), c.name.clone()))
            .collect::<BTreeSet<_>>(),
        current.head.clone(),
    );
    let same_head = head_column.is_none() || wanted.2 == held.2;
    if wanted.0 == held.0 && wanted.1 == held.1 && same_head {
        return Ok(Applied::Unchanged(key.to_string()));
    }
    organisations::replace_addresses(conn, key, input, Some(by), at).map_err(refused)?;
    Ok(Applied::Updated(key.to_string()))
}

/// `organisations` as a table [`import`] takes back unchanged: every column, contacts as
/// `Name <adresse>` (quoted where the name holds a separator), cells a spreadsheet would
/// evaluate marked as text.
pub fn export(organisations: &[OrganisationView]) -> Result<Vec<u8>, ServiceError> {
    let records = organisations.iter().map(|organisation| {
        let contacts: Vec<String> = organisation
            .contacts
            .iter()
            .map(|c| match c.name.as_str() {
                "" => c.email.clone(),
                name if name.contains([',', ';', '<', '>', '"']) => {
                    format!("\"{}\" <{}>", name.replace('"', "'"), c.email)
                }
                name => format!("{name} <{}>", c.email),
            })
            .collect();
        [
            organisation.key.clone(),
            organisation.name.clone(),
            organisation.kind.clone(),
            organisation.parent.clone().unwrap_or_default(),
            organisation.mailbox.clone().unwrap_or_default(),
            contacts.join(", "),
            organisation.head.clone().unwrap_or_default(),
        ]
    });
    spreadsheet::table(&Column::ALL.map(Column::name), records)
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unreadable(bytes: &[u8]) -> String {
        match read(bytes) {
            Err(ImportError::Unreadable(message)) => message,
            other => panic!("not refused as unreadable: {other:?}"),
        }
    }

    #[test]
    fn headings_in_any_case_and_spelling_with_any_separator() {
        for text in [
            "Schlüssel;Name;Art;Übergeordnet\nA;Amt;partner;05974\n",
            "\u{feff}schluessel,name,art,uebergeordnet\nA,Amt,partner,05974\n",
            "SCHLUESSEL\tNAME\tART\tUEBERGEORDNET\nA\tAmt\tpartner\t05974\n",
        ] {
            let rows = read(text.as_bytes()).unwrap();
            assert_eq!(rows.len(), 1, "{text}");
            assert_eq!(rows[0].given(Column::Parent), Some("05974"), "{text}");
            assert_eq!(rows[0].line, 2);
        }
    }

    #[test]
    fn tables_that_cannot_be_read_say_why() {
        assert!(unreadable(b"").contains("leer"));
        assert!(unreadable(b"name;postfach\nA;a@b.de\n").contains("„postfach“ ist unbekannt"));
        assert!(unreadable(b"name;art\nA;partner\n").contains("„schluessel“ fehlt"));
        assert!(unreadable(b"schluessel;Schl\xc3\xbcssel\nA;B\n").contains("zweimal"));
        assert!(unreadable(b"schluessel;name\n\n;\n").contains("keine Organisation"));
        // Windows-1252, as older spreadsheets save: „Schlüssel“ with ü = 0xFC.
        assert!(unreadable(b"Schl\xfcssel;Name\nA;B\n").contains("UTF-8"));
    }

    #[test]
    fn rows_of_the_wrong_width_and_repeated_keys_are_named_by_line() {
        let text = "schluessel;name\nA;Amt\nB\nA;Amt wieder\n";
        let Err(ImportError::Rows(errors)) = read(text.as_bytes()) else {
            panic!("not refused");
        };
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!((errors[0].line, errors[0].column), (3, None));
        assert!(errors[0].message.contains("1 Spalten"), "{errors:?}");
        assert_eq!((errors[1].line, errors[1].column), (4, Some("schluessel")));
        assert!(errors[1].message.contains("schon in Zeile 2"), "{errors:?}");
    }

    #[test]
    fn an_exported_table_reads_back_as_written() {
        let view = OrganisationView {
            key: "RAT-SO".into(),
            name: "=Integrationsrat; \"Soest\"".into(),
            kind: "partner".into(),
            parent: Some("05974".into()),
            regierungsbezirk: None,
            mailbox: Some("rat@soest.de".into()),
            head: None,
            contacts: vec![
                organisations::ContactView {
                    email: "kaya@soest.de".into(),
                    name: "Kaya, Ben".into(),
                },
                organisations::ContactView {
                    email: "info@soest.de".into(),
                    name: String::new(),
                },
            ],
        };
        let bytes = export(std::slice::from_ref(&view)).unwrap();
        assert!(bytes.starts_with(spreadsheet::BOM));
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.contains("\r\nRAT-SO;\"'=Integrationsrat;"), "{text}");
        let rows = read(&bytes).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].given(Column::Name), Some(view.name.as_str()));
        assert_eq!(rows[0].given(Column::Head), None);
        let contacts: Vec<(Option<String>, Option<String>)> =
            contacts_of(rows[0].cell(Column::Contacts).unwrap())
                .into_iter()
                .map(|c| (c.email, c.name))
                .collect();
        assert_eq!(
            contacts,
            [
                (Some("kaya@soest.de".into()), Some("Kaya, Ben".into())),
                (Some("info@soest.de".into()), None)
            ]
        );
    }

    #[test]
    fn contacts_with_and_without_names() {
        let contacts =
            contacts_of("Frau Berg <berg@kreis.de>, info@kreis.de; \"Kaya, Ben\" <kaya@kreis.de>");
        let pairs: Vec<(Option<String>, Option<String>)> =
            contacts.into_iter().map(|c| (c.email, c.name)).collect();
        assert_eq!(
            pairs[0],
            (Some("berg@kreis.de".into()), Some("Frau Berg".into()))
        );
        assert_eq!(pairs[1], (Some("info@kreis.de".into()), None));
        assert_eq!(
            pairs[2],
            (Some("kaya@kreis.de".into()), Some("Kaya, Ben".into()))
        );
        assert_eq!(pairs.len(), 3);
        assert!(contacts_of("  ").is_empty());
    }
}
