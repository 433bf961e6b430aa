//! Shared test material: the example of `docs/workflow-language.md`, completed into a valid
//! workflow, and a validation context that knows its templates, rules and workflows.

use std::collections::BTreeSet;

use super::validate::ValidationContext;

/// The documentation's example, completed (every step it leaves out written, every name known).
pub const KI_ANTRAG: &str = r#"workflow: ki-antrag
title: Antrag auf Einrichtung eines Kommunalen Integrationszentrums
description: Nach Nr. 2 des Erlasses „Kommunale Integrationszentren“ …
prefix: KI                       # Aktenzeichen: KI-05154-2026-0007
roles:
  koordination: { title: Koordination }
  bewilligung: { title: Bewilligungsbehörde }
withdraw: { roles: [koordination], outcome: zurueckgezogen }
data:
  beteiligte:
    type: organisations
    label: Zu beteiligende Stellen
    help: Nr. 2 Erlass – untere Schulaufsicht, Schulverwaltung, Jugendhilfe, Wohlfahrtsverbände, Integrationsrat
  integrationskonzept:
    type: group
    label: Integrationskonzept
    fields:
      status:
        type: enum
        label: Stand
        options: { beschlossen: Vom Kreistag beschlossen, in_arbeit: In Arbeit }
      vorlage_bis: { type: date, label: Vorlage bis }
  standorte:
    type: list
    label: Standorte
    min: 1
    items:
      type: group
      label: Standort
      fields:
        anschrift: { type: text, label: Anschrift }
  bedenken: { type: boolean, label: Bedenken der Partner }
  sitzung: { type: date, label: Sitzung des Kreistags }
  arbeitsaufnahme: { type: date, label: Arbeitsaufnahme }
  personal_vze: { type: number, label: Personal (VZE), min: 0, max: 20 }
  bescheid: { type: document, label: Bescheid, partner_visible: true }
messages:
  raeume_bereit: { title: Räume bezugsfertig }
start: entwurf
steps:
  entwurf:
    type: task
    title: Antrag entwerfen
    role: koordination
    actions:
      beteiligung_starten:
        title: Beteiligung starten
        to: beteiligung
        require: [integrationskonzept.status, beteiligte]
        guard:
          - expr: size(data.beteiligte) >= 5
            message: Bitte beteiligen Sie mindestens die fünf in Nr. 2 des Erlasses genannten Stellen.
        rules: [antragsberechtigt, ein_standort]
  beteiligung:
    type: consultation
    title: Beteiligung der Partner
    role: koordination
    question: Bitte nehmen Sie zum Entwurf des Antrags Stellung.
    participants: data.beteiligte
    deadline: { period: P4W }          # Ereignisfrist from the day the step is entered
    complete: all_answered             # or: deadline
    invitation: beteiligung_einladung
    remind:
      - { before: P1W, template: beteiligung_erinnerung }
    next: pruefung
  pruefung:
    type: decision
    title: Bedenken?
    conditions:
      - when: data.bedenken == true
        to: entwurf
    otherwise: kreistag
  kreistag:
    type: task
    title: Beschluss des Kreistags
    role: koordination
    actions:
      beschlossen:
        title: Beschluss gefasst
        to: unterlagen
        require: [sitzung]
        set: { integrationskonzept: { status: beschlossen } }
      nicht_beschlossen:
        title: Nicht beschlossen
        to: nicht_beschlossen
    timers:
      - name: sitzung_erinnerung
        when: { at: sitzung }
        effects:
          - mail: { template: kreistag_erinnerung, to: { role: koordination } }
      - name: konzept_frist
        when: { after: { period: P6M, from: integrationskonzept.vorlage_bis } }
        to: nicht_beschlossen
        effects:
          - escalate: { template: kreistag_eskalation, to: { role: bewilligung } }
  unterlagen:
    type: parallel
    title: Unterlagen zusammenstellen
    branches: [personal, raeume]
    join: unterlagen_komplett
  personal:
    type: task
    title: Personal benennen
    role: koordination
    actions:
      fertig: { title: Fertig, to: unterlagen_komplett, require: [personal_vze] }
  raeume:
    type: wait
    title: Räume bereit
    until: { message: raeume_bereit }
    next: unterlagen_komplett
    timers:
      - name: nachfrage
        when: { every: P2W }
        effects:
          - mail: { template: raeume_nachfrage, to: applicant }
  unterlagen_komplett:
    type: join
    title: Unterlagen vollständig
    next: bewilligung
  bewilligung:
    type: task
    title: Bewilligung
    role: bewilligung
    on_enter:
      - mail: { template: antrag_eingegangen, to: { role: bewilligung } }
    actions:
      bewilligen: { title: Bewilligen, to: sperrfrist, require: [bescheid, arbeitsaufnahme] }
      ablehnen: { title: Ablehnen, to: abgelehnt }
  sperrfrist:
    type: wait
    title: Bis zur Arbeitsaufnahme
    until: { date: arbeitsaufnahme }
    next: bewilligt
  bewilligt:
    type: end
    title: Bewilligt
    outcome: bewilligt
    on_enter:
      - start_case: { workflow: ki-betrieb, data: { arbeitsaufnahme: data.arbeitsaufnahme } }
      - set: { bedenken: false }
  abgelehnt:
    type: end
    title: Abgelehnt
    outcome: abgelehnt
  nicht_beschlossen:
    type: end
    title: Nicht beschlossen
    outcome: nicht_beschlossen
"#;

/// Knows every template, rule and workflow [`KI_ANTRAG`] names.
pub fn context() -> ValidationContext {
    let set = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    ValidationContext {
        templates: set(&[
            "beteiligung_einladung",
            "beteiligung_erinnerung",
            "kreistag_erinnerung",
            "kreistag_eskalation",
            "raeume_nachfrage",
            "antrag_eingegangen",
        ]),
        rules: set(&["antragsberechtigt", "ein_standort"]),
        workflows: set(&["ki-betrieb"]),
        template_problems: Default::default(),
    }
}

/// A small second workflow, the target of [`KI_ANTRAG`]'s `start_case`.
pub const KI_BETRIEB: &str = "\
workflow: ki-betrieb
title: Betrieb des Kommunalen Integrationszentrums
roles:
  koordination: { title: Koordination }
data:
  arbeitsaufnahme: { type: date, label: Arbeitsaufnahme }
start: laufend
steps:
  laufend:
    type: task
    title: Laufender Betrieb
    role: koordination
    actions:
      beenden: { title: Beenden, to: beendet }
  beendet:
    type: end
    title: Beendet
    outcome: beendet
";
