//! The workflow language: what a `workflows/*.yaml` file says, as Rust types.
//!
//! The serde representation of these types *is* the file format (YAML in, JSON for storage), so
//! `vorgang schema` derives the JSON Schema from them and a definition survives a JSON round trip
//! unchanged. Structural checks live here as serde attributes; every check that needs more than
//! one place of the file (references, reachability, expressions) is the validator's job.
//!
//! Every step type maps onto one BPMN 2.0 element (see `docs/workflow-language.md`).

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::frist::Period;

/// Name of a step, unique within a workflow (`kreistag`, `beteiligung`).
pub type StepName = String;
/// Name of an action, unique within its step (`beteiligung_starten`).
pub type ActionName = String;
/// Name of a workflow role (`koordination`, `bewilligung`).
pub type RoleName = String;

/// A dotted path into the case data (`integrationskonzept.status`), optionally written with the
/// `data.` prefix that expressions use.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct DataPath(pub String);

impl DataPath {
    /// The path's segments without the optional `data.` prefix.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.strip_prefix("data.").unwrap_or(&self.0).split('.')
    }

    /// The path without the optional `data.` prefix.
    pub fn as_field_path(&self) -> &str {
        self.0.strip_prefix("data.").unwrap_or(&self.0)
    }
}

/// A CEL expression over `data` (the case data), `applicant` (`key`, `kind`) and `today`
/// (ISO date string); compiled when the definition is loaded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Expression(pub String);

/// One workflow definition, as written in one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// Stable key of the workflow (`ki-antrag`); cases refer to it.
    pub workflow: String,
    /// German title shown to users.
    pub title: String,
    /// German description: what the procedure is and where it comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Prefix of the Aktenzeichen of cases of this workflow (`KI`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Roles that act in this workflow, with their German titles.
    pub roles: IndexMap<RoleName, RoleDefinition>,
    /// Roles that may change the case data where a field names no `editors` of its own; absent:
    /// every role that may change the case's data at all. Keeps, say, the Bewilligungsbehörde
    /// from rewriting the applicant's Antrag while it fills in its decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_editors: Option<Vec<RoleName>>,
    /// The case data: typed fields with German labels.
    #[serde(default)]
    pub data: IndexMap<String, Field>,
    /// Who may withdraw a case (the Antrag is zurückgezogen); absent: nobody.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdraw: Option<Withdrawal>,
    /// Years an ended case of this workflow is kept after the end of the year it ended in,
    /// before it is offered to the archive and deleted (Aussonderung); absent: the
    /// installation's `retention_years`. The newest version's value applies to every case of
    /// the workflow, as a records schedule applies to every file of its kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub retention_years: Option<u32>,
    /// The messages steps wait for (`wait` with `until: { message }`), each with the German
    /// title the case page and the journal show; a message a step waits for must be declared
    /// here (files without this section still load, with a warning per message).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub messages: IndexMap<String, MessageDefinition>,
    /// The time windows actions may be bound to (`within`), each with its German title; their
    /// periods are no part of the workflow but entered by the administration, because the
    /// authority publishes them anew every year (the KfI's Antragszeitraum).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub windows: IndexMap<String, TimeWindowDefinition>,
    /// The step a new case starts in.
    pub start: StepName,
    /// The steps, in the order they are shown.
    pub steps: IndexMap<StepName, Step>,
}

/// A role of the workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleDefinition {
    /// German title of the role.
    pub title: String,
}

/// A message from outside that a case may wait for (BPMN `message`): the Kreistag's decision
/// arrived, the rooms were handed over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageDefinition {
    /// German title („Räume übergeben“), shown where the case waits for the message.
    pub title: String,
    /// German help text: who sends the message, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Data fields (and the fields inside them) the message may set as it arrives, as Camunda
    /// sets variables with a correlation: the Bescheid's date and number come with the Bescheid.
    /// A message sets nothing else, and the fields' `editors` do not apply: the declaration is
    /// the permission.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<DataPath>,
}

/// A time window an action may be bound to: the action is refused outside the periods the
/// administration has entered for it. The dates are data, not part of the workflow, so a new
/// year's Antragszeitraum needs no new version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeWindowDefinition {
    /// German title („Antragszeitraum beim Kompetenzzentrum für Integration“), shown in the
    /// refusal and on the administration's page where the periods are entered.
    pub title: String,
    /// German help text: who publishes the periods, and where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// How long before the last day of an open period the coordinating office of every case
    /// waiting at an action bound to the window is reminded by mail (once per period and
    /// case, by the `reminders` job); absent: no reminder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub remind: Option<Period>,
}

/// Who may withdraw a running case, and the outcome recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    /// Roles allowed to withdraw.
    pub roles: Vec<RoleName>,
    /// Outcome the case ends with (`zurueckgezogen`).
    pub outcome: String,
    /// The command as its button reads („Antrag zurückziehen“, „Begleitung … einstellen“);
    /// absent: „Vorgang zurückziehen“. A KI whose Begleitung ends is not „zurückgezogen“.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// How the ended case reads („Zurückgezogen“, „Eingestellt“); absent: „Zurückgezogen“.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome_title: Option<String>,
}

impl Withdrawal {
    /// Whether `actor` holds one of the roles that may withdraw: the engine's rule, which the
    /// pages ask before they offer the command.
    pub fn open_to(&self, actor: &super::event::Actor) -> bool {
        self.roles.iter().any(|role| actor.has_role(role))
    }

    /// The command's German label, as buttons, pages and the BPMN export name it.
    pub fn title(&self) -> &str {
        self.title.as_deref().unwrap_or("Vorgang zurückziehen")
    }

    /// How a case ended by this withdrawal reads, on the case page, in mails and the export.
    pub fn outcome_title(&self) -> &str {
        self.outcome_title.as_deref().unwrap_or("Zurückgezogen")
    }
}

/// The type of a data field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// One line of text.
    Text,
    /// Several paragraphs of text.
    LongText,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// A number (integer or decimal).
    Number,
    /// Yes or no.
    Boolean,
    /// One of the listed `options`.
    Enum,
    /// One organisation, by AGS or key.
    Organisation,
    /// Several organisations, by AGS or key.
    Organisations,
    /// An uploaded document, by id.
    Document,
    /// A group of named `fields`.
    Group,
    /// A list of `items`.
    List,
}

/// A field of the case data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The value's type.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// German label.
    pub label: String,
    /// German help text: what to enter and why (cite the rule it comes from).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// For `enum`: allowed values with their German labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<IndexMap<String, String>>,
    /// For `group`: the nested fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<IndexMap<String, Field>>,
    /// For `list`: the type of each item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Box<Field>>,
    /// For `number`: the smallest allowed value; for `list`: the fewest items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// For `number`: the largest allowed value; for `list`: the most items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Shown to consulted partners on their answer page.
    #[serde(default, skip_serializing_if = "is_false")]
    pub partner_visible: bool,
    /// Roles that may change this field and the fields inside it; absent: those of the enclosing
    /// group, else the workflow's `data_editors`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editors: Option<Vec<RoleName>>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// A step: where tokens wait or pass through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Step {
    /// A person of `role` takes one of the named actions (BPMN userTask).
    Task(TaskStep),
    /// Invite every participant, collect answers (BPMN multi-instance receive task).
    Consultation(ConsultationStep),
    /// The first condition that holds picks the next step (BPMN exclusiveGateway).
    Decision(DecisionStep),
    /// Start all branches at once (BPMN parallelGateway, diverging).
    Parallel(ParallelStep),
    /// Wait until every branch of the matching `parallel` arrived (BPMN parallelGateway, converging).
    Join(JoinStep),
    /// Wait for a date, a period or a message (BPMN intermediate timer / message catch event).
    Wait(WaitStep),
    /// Finish the case with an outcome (BPMN endEvent).
    End(EndStep),
}

/// A task step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskStep {
    /// German title.
    pub title: String,
    /// German help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The role whose members take the actions.
    pub role: RoleName,
    /// The actions, in the order they are offered.
    pub actions: IndexMap<ActionName, Action>,
    /// Effects when a token enters the step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_enter: Vec<Effect>,
    /// Boundary timers while a token waits here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timers: Vec<Timer>,
}

/// An action a person can take on a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// German label of the button.
    pub title: String,
    /// The step the token moves to.
    pub to: StepName,
    /// Data paths that must be filled (and valid) before the action can be taken.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub require: Vec<DataPath>,
    /// Conditions that must hold, each with the German reason shown when it does not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guard: Vec<Guard>,
    /// Domain rules (implemented in Rust) that must pass.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// Data set when the action is taken (values are JSON literals).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub set: IndexMap<String, serde_json::Value>,
    /// A time window declared under `windows`: outside its entered periods the action is
    /// refused (an Antrag is submitted only in the Antragszeitraum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<String>,
}

/// A guard: an expression and the German message shown when it is false.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Guard {
    /// Must evaluate to `true`.
    pub expr: Expression,
    /// Why the action is not possible while it is false.
    pub message: String,
}

/// A consultation (Beteiligung) step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsultationStep {
    /// German title.
    pub title: String,
    /// German help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The role coordinating the consultation (receives reminders, may close it early).
    pub role: RoleName,
    /// What the partners are asked, in German (goes into the invitation).
    pub question: String,
    /// Who is invited: a data path of type `organisations` or `organisation`.
    pub participants: DataPath,
    /// The answer deadline, computed by the Fristen rules from the day the step is entered.
    pub deadline: Deadline,
    /// When the step completes.
    #[serde(default)]
    pub complete: Completion,
    /// Mail template of the invitation.
    pub invitation: String,
    /// Reminders to participants who have not answered yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remind: Vec<Reminder>,
    /// Whether answers after the deadline are still recorded (marked as late).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub late_answers: bool,
    /// The step after the consultation.
    pub next: StepName,
    /// Effects when a token enters the step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_enter: Vec<Effect>,
    /// Further boundary timers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timers: Vec<Timer>,
}

/// When a consultation is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Completion {
    /// As soon as every participant answered, at the latest at the deadline.
    #[default]
    AllAnswered,
    /// Only at the deadline (late answers to a public consultation are still welcome until then).
    Deadline,
}

/// A legal period, counted by the Fristen rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    /// The length (`P4W`, `P1M`, `P6M`).
    #[schemars(with = "String")]
    pub period: Period,
    /// Ereignisfrist (default) or Beginnfrist.
    #[serde(default)]
    pub art: PeriodKind,
    /// Counted from a date field instead of the day the step is entered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DataPath>,
}

/// The two ways a period starts (§ 187 BGB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// The event day is not counted (§ 187 (1) BGB).
    #[default]
    Ereignis,
    /// The start day is counted (§ 187 (2) BGB).
    Beginn,
}

/// A reminder `before` the deadline of a consultation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reminder {
    /// How long before the deadline (`P1W`).
    #[schemars(with = "String")]
    pub before: Period,
    /// Mail template of the reminder.
    pub template: String,
}

/// A decision step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionStep {
    /// German title.
    pub title: String,
    /// German help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Conditions in order; the first that holds wins.
    pub conditions: Vec<Condition>,
    /// The step when no condition holds.
    pub otherwise: StepName,
}

/// One branch of a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Expression that must be `true`.
    pub when: Expression,
    /// The step taken when it is.
    pub to: StepName,
}

/// A parallel fork.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParallelStep {
    /// German title.
    pub title: String,
    /// German help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The first step of each branch.
    pub branches: Vec<StepName>,
    /// The join step where the branches meet again.
    pub join: StepName,
}

/// A parallel join.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinStep {
    /// German title.
    pub title: String,
    /// German help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The step after all branches arrived.
    pub next: StepName,
}

/// A wait step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitStep {
    /// German title.
    pub title: String,
    /// German help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// What ends the wait.
    pub until: WaitFor,
    /// The step after the wait.
    pub next: StepName,
    /// Effects when a token enters the step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_enter: Vec<Effect>,
    /// Boundary timers while a token waits here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timers: Vec<Timer>,
}

/// What a wait step waits for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum WaitFor {
    /// The date in this field (the wait ends at the start of that day).
    Date(DataPath),
    /// A legal period from entering the step.
    Period(Deadline),
    /// A named message sent to the case (by a person, another case or the API).
    Message(String),
}

/// An end step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndStep {
    /// German title.
    pub title: String,
    /// German help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The outcome recorded on the case (`bewilligt`, `abgelehnt`).
    pub outcome: String,
    /// Effects when the case ends here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_enter: Vec<Effect>,
}

/// A boundary timer on a waiting step (BPMN boundary timer event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Timer {
    /// Name, unique within the step (`konzept_frist`).
    pub name: String,
    /// When it fires.
    pub when: TimerWhen,
    /// Interrupting: the token leaves the step for this one. Absent: the token stays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<StepName>,
    /// What happens when it fires (reminders, escalation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub effects: Vec<Effect>,
}

/// When a timer fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TimerWhen {
    /// At the end of a legal period (fires the day after its last day).
    After(Deadline),
    /// A period before the end of a legal period (reminders before a deadline).
    Before {
        /// The deadline reminded of.
        deadline: Deadline,
        /// How long before it.
        #[schemars(with = "String")]
        before: Period,
    },
    /// At the start of the date in this field.
    At(DataPath),
    /// Repeatedly, every period after entering the step (never interrupting).
    #[schemars(with = "String")]
    Every(Period),
}

/// Something that happens when a step is entered or a timer fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Effect {
    /// Send a mail rendered from a template.
    Mail(MailEffect),
    /// Set data fields to literal values.
    Set(IndexMap<String, serde_json::Value>),
    /// Record an escalation in the journal and mail a role.
    Escalate(MailEffect),
    /// Start a case of another workflow.
    StartCase(StartCaseEffect),
}

/// A mail to send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MailEffect {
    /// Template name (`templates/mail/{template}.subject.hbs` etc.).
    pub template: String,
    /// Who receives it.
    pub to: Recipient,
}

/// Receivers of a mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Recipient {
    /// Everybody with this role at the applicant organisation (or, for `bewilligung`, the authority).
    Role(RoleName),
    /// Every participant of the consultation of this step.
    Participants,
    /// Participants who have not answered yet.
    Unanswered,
    /// The applicant organisation's functional mailbox.
    Applicant,
    /// The head of the applicant's office (Leitung), for escalations; falls back to the
    /// office's mailbox when no head is recorded.
    Leitung,
}

/// Start a case of another workflow, copying data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartCaseEffect {
    /// Key of the workflow to start.
    pub workflow: String,
    /// Fields of the new case, each taken from a data path of this case.
    #[serde(default)]
    pub data: IndexMap<String, DataPath>,
}

/// Copies the field at `path` of `schema` into `out`, with the groups on the way holding only
/// what is copied into them; a path the schema lacks is passed over (the validator names it).
fn insert_field(
    out: &mut IndexMap<String, Field>,
    schema: &IndexMap<String, Field>,
    path: &[&str],
) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let Some(field) = schema.get(*first) else {
        return;
    };
    if rest.is_empty() {
        out.insert((*first).to_string(), without_editors(field));
        return;
    }
    let Some(members) = field.fields.as_ref() else {
        return;
    };
    let group = out.entry((*first).to_string()).or_insert_with(|| Field {
        fields: Some(IndexMap::new()),
        editors: None,
        ..field.clone()
    });
    if let Some(inner) = group.fields.as_mut() {
        insert_field(inner, members, rest);
    }
}

/// A field and the fields inside it, free of `editors`.
fn without_editors(field: &Field) -> Field {
    Field {
        editors: None,
        fields: field.fields.as_ref().map(|members| {
            members
                .iter()
                .map(|(key, member)| (key.clone(), without_editors(member)))
                .collect()
        }),
        items: field
            .items
            .as_deref()
            .map(|item| Box::new(without_editors(item))),
        ..field.clone()
    }
}

impl Definition {
    /// A message's German title as the workflow declares it; the name itself for a message the
    /// workflow does not declare (files written before messages were declared).
    pub fn message_title<'a>(&'a self, message: &'a str) -> &'a str {
        self.messages
            .get(message)
            .map_or(message, |m| m.title.as_str())
    }

    /// The part of the data schema a message may set (its declared fields, inside the groups
    /// that hold them), for a form of exactly those fields. `editors` are dropped: for a
    /// message the declaration is the permission. Empty for a message that carries no data.
    pub fn message_fields(&self, message: &str) -> IndexMap<String, Field> {
        let mut out = IndexMap::new();
        let Some(declared) = self.messages.get(message) else {
            return out;
        };
        for path in &declared.data {
            let segments: Vec<&str> = path.segments().collect();
            insert_field(&mut out, &self.data, &segments);
        }
        out
    }

    /// A step's German title; the key itself for a step this version lacks (a case moved
    /// from an older version, a deadline of a step since renamed).
    pub fn step_title<'a>(&'a self, step: &'a str) -> &'a str {
        self.steps.get(step).map_or(step, Step::title)
    }

    /// Whether `step` lies on a branch of a parallel, between the parallel and its join: a
    /// token there belongs to a fork, whose join waits for it.
    pub fn in_parallel_branch(&self, step: &str) -> bool {
        self.steps.values().any(|candidate| {
            let Step::Parallel(parallel) = candidate else {
                return false;
            };
            let mut seen = std::collections::BTreeSet::new();
            let mut queue: std::collections::VecDeque<&str> =
                parallel.branches.iter().map(String::as_str).collect();
            while let Some(name) = queue.pop_front() {
                if name == parallel.join || !seen.insert(name) {
                    continue;
                }
                if name == step {
                    return true;
                }
                if let Some(next) = self.steps.get(name) {
                    queue.extend(next.successors());
                }
            }
            false
        })
    }

    /// The tasks an administrator can move a case to (`Event::Relocate`), in the order the
    /// definition writes them: every task outside the branches of a parallel.
    pub fn relocation_targets(&self) -> impl Iterator<Item = (&str, &TaskStep)> {
        self.steps.iter().filter_map(|(name, step)| match step {
            Step::Task(task) if !self.in_parallel_branch(name) => Some((name.as_str(), task)),
            _ => None,
        })
    }

    /// A time window's German title as the workflow declares it; the name itself otherwise
    /// (the validator refuses undeclared windows, so only for a stored older definition).
    pub fn window_title<'a>(&'a self, window: &'a str) -> &'a str {
        self.windows
            .get(window)
            .map_or(window, |w| w.title.as_str())
    }

    /// The windows the actions of `step` are bound to, each once: what a caller looks up
    /// before it asks the engine about that step's actions.
    pub fn windows_of_step(&self, step: &str) -> Vec<&str> {
        let mut out: Vec<&str> = match self.steps.get(step) {
            Some(Step::Task(task)) => task
                .actions
                .values()
                .filter_map(|action| action.within.as_deref())
                .collect(),
            _ => Vec::new(),
        };
        out.sort_unstable();
        out.dedup();
        out
    }

    /// A role's German title as the workflow gives it („Bewilligungsbehörde (…)“); the key
    /// itself for a role the workflow does not declare.
    pub fn role_title<'a>(&'a self, role: &'a str) -> &'a str {
        self.roles.get(role).map_or(role, |r| r.title.as_str())
    }

    /// How a finished case's outcome reads: the title of the end step that records it
    /// („Bewilligt“, „Nicht beschlossen“); the withdrawal's outcome reads as the withdrawal
    /// says („Zurückgezogen“, „Eingestellt“).
    pub fn outcome_title<'a>(&'a self, outcome: &'a str) -> &'a str {
        self.steps
            .values()
            .find_map(|step| match step {
                Step::End(end) if end.outcome == outcome => Some(end.title.as_str()),
                _ => None,
            })
            .or_else(|| {
                self.withdraw
                    .as_ref()
                    .filter(|w| w.outcome == outcome)
                    .map(Withdrawal::outcome_title)
            })
            .unwrap_or(outcome)
    }
}

impl Step {
    /// The German title of any step.
    pub fn title(&self) -> &str {
        match self {
            Step::Task(s) => &s.title,
            Step::Consultation(s) => &s.title,
            Step::Decision(s) => &s.title,
            Step::Parallel(s) => &s.title,
            Step::Join(s) => &s.title,
            Step::Wait(s) => &s.title,
            Step::End(s) => &s.title,
        }
    }

    /// The German help text of any step, if it has one.
    pub fn help(&self) -> Option<&str> {
        match self {
            Step::Task(s) => s.help.as_deref(),
            Step::Consultation(s) => s.help.as_deref(),
            Step::Decision(s) => s.help.as_deref(),
            Step::Parallel(s) => s.help.as_deref(),
            Step::Join(s) => s.help.as_deref(),
            Step::Wait(s) => s.help.as_deref(),
            Step::End(s) => s.help.as_deref(),
        }
    }

    /// The role that works on the step (tasks and consultations); the others wait for nobody.
    pub fn role(&self) -> Option<&str> {
        match self {
            Step::Task(s) => Some(&s.role),
            Step::Consultation(s) => Some(&s.role),
            _ => None,
        }
    }

    /// The message the step waits for, if it is a `wait` step with `until: { message }`.
    pub fn awaited_message(&self) -> Option<&str> {
        match self {
            Step::Wait(WaitStep {
                until: WaitFor::Message(name),
                ..
            }) => Some(name),
            _ => None,
        }
    }

    /// The kind of step in German, for messages that compare two steps' kinds.
    pub fn german_kind(&self) -> &'static str {
        match self {
            Step::Task(_) => "Aufgabe",
            Step::Consultation(_) => "Beteiligung",
            Step::Decision(_) => "Entscheidung",
            Step::Parallel(_) => "Verzweigung",
            Step::Join(_) => "Zusammenführung",
            Step::Wait(_) => "Warteschritt",
            Step::End(_) => "Ende",
        }
    }

    /// The step type as written in the file.
    pub fn type_name(&self) -> &'static str {
        match self {
            Step::Task(_) => "task",
            Step::Consultation(_) => "consultation",
            Step::Decision(_) => "decision",
            Step::Parallel(_) => "parallel",
            Step::Join(_) => "join",
            Step::Wait(_) => "wait",
            Step::End(_) => "end",
        }
    }

    /// Effects run when a token enters.
    pub fn on_enter(&self) -> &[Effect] {
        match self {
            Step::Task(s) => &s.on_enter,
            Step::Consultation(s) => &s.on_enter,
            Step::Wait(s) => &s.on_enter,
            Step::End(s) => &s.on_enter,
            Step::Decision(_) | Step::Parallel(_) | Step::Join(_) => &[],
        }
    }

    /// Boundary timers (only waiting steps have them).
    pub fn timers(&self) -> &[Timer] {
        match self {
            Step::Task(s) => &s.timers,
            Step::Consultation(s) => &s.timers,
            Step::Wait(s) => &s.timers,
            Step::Decision(_) | Step::Parallel(_) | Step::Join(_) | Step::End(_) => &[],
        }
    }

    /// The boundary timers to add to, for a step that can have them (a definition built in
    /// code, such as one read from BPMN); `None` for a step that passes tokens on.
    pub fn timers_mut(&mut self) -> Option<&mut Vec<Timer>> {
        match self {
            Step::Task(s) => Some(&mut s.timers),
            Step::Consultation(s) => Some(&mut s.timers),
            Step::Wait(s) => Some(&mut s.timers),
            Step::Decision(_) | Step::Parallel(_) | Step::Join(_) | Step::End(_) => None,
        }
    }

    /// Every step this one can lead to, in file order (for reachability checks and BPMN export).
    pub fn successors(&self) -> Vec<&str> {
        let timer_targets = self.timers().iter().filter_map(|t| t.to.as_deref());
        match self {
            Step::Task(s) => s
                .actions
                .values()
                .map(|a| a.to.as_str())
                .chain(timer_targets)
                .collect(),
            Step::Consultation(s) => std::iter::once(s.next.as_str())
                .chain(timer_targets)
                .collect(),
            Step::Decision(s) => s
                .conditions
                .iter()
                .map(|c| c.to.as_str())
                .chain(std::iter::once(s.otherwise.as_str()))
                .collect(),
            Step::Parallel(s) => s.branches.iter().map(String::as_str).collect(),
            Step::Join(s) => vec![s.next.as_str()],
            Step::Wait(s) => std::iter::once(s.next.as_str())
                .chain(timer_targets)
                .collect(),
            Step::End(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::load::parse_definition;
    use crate::engine::test_support::KI_ANTRAG;

    #[test]
    fn outcomes_read_as_the_titles_of_their_end_steps() {
        let definition = parse_definition("ki-antrag.yaml", KI_ANTRAG).unwrap();
        assert_eq!(definition.outcome_title("bewilligt"), "Bewilligt");
        assert_eq!(
            definition.outcome_title("nicht_beschlossen"),
            "Nicht beschlossen"
        );
        assert_eq!(definition.outcome_title("zurueckgezogen"), "Zurückgezogen");
        // An outcome no step records any more (an older version's) stays as stored.
        assert_eq!(definition.outcome_title("verworfen"), "verworfen");
        // A KI whose Begleitung ends is not „zurückgezogen“.
        let betrieb = parse_definition(
            "ki-betrieb.yaml",
            include_str!("../../workflows/ki-betrieb.yaml"),
        )
        .unwrap();
        assert_eq!(betrieb.outcome_title("eingestellt"), "Eingestellt");
        let antrag = parse_definition(
            "ki-antrag.yaml",
            include_str!("../../workflows/ki-antrag.yaml"),
        )
        .unwrap();
        assert_eq!(
            antrag.withdraw.as_ref().map(|w| w.title()),
            Some("Antrag zurückziehen")
        );
        // Without titles, the withdrawal reads as before.
        let plain = super::Withdrawal {
            roles: vec!["koordination".into()],
            outcome: "zurueckgezogen".into(),
            title: None,
            outcome_title: None,
        };
        assert_eq!(
            (plain.title(), plain.outcome_title()),
            ("Vorgang zurückziehen", "Zurückgezogen")
        );
    }

    #[test]
    fn a_message_form_holds_the_declared_fields_inside_their_groups_and_no_editors() {
        let shipped = include_str!("../../workflows/ki-antrag.yaml");
        let mut definition = parse_definition("ki-antrag.yaml", shipped).unwrap();
        assert!(definition.data["bewilligung"].editors.is_some());
        definition.messages.insert(
            "bescheid".into(),
            super::MessageDefinition {
                title: "Bescheid eingegangen".into(),
                help: None,
                data: vec![
                    super::DataPath("data.bewilligung.bescheid".into()),
                    super::DataPath("bewilligung.datum".into()),
                    super::DataPath("zentrum_name".into()),
                    super::DataPath("gibt_es_nicht.x".into()),
                ],
            },
        );
        let fields = definition.message_fields("bescheid");
        assert_eq!(
            fields.keys().collect::<Vec<_>>(),
            ["bewilligung", "zentrum_name"]
        );
        let group = &fields["bewilligung"];
        assert_eq!(group.label, definition.data["bewilligung"].label);
        assert_eq!(group.editors, None);
        let members = group.fields.as_ref().unwrap();
        assert_eq!(members.keys().collect::<Vec<_>>(), ["bescheid", "datum"]);
        assert_eq!(
            members["datum"],
            super::Field {
                editors: None,
                ..definition.data["bewilligung"].fields.as_ref().unwrap()["datum"].clone()
            }
        );
        assert!(definition.message_fields("unbekannt").is_empty());
    }
}
