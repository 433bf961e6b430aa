//! Each flow node read into the step it becomes, with its role, actions, timers and the
//! withdrawal.

use std::collections::{HashSet, VecDeque};

use indexmap::IndexMap;
use roxmltree::Node;

use super::conditions::{action_condition, split_guards};
use super::names::{capitalised, documented, help_text, is_snake, snake, unique};
use super::timers::{ASSUMED_PERIOD, assumed_deadline, assumed_period, counted_as_documented};
use super::{
    ACTIVITI, CAMUNDA, FLOWABLE, Kind, Reader, TimerSpec, ZEEBE, child, given_name, is, label, text,
};
use crate::engine::definition::{
    Action, Completion, ConsultationStep, DataPath, Deadline, DecisionStep, EndStep, Expression,
    Guard, JoinStep, MessageDefinition, ParallelStep, PeriodKind, RoleDefinition, Step, TaskStep,
    Timer, WaitFor, WaitStep, Withdrawal,
};
use crate::frist::Period;

impl Reader<'_, '_> {
    /// The step the flow node `id` becomes (a node that is one: see [`Reader::is_step`]).
    pub(super) fn step(&mut self, id: &str) -> Step {
        let node = self.node(id).expect("ids come from the nodes");
        let element = node.element;
        let kind = node.kind.clone();
        let title = label(element);
        let help = help_text(&text(child(element, "documentation")), self.exported);
        match kind {
            Kind::Task => {
                let role = self.role_of(element);
                let actions = self.actions(id);
                Step::Task(TaskStep {
                    title,
                    help,
                    role,
                    actions,
                    on_enter: Vec::new(),
                    timers: Vec::new(),
                })
            }
            Kind::Consultation => Step::Consultation(self.consultation(id, title, help)),
            Kind::Decision => Step::Decision(self.decision(id, title, help)),
            Kind::Fork => {
                let branches: Vec<String> =
                    self.outgoing(id).map(|f| self.step_to(&f.target)).collect();
                let join = self.matching_join(id);
                if join.is_empty() {
                    self.note(format!(
                        "Zur Verzweigung „{title}“ wurde kein zusammenführendes paralleles \
                         Gateway gefunden; tragen Sie bei „join“ den Schritt ein, der die Zweige \
                         zusammenführt."
                    ));
                }
                Step::Parallel(ParallelStep {
                    title,
                    help,
                    branches,
                    join,
                })
            }
            Kind::Join => Step::Join(JoinStep {
                title,
                help,
                next: self.next_of(id),
            }),
            Kind::WaitTimer(timer) => {
                let doc = text(child(element, "documentation"));
                let until = match timer.as_ref().and_then(|t| self.wait_until(t, &doc)) {
                    Some(until) => until,
                    None => {
                        self.note(format!(
                            "Die Wartezeit von „{title}“ ist keine Dauer oder Datumsangabe, \
                             die vorgang zählen kann; eingesetzt ist {ASSUMED_PERIOD}."
                        ));
                        WaitFor::Period(assumed_deadline())
                    }
                };
                Step::Wait(WaitStep {
                    title,
                    help,
                    until,
                    next: self.next_of(id),
                    on_enter: Vec::new(),
                    timers: Vec::new(),
                })
            }
            Kind::WaitMessage(message) => {
                let name = self.message(message.as_deref(), &title);
                Step::Wait(WaitStep {
                    title,
                    help,
                    until: WaitFor::Message(name),
                    next: self.next_of(id),
                    on_enter: Vec::new(),
                    timers: Vec::new(),
                })
            }
            Kind::End => {
                let doc = text(child(element, "documentation"));
                let outcome =
                    documented(&doc, "Ergebnis: ").unwrap_or_else(|| self.names[id].clone());
                Step::End(EndStep {
                    title,
                    help,
                    outcome,
                    on_enter: Vec::new(),
                })
            }
            Kind::Start | Kind::Pass | Kind::Boundary { .. } => {
                unreachable!("only steps are read as steps")
            }
        }
    }

    /// The one normal way on from `id` ("" if it has none, which the validator names).
    fn next_of(&mut self, id: &str) -> String {
        let targets: Vec<String> = self.outgoing(id).map(|f| f.target.clone()).collect();
        if targets.len() > 1 {
            let title = label(self.node(id).expect("a node").element);
            self.note(format!(
                "„{title}“ hat mehrere ausgehende Flüsse; übernommen ist der erste. Für eine \
                 Verzweigung setzen Sie ein Gateway dahinter."
            ));
        }
        targets.first().map(|t| self.step_to(t)).unwrap_or_default()
    }

    /// The role of a task or consultation, declared in the roles as it is met.
    fn role_of(&mut self, element: Node) -> String {
        let owner = element
            .children()
            .find(|c| is(*c, "potentialOwner") || is(*c, "performer"));
        if let Some(owner) = owner {
            let expression = owner
                .descendants()
                .find(|d| is(*d, "formalExpression"))
                .and_then(|d| d.text())
                .unwrap_or("")
                .trim()
                .to_string();
            let title = owner.attribute("name").unwrap_or("").trim().to_string();
            let key = snake(if expression.is_empty() {
                &title
            } else {
                &expression
            });
            if !key.is_empty() {
                return self.role(key, &title);
            }
        }
        // Camunda 7, Flowable and Activiti name them in an attribute, Camunda 8 (Zeebe) in an
        // extension element.
        let zeebe = element
            .descendants()
            .find(|d| {
                d.tag_name().namespace() == Some(ZEEBE)
                    && d.tag_name().name() == "assignmentDefinition"
            })
            .and_then(|d| d.attribute("candidateGroups"));
        let groups = [CAMUNDA, FLOWABLE, ACTIVITI]
            .iter()
            .find_map(|ns| element.attribute((*ns, "candidateGroups")))
            .or(zeebe);
        if let Some(group) =
            groups.and_then(|g| g.split(',').map(str::trim).find(|g| !g.is_empty()))
        {
            return self.role(snake(group), group);
        }
        let lane = element
            .attribute("id")
            .and_then(|id| self.lanes.get(id))
            .cloned();
        if let Some(name) = lane {
            let key = snake(&name);
            if !key.is_empty() {
                return self.role(key, &name);
            }
        }
        // vorgang's export names a consultation's role by its title in the documentation.
        let doc = text(child(element, "documentation"));
        if let Some(title) = documented(&doc, "Rolle: ") {
            let known = self
                .roles
                .iter()
                .find(|(_, role)| role.title == title)
                .map(|(key, _)| key.clone());
            return match known {
                Some(key) => key,
                None => self.role(snake(&title), &title),
            };
        }
        self.note(
            "Aufgaben ohne Rolle (potentialOwner, candidateGroups oder Lane) sind der Rolle \
             „koordination“ zugeordnet."
                .to_string(),
        );
        self.role("koordination".to_string(), "Koordination")
    }

    /// Declares the role `key` once, with `title` or else its key capitalised.
    fn role(&mut self, key: String, title: &str) -> String {
        // A group named like a key („bewilligung“) reads better capitalised.
        let title = if title.trim().is_empty() || title.trim() == key {
            capitalised(&key)
        } else {
            title.trim().to_string()
        };
        self.roles
            .entry(key.clone())
            .or_insert(RoleDefinition { title });
        key
    }

    /// A message's name: from vorgang's export (`Message_name`), else the message's name.
    fn message(&mut self, reference: Option<&str>, step_title: &str) -> String {
        let message = reference.and_then(|r| {
            self.root
                .children()
                .find(|m| is(*m, "message") && m.attribute("id") == Some(r))
        });
        let title = message
            .map(label)
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| step_title.to_string());
        let name = reference
            .and_then(|r| r.strip_prefix("Message_"))
            .filter(|n| is_snake(n))
            .map(str::to_string)
            .unwrap_or_else(|| snake(&title));
        let name = if name.is_empty() {
            "nachricht".to_string()
        } else {
            name
        };
        self.messages
            .entry(name.clone())
            .or_insert(MessageDefinition {
                title,
                help: None,
                data: Vec::new(),
            });
        name
    }

    /// A task's outgoing flows as its actions.
    fn actions(&mut self, id: &str) -> IndexMap<String, Action> {
        let flows: Vec<(String, String, Option<String>, String)> = self
            .outgoing(id)
            .map(|f| {
                let doc = text(child(f.element, "documentation"));
                (f.target.clone(), f.name(), f.condition(), doc)
            })
            .collect();
        let mut actions = IndexMap::new();
        for (target, flow_name, condition, doc) in flows {
            let to = self.step_to(&target);
            // A gateway is mostly unnamed: its id is no title for an action.
            let target_title = self
                .resolve(&target)
                .and_then(|t| self.node(&t).and_then(|n| n.element.attribute("name")))
                .map(|name| name.split_whitespace().collect::<Vec<_>>().join(" "))
                .unwrap_or_default();
            let (named, guard) = match condition.as_deref().map(action_condition) {
                Some(Some((name, guard))) => (Some(name), guard),
                Some(None) => {
                    self.note(format!(
                        "Die Bedingung „{}“ am Fluss „{flow_name}“ ist keine Aktionsbedingung \
                         (action == \"name\") und wurde nicht übernommen.",
                        condition.unwrap_or_default()
                    ));
                    (None, None)
                }
                None => (None, None),
            };
            let base = named
                .or_else(|| Some(snake(&flow_name)).filter(|n| !n.is_empty()))
                .unwrap_or_else(|| {
                    if target_title.is_empty() {
                        "erledigt".to_string()
                    } else {
                        snake(&format!("weiter {target_title}"))
                    }
                });
            let key = unique(&base, |key| actions.contains_key(key));
            let title = if !flow_name.is_empty() {
                flow_name
            } else if !target_title.is_empty() {
                format!("Weiter zu „{target_title}“")
            } else {
                "Erledigt".to_string()
            };
            let expressions = guard.as_deref().map(split_guards).unwrap_or_default();
            let reasons: Vec<&str> = doc
                .lines()
                .filter_map(|l| l.trim().strip_prefix("Sonst: "))
                .collect();
            let count = expressions.len();
            let mut guards = Vec::new();
            for (index, expr) in expressions.into_iter().enumerate() {
                self.fields_of(&expr);
                // The export writes one reason per guard, in order.
                let message = if reasons.len() == count {
                    reasons[index].to_string()
                } else if !reasons.is_empty() {
                    reasons.join(" ")
                } else {
                    "Die Voraussetzung dieser Aktion ist nicht erfüllt.".to_string()
                };
                guards.push(Guard {
                    expr: Expression(expr),
                    message,
                });
            }
            actions.insert(
                key,
                Action {
                    title,
                    to,
                    require: Vec::new(),
                    guard: guards,
                    rules: Vec::new(),
                    set: IndexMap::new(),
                    within: None,
                },
            );
        }
        actions
    }

    /// A multi-instance activity as a Beteiligung, with the field and Frist the export names or
    /// placeholders that are noted.
    fn consultation(&mut self, id: &str, title: String, help: Option<String>) -> ConsultationStep {
        let element = self.node(id).expect("a node").element;
        let role = self.role_of(element);
        let doc = text(child(element, "documentation"));
        // vorgang's export names the participants' field and the Frist in the documentation.
        let participants = doc
            .lines()
            .find_map(|l| l.strip_prefix("Beteiligung der Stellen aus „"))
            .and_then(|rest| rest.split_once('“'))
            .map(|(field, _)| field.to_string());
        let period = doc
            .lines()
            .find_map(|l| l.split_once("; Frist "))
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .and_then(|p| p.parse::<Period>().ok());
        let participants = participants.unwrap_or_else(|| {
            self.note(format!(
                "Die Beteiligung „{title}“ lädt die Stellen aus dem Datenfeld „beteiligte“ ein; \
                 passen Sie „participants“, „question“ und „invitation“ an."
            ));
            "beteiligte".to_string()
        });
        let top = participants.split('.').next().unwrap_or_default();
        self.fields.push(top.to_string());
        let period = period.unwrap_or_else(|| {
            self.note(format!(
                "Für die Beteiligung „{title}“ ist eine Frist von {ASSUMED_PERIOD} eingesetzt; \
                 BPMN nennt keine."
            ));
            assumed_period()
        });
        ConsultationStep {
            title,
            help,
            role,
            question: "Bitte nehmen Sie Stellung.".to_string(),
            participants: DataPath(participants),
            deadline: Deadline {
                period,
                art: if doc.contains("(Beginnfrist") {
                    PeriodKind::Beginn
                } else {
                    PeriodKind::Ereignis
                },
                from: None,
            },
            complete: Completion::AllAnswered,
            invitation: "beteiligung_einladung".to_string(),
            remind: Vec::new(),
            late_answers: false,
            next: self.next_of(id),
            on_enter: Vec::new(),
            timers: Vec::new(),
        }
    }

    /// A diverging exclusive gateway as a decision: its conditional flows in order, the default
    /// flow (else the one without a condition) as `otherwise`.
    fn decision(&mut self, id: &str, title: String, help: Option<String>) -> DecisionStep {
        let element = self.node(id).expect("a node").element;
        let default = element.attribute("default").map(str::to_string);
        let flows: Vec<(String, String, Option<String>)> = self
            .outgoing(id)
            .map(|f| (f.id.clone(), f.target.clone(), f.condition()))
            .collect();
        let mut conditions = Vec::new();
        let mut otherwise = None;
        let mut unconditioned = None;
        for (flow, target, condition) in flows {
            let to = self.step_to(&target);
            if Some(&flow) == default.as_ref() {
                otherwise = Some(to);
            } else if let Some(when) = condition {
                self.fields_of(&when);
                let written = when.trim_start();
                let language = if written.starts_with("${") || written.starts_with("#{") {
                    Some("ein JUEL-Ausdruck (Camunda 7, Flowable)")
                } else if written.starts_with('=') {
                    Some("ein FEEL-Ausdruck (Camunda 8)")
                } else {
                    None
                };
                if let Some(language) = language {
                    self.note(format!(
                        "Die Bedingung „{when}“ der Entscheidung „{title}“ ist {language}; \
                         vorgang rechnet in CEL über die Vorgangsdaten, etwa \
                         „data.bewilligt == true“."
                    ));
                }
                conditions.push(crate::engine::definition::Condition {
                    when: Expression(when),
                    to,
                });
            } else if unconditioned.is_none() {
                unconditioned = Some(to);
            } else {
                self.note(format!(
                    "Die Entscheidung „{title}“ hat mehrere Flüsse ohne Bedingung; der Weg nach \
                     „{to}“ braucht eine Bedingung („when“) und fehlt."
                ));
            }
        }
        let otherwise = otherwise.or(unconditioned).unwrap_or_else(|| {
            self.note(format!(
                "Die Entscheidung „{title}“ hat keinen Standardfluss; der Weg der letzten \
                 Bedingung gilt als „otherwise“."
            ));
            conditions.pop().map(|c| c.to).unwrap_or_default()
        });
        DecisionStep {
            title,
            help,
            conditions,
            otherwise,
        }
    }

    /// The converging parallel gateway every branch of `fork` reaches first.
    fn matching_join(&self, fork: &str) -> String {
        let reachable: Vec<Vec<String>> = self
            .outgoing(fork)
            .map(|f| self.joins_reachable(&f.target))
            .collect();
        let Some((first, rest)) = reachable.split_first() else {
            return String::new();
        };
        first
            .iter()
            .find(|join| rest.iter().all(|r| r.contains(join)))
            .and_then(|join| self.names.get(join).cloned())
            .unwrap_or_default()
    }

    /// The joins reachable from `id`, nearest first.
    fn joins_reachable(&self, id: &str) -> Vec<String> {
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([id.to_string()]);
        let mut joins = Vec::new();
        while let Some(current) = queue.pop_front() {
            if !seen.insert(current.clone()) {
                continue;
            }
            if self.node(&current).is_some_and(|n| n.kind == Kind::Join) {
                joins.push(current.clone());
            }
            for flow in self.outgoing(&current) {
                queue.push_back(flow.target.clone());
            }
        }
        joins
    }

    /// Timer boundary events as timers of the steps they are attached to.
    pub(super) fn attach_timers(&mut self, steps: &mut IndexMap<String, Step>) {
        let boundaries: Vec<(String, String, bool, Option<TimerSpec>)> = self
            .nodes
            .iter()
            .filter_map(|n| match &n.kind {
                Kind::Boundary {
                    host,
                    cancel,
                    timer,
                } => Some((n.id.clone(), host.clone(), *cancel, timer.clone())),
                _ => None,
            })
            .collect();
        for (id, host, cancel, spec) in boundaries {
            let element = self.node(&id).expect("a node").element;
            let title = label(element);
            let Some(step_name) = self.names.get(&host).cloned() else {
                self.note(format!(
                    "Der Timer „{title}“ hängt an keinem übernommenen Schritt und fehlt."
                ));
                continue;
            };
            if steps
                .get_mut(&step_name)
                .and_then(Step::timers_mut)
                .is_none()
            {
                self.note(format!(
                    "Der Timer „{title}“ hängt an einem Schritt ohne Fristen und fehlt."
                ));
                continue;
            }
            let doc = text(child(element, "documentation"));
            let when = spec.as_ref().and_then(|(k, e)| self.timer_when(k, e));
            let Some(when) = when.map(|w| counted_as_documented(w, &doc)) else {
                self.note(format!(
                    "Die Zeitangabe des Timers „{title}“ kann vorgang nicht zählen; der Timer \
                     fehlt."
                ));
                continue;
            };
            let target = self.outgoing(&id).next().map(|f| f.target.clone());
            let to = match (&target, cancel) {
                (Some(target), true) => Some(self.step_to(target)),
                (_, false) => {
                    let path = if target.is_some() {
                        " Sein eigener Weg in der Datei ist nicht übernommen."
                    } else {
                        ""
                    };
                    self.note(format!(
                        "Der Timer „{title}“ unterbricht nicht und löst in vorgang noch nichts \
                         aus: Tragen Sie unter „effects“ ein, was er bewirkt (z. B. eine \
                         Erinnerungsmail).{path}"
                    ));
                    None
                }
                (None, true) => {
                    self.note(format!(
                        "Der unterbrechende Timer „{title}“ hat keinen ausgehenden Fluss; er \
                         ist ohne Weg übernommen."
                    ));
                    None
                }
            };
            let Some(timers) = steps.get_mut(&step_name).and_then(Step::timers_mut) else {
                continue;
            };
            let prefix = format!("timer_{step_name}_");
            let base = snake(&id);
            let base = base
                .strip_prefix(&prefix)
                .map(str::to_string)
                .filter(|b| !b.is_empty())
                .unwrap_or_else(|| {
                    Some(snake(&title))
                        .filter(|t| !t.is_empty())
                        .unwrap_or(base.clone())
                });
            let name = unique(&base, |name| timers.iter().any(|t| t.name == name));
            timers.push(Timer {
                name,
                when,
                to,
                effects: Vec::new(),
            });
        }
    }

    /// An event subprocess started by a message: the applicant's withdrawal.
    pub(super) fn withdrawal(&mut self, steps: &IndexMap<String, Step>) -> Option<Withdrawal> {
        let sub = self
            .process
            .children()
            .find(|n| is(*n, "subProcess") && n.attribute("triggeredByEvent") == Some("true"))?;
        let by_message = sub
            .children()
            .any(|s| is(s, "startEvent") && child(s, "messageEventDefinition").is_some());
        if !by_message {
            self.note(format!(
                "Der Ereignis-Teilprozess „{}“ beginnt nicht mit einer Nachricht und wurde \
                 nicht übernommen.",
                label(sub)
            ));
            return None;
        }
        let end = sub.children().find(|e| is(*e, "endEvent"));
        let end_title = end.map(label).unwrap_or_default();
        // vorgang's export names the outcome in the documentation.
        let documented_outcome = text(child(sub, "documentation"))
            .split_once("mit dem Ergebnis „")
            .and_then(|(_, rest)| rest.split_once('“'))
            .map(|(outcome, _)| outcome.to_string())
            .filter(|o| is_snake(o));
        let outcome = documented_outcome
            .or_else(|| {
                steps.values().find_map(|s| match s {
                    Step::End(end) if end.title == end_title => Some(end.outcome.clone()),
                    _ => None,
                })
            })
            .or_else(|| Some(snake(&end_title)).filter(|o| !o.is_empty()))
            .unwrap_or_else(|| "zurueckgezogen".to_string());
        // vorgang's export names the roles by their titles: „…, von: Koordination. Der …“.
        let doc = text(child(sub, "documentation"));
        let named = doc
            .split_once("von: ")
            .and_then(|(_, rest)| rest.split_once(". Der Vorgang endet"))
            .map(|(titles, _)| titles.to_string())
            .unwrap_or_default();
        let mut roles: Vec<String> = self
            .roles
            .iter()
            .filter(|(_, role)| named.contains(role.title.as_str()))
            .map(|(key, _)| key.clone())
            .collect();
        if roles.is_empty() {
            let role = steps
                .values()
                .find_map(|s| s.role().map(str::to_string))
                .unwrap_or_else(|| "koordination".to_string());
            self.note(format!(
                "Der Ereignis-Teilprozess „{}“ ist als Rücknahme übernommen (Ergebnis \
                 „{outcome}“); zurücknehmen darf die Rolle „{role}“. Prüfen Sie \
                 „withdraw.roles“.",
                label(sub)
            ));
            roles.push(role);
        }
        // The names, unless they are what an absent `title` and `outcome_title` read as.
        Some(Withdrawal {
            roles,
            outcome,
            title: given_name(sub).filter(|t| t != "Vorgang zurückziehen"),
            outcome_title: end.and_then(given_name).filter(|t| t != "Zurückgezogen"),
        })
    }
}
