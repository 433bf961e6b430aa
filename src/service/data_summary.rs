//! A case's data written out for reading, field label by field label: for the consulted
//! partners (only what the workflow marks as visible to them) and for the exported case file
//! (everything). Documents and organisations the data refers to by id or key are named.

use std::collections::{BTreeSet, HashMap};

use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::ServiceError;
use crate::db::DbConnection;
use crate::db::models::Organisation;
use crate::db::schema::organisations;
use crate::engine::definition::{Field, FieldType};

/// One line of a case summary: a field's label and its value as text.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SummaryLine {
    pub label: String,
    pub value: String,
}

/// Who reads the summary, which decides what it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readers {
    /// A consulted partner: only fields marked `partner_visible`; a document's name only where
    /// it is shared with partners, listed under „Unterlagen“ on the partner page.
    Partners,
    /// The case file (export, archive): every field; every document by name and number.
    CaseFile,
}

impl Readers {
    fn shows(self, field: &Field) -> bool {
        match self {
            Self::Partners => field.partner_visible,
            Self::CaseFile => true,
        }
    }
}

/// What the data refers to by id or key, named for its readers: the case's documents (by id,
/// with the file name where the readers may see it) and the organisations (by key).
#[derive(Debug)]
pub struct References {
    readers: Readers,
    /// Document id → its file name when the readers may see it, `None` otherwise.
    documents: HashMap<i64, Option<String>>,
    /// Organisation key → its designation („Kreis Coesfeld“).
    organisations: HashMap<String, String>,
}

impl References {
    /// Names the case's `documents` (id, and the file name where the readers may see it) and
    /// reads the organisations that the fields shown to the readers name.
    pub fn load(
        conn: &mut DbConnection,
        readers: Readers,
        documents: impl IntoIterator<Item = (i64, Option<String>)>,
        fields: &indexmap::IndexMap<String, Field>,
        data: &Value,
    ) -> Result<Self, ServiceError> {
        let mut keys = BTreeSet::new();
        for (key, field) in fields.iter().filter(|(_, field)| readers.shows(field)) {
            if let Some(value) = data.get(key) {
                organisation_keys(field, value, &mut keys);
            }
        }
        let organisations = if keys.is_empty() {
            HashMap::new()
        } else {
            organisations::table
                .filter(organisations::key.eq_any(&keys))
                .select(Organisation::as_select())
                .load::<Organisation>(conn)?
                .into_iter()
                .map(|o| (o.key.clone(), o.designation().into_owned()))
                .collect()
        };
        Ok(Self {
            readers,
            documents: documents.into_iter().collect(),
            organisations,
        })
    }

    /// Like [`References::load`] for a caller that has read the organisations already: their
    /// designations by key.
    pub fn with_names(
        readers: Readers,
        documents: impl IntoIterator<Item = (i64, Option<String>)>,
        organisations: HashMap<String, String>,
    ) -> Self {
        Self {
            readers,
            documents: documents.into_iter().collect(),
            organisations,
        }
    }

    fn organisation(&self, key: &str) -> String {
        self.organisations
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_string())
    }

    fn document(&self, id: &str) -> String {
        let id = id.trim().parse::<i64>().ok();
        match (self.readers, id.and_then(|id| self.documents.get(&id))) {
            (Readers::Partners, Some(Some(filename))) => format!("{filename} (unter „Unterlagen“)"),
            (Readers::CaseFile, Some(Some(filename))) => {
                format!("{filename} (Dokument Nr. {})", id.unwrap_or_default())
            }
            (Readers::Partners, Some(None)) => {
                "liegt vor (für Beteiligte nicht freigegeben)".to_string()
            }
            (Readers::CaseFile, Some(None)) => {
                "liegt vor (internes Dokument einer anderen Stelle)".to_string()
            }
            (_, None) => "nicht mehr vorhanden".to_string(),
        }
    }
}

/// Collects the organisation keys `value` of `field` holds (also inside groups and lists).
fn organisation_keys(field: &Field, value: &Value, keys: &mut BTreeSet<String>) {
    match (field.field_type, value) {
        (FieldType::Organisation, Value::String(key)) => {
            keys.insert(key.clone());
        }
        (FieldType::Organisations, Value::Array(items)) => {
            keys.extend(items.iter().filter_map(Value::as_str).map(str::to_string));
        }
        (FieldType::Group, Value::Object(map)) => {
            for (key, child) in field.fields.iter().flatten() {
                if let Some(value) = map.get(key) {
                    organisation_keys(child, value, keys);
                }
            }
        }
        (FieldType::List, Value::Array(items)) => {
            if let Some(item) = &field.items {
                for value in items {
                    organisation_keys(item, value, keys);
                }
            }
        }
        _ => {}
    }
}

/// The fields shown to the readers of `references` that have a value, formatted for reading,
/// in the order of the definition.
pub fn summary(
    fields: &indexmap::IndexMap<String, Field>,
    data: &Value,
    references: &References,
) -> Vec<SummaryLine> {
    let mut lines = Vec::new();
    for (key, field) in fields {
        if !references.readers.shows(field) {
            continue;
        }
        let Some(value) = data.get(key) else {
            continue;
        };
        let text = format_value(field, value, references, true);
        if !text.is_empty() {
            lines.push(SummaryLine {
                label: field.label.clone(),
                value: text,
            });
        }
    }
    lines
}

/// A value as text. For the case file a top-level group puts each field on a line of its own
/// and a top-level list each item (the overview keeps line breaks); partners read one line, as
/// does anything nested deeper.
fn format_value(field: &Field, value: &Value, references: &References, top: bool) -> String {
    let lines = top && references.readers == Readers::CaseFile;
    match (field.field_type, value) {
        (_, Value::Null) => String::new(),
        (FieldType::Boolean, Value::Bool(b)) => if *b { "Ja" } else { "Nein" }.to_string(),
        (FieldType::Enum, Value::String(key)) => field
            .options
            .as_ref()
            .and_then(|o| o.get(key))
            .cloned()
            .unwrap_or_else(|| key.clone()),
        (FieldType::Date, Value::String(text)) => {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(|d| d.format("%d.%m.%Y").to_string())
                .unwrap_or_else(|_| text.clone())
        }
        (FieldType::Number, Value::Number(n)) => n.to_string().replace('.', ","),
        // Documents are referred to by their id as text (`"17"`).
        (FieldType::Document, Value::String(id)) => references.document(id),
        (FieldType::Organisation, Value::String(key)) => references.organisation(key),
        (FieldType::Group, Value::Object(map)) => {
            let Some(children) = &field.fields else {
                return String::new();
            };
            children
                .iter()
                .filter_map(|(key, child)| {
                    let text = format_value(child, map.get(key)?, references, false);
                    (!text.is_empty()).then(|| format!("{}: {text}", child.label))
                })
                .collect::<Vec<_>>()
                .join(if lines { "\n" } else { "; " })
        }
        (FieldType::List, Value::Array(items)) => {
            let Some(item) = &field.items else {
                return String::new();
            };
            let texts = items
                .iter()
                .map(|v| format_value(item, v, references, false))
                .filter(|t| !t.is_empty());
            if lines {
                texts
                    .map(|t| format!("– {t}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            } else {
                texts.collect::<Vec<_>>().join(" | ")
            }
        }
        (FieldType::Organisations, Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|key| references.organisation(key))
            .collect::<Vec<_>>()
            .join(", "),
        (_, Value::String(text)) => text.clone(),
        (_, other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> indexmap::IndexMap<String, Field> {
        serde_json::from_value(serde_json::json!({
            "konzept": { "type": "document", "label": "Konzept", "partner_visible": true },
            "stellenplan": { "type": "document", "label": "Stellenplan", "partner_visible": true },
            "alt": { "type": "document", "label": "Alt", "partner_visible": true },
            "stellen": { "type": "organisations", "label": "Stellen", "partner_visible": true },
            "kreis": { "type": "organisation", "label": "Kreis", "partner_visible": true },
            "leitung": {
                "type": "group", "label": "Leitung", "partner_visible": true,
                "fields": { "vertretung": { "type": "organisation", "label": "Vertretung" } }
            },
            "intern": { "type": "organisation", "label": "Intern" }
        }))
        .unwrap()
    }

    fn data() -> Value {
        serde_json::json!({
            "konzept": "17", "stellenplan": "18", "alt": "99",
            "stellen": ["SCHULAMT", "UNBEKANNT"], "kreis": "05558",
            "leitung": { "vertretung": "05974" }, "intern": "GEHEIM"
        })
    }

    fn references(readers: Readers, documents: HashMap<i64, Option<String>>) -> References {
        References::with_names(
            readers,
            documents,
            HashMap::from([
                ("SCHULAMT".into(), "Schulamt für den Kreis Coesfeld".into()),
                ("05558".into(), "Kreis Coesfeld".into()),
                ("05974".into(), "Kreis Soest".into()),
            ]),
        )
    }

    fn lines(references: &References) -> Vec<(String, String)> {
        summary(&fields(), &data(), references)
            .into_iter()
            .map(|line| (line.label, line.value))
            .collect()
    }

    #[test]
    fn partners_read_documents_and_organisations_by_name_not_number() {
        let fields = fields();
        let data = data();
        let mut keys = BTreeSet::new();
        for (key, field) in fields.iter().filter(|(_, f)| Readers::Partners.shows(f)) {
            organisation_keys(field, &data[key], &mut keys);
        }
        let expected: BTreeSet<String> = ["05558", "05974", "SCHULAMT", "UNBEKANNT"]
            .map(String::from)
            .into();
        assert_eq!(keys, expected, "only partner-visible fields are looked up");

        let references = references(
            Readers::Partners,
            HashMap::from([(17, Some("Konzept.pdf".into())), (18, None)]),
        );
        let expected = [
            ("Konzept", "Konzept.pdf (unter „Unterlagen“)"),
            (
                "Stellenplan",
                "liegt vor (für Beteiligte nicht freigegeben)",
            ),
            ("Alt", "nicht mehr vorhanden"),
            ("Stellen", "Schulamt für den Kreis Coesfeld, UNBEKANNT"),
            ("Kreis", "Kreis Coesfeld"),
            ("Leitung", "Vertretung: Kreis Soest"),
        ]
        .map(|(label, value)| (label.to_string(), value.to_string()));
        assert_eq!(lines(&references), expected);
    }

    #[test]
    fn the_case_file_shows_every_field_and_numbers_its_documents() {
        let references = references(
            Readers::CaseFile,
            HashMap::from([
                (17, Some("Konzept.pdf".into())),
                (18, Some("Stellenplan.xlsx".into())),
            ]),
        );
        let expected = [
            ("Konzept", "Konzept.pdf (Dokument Nr. 17)"),
            ("Stellenplan", "Stellenplan.xlsx (Dokument Nr. 18)"),
            ("Alt", "nicht mehr vorhanden"),
            ("Stellen", "Schulamt für den Kreis Coesfeld, UNBEKANNT"),
            ("Kreis", "Kreis Coesfeld"),
            ("Leitung", "Vertretung: Kreis Soest"),
            ("Intern", "GEHEIM"),
        ]
        .map(|(label, value)| (label.to_string(), value.to_string()));
        assert_eq!(lines(&references), expected);
    }

    #[test]
    fn another_organisations_internal_document_is_named_as_such_in_the_case_file() {
        let references = references(
            Readers::CaseFile,
            HashMap::from([(17, Some("Konzept.pdf".into())), (18, None)]),
        );
        let found = lines(&references);
        assert!(
            found.contains(&(
                "Stellenplan".to_string(),
                "liegt vor (internes Dokument einer anderen Stelle)".to_string()
            )),
            "{found:?}"
        );
    }

    #[test]
    fn the_case_file_puts_a_group_s_fields_and_a_list_s_items_on_lines_of_their_own() {
        let fields: indexmap::IndexMap<String, Field> = serde_json::from_value(serde_json::json!({
            "antragsteller": { "type": "group", "label": "Antragsteller", "partner_visible": true,
                "fields": {
                    "dienststelle": { "type": "text", "label": "Dienststelle" },
                    "telefon": { "type": "text", "label": "Telefon" }
                } },
            "standorte": { "type": "list", "label": "Standort", "partner_visible": true,
                "items": { "type": "group", "label": "Standort", "fields": {
                    "bezeichnung": { "type": "text", "label": "Bezeichnung" },
                    "anschrift": { "type": "text", "label": "Anschrift" }
                } } }
        }))
        .unwrap();
        let data = serde_json::json!({
            "antragsteller": { "dienststelle": "FB 50", "telefon": "02921 30-0" },
            "standorte": [
                { "bezeichnung": "Kreishaus", "anschrift": "Hoher Weg 1" },
                { "bezeichnung": "Außenstelle" }
            ]
        });
        let values = |readers| -> Vec<String> {
            summary(&fields, &data, &references(readers, HashMap::new()))
                .into_iter()
                .map(|line| line.value)
                .collect()
        };
        assert_eq!(
            values(Readers::CaseFile),
            [
                "Dienststelle: FB 50\nTelefon: 02921 30-0",
                "– Bezeichnung: Kreishaus; Anschrift: Hoher Weg 1\n– Bezeichnung: Außenstelle",
            ]
        );
        assert_eq!(
            values(Readers::Partners),
            [
                "Dienststelle: FB 50; Telefon: 02921 30-0",
                "Bezeichnung: Kreishaus; Anschrift: Hoher Weg 1 | Bezeichnung: Außenstelle",
            ]
        );
    }
}
