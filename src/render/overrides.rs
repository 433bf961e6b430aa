//! Start-up check of the operator's page overrides (`ui/…` in the template directory).
//!
//! Pages render in strict mode, so a variable the page's context does not provide fails the page
//! when it is shown, not at start-up. The contexts are built by the handlers, so the check
//! cannot render the pages; instead it compares what an override refers to with what the shipped
//! pages and partials refer to: a variable no shipped template uses is most likely a typo. Such
//! findings are warnings (a page context may hold a value the shipped pages leave unused), and so
//! is an override that replaces no shipped page, since nothing renders it.

use std::collections::{BTreeMap, BTreeSet};

use handlebars::template::{Parameter, Template, TemplateElement};
use handlebars::{Path, PathSeg};

/// Handlebars' built-in helpers, which look like variables in a template's syntax tree.
const HELPERS: [&str; 17] = [
    "if", "unless", "each", "with", "lookup", "raw", "log", "eq", "ne", "gt", "gte", "lt", "lte",
    "and", "or", "not", "len",
];

/// Warnings about the page overrides among `files` (relative path → source), given the shipped
/// files `embedded`; German, for the operator's log.
pub fn check(files: &BTreeMap<String, String>, embedded: &BTreeMap<String, String>) -> Vec<String> {
    let changed: Vec<(&String, &String)> = files
        .iter()
        .filter(|(path, source)| path.starts_with("ui/") && embedded.get(*path) != Some(*source))
        .collect();
    if changed.is_empty() {
        return Vec::new();
    }
    let is_page_file = |path: &str| path.starts_with("ui/") || path.starts_with("partials/");
    let known: BTreeSet<String> = embedded
        .iter()
        .filter(|(path, _)| is_page_file(path))
        .filter_map(|(_, source)| variables(source))
        .flatten()
        .collect();
    let mut warnings = Vec::new();
    for (path, source) in changed {
        if !embedded.contains_key(path) {
            if !path.starts_with("ui/partials/") {
                warnings.push(format!(
                    "Vorlage {path} ersetzt keine mitgelieferte Seite und wird nicht angezeigt"
                ));
            }
            continue;
        }
        // A file that does not parse is refused by the registry itself.
        let Some(used) = variables(source) else {
            continue;
        };
        for variable in used.difference(&known) {
            warnings.push(format!(
                "Vorlage {path} verwendet „{variable}“, das keine mitgelieferte Seite kennt; \
                 ist es ein Tippfehler, scheitert die Seite beim Anzeigen"
            ));
        }
    }
    warnings
}

/// The variables `source` refers to, relative to whatever scope they are used in (`../` and
/// `this.` removed), or `None` if it does not parse.
fn variables(source: &str) -> Option<BTreeSet<String>> {
    let template = Template::compile(source).ok()?;
    let mut found = BTreeSet::new();
    collect_template(&template, &mut found);
    Some(found)
}

fn collect_template(template: &Template, found: &mut BTreeSet<String>) {
    for element in &template.elements {
        match element {
            TemplateElement::HtmlExpression(helper)
            | TemplateElement::Expression(helper)
            | TemplateElement::HelperBlock(helper) => {
                let is_call = !helper.params.is_empty() || !helper.hash.is_empty() || helper.block;
                match &helper.name {
                    // `{{name}}` alone is a variable, `{{#each items}}` a helper.
                    Parameter::Name(name) if !is_call && !HELPERS.contains(&name.as_str()) => {
                        found.insert(name.clone());
                    }
                    name => collect_parameter(name, found),
                }
                for parameter in helper.params.iter().chain(helper.hash.values()) {
                    collect_parameter(parameter, found);
                }
                for inner in helper.template.iter().chain(helper.inverse.iter()) {
                    collect_template(inner, found);
                }
            }
            TemplateElement::PartialExpression(partial)
            | TemplateElement::PartialBlock(partial)
            | TemplateElement::DecoratorExpression(partial)
            | TemplateElement::DecoratorBlock(partial) => {
                for parameter in partial.params.iter().chain(partial.hash.values()) {
                    collect_parameter(parameter, found);
                }
                if let Some(inner) = &partial.template {
                    collect_template(inner, found);
                }
            }
            // Text and comments; future element kinds are not checked.
            _ => {}
        }
    }
}

fn collect_parameter(parameter: &Parameter, found: &mut BTreeSet<String>) {
    match parameter {
        Parameter::Path(Path::Relative((segments, _))) => {
            let names: Vec<&str> = segments
                .iter()
                .filter_map(|segment| match segment {
                    PathSeg::Named(name) => Some(name.as_str()),
                    // `../` and the like.
                    _ => None,
                })
                .filter(|name| *name != "this")
                .collect();
            if !names.is_empty() {
                found.insert(names.join("."));
            }
        }
        Parameter::Subexpression(sub) => {
            for inner in sub.params().into_iter().flatten() {
                collect_parameter(inner, found);
            }
            if let Some(hash) = sub.hash() {
                for inner in hash.values() {
                    collect_parameter(inner, found);
                }
            }
        }
        // `@index`, `@root.…` (locals), literals and helper names.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
        entries
            .iter()
            .map(|(path, source)| (path.to_string(), source.to_string()))
            .collect()
    }

    #[test]
    fn variables_are_found_in_blocks_helpers_and_partials() {
        let found = variables(
            "{{titel}} {{vorgang.aktenzeichen}} {{#if fehler}}{{fehler}}{{/if}}\
             {{#each zeilen}}{{this.name}}{{../seite}}{{@index}}{{/each}}\
             {{#unless (eq status \"offen\")}}x{{/unless}}{{> kopf benutzer=person}}",
        )
        .unwrap();
        let expected = [
            "fehler",
            "name",
            "person",
            "seite",
            "status",
            "titel",
            "vorgang.aktenzeichen",
            "zeilen",
        ];
        assert_eq!(found, expected.iter().map(ToString::to_string).collect());
    }

    #[test]
    fn a_typo_and_an_orphan_page_are_reported_and_known_variables_are_not() {
        let shipped = files(&[
            ("ui/vorgang.hbs", "{{vorgang.aktenzeichen}} {{> kopf}}"),
            ("ui/partials/kopf.hbs", "{{benutzer.name}}"),
            ("mail/x.text.hbs", "{{nur_mail}}"),
        ]);
        let mut merged = shipped.clone();
        merged.insert(
            "ui/vorgang.hbs".into(),
            "<h1>{{vorgang.aktenzeichn}}</h1> {{benutzer.name}} {{nur_mail}}".into(),
        );
        merged.insert("ui/vorgaenge_alt.hbs".into(), "{{x}}".into());
        let warnings = check(&merged, &shipped);
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[0].contains("ui/vorgaenge_alt.hbs ersetzt keine mitgelieferte Seite"));
        assert!(warnings[1].contains("ui/vorgang.hbs verwendet „nur_mail“"));
        assert!(warnings[2].contains("ui/vorgang.hbs verwendet „vorgang.aktenzeichn“"));
        assert!(check(&shipped, &shipped).is_empty());
    }

    #[test]
    fn every_shipped_page_passes_as_an_edited_override_of_itself() {
        let shipped = crate::render::embedded_files();
        let mut edited = shipped.clone();
        let mut with_variables = 0;
        for (path, source) in edited
            .iter_mut()
            .filter(|(path, _)| path.starts_with("ui/"))
        {
            source.push_str("{{!-- angepasst --}}");
            let found = variables(source).unwrap_or_else(|| panic!("{path} does not parse"));
            with_variables += usize::from(!found.is_empty());
        }
        assert!(with_variables > 20, "{with_variables}");
        assert_eq!(check(&edited, &shipped), Vec::<String>::new());
    }
}
