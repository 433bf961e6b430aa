//! Semantic validation of a loaded definition: every check that needs more than one place of the
//! file (references between steps, roles, templates, rules, data fields, expressions,
//! reachability, parallel/join structure, the data schema). Pure: no I/O; what lies outside the
//! file (templates, rules, other workflows) comes in through [`ValidationContext`].
//!
//! - this file: the context, the driver, references and expressions;
//! - [`expressions`]: CEL guards and conditions;
//! - [`graph`]: reachability and the parallel/join structure;
//! - [`schema`]: the data schema, data paths and literal values.

mod expressions;
mod graph;
mod schema;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::definition::{
    Action, Deadline, Definition, Effect, FieldType, Recipient, Step, Timer, TimerWhen, WaitFor,
};
use super::diagnostic::{Diagnostic, did_you_mean};
use super::load::SourceTree;
use super::yaml::{Node, Pos};

/// What a definition may refer to outside its own file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationContext {
    /// Mail templates that exist (`x` when `templates/mail/x.{subject,text,html}.hbs` exist).
    pub templates: BTreeSet<String>,
    /// Domain rules implemented in Rust that actions may name.
    pub rules: BTreeSet<String>,
    /// Workflow keys that `start_case` may start (besides the definition's own key).
    pub workflows: BTreeSet<String>,
    /// Templates that exist but fail to render for a use (e.g. a variable that kind of mail
    /// does not have), with the reason.
    pub template_problems: BTreeMap<(String, TemplateUse), String>,
}

/// What a mail template is used for, which decides the variables it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TemplateUse {
    /// Mail to an invited organisation (invitation, reminder, mail to participants): has the
    /// question, the deadline and the personal link.
    Invitation,
    /// Any other mail about a case (to the applicant or a role).
    Case,
}

/// The longest workflow key, in bytes (ASCII).
pub const KEY_MAX: usize = 64;

/// The one key a workflow cannot have: the address of the editor for new workflows.
const RESERVED_KEY: &str = "neu";

/// Checks a loaded definition; returns errors and warnings sorted by position.
pub fn validate(def: &Definition, tree: &SourceTree, ctx: &ValidationContext) -> Vec<Diagnostic> {
    let mut checker = Checker {
        def,
        tree,
        ctx,
        out: Vec::new(),
        unknown_steps: false,
        unknown_roles: false,
    };
    checker.key();
    checker.start();
    checker.withdrawal();
    for (name, step) in &def.steps {
        checker.step(name, step);
    }
    schema::check_schema(&mut checker);
    graph::check_graph(&mut checker);
    checker.unused_roles();
    checker.message_data();
    checker.unused_messages();
    checker.unused_windows();
    let mut out = checker.out;
    out.sort_by_key(|d| (d.line, d.column));
    out.dedup();
    out
}

/// Checks the data a `start_case` hands over against the target workflow, when it is among
/// `targets` (by key): each receiving field must exist there, with the type of its source.
pub fn validate_start_case_targets(
    def: &Definition,
    tree: &SourceTree,
    targets: &BTreeMap<&str, &Definition>,
) -> Vec<Diagnostic> {
    let ctx = ValidationContext::default();
    let mut checker = Checker {
        def,
        tree,
        ctx: &ctx,
        out: Vec::new(),
        unknown_steps: false,
        unknown_roles: false,
    };
    for (name, step) in &def.steps {
        let at = At::step(name);
        let on_enter = step
            .on_enter()
            .iter()
            .enumerate()
            .map(|(i, effect)| (at.k("on_enter").i(i), effect));
        let in_timers = step.timers().iter().enumerate().flat_map(|(t, timer)| {
            let at = at.k("timers").i(t).k("effects");
            timer
                .effects
                .iter()
                .enumerate()
                .map(move |(i, effect)| (at.i(i), effect))
        });
        for (effect_at, effect) in on_enter.chain(in_timers) {
            let Effect::StartCase(start) = effect else {
                continue;
            };
            let Some(target) = targets.get(start.workflow.as_str()) else {
                continue;
            };
            for (key, source) in &start.data {
                let at = effect_at.k("start_case").k("data").k(key);
                let source_field = schema::resolve(&def.data, source.as_field_path()).ok();
                match schema::resolve(&target.data, key) {
                    Err(problem) => {
                        let (what, hint) = problem.message(key, &target.data);
                        checker.error(
                            &at.clone().key(),
                            format!(
                                "{what} im Workflow '{}', genannt in {}{hint}",
                                start.workflow,
                                at.path()
                            ),
                        );
                    }
                    Ok(target_field) => {
                        if let Some(source_field) = source_field
                            && source_field.field_type != target_field.field_type
                        {
                            checker.error(
                                &at,
                                format!(
                                    "Datenfeld '{}' ist vom Typ {}, aber '{key}' im Workflow \
                                         '{}' ist vom Typ {} (in {})",
                                    source.as_field_path(),
                                    schema::type_name(source_field.field_type),
                                    start.workflow,
                                    schema::type_name(target_field.field_type),
                                    at.path()
                                ),
                            );
                        }
                    }
                }
            }
        }
    }
    checker.out
}

/// One step of a path into the definition.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PathSeg {
    Key(String),
    Index(usize),
}

/// A place in the definition: a path, pointing at the value or (for names) at the key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct At {
    segs: Vec<PathSeg>,
    on_key: bool,
}

impl At {
    fn root() -> Self {
        Self {
            segs: Vec::new(),
            on_key: false,
        }
    }

    fn k(&self, key: &str) -> Self {
        let mut segs = self.segs.clone();
        segs.push(PathSeg::Key(key.to_string()));
        Self {
            segs,
            on_key: false,
        }
    }

    fn i(&self, index: usize) -> Self {
        let mut segs = self.segs.clone();
        segs.push(PathSeg::Index(index));
        Self {
            segs,
            on_key: false,
        }
    }

    /// Point at the key of the last segment instead of its value.
    fn key(mut self) -> Self {
        self.on_key = true;
        self
    }

    fn path(&self) -> String {
        let mut out = String::new();
        for seg in &self.segs {
            match seg {
                PathSeg::Key(key) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(key);
                }
                PathSeg::Index(index) => out.push_str(&format!("[{index}]")),
            }
        }
        out
    }

    fn step(name: &str) -> Self {
        Self::root().k("steps").k(name)
    }
}

/// Collects diagnostics about one definition.
struct Checker<'a> {
    def: &'a Definition,
    tree: &'a SourceTree,
    ctx: &'a ValidationContext,
    out: Vec<Diagnostic>,
    /// Some step name is unknown: reachability findings would only echo that mistake.
    unknown_steps: bool,
    /// Some role name is unknown: "role never used" would only echo that mistake.
    unknown_roles: bool,
}

impl Checker<'_> {
    /// The node at `at`, if the file has it.
    fn node(&self, at: &At) -> Option<&Node> {
        let mut node = &self.tree.root;
        for seg in &at.segs {
            node = match seg {
                PathSeg::Key(key) => node.get(key)?,
                PathSeg::Index(index) => node.index(*index)?,
            };
        }
        Some(node)
    }

    /// Where `at` is in the file; the nearest enclosing node when the file does not spell it
    /// out (a default value).
    fn pos(&self, at: &At) -> Pos {
        let mut node = &self.tree.root;
        let mut pos = node.pos;
        for (n, seg) in at.segs.iter().enumerate() {
            let last = n + 1 == at.segs.len();
            match seg {
                PathSeg::Key(key) => match node.entry(key) {
                    Some(entry) => {
                        pos = if last && at.on_key {
                            entry.key_pos
                        } else {
                            entry.value.pos
                        };
                        node = &entry.value;
                    }
                    None => break,
                },
                PathSeg::Index(index) => match node.index(*index) {
                    Some(child) => {
                        pos = child.pos;
                        node = child;
                    }
                    None => break,
                },
            }
        }
        pos
    }

    fn error(&mut self, at: &At, message: impl Into<String>) {
        let pos = self.pos(at);
        self.error_at(pos, at, message);
    }

    fn error_at(&mut self, pos: Pos, at: &At, message: impl Into<String>) {
        self.out.push(Diagnostic::error(
            &self.tree.file,
            pos.pair(),
            at.path(),
            message,
        ));
    }

    fn warning(&mut self, at: &At, message: impl Into<String>) {
        let pos = self.pos(at);
        self.out.push(Diagnostic::warning(
            &self.tree.file,
            pos.pair(),
            at.path(),
            message,
        ));
    }

    /// The key names the workflow in addresses (`/admin/workflows/{key}`, the API), in file
    /// names and in other workflows' `start_case`: plain enough for all of them.
    fn key(&mut self) {
        let key = self.def.workflow.as_str();
        let well_formed = (1..=KEY_MAX).contains(&key.len())
            && key.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        let at = At::root().k("workflow");
        if !well_formed {
            self.error(
                &at,
                format!(
                    "der Schlüssel '{key}' taugt nicht als Name des Workflows: erlaubt sind 1 bis \
                     {KEY_MAX} Kleinbuchstaben ohne Umlaute, Ziffern, '-' und '_', am Anfang ein \
                     Buchstabe oder eine Ziffer (z. B. 'ki-antrag'); er steht in Adressen und \
                     Dateinamen"
                ),
            );
        } else if key == RESERVED_KEY {
            self.error(
                &at,
                "der Schlüssel 'neu' ist vergeben: /admin/workflows/neu ist die Adresse des \
                 Editors für neue Workflows",
            );
        }
    }

    fn start(&mut self) {
        let start = &self.def.start;
        if self.def.steps.is_empty() {
            self.error(
                &At::root().k("steps"),
                "ein Workflow braucht mindestens einen Schritt",
            );
        } else if !self.def.steps.contains_key(start) {
            self.step_ref(start, &At::root().k("start"));
        }
    }

    fn withdrawal(&mut self) {
        if let Some(withdraw) = &self.def.withdraw {
            let at = At::root().k("withdraw").k("roles");
            for (i, role) in withdraw.roles.iter().enumerate() {
                self.role_ref(role, &at.i(i));
            }
            for (key, given) in [
                ("title", &withdraw.title),
                ("outcome_title", &withdraw.outcome_title),
            ] {
                if given.as_ref().is_some_and(|t| t.trim().is_empty()) {
                    self.error(
                        &At::root().k("withdraw").k(key),
                        format!("withdraw.{key} darf nicht leer sein; ohne die Angabe gilt der Standardtext"),
                    );
                }
            }
        }
        if let Some(editors) = &self.def.data_editors {
            self.editors(editors, &At::root().k("data_editors"));
        }
        if let Some(years) = self.def.retention_years
            && !(1..=100).contains(&years)
        {
            self.error(
                &At::root().k("retention_years"),
                format!("retention_years muss zwischen 1 und 100 liegen (Jahre nach dem Ende des Jahres, in dem ein Vorgang endete), nicht {years}"),
            );
        }
    }

    /// A list of `editors` (of the data or of a field): known roles, at least one.
    fn editors(&mut self, editors: &[String], at: &At) {
        if editors.is_empty() {
            self.error(
                at,
                format!("in {} muss mindestens eine Rolle stehen (lassen Sie den Schlüssel weg, damit jede Rolle die Daten ändern darf)", at.path()),
            );
        }
        for (i, role) in editors.iter().enumerate() {
            self.role_ref(role, &at.i(i));
        }
    }

    fn step(&mut self, name: &str, step: &Step) {
        let at = At::step(name);
        let waits_for_answers = matches!(step, Step::Consultation(_));
        match step {
            Step::Task(task) => {
                self.role_ref(&task.role, &at.k("role"));
                for (action_name, action) in &task.actions {
                    self.action(action, &at.k("actions").k(action_name));
                }
                if task.actions.is_empty() {
                    self.error(
                        &at.k("actions"),
                        format!("Schritt '{name}' vom Typ 'task' braucht mindestens eine Aktion"),
                    );
                }
            }
            Step::Consultation(consultation) => {
                self.role_ref(&consultation.role, &at.k("role"));
                self.data_ref(
                    &consultation.participants.0,
                    &at.k("participants"),
                    Some(&[FieldType::Organisations, FieldType::Organisation]),
                );
                self.deadline(&consultation.deadline, &at.k("deadline"));
                self.template_ref(
                    &consultation.invitation,
                    &at.k("invitation"),
                    TemplateUse::Invitation,
                );
                for (i, reminder) in consultation.remind.iter().enumerate() {
                    self.template_ref(
                        &reminder.template,
                        &at.k("remind").i(i).k("template"),
                        TemplateUse::Invitation,
                    );
                }
                self.step_ref(&consultation.next, &at.k("next"));
            }
            Step::Decision(decision) => {
                if decision.conditions.is_empty() {
                    self.error(
                        &at.k("conditions"),
                        format!(
                            "Schritt '{name}' vom Typ 'decision' braucht mindestens eine \
                             Bedingung; ohne Bedingung verwenden Sie direkt den Schritt aus \
                             'otherwise'"
                        ),
                    );
                }
                for (i, condition) in decision.conditions.iter().enumerate() {
                    let at = at.k("conditions").i(i);
                    self.expression(&condition.when, &at.k("when"));
                    self.step_ref(&condition.to, &at.k("to"));
                }
                self.step_ref(&decision.otherwise, &at.k("otherwise"));
            }
            Step::Parallel(parallel) => {
                for (i, branch) in parallel.branches.iter().enumerate() {
                    self.step_ref(branch, &at.k("branches").i(i));
                }
                self.step_ref(&parallel.join, &at.k("join"));
            }
            Step::Join(join) => self.step_ref(&join.next, &at.k("next")),
            Step::Wait(wait) => {
                let until = at.k("until");
                match &wait.until {
                    WaitFor::Date(path) => {
                        self.data_ref(&path.0, &until.k("date"), Some(&[FieldType::Date]));
                    }
                    WaitFor::Period(deadline) => self.deadline(deadline, &until.k("period")),
                    WaitFor::Message(message) => self.message_ref(message, &until.k("message")),
                }
                self.step_ref(&wait.next, &at.k("next"));
            }
            Step::End(_) => {}
        }
        for (i, effect) in step.on_enter().iter().enumerate() {
            self.effect(effect, &at.k("on_enter").i(i), waits_for_answers);
        }
        self.timers(step.timers(), &at.k("timers"), waits_for_answers);
    }

    fn action(&mut self, action: &Action, at: &At) {
        self.step_ref(&action.to, &at.k("to"));
        for (i, path) in action.require.iter().enumerate() {
            self.data_ref(&path.0, &at.k("require").i(i), None);
        }
        for (i, guard) in action.guard.iter().enumerate() {
            self.expression(&guard.expr, &at.k("guard").i(i).k("expr"));
        }
        for (i, rule) in action.rules.iter().enumerate() {
            if !self.ctx.rules.contains(rule) {
                let hint = unknown_hint(rule, self.ctx.rules.iter().map(String::as_str));
                self.error(
                    &at.k("rules").i(i),
                    format!(
                        "unbekannte Regel '{rule}' in {}{hint}",
                        at.k("rules").i(i).path()
                    ),
                );
            }
        }
        for (key, value) in &action.set {
            schema::check_set(self, key, value, &at.k("set").k(key));
        }
        if let Some(window) = &action.within
            && !self.def.windows.contains_key(window)
        {
            let at = at.k("within");
            let hint = unknown_hint(window, self.def.windows.keys().map(String::as_str));
            self.error(
                &at,
                format!("unbekannter Zeitraum '{window}' in {}{hint}", at.path()),
            );
        }
    }

    fn timers(&mut self, timers: &[Timer], timers_at: &At, waits_for_answers: bool) {
        let mut first_by_name: HashMap<&str, usize> = HashMap::new();
        for (i, timer) in timers.iter().enumerate() {
            let at = timers_at.i(i);
            if let Some(first) = first_by_name.get(timer.name.as_str()) {
                let first_pos = self.pos(&timers_at.i(*first).k("name"));
                self.error(
                    &at.k("name"),
                    format!(
                        "doppelter Timer-Name '{}' in {} (zuerst bei {first_pos}); \
                         Timer-Namen müssen innerhalb eines Schritts eindeutig sein",
                        timer.name,
                        timers_at.path(),
                    ),
                );
            } else {
                first_by_name.insert(&timer.name, i);
            }
            let when = at.k("when");
            match &timer.when {
                TimerWhen::After(deadline) => self.deadline(deadline, &when.k("after")),
                TimerWhen::Before { deadline, .. } => {
                    self.deadline(deadline, &when.k("before").k("deadline"));
                }
                TimerWhen::At(path) => {
                    self.data_ref(&path.0, &when.k("at"), Some(&[FieldType::Date]));
                }
                TimerWhen::Every(_) => {
                    if timer.to.is_some() {
                        self.error(
                            &at.k("to"),
                            format!(
                                "Timer '{}' wiederholt sich ('every') und kann daher nicht \
                                 unterbrechend sein; entfernen Sie 'to' oder verwenden Sie \
                                 'after'",
                                timer.name
                            ),
                        );
                    }
                }
            }
            if let Some(to) = &timer.to {
                self.step_ref(to, &at.k("to"));
            }
            for (j, effect) in timer.effects.iter().enumerate() {
                self.effect(effect, &at.k("effects").i(j), waits_for_answers);
            }
        }
    }

    fn effect(&mut self, effect: &Effect, at: &At, waits_for_answers: bool) {
        match effect {
            Effect::Mail(mail) | Effect::Escalate(mail) => {
                let kind = if matches!(effect, Effect::Mail(_)) {
                    "mail"
                } else {
                    "escalate"
                };
                let at = at.k(kind);
                let usage = match &mail.to {
                    Recipient::Participants | Recipient::Unanswered => TemplateUse::Invitation,
                    Recipient::Role(_) | Recipient::Applicant | Recipient::Leitung => {
                        TemplateUse::Case
                    }
                };
                self.template_ref(&mail.template, &at.k("template"), usage);
                match &mail.to {
                    Recipient::Role(role) => self.role_ref(role, &at.k("to").k("role")),
                    Recipient::Participants | Recipient::Unanswered if !waits_for_answers => {
                        self.error(
                            &at.k("to"),
                            format!(
                                "Empfänger '{}' in {} gibt es nur in Schritten vom Typ \
                                 'consultation'",
                                recipient_name(&mail.to),
                                at.k("to").path()
                            ),
                        );
                    }
                    _ => {}
                }
            }
            Effect::Set(values) => {
                for (key, value) in values {
                    schema::check_set(self, key, value, &at.k("set").k(key));
                }
            }
            Effect::StartCase(start) => {
                let at = at.k("start_case");
                let known = self.ctx.workflows.contains(&start.workflow)
                    || start.workflow == self.def.workflow;
                if !known {
                    let candidates: BTreeSet<&str> = self
                        .ctx
                        .workflows
                        .iter()
                        .map(String::as_str)
                        .chain(std::iter::once(self.def.workflow.as_str()))
                        .collect();
                    let hint = unknown_hint(&start.workflow, candidates);
                    self.error(
                        &at.k("workflow"),
                        format!(
                            "unbekannter Workflow '{}' in {}{hint}",
                            start.workflow,
                            at.k("workflow").path()
                        ),
                    );
                }
                for (key, source) in &start.data {
                    self.data_ref(&source.0, &at.k("data").k(key), None);
                }
            }
        }
    }

    fn deadline(&mut self, deadline: &Deadline, at: &At) {
        if let Some(from) = &deadline.from {
            self.data_ref(&from.0, &at.k("from"), Some(&[FieldType::Date]));
        }
    }

    fn step_ref(&mut self, name: &str, at: &At) {
        if !self.def.steps.contains_key(name) {
            self.unknown_steps = true;
            let hint = unknown_hint(name, self.def.steps.keys().map(String::as_str));
            self.error(
                at,
                format!("unbekannter Schritt '{name}' in {}{hint}", at.path()),
            );
        }
    }

    fn role_ref(&mut self, name: &str, at: &At) {
        if !self.def.roles.contains_key(name) {
            self.unknown_roles = true;
            let hint = unknown_hint(name, self.def.roles.keys().map(String::as_str));
            self.error(
                at,
                format!("unbekannte Rolle '{name}' in {}{hint}", at.path()),
            );
        }
    }

    /// A message a step waits for: declared under `messages`. A file without that section (one
    /// written before messages were declared) still works; the case page then shows the name.
    fn message_ref(&mut self, name: &str, at: &At) {
        if self.def.messages.contains_key(name) {
            return;
        }
        if self.def.messages.is_empty() {
            self.warning(
                at,
                format!(
                    "Nachricht '{name}' in {} ist nicht deklariert; deklarieren Sie sie unter \
                     'messages' mit einem deutschen Titel, den die Seite des Vorgangs statt des \
                     Namens zeigt",
                    at.path()
                ),
            );
        } else {
            let hint = unknown_hint(name, self.def.messages.keys().map(String::as_str));
            self.error(
                at,
                format!("unbekannte Nachricht '{name}' in {}{hint}", at.path()),
            );
        }
    }

    fn template_ref(&mut self, name: &str, at: &At, usage: TemplateUse) {
        if let Some(problem) = self.ctx.template_problems.get(&(name.to_string(), usage)) {
            self.error(
                at,
                format!(
                    "Mailvorlage '{name}' in {} kann für diese Mail nicht verwendet werden: \
                     {problem}",
                    at.path()
                ),
            );
        } else if !self.ctx.templates.contains(name) {
            let hint = match did_you_mean(name, self.ctx.templates.iter().map(String::as_str)) {
                Some(candidate) => format!(" (meinten Sie '{candidate}'?)"),
                None => format!(
                    " (erwartet werden templates/mail/{name}.subject.hbs, {name}.text.hbs und \
                     {name}.html.hbs)"
                ),
            };
            self.error(
                at,
                format!("unbekannte Mailvorlage '{name}' in {}{hint}", at.path()),
            );
        }
    }

    /// A data path must name a declared field (through groups), of one of `types` if given.
    fn data_ref(&mut self, path: &str, at: &At, types: Option<&[FieldType]>) {
        let field_path = path.strip_prefix("data.").unwrap_or(path);
        match schema::resolve(&self.def.data, field_path) {
            Ok(field) => {
                if let Some(types) = types
                    && !types.contains(&field.field_type)
                {
                    let wanted = types
                        .iter()
                        .map(|t| schema::type_name(*t))
                        .collect::<Vec<_>>()
                        .join(" oder ");
                    self.error(
                        at,
                        format!(
                            "Datenfeld '{field_path}' in {} ist vom Typ {}, muss aber vom \
                                 Typ {wanted} sein",
                            at.path(),
                            schema::type_name(field.field_type)
                        ),
                    );
                }
            }
            Err(problem) => {
                let (what, hint) = problem.message(field_path, &self.def.data);
                self.error(at, format!("{what} in {}{hint}", at.path()));
            }
        }
    }

    /// The fields a message carries must be declared.
    fn message_data(&mut self) {
        let def = self.def;
        for (name, message) in &def.messages {
            let at = At::root().k("messages").k(name).k("data");
            for (i, path) in message.data.iter().enumerate() {
                self.data_ref(&path.0, &at.i(i), None);
            }
        }
    }

    fn unused_messages(&mut self) {
        let awaited: BTreeSet<&str> = self
            .def
            .steps
            .values()
            .filter_map(Step::awaited_message)
            .collect();
        for message in self.def.messages.keys() {
            if !awaited.contains(message.as_str()) {
                self.warning(
                    &At::root().k("messages").k(message).key(),
                    format!(
                        "Nachricht '{message}' ist deklariert, aber kein Schritt wartet auf sie"
                    ),
                );
            }
        }
    }

    fn unused_windows(&mut self) {
        let bound: BTreeSet<&str> = self
            .def
            .steps
            .values()
            .filter_map(|step| match step {
                Step::Task(task) => Some(task.actions.values()),
                _ => None,
            })
            .flatten()
            .filter_map(|action| action.within.as_deref())
            .collect();
        for window in self.def.windows.keys() {
            if !bound.contains(window.as_str()) {
                self.warning(
                    &At::root().k("windows").k(window).key(),
                    format!(
                        "Zeitraum '{window}' ist deklariert, aber keine Aktion ist an ihn \
                         gebunden ('within')"
                    ),
                );
            }
        }
    }

    fn unused_roles(&mut self) {
        if self.unknown_roles {
            return;
        }
        let mut used: BTreeSet<&str> = BTreeSet::new();
        if let Some(withdraw) = &self.def.withdraw {
            used.extend(withdraw.roles.iter().map(String::as_str));
        }
        for step in self.def.steps.values() {
            match step {
                Step::Task(task) => {
                    used.insert(&task.role);
                }
                Step::Consultation(consultation) => {
                    used.insert(&consultation.role);
                }
                _ => {}
            }
            let effects = step
                .on_enter()
                .iter()
                .chain(step.timers().iter().flat_map(|t| t.effects.iter()));
            for effect in effects {
                if let Effect::Mail(mail) | Effect::Escalate(mail) = effect
                    && let Recipient::Role(role) = &mail.to
                {
                    used.insert(role);
                }
            }
        }
        for role in self.def.roles.keys() {
            if !used.contains(role.as_str()) {
                self.warning(
                    &At::root().k("roles").k(role).key(),
                    format!("Rolle '{role}' ist deklariert, wird aber nie verwendet"),
                );
            }
        }
    }
}

fn recipient_name(recipient: &Recipient) -> &'static str {
    match recipient {
        Recipient::Role(_) => "role",
        Recipient::Participants => "participants",
        Recipient::Unanswered => "unanswered",
        Recipient::Applicant => "applicant",
        Recipient::Leitung => "leitung",
    }
}

/// ` (meinten Sie 'x'?)`, else the known names when there are few (` (bekannt: a, b)`, or
/// ` (keine deklariert)`), else nothing.
fn unknown_hint<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let candidates: Vec<&str> = candidates.into_iter().collect();
    match did_you_mean(name, candidates.iter().copied()) {
        Some(candidate) => format!(" (meinten Sie '{candidate}'?)"),
        None if candidates.is_empty() => " (keine deklariert)".into(),
        None if candidates.len() <= 8 => format!(" (bekannt: {})", candidates.join(", ")),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
