//! The step graph: every step reachable from `start`, an `end` reachable from every step, and
//! the parallel/join structure (each join belongs to exactly one parallel, every branch reaches
//! its join and none ends the case on its own). While some step name is unknown, the checks that
//! walk the graph are left out: their findings would only echo that mistake.

use std::collections::{BTreeSet, HashMap, VecDeque};

use super::{At, Checker};
use crate::engine::definition::{Definition, Step};

/// Runs the graph checks (unknown step names are reported elsewhere and ignored here).
pub(super) fn check_graph(checker: &mut Checker<'_>) {
    let def = checker.def;
    parallels_and_joins(checker);
    if checker.unknown_steps {
        return;
    }
    let reaches_end = steps_reaching_end(def);
    if def.steps.contains_key(&def.start) {
        let reachable = walk(def, [def.start.as_str()], None);
        for name in def.steps.keys() {
            let at = At::step(name).key();
            if !reachable.contains(name.as_str()) {
                checker.error(
                    &at,
                    format!(
                        "Schritt '{name}' ist vom Startschritt '{}' aus nicht erreichbar",
                        def.start
                    ),
                );
            } else if !reaches_end.contains(name.as_str()) {
                checker.error(
                    &at,
                    format!(
                        "vom Schritt '{name}' aus ist kein Schritt vom Typ 'end' erreichbar: \
                         ein Vorgang dort könnte nie enden"
                    ),
                );
            }
        }
    }
}

/// Every step reachable from `from` (included), not going on from `stop`.
fn walk<'a>(
    def: &'a Definition,
    from: impl IntoIterator<Item = &'a str>,
    stop: Option<&str>,
) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<&str> = from.into_iter().collect();
    while let Some(name) = queue.pop_front() {
        let Some((key, step)) = def.steps.get_key_value(name) else {
            continue;
        };
        if !seen.insert(key.as_str()) || Some(name) == stop {
            continue;
        }
        queue.extend(step.successors());
    }
    seen
}

/// Steps from which some `end` step can be reached.
fn steps_reaching_end(def: &Definition) -> BTreeSet<&str> {
    let mut predecessors: HashMap<&str, Vec<&str>> = HashMap::new();
    for (name, step) in &def.steps {
        for next in step.successors() {
            predecessors.entry(next).or_default().push(name);
        }
    }
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<&str> = def
        .steps
        .iter()
        .filter(|(_, step)| matches!(step, Step::End(_)))
        .map(|(name, _)| name.as_str())
        .collect();
    while let Some(name) = queue.pop_front() {
        if seen.insert(name)
            && let Some(before) = predecessors.get(name)
        {
            queue.extend(before.iter().copied());
        }
    }
    seen
}

fn parallels_and_joins(checker: &mut Checker<'_>) {
    let def = checker.def;
    let mut owner: HashMap<&str, &str> = HashMap::new();
    for (name, step) in &def.steps {
        let Step::Parallel(parallel) = step else {
            continue;
        };
        let at = At::step(name);
        if parallel.branches.len() < 2 {
            checker.error(
                &at.k("branches"),
                format!(
                    "Schritt '{name}' vom Typ 'parallel' braucht mindestens 2 Zweige, \
                     gefunden: {}",
                    parallel.branches.len()
                ),
            );
        }
        let mut listed = BTreeSet::new();
        for (i, branch) in parallel.branches.iter().enumerate() {
            if !listed.insert(branch.as_str()) {
                checker.error(
                    &at.k("branches").i(i),
                    format!(
                        "Zweig '{branch}' steht doppelt in {}",
                        at.k("branches").path()
                    ),
                );
            }
        }
        let join = parallel.join.as_str();
        match def.steps.get(join) {
            None => continue,
            Some(Step::Join(_)) => {}
            Some(other) => {
                checker.error(
                    &at.k("join"),
                    format!(
                        "'{join}' in {} ist ein Schritt vom Typ '{}', nicht vom Typ 'join'",
                        at.k("join").path(),
                        other.type_name()
                    ),
                );
                continue;
            }
        }
        if let Some(first) = owner.get(join) {
            checker.error(
                &at.k("join"),
                format!(
                    "Schritt '{join}' vom Typ 'join' gehört schon zum Schritt '{first}' vom Typ \
                     'parallel'; jeder Schritt vom Typ 'join' gehört zu genau einem Schritt vom \
                     Typ 'parallel'"
                ),
            );
            continue;
        }
        owner.insert(join, name);
        if checker.unknown_steps {
            continue;
        }
        for (i, branch) in parallel.branches.iter().enumerate() {
            let inside = walk(def, [branch.as_str()], Some(join));
            let ends = inside
                .iter()
                .find(|step| matches!(def.steps.get(**step), Some(Step::End(_))));
            let message = match ends {
                Some(end) => format!(
                    "Zweig '{branch}' des Schritts '{name}' vom Typ 'parallel' kann den \
                     Vorgang im Schritt '{end}' vom Typ 'end' beenden, ohne den zugehörigen \
                     Schritt '{join}' vom Typ 'join' zu erreichen"
                ),
                None if !inside.contains(join) => format!(
                    "Zweig '{branch}' des Schritts '{name}' vom Typ 'parallel' erreicht nie den \
                     zugehörigen Schritt '{join}' vom Typ 'join'"
                ),
                None => continue,
            };
            checker.error(&at.k("branches").i(i), message);
        }
    }
    for (name, step) in &def.steps {
        if matches!(step, Step::Join(_)) && !owner.contains_key(name.as_str()) {
            checker.error(
                &At::step(name).key(),
                format!(
                    "Schritt '{name}' vom Typ 'join' gehört zu keinem Schritt vom Typ \
                     'parallel' (keiner nennt ihn in 'join')"
                ),
            );
        }
    }
}
