//! The demo's cases, each played back to the stage of the procedure it shows.

use chrono::{DateTime, Days, Months, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::db::models::CaseId;
use crate::db::schema::{cases, invitations};
use crate::engine::Actor;
use crate::engine::instance::Votum;
use crate::service::ServiceError;
use crate::service::cases::{self as commands, Invocation};

use super::{
    APPROVER, Audience, BIELEFELD, BIELEFELD_PARTNERS, COESFELD, COESFELD_PARTNERS, COLLEAGUE_COE,
    COORDINATOR_BI, COORDINATOR_COE, LEAVE_UNTIL, Loader, Note, Reply, actor, berlin, date,
    first_of_month_from, german,
};

impl Loader<'_, '_> {
    /// The application of the Kreis Coesfeld.
    pub(super) fn coesfeld_application(
        &self,
        arbeitsaufnahme: NaiveDate,
        konzept: NaiveDate,
    ) -> Value {
        json!({
            "antragsteller": {
                "dienststelle": "Fachbereich 50 – Bildung, Integration und Teilhabe",
                "ansprechperson": "Frau Anna Berger (Demo)",
                "telefon": "02541 18-5010",
                "email": "ki@kreis-coesfeld.demo"
            },
            "zentrum_name": "Kommunales Integrationszentrum Kreis Coesfeld",
            "oeffentliche_bezeichnung": "Kommunales Integrationszentrum Kreis Coesfeld – anerkannt durch das Land NRW als Kommunales Integrationszentrum nach § 8 Teilhabe- und Integrationsgesetz",
            "ausgangslage": "(Demodaten) Im Kreis Coesfeld leben rund 225.000 Menschen in elf Städten und Gemeinden; etwa 14 % haben eine Einwanderungsgeschichte. Seit 2022 sind rund 2.400 Menschen neu zugewandert, darunter viele Kinder und Jugendliche im schulpflichtigen Alter. Es gibt Sprachkurse, Migrationsberatung und ehrenamtliche Initiativen, aber keine Stelle, die Bildungs- und Integrationsangebote kreisweit koordiniert.",
            "standorte": [{
                "bezeichnung": "Kreishaus I",
                "anschrift": "Friedrich-Ebert-Straße 7, 48653 Coesfeld"
            }],
            "organisatorische_anbindung": "Das Zentrum wird als eigenes Sachgebiet im Fachbereich 50 eingerichtet und berichtet an die Fachbereichsleitung.",
            "arbeitsaufnahme": date(arbeitsaufnahme),
            "integrationskonzept": {
                "status": "beschlossen",
                "gremium": "kreistag",
                "beschluss_datum": date(konzept),
                "fortschreibung": "aktualisiert"
            },
            "personal": {
                "lehrkraefte_vze": 2,
                "fachkraefte_vze": 5.5,
                "verwaltungsassistenz_vze": 0.5,
                "teilzeit": [{
                    "gruppe": "fachkraft",
                    "bezeichnung": "Fachkraft Bildungskoordination",
                    "anteile": [0.5, 0.5]
                }]
            },
            "leitung": {
                "name": "Frau Dr. Miriam Overhage (Demo)",
                "gruppe": "fachkraft",
                "stellvertretung_name": "Herr Jan Roters (Demo)",
                "stellvertretung_gruppe": "lehrkraft"
            },
            "schwerpunkte": "1. Seiteneinstieg neu zugewanderter Kinder und Jugendlicher in Schule und Ausbildung. 2. Sprachbildung entlang der Bildungskette von der Kita bis zum Übergang in den Beruf. 3. Interkulturelle Öffnung der Verwaltung und Stärkung der Migrantenorganisationen.",
            "beteiligte": COESFELD_PARTNERS.iter().map(|p| p.key).collect::<Vec<_>>(),
            "beteiligung_abdeckung": {
                "untere_schulaufsicht": true,
                "schulverwaltung": true,
                "jugendhilfe_oeffentlich": true,
                "jugendhilfe_frei": true,
                "wohlfahrtsverbaende": true,
                "integrationsrat": false,
                "weitere_partner": "Stadt Dülmen als betroffene kreisangehörige Gemeinde; weitere Städte und Gemeinden folgen im Schwerpunktverfahren."
            }
        })
    }

    /// The Integrationskonzept, shared with the partners, before the consultation.
    pub(super) fn concept(
        &mut self,
        case: CaseId,
        at: DateTime<Utc>,
        beschluss: NaiveDate,
    ) -> Result<(), ServiceError> {
        let coordinator = actor(COORDINATOR_COE, "koordination");
        let konzept = self.upload(
            case,
            COORDINATOR_COE,
            at,
            "Integrationskonzept_Kreis_Coesfeld.pdf",
            "Integrationskonzept des Kreises Coesfeld (Demo)",
            &[
                &format!("Beschlossen vom Kreistag am {}. Demodaten – kein echtes Dokument.", german(beschluss)),
                "1. Ausgangslage: Zuwanderung und Vielfalt im Kreis Coesfeld, Bevölkerungsdaten, vorhandene Angebote der Städte und Gemeinden, der Wohlfahrtsverbände und der Migrantenorganisationen.",
                "2. Handlungsfelder: Bildung und Sprache, Arbeit und Ausbildung, Gesundheit, Wohnen, gesellschaftliche Teilhabe und interkulturelle Öffnung der Verwaltung.",
                "3. Ziele und Maßnahmen: Koordination der Angebote für neu Zugewanderte, Sprachbildung entlang der Bildungskette, Qualifizierung von Fachkräften.",
                "4. Steuerung: Lenkungskreis Integration unter Vorsitz des Landrats, jährlicher Integrationsbericht an den Kreistag.",
            ],
            Audience::Partners,
        )?;
        let stellenplan = self.upload(
            case,
            COORDINATOR_COE,
            at,
            "Stellenplan_Auszug_KI.pdf",
            "Auszug aus dem Stellenplan (Demo)",
            &[
                "Sachgebiet 50.4 Kommunales Integrationszentrum: 2,0 Stellen Lehrkräfte (vom Land frei gestellt), 5,5 Stellen Fachkräfte (EG 10/11 TVöD), 0,5 Stelle Verwaltungsassistenz (EG 6 TVöD).",
                "Demodaten – kein echtes Dokument.",
            ],
            Audience::Staff,
        )?;
        self.change(
            case,
            &coordinator,
            at,
            json!({
                "integrationskonzept": { "dokument": konzept },
                "personal": { "stellenplan": stellenplan }
            }),
        )
    }

    /// From the start through the consultation (all partners answer) to the Kreistag's agenda.
    pub(super) fn play_until_kreistag(
        &mut self,
        case: CaseId,
        start: i64,
    ) -> Result<(), ServiceError> {
        let coordinator = actor(COORDINATOR_COE, "koordination");
        let beschluss = self.day(start - 240);
        self.concept(case, berlin(self.day(start + 2), 9, 40), beschluss)?;
        self.act(
            case,
            &coordinator,
            berlin(self.day(start + 14), 9, 5),
            "beteiligung_starten",
            None,
        )?;
        self.all_reply(case, start + 17)?;
        self.act(
            case,
            &coordinator,
            berlin(self.day(start + 50), 11, 20),
            "zum_beschluss",
            Some(json!({
                "auswertung": {
                    "zusammenfassung": "Alle sechs beteiligten Stellen haben geantwortet: vier Zustimmungen (zwei mit Hinweisen), eine ohne Stellungnahme. Schulamt und Caritasverband bitten um frühe Abstimmung der Schwerpunkte.",
                    "aenderungen": "Schwerpunkt 1 um den Übergang Schule – Beruf ergänzt; Jugendmigrationsdienst in das Netzwerk aufgenommen."
                },
                "beschluss": { "gremium": "kreistag", "drucksache": "SV-11-0427 (Demo)" }
            })),
        )?;
        Ok(())
    }

    /// From the Kreistag's decision to the submission.
    pub(super) fn play_until_submission(
        &mut self,
        case: CaseId,
        decided: i64,
        submitted: i64,
    ) -> Result<(), ServiceError> {
        let coordinator = actor(COORDINATOR_COE, "koordination");
        let session = self.day(decided - 2);
        let at = berlin(self.day(decided), 10, 30);
        let niederschrift = self.upload(
            case,
            COORDINATOR_COE,
            at,
            "Niederschrift_Kreistag_Auszug.pdf",
            "Auszug aus der Niederschrift der Sitzung des Kreistags (Demo)",
            &[
                &format!("Sitzung vom {}, TOP 7: Einrichtung eines Kommunalen Integrationszentrums (SV-11-0427).", german(session)),
                "Beschluss: Der Kreistag beschließt die Einrichtung eines Kommunalen Integrationszentrums nach § 8 TIntG und beauftragt die Verwaltung, die Förderung beim Kompetenzzentrum für Integration zu beantragen.",
                "Abstimmungsergebnis: einstimmig bei zwei Enthaltungen. Demodaten – kein echtes Dokument.",
            ],
            Audience::Staff,
        )?;
        self.act(
            case,
            &coordinator,
            at,
            "beschlossen",
            Some(json!({
                "beschluss": {
                    "datum": date(session),
                    // The committees that met on the weekday of the Kreistag's session before it.
                    "beratungsfolge": [
                        { "gremium": "Ausschuss für Schule und Bildung", "datum": date(session - Days::new(21)), "ergebnis": "kenntnis" },
                        { "gremium": "Ausschuss für Soziales, Gesundheit und Integration", "datum": date(session - Days::new(14)), "ergebnis": "geaendert" },
                        { "gremium": "Kreisausschuss", "datum": date(session - Days::new(7)), "ergebnis": "empfohlen" }
                    ],
                    "konzept_beschlossen": false,
                    "niederschrift": niederschrift
                }
            })),
        )?;
        let at = berlin(self.day(submitted), 9, 15);
        let formular = self.upload(
            case,
            COORDINATOR_COE,
            at,
            "Antragsformular_unterschrieben.pdf",
            "Antrag auf Förderung eines Kommunalen Integrationszentrums (Demo)",
            &[
                "Antragsteller: Kreis Coesfeld, Fachbereich 50. Gefördert werden sollen 5,5 Fachkraftstellen und 0,5 Stelle Verwaltungsassistenz; die Abordnung von zwei Lehrkräften wird beantragt.",
                "Unterschrieben vom Landrat. Demodaten – kein echtes Dokument.",
            ],
            Audience::Staff,
        )?;
        let finanzen = self.upload(
            case,
            COORDINATOR_COE,
            at,
            "Finanzierungsplan.pdf",
            "Finanzierungsplan (Demo)",
            &[
                "Personalausgaben Fachkräfte: 412.000 €; Verwaltungsassistenz: 29.000 €; Sachausgaben: 35.000 €. Eigenanteil des Kreises: 20 %.",
                "Demodaten – kein echtes Dokument.",
            ],
            Audience::Staff,
        )?;
        let arbeitsplan = self.upload(
            case,
            COORDINATOR_COE,
            at,
            "Arbeitsplan_erste_zwei_Jahre.pdf",
            "Arbeitsplan für die ersten zwei Jahre (Demo)",
            &[
                "Jahr 1: Aufbau des Netzwerks, Bestandsaufnahme der Angebote, Seiteneinstiegsberatung für Schulen.",
                "Jahr 2: Sprachbildung in Kitas und Grundschulen, Fortbildungen zur interkulturellen Öffnung, erster Integrationsbericht.",
                "Demodaten – kein echtes Dokument.",
            ],
            Audience::Staff,
        )?;
        self.act(
            case,
            &coordinator,
            at,
            "einreichen",
            Some(json!({
                "unterlagen": {
                    "antragsformular": formular,
                    "finanzierungsplan": finanzen,
                    "arbeitsplan": arbeitsplan
                }
            })),
        )?;
        Ok(())
    }

    /// Approved months ago; its operation runs towards the deadline of the updated concept,
    /// which ends in about three weeks.
    pub(super) fn approved_case(&mut self) -> Result<(), ServiceError> {
        // The updated concept is due six months after the start of work (Beginnfrist).
        let deadline = self.day(21);
        let arbeitsaufnahme = deadline
            .checked_sub_months(Months::new(6))
            .unwrap_or(deadline)
            + Days::new(1);
        let offset = (arbeitsaufnahme - self.today).num_days();
        let start = offset - 300;
        let coordinator = actor(COORDINATOR_COE, "koordination");
        let data = self.coesfeld_application(arbeitsaufnahme, self.day(start - 240));
        let case = self.start(
            COESFELD,
            &coordinator,
            data,
            berlin(self.day(start), 10, 0),
            Note::Fixed("Bewilligt; der Betrieb eines Kommunalen Integrationszentrums läuft"),
        )?;
        self.play_until_kreistag(case, start)?;
        self.play_until_submission(case, start + 90, start + 130)?;

        let approver = actor(APPROVER, "bewilligung");
        let decided = self.day(start + 190);
        let at = berlin(decided, 14, 10);
        let bescheid = self.upload(
            case,
            APPROVER,
            at,
            "Bewilligungsbescheid.pdf",
            "Bewilligungsbescheid (Demo)",
            &[
                &format!("Bezirksregierung Arnsberg – Kompetenzzentrum für Integration, {}.", german(decided)),
                "Auf Ihren Antrag bewillige ich dem Kreis Coesfeld für die Einrichtung eines Kommunalen Integrationszentrums nach § 8 TIntG eine Zuwendung als Festbetragsfinanzierung.",
                "Nebenbestimmung: Sechs Monate nach Arbeitsaufnahme ist ein aktualisiertes Integrationskonzept vorzulegen.",
                "Demodaten – kein echtes Dokument.",
            ],
            Audience::Staff,
        )?;
        let before: i64 = cases::table
            .select(diesel::dsl::max(cases::id))
            .first::<Option<i64>>(self.conn)?
            .unwrap_or(0);
        self.act(
            case,
            &approver,
            at,
            "bewilligen",
            Some(json!({ "bewilligung": { "datum": date(decided), "bescheid": bescheid } })),
        )?;
        // The approval started the operation case.
        let betrieb: i64 = cases::table
            .filter(cases::id.gt(before))
            .filter(cases::workflow_key.eq("ki-betrieb"))
            .select(cases::id)
            .first(self.conn)?;
        let betrieb = CaseId(betrieb);
        self.mark("case", betrieb.0)?;
        self.cases.push((betrieb, Note::Operation));

        // Start of work confirmed; the concept deadline and the Schwerpunkte run side by side.
        // The coordinator took the operation over, so her start page marks it as hers.
        self.act(
            betrieb,
            &coordinator,
            berlin(arbeitsaufnahme + Days::new(1), 9, 30),
            "bestaetigen",
            None,
        )?;
        self.assign(
            betrieb,
            COORDINATOR_COE,
            berlin(arbeitsaufnahme + Days::new(1), 9, 35),
        )?;
        let at = berlin(arbeitsaufnahme + Days::new(20), 11, 0);
        self.act(
            betrieb,
            &coordinator,
            at,
            "beteiligung_starten",
            Some(json!({
                "schwerpunkte": {
                    "entwurf": "Für die Jahre eins und zwei: 1. Seiteneinstieg in Schule und Ausbildung, 2. Sprachbildung von der Kita bis zum Beruf, 3. Interkulturelle Öffnung der Kreisverwaltung. (Demodaten)"
                }
            })),
        )?;
        let base = offset + 23;
        let replies = [
            ("DEMO-COE-SCHULAMT", 0, Votum::Zustimmung, ""),
            ("DEMO-COE-JUGENDAMT", 1, Votum::Zustimmung, ""),
            (
                "DEMO-COE-CARITAS",
                2,
                Votum::ZustimmungMitHinweisen,
                "Bitte nehmen Sie die Elternarbeit als eigenen Schwerpunkt auf.",
            ),
            ("DEMO-COE-AWO", 4, Votum::Zustimmung, ""),
            ("DEMO-COE-SCHULVERWALTUNG", 5, Votum::KeineStellungnahme, ""),
            ("DEMO-COE-DUELMEN", 7, Votum::Zustimmung, ""),
        ];
        for (partner, day, votum, text) in replies {
            self.reply(
                betrieb,
                &Reply {
                    partner,
                    day: base + day,
                    votum,
                    text,
                    name: "Sachbearbeitung (Demo)",
                    function: "",
                    attachment: None,
                },
            )?;
        }
        let at = berlin(arbeitsaufnahme + Days::new(40), 10, 0);
        let plan = self.upload(
            betrieb,
            COORDINATOR_COE,
            at,
            "Schwerpunkte_der_Arbeit.pdf",
            "Schwerpunkte der Arbeit für zwei Jahre (Demo)",
            &[
                "1. Seiteneinstieg in Schule und Ausbildung. 2. Sprachbildung von der Kita bis zum Beruf, mit Elternarbeit. 3. Interkulturelle Öffnung der Kreisverwaltung.",
                "Festgelegt im Benehmen mit den örtlichen Partnern (Nr. 4.6 des Erlasses). Demodaten – kein echtes Dokument.",
            ],
            Audience::Partners,
        )?;
        self.act(
            betrieb,
            &coordinator,
            at,
            "festlegen",
            Some(json!({
                "schwerpunkte": {
                    "festlegung": "1. Seiteneinstieg in Schule und Ausbildung. 2. Sprachbildung von der Kita bis zum Beruf, mit Elternarbeit. 3. Interkulturelle Öffnung der Kreisverwaltung.",
                    "dokument": plan
                },
                "schwerpunkte_beginn": date(first_of_month_from(arbeitsaufnahme + Days::new(41)))
            })),
        )?;
        Ok(())
    }

    /// Submitted three weeks ago; at the Bewilligungsbehörde, which has three months to decide.
    pub(super) fn case_at_bewilligung(&mut self) -> Result<(), ServiceError> {
        let start = -230;
        let arbeitsaufnahme = first_of_month_from(self.day(75));
        let coordinator = actor(COORDINATOR_COE, "koordination");
        let data = self.coesfeld_application(arbeitsaufnahme, self.day(start - 240));
        let case = self.start(
            COESFELD,
            &coordinator,
            data,
            berlin(self.day(start), 10, 0),
            Note::Submitted,
        )?;
        self.play_until_kreistag(case, start)?;
        self.play_until_submission(case, start + 95, -20)?;
        self.note(
            case,
            &coordinator,
            berlin(self.day(-13), 11, 20),
            "Telefonat mit dem Kompetenzzentrum für Integration: Der Antrag ist vollständig \
             eingegangen. Rückfragen zum Personalkonzept kommen gegebenenfalls schriftlich.",
            None,
        )?;
        // Only the Kreis reads this one; the Bewilligungsbehörde sees that it stands there.
        self.note(
            case,
            &coordinator,
            berlin(self.day(-12), 9, 5),
            "Kämmerei: Der Eigenanteil für 2027 ist im Haushaltsentwurf eingeplant, der \
             Kreistag beschließt den Haushalt im Dezember.",
            Some(COESFELD),
        )?;
        self.upload(
            case,
            COORDINATOR_COE,
            berlin(self.day(-12), 9, 10),
            "Haushaltsentwurf_2027_Auszug_KI.pdf",
            "Auszug aus dem Haushaltsentwurf 2027 (Demo)",
            &[
                "Produkt 05.04 Integration: Eigenanteil des Kreises für das Kommunale Integrationszentrum, Personal- und Sachkosten 2027.",
                "Nur für den Dienstgebrauch des Kreises. Demodaten – kein echtes Dokument.",
            ],
            Audience::Internal(COESFELD),
        )?;
        // The coordinator's reminder to ask again if the Bescheid is still outstanding.
        let coordinator_id = self.principal(COORDINATOR_COE)?.user_id;
        let allow = |_| Ok(());
        crate::service::follow_ups::set(
            self.conn,
            case,
            coordinator_id,
            (
                &self.day(3).format("%Y-%m-%d").to_string(),
                "Beim Kompetenzzentrum nachfragen, falls der Bescheid noch aussteht",
            ),
            &crate::service::clock::at(berlin(self.day(-13), 11, 25)),
            &allow,
        )?;
        // Each side names who works on it: the coordinator at the Kreis, the examiner at the KfI.
        for (email, at) in [
            (COORDINATOR_COE, berlin(self.day(-60), 8, 40)),
            (APPROVER, berlin(self.day(-20), 9, 5)),
        ] {
            self.assign(case, email, at)?;
        }
        Ok(())
    }

    /// The consultation is over; the Kreistag decides next.
    pub(super) fn case_at_kreistag(&mut self) -> Result<(), ServiceError> {
        let start = -120;
        let arbeitsaufnahme = first_of_month_from(self.day(150));
        let coordinator = actor(COORDINATOR_COE, "koordination");
        let data = self.coesfeld_application(arbeitsaufnahme, self.day(start - 240));
        let case = self.start(
            COESFELD,
            &coordinator,
            data,
            berlin(self.day(start), 10, 0),
            Note::Fixed(
                "Stellungnahmen ausgewertet; wartet auf den Beschluss des Kreistags. Zuständig \
                 ist Jonas Keller, der im Urlaub ist; seine Wiedervorlage von heute sieht Anna \
                 Berger als Vertretung auf ihrer Startseite",
            ),
        )?;
        self.play_until_kreistag(case, start)?;
        self.assign(case, COLLEAGUE_COE, berlin(self.day(start), 10, 5))?;
        let colleague = self.principal(COLLEAGUE_COE)?;
        let allow = |_| Ok(());
        crate::service::follow_ups::set(
            self.conn,
            case,
            colleague.user_id,
            (
                &self.day(0).format("%Y-%m-%d").to_string(),
                "Beim Kreistagsbüro nachfragen, ob die Sitzungsvorlage zum Integrationskonzept \
                 auf der Tagesordnung steht",
            ),
            &crate::service::clock::at(berlin(self.day(-9), 14, 30)),
            &allow,
        )?;
        // Before his leave he named his colleague as deputy (Mein Konto → Abwesenheit).
        let deputy = self.principal(COORDINATOR_COE)?.user_id.0.to_string();
        crate::service::absences::set(
            self.conn,
            &colleague,
            (
                &self.day(LEAVE_UNTIL).format("%Y-%m-%d").to_string(),
                &deputy,
            ),
            self.today,
            berlin(self.day(-3), 16, 10).naive_utc(),
        )?;
        Ok(())
    }

    /// In the consultation: four answers in (one with Bedenken), two partners reminded, the
    /// deadline ends in a few days.
    pub(super) fn case_in_consultation(&mut self) -> Result<(), ServiceError> {
        let start = -45;
        let arbeitsaufnahme = first_of_month_from(self.day(210));
        let coordinator = actor(COORDINATOR_COE, "koordination");
        let data = self.coesfeld_application(arbeitsaufnahme, self.day(start - 240));
        let case = self.start(
            COESFELD,
            &coordinator,
            data,
            berlin(self.day(start), 10, 0),
            Note::Consultation,
        )?;
        self.concept(case, berlin(self.day(-40), 15, 20), self.day(start - 240))?;
        self.act(
            case,
            &coordinator,
            berlin(self.day(-26), 9, 0),
            "beteiligung_starten",
            None,
        )?;
        self.invite_by_mistake(case, &coordinator)?;
        let bedenken: &[&str] = &[
            "Stellungnahme des Schulamts für den Kreis Coesfeld zum Entwurf des Antrags. Demodaten – kein echtes Dokument.",
            "Das Schulamt begrüßt die Einrichtung eines Kommunalen Integrationszentrums. Bedenken bestehen gegen den Zeitplan: Die beiden Lehrerstellen (Nr. 4.2 des Erlasses) können frühestens zum Schulhalbjahr besetzt werden, weil Abordnungen erst dann möglich sind.",
            "Wir bitten, die Arbeitsaufnahme entsprechend zu verschieben und die Schwerpunkte „Seiteneinstieg“ und „Sprachbildung“ vor der Beschlussfassung mit uns abzustimmen.",
        ];
        let replies = [
            Reply {
                partner: "DEMO-COE-AWO",
                day: -22,
                votum: Votum::Zustimmung,
                text: "Wir unterstützen den Antrag und bringen unsere Erfahrung aus der Migrationsberatung gern ein.",
                name: "Claudia Wessels (Demo)",
                function: "Fachbereichsleitung Migration",
                attachment: None,
            },
            Reply {
                partner: "DEMO-COE-JUGENDAMT",
                day: -19,
                votum: Votum::ZustimmungMitHinweisen,
                text: "Wir stimmen zu. Bitte beziehen Sie die Familienzentren und die Jugendmigrationsdienste in die Arbeitsgruppe „Übergang Kita – Schule“ ein.",
                name: "Markus Tenbrink (Demo)",
                function: "Leitung Kreisjugendamt",
                attachment: None,
            },
            Reply {
                partner: "DEMO-COE-SCHULAMT",
                day: -12,
                votum: Votum::Bedenken,
                text: "Das Schulamt begrüßt die Einrichtung eines Kommunalen Integrationszentrums. Bedenken bestehen jedoch gegen den Zeitplan: Die beiden Lehrerstellen (Nr. 4.2 des Erlasses) können frühestens zum Schulhalbjahr besetzt werden. Wir bitten, die Arbeitsaufnahme anzupassen und die Schwerpunkte vor der Beschlussfassung mit uns abzustimmen; Einzelheiten in der beigefügten Stellungnahme.",
                name: "Dr. Petra Lindemann (Demo)",
                function: "Schulrätin",
                attachment: Some((
                    "Stellungnahme_Schulamt_Coesfeld.pdf",
                    "Stellungnahme des Schulamts (Demo)",
                    bedenken,
                )),
            },
            Reply {
                partner: "DEMO-COE-CARITAS",
                day: -9,
                votum: Votum::Zustimmung,
                text: "Wir freuen uns auf die Zusammenarbeit.",
                name: "Jonas Kemper (Demo)",
                function: "Fachdienstleitung Integration und Migration",
                attachment: None,
            },
        ];
        for reply in &replies {
            self.reply(case, reply)?;
        }
        self.ask_for_more_time(case)
    }

    /// The day after the start the office means to add the Jugendamt, overlooks that the
    /// Kreisjugendamt is invited already and picks the Jugendamt of the Stadt Bielefeld. The
    /// Jugendamt answers through its link that it is not competent, and the office withdraws
    /// the invitation within the hour, so the matrix shows a withdrawn row and the journal both
    /// the notice and why it was withdrawn.
    pub(super) fn invite_by_mistake(
        &mut self,
        case: CaseId,
        coordinator: &Actor,
    ) -> Result<(), ServiceError> {
        let allow = |_| Ok(());
        let at = berlin(self.day(-25), 8, 40);
        self.advance(&[case], at)?;
        crate::service::further_participant::add(
            self.conn,
            self.ctx,
            case,
            None,
            crate::service::further_participant::Addition {
                participant: "DEMO-BI-JUGENDAMT".into(),
                reason: Some(
                    "Jugendamt für den Schwerpunkt Übergang Kita – Schule beteiligen".into(),
                ),
            },
            Invocation {
                actor: coordinator,
                clock: &crate::service::clock::at(at),
                check: &allow,
            },
        )?;
        let organisation = self.organisation("DEMO-BI-JUGENDAMT")?;
        let invitation: i64 = invitations::table
            .filter(invitations::case_id.eq(case.0))
            .filter(invitations::organisation_id.eq(organisation.id))
            .select(invitations::id)
            .first(self.conn)?;
        let at = berlin(self.day(-25), 9, 20);
        self.advance(&[case], at)?;
        crate::service::responsibility_notice::report(
            self.conn,
            self.ctx,
            invitation,
            (
                Some(
                    "Das Jugendamt der Stadt Bielefeld ist für Einrichtungen im Kreis Coesfeld nicht zuständig.",
                ),
                Some("Kreisjugendamt Coesfeld"),
                Some("Jan Brinkmann (Demo)"),
            ),
            &crate::service::clock::at(at),
        )?;
        let at = berlin(self.day(-25), 9, 45);
        self.advance(&[case], at)?;
        crate::service::withdrawal::withdraw(
            self.conn,
            self.ctx,
            case,
            invitation,
            "Irrtümlich ausgewählt; die Stelle hat mitgeteilt, dass sie nicht zuständig ist. Zuständig ist das bereits beteiligte Kreisjugendamt.".into(),
            Invocation {
                actor: coordinator,
                clock: &crate::service::clock::at(at),
                check: &allow,
            },
        )
    }

    /// After its reminder, the Stadt Dülmen asks for two more weeks through its link: its
    /// committee meets after the deadline. The request waits for the office's decision (start
    /// page, matrix, the office's mail).
    pub(super) fn ask_for_more_time(&mut self, case: CaseId) -> Result<(), ServiceError> {
        let at = berlin(self.day(-1), 11, 30);
        self.advance(&[case], at)?;
        let organisation = self.organisation("DEMO-COE-DUELMEN")?;
        let (invitation, deadline): (i64, NaiveDate) = invitations::table
            .filter(invitations::case_id.eq(case.0))
            .filter(invitations::organisation_id.eq(organisation.id))
            .filter(invitations::status.eq("open"))
            .select((invitations::id, invitations::deadline))
            .first(self.conn)?;
        let calendar = crate::frist::HolidayCalendar::for_land(crate::engine::LAND)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let mut until = deadline + Days::new(14);
        while calendar.is_working_day(until) != Ok(true) {
            until = until + Days::new(1);
        }
        // The committee meets on the working day before the day asked for.
        let mut meeting = until - Days::new(1);
        while calendar.is_working_day(meeting) != Ok(true) {
            meeting = meeting - Days::new(1);
        }
        let reason = format!(
            "Der Haupt- und Finanzausschuss der Stadt Dülmen berät den Entwurf erst am {}.",
            german(meeting)
        );
        crate::service::extension_request::request(
            self.conn,
            self.ctx,
            invitation,
            (
                Some(&until.format("%Y-%m-%d").to_string()),
                Some(&reason),
                Some("Sabine Hölscher (Demo)"),
            ),
            &crate::service::clock::at(at),
        )?;
        Ok(())
    }

    /// The Stadt Bielefeld's draft: complete, the Beteiligung can be started.
    pub(super) fn bielefeld_draft(&mut self) -> Result<(), ServiceError> {
        let coordinator = actor(COORDINATOR_BI, "koordination");
        let arbeitsaufnahme = first_of_month_from(self.day(240));
        let vorlage = arbeitsaufnahme
            .checked_add_months(Months::new(10))
            .unwrap_or(arbeitsaufnahme);
        let data = json!({
            "antragsteller": {
                "dienststelle": "Amt für Integration und interkulturelle Angelegenheiten",
                "ansprechperson": "Herr Murat Yılmaz (Demo)",
                "telefon": "0521 51-6010",
                "email": "integration@bielefeld.demo"
            },
            "zentrum_name": "Kommunales Integrationszentrum Bielefeld",
            "oeffentliche_bezeichnung": "Kommunales Integrationszentrum Bielefeld – anerkannt durch das Land NRW als Kommunales Integrationszentrum nach § 8 Teilhabe- und Integrationsgesetz",
            "ausgangslage": "(Demodaten) Bielefeld hat rund 340.000 Einwohnerinnen und Einwohner; fast 40 % haben eine Einwanderungsgeschichte. Die Angebote für neu Zugewanderte sind zahlreich, aber auf viele Träger verteilt.",
            "standorte": [{ "bezeichnung": "Neues Rathaus", "anschrift": "Niederwall 23, 33602 Bielefeld" }],
            "organisatorische_anbindung": "Das Zentrum wird dem Amt für Integration und interkulturelle Angelegenheiten zugeordnet.",
            "arbeitsaufnahme": date(arbeitsaufnahme),
            "integrationskonzept": {
                "status": "in_arbeit",
                "gremium": "rat",
                "vorlage_bis": date(vorlage),
                "fortschreibung": "neu"
            },
            "personal": { "lehrkraefte_vze": 2, "fachkraefte_vze": 4.5, "verwaltungsassistenz_vze": 0.5 },
            "leitung": {
                "name": "Frau Lena Krüger (Demo)",
                "gruppe": "lehrkraft",
                "stellvertretung_name": "Herr Ali Şahin (Demo)",
                "stellvertretung_gruppe": "fachkraft"
            },
            "schwerpunkte": "Sprachbildung, Übergang Schule – Beruf, Stärkung der Migrantenselbstorganisationen.",
            "beteiligte": BIELEFELD_PARTNERS.iter().map(|p| p.key).collect::<Vec<_>>(),
            "beteiligung_abdeckung": {
                "untere_schulaufsicht": true,
                "schulverwaltung": true,
                "jugendhilfe_oeffentlich": true,
                "jugendhilfe_frei": true,
                "wohlfahrtsverbaende": true,
                "integrationsrat": true
            }
        });
        let applicant = self.organisation(BIELEFELD)?;
        let case = commands::start_case(
            self.conn,
            self.ctx,
            "ki-antrag",
            &applicant,
            data,
            &coordinator,
            &crate::service::clock::at(berlin(self.day(-6), 11, 45)),
        )?;
        let case = case.row.id;
        self.mark("case", case.0)?;
        self.cases.push((
            case,
            Note::Fixed("Entwurf vollständig; die Beteiligung der Partner kann gestartet werden"),
        ));
        let at = berlin(self.day(-2), 16, 5);
        let entwurf = self.upload(
            case,
            COORDINATOR_BI,
            at,
            "Integrationskonzept_Entwurf_Bielefeld.pdf",
            "Entwurf der Fortschreibung des Integrationskonzepts (Demo)",
            &[
                &format!("Stand {}. Das neue Integrationskonzept wird dem Rat bis zum {} vorgelegt.", german(self.day(-2)), german(vorlage)),
                "Leitziele: Chancengerechte Bildung, Teilhabe am Arbeitsmarkt, Zusammenleben im Quartier, interkulturelle Öffnung.",
                "Demodaten – kein echtes Dokument.",
            ],
            Audience::Partners,
        )?;
        self.change(
            case,
            &coordinator,
            at,
            json!({ "integrationskonzept": { "dokument": entwurf } }),
        )?;
        Ok(())
    }

    // --- Summary -----------------------------------------------------------------------------
}
