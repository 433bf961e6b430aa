//! The case page's data form in sections: every group and list at the top level of the data is
//! a `<details>` element (`partials/datenabschnitt.hbs`) whose summary says how much of it is
//! filled in. A section is open when the page points into it: a field error of the last form, a
//! field an action still needs, a field of a version conflict; after saving, the sections the
//! form changed. Everything else starts closed.
//!
//! `ki-antrag` has some fifty fields, most with the legal hint they rest on; shown open, the
//! form made the case page a dozen screens long, and the documents, the Beteiligung and the
//! journal sat below all of it. Closed sections are still part of the form: their fields are
//! sent with it, and they print (see the stylesheet).

use serde_json::{Value, json};

use super::super::form;

/// Marks the top-level groups and lists of `context["felder"]` as sections, opens those the
/// page's links point into and those of the top-level fields `open` (the ones just saved: the
/// page after saving shows what was changed), and says of each how much is filled in.
pub(super) fn fold(context: &mut Value, open: &[String]) {
    let mut targets = targets(context);
    targets.extend(open.iter().map(|key| form::field_id(&format!("/{key}"))));
    let Some(fields) = context.get_mut("felder").and_then(Value::as_array_mut) else {
        return;
    };
    for node in fields {
        if !(flag(node, "ist_gruppe") || flag(node, "ist_liste")) {
            continue;
        }
        let id = node["id"].as_str().unwrap_or_default().to_string();
        let open = targets.iter().any(|target| within(target, &id));
        let state = if flag(node, "ist_liste") {
            entries_de(entries(node))
        } else {
            let (filled, all) = leaves(node);
            filled_de(filled, all)
        };
        node["abschnitt"] = json!(true);
        node["offen"] = json!(open);
        node["stand"] = json!(state);
    }
}

/// Whether the element `target` is the field `id` or lies inside it (`feld-a` holds
/// `feld-a-0-b`, not `feld-ab`).
fn within(target: &str, id: &str) -> bool {
    target
        .strip_prefix(id)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
}

/// The ids of form fields the page links to: the error summary, the fields actions still need,
/// the fields of a version conflict.
fn targets(context: &Value) -> Vec<String> {
    let mut ids = Vec::new();
    let mut push = |value: &Value| {
        if let Some(id) = value.as_str() {
            ids.push(id.to_string());
        }
    };
    for error in items(&context["fehler"]) {
        push(&error["ziel"]);
    }
    for step in items(&context["aktionen"]) {
        for action in items(&step["eintraege"]) {
            for reason in items(&action["gruende"]) {
                for field in items(&reason["felder"]) {
                    push(&field["id"]);
                }
            }
        }
    }
    for change in items(&context["konflikt"]["aenderungen"]) {
        push(&change["id"]);
    }
    ids
}

fn items(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn flag(node: &Value, name: &str) -> bool {
    node[name].as_bool().unwrap_or(false)
}

/// The entries a list holds (not the blank one for adding).
fn entries(node: &Value) -> usize {
    items(&node["eintraege"])
        .iter()
        .filter(|entry| !flag(entry, "neu"))
        .count()
}

/// (filled, all) fields of a group, its groups counted by their fields and its lists as one
/// field each, filled with one entry.
fn leaves(node: &Value) -> (usize, usize) {
    items(&node["kinder"])
        .iter()
        .fold((0, 0), |(filled, all), child| {
            if flag(child, "ist_gruppe") {
                let (f, a) = leaves(child);
                (filled + f, all + a)
            } else if flag(child, "ist_liste") {
                (filled + usize::from(entries(child) > 0), all + 1)
            } else {
                (filled + usize::from(is_filled(child)), all + 1)
            }
        })
}

/// Whether a single field holds a value: text, a ticked box or a choice.
fn is_filled(node: &Value) -> bool {
    node["wert"].as_str().is_some_and(|text| !text.is_empty())
        || flag(node, "aktiv")
        || items(&node["optionen"])
            .iter()
            .any(|option| flag(option, "gewaehlt"))
}

fn filled_de(filled: usize, all: usize) -> String {
    match filled {
        0 => "noch keine Angaben".to_string(),
        _ if filled == all => "vollständig ausgefüllt".to_string(),
        _ => format!("{filled} von {all} Angaben ausgefüllt"),
    }
}

fn entries_de(count: usize) -> String {
    match count {
        0 => "noch kein Eintrag".to_string(),
        1 => "1 Eintrag".to_string(),
        n => format!("{n} Einträge"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(id: &str, value: &str) -> Value {
        json!({ "id": id, "ist_text": true, "wert": value })
    }

    fn page() -> Value {
        json!({
            "felder": [
                text("feld-name", ""),
                {
                    "id": "feld-antragsteller", "ist_gruppe": true, "kinder": [
                        text("feld-antragsteller-dienststelle", "Amt 50"),
                        text("feld-antragsteller-telefon", ""),
                        { "id": "feld-antragsteller-frei", "ist_janein": true, "aktiv": true, "wert": "" },
                        { "id": "feld-antragsteller-art", "ist_organisationen": true, "wert": "",
                          "optionen": [{ "wert": "05154", "gewaehlt": false }] },
                        { "id": "feld-antragsteller-ort", "ist_gruppe": true, "kinder": [
                            text("feld-antragsteller-ort-plz", "48653"),
                        ] },
                        { "id": "feld-antragsteller-raeume", "ist_liste": true, "eintraege": [
                            { "id": "feld-antragsteller-raeume-0", "neu": true },
                        ] },
                    ],
                },
                {
                    "id": "feld-antragstellerin", "ist_gruppe": true, "kinder": [
                        text("feld-antragstellerin-name", "Kreis Coesfeld"),
                    ],
                },
                {
                    "id": "feld-standorte", "ist_liste": true, "eintraege": [
                        { "id": "feld-standorte-0", "neu": false },
                        { "id": "feld-standorte-1", "neu": false },
                        { "id": "feld-standorte-2", "neu": true },
                    ],
                },
                { "id": "feld-leer", "ist_gruppe": true, "kinder": [text("feld-leer-a", "")] },
            ],
            "fehler": [],
            "aktionen": [],
            "konflikt": null,
        })
    }

    fn sections(context: &Value) -> Vec<(String, bool, String)> {
        items(&context["felder"])
            .iter()
            .filter(|node| flag(node, "abschnitt"))
            .map(|node| {
                (
                    node["id"].as_str().unwrap().to_string(),
                    flag(node, "offen"),
                    node["stand"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    fn open_ones(context: &Value) -> Vec<String> {
        sections(context)
            .into_iter()
            .filter(|(_, open, _)| *open)
            .map(|(id, ..)| id)
            .collect()
    }

    #[test]
    fn groups_and_lists_become_closed_sections_that_say_how_much_is_filled_in() {
        let mut context = page();
        fold(&mut context, &[]);
        assert_eq!(
            sections(&context),
            [
                (
                    "feld-antragsteller".into(),
                    false,
                    "3 von 6 Angaben ausgefüllt".into()
                ),
                (
                    "feld-antragstellerin".into(),
                    false,
                    "vollständig ausgefüllt".into()
                ),
                ("feld-standorte".into(), false, "2 Einträge".into()),
                ("feld-leer".into(), false, "noch keine Angaben".into()),
            ]
        );
        assert!(
            context["felder"][0].get("abschnitt").is_none(),
            "a single field stays as it is"
        );
    }

    #[test]
    fn a_section_opens_when_an_error_an_action_or_a_conflict_points_into_it() {
        let mut context = page();
        context["fehler"] = json!([{ "ziel": "feld-antragsteller-ort-plz", "meldung": "…" }]);
        fold(&mut context, &[]);
        // Not the group whose id merely starts with the same letters.
        assert_eq!(open_ones(&context), ["feld-antragsteller"]);

        let mut context = page();
        context["aktionen"] = json!([{ "eintraege": [{ "gruende": [
            { "text": "…", "felder": [{ "id": "feld-standorte", "label": "Standort" }] },
        ] }] }]);
        context["konflikt"] = json!({ "aenderungen": [{ "id": "feld-leer-a" }] });
        fold(&mut context, &[]);
        assert_eq!(open_ones(&context), ["feld-standorte", "feld-leer"]);

        // The sections of the fields just saved open too; unknown keys change nothing.
        let mut context = page();
        fold(
            &mut context,
            &["antragstellerin".into(), "gibt_es_nicht".into()],
        );
        assert_eq!(open_ones(&context), ["feld-antragstellerin"]);
    }
}
