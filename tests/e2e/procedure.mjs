// The whole procedure in the browser (tests/it/browser.rs prepares users and partners on an
// empty server and checks the outcome afterwards):
//
// an administrator deploys the shipped workflows through the editor and enters the KfI's
// Antragszeitraum; a coordinator of the Kreis Coesfeld creates a ki-antrag case, fills it in
// and starts the Beteiligung; every partner opens
// the link from the mail the SMTP server received and answers (one with Bedenken); the
// coordinator evaluates, records the Kreistag's decision, attaches the documents and submits;
// the Bewilligungsbehörde approves; the ki-betrieb case exists and, once the Arbeitsaufnahme is
// confirmed, shows its deadlines. An administrator deploys a workflow that waits for a message
// (after the editor named a mistake in German); its arrival is recorded with the data it
// brings. A user of a kreisangehörige Gemeinde is pointed to the Anregung. Each deployed
// workflow is downloaded as BPMN 2.0 and read by bpmn-moddle, the reader of bpmn.io and Camunda
// Modeler; one of them goes back into the editor as the draft of a new workflow. A second
// application is withdrawn with its reason, and reopened by an administrator, who takes the
// withdrawal for a mistake. An administrator registers two partner bodies from
// a table. The Gemeinde's user, who forgot the password,
// chooses a new one through the link the mail brings. A colleague who mistyped five times is
// let in again by an administrator. axe-core on every page, a screenshot of every page.

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { BpmnModdle } from 'bpmn-moddle';

import {
  assertFitsWidth,
  assertTablesFit,
  assertNoBrowserErrors,
  checkA11y,
  env,
  linkFrom,
  newPage,
  run,
  screenshot,
  step,
  submitting,
  waitForMail,
  zipMember,
} from './lib.mjs';

const BASE_URL = env('BASE_URL');
const PASSWORD = env('PASSWORD');
const ADMIN = env('ADMIN_EMAIL');
const COORDINATOR = env('COORDINATOR_EMAIL');
const BEWILLIGUNG = env('BEWILLIGUNG_EMAIL');
const GEMEINDE = env('GEMEINDE_EMAIL');
const APPLICATION = JSON.parse(env('APPLICATION'));
const PARTNERS = JSON.parse(env('PARTNERS')); // [{ email, votum }]
const PDF = env('PDF_FILE');
const RAEUME = env('RAEUME_WORKFLOW'); // waits for the rooms' hand-over, which brings its date
/** The BPMN files downloaded, by workflow key. */
const bpmnFiles = {};

/** axe and a screenshot of the page as it is now. */
async function page_done(page, name) {
  await checkA11y(page, name);
  await assertFitsWidth(page, name);
  await assertTablesFit(page, name);
  await screenshot(page, name);
  assertNoBrowserErrors(page);
}

async function login(page, email) {
  await page.goto(`${BASE_URL}/login`);
  await page.fill('#feld-email', email);
  await page.fill('#feld-passwort', PASSWORD);
  const response = await submitting(page, () => page.getByRole('button', { name: 'Anmelden' }).click());
  assert.ok(response.status() === 303 || response.status() === 200, `login of ${email}: ${response.status()}`);
  assert.ok(!page.url().includes('/login'), `still on the login page: ${page.url()}`);
}

async function logout(page) {
  await submitting(page, () => page.getByRole('button', { name: 'Abmelden' }).click());
}

/** Every leaf of the JSON as [pointer, value]. */
function leaves(value, pointer = '') {
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object')) return [[pointer, value]];
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, v]) => leaves(v, `${pointer}/${key}`));
  }
  return [[pointer, value]];
}

/** Fills the form fields of the generated form from `data` (ids follow the JSON pointers). */
async function fillForm(page, data) {
  for (const [pointer, value] of leaves(data)) {
    const id = `#feld${pointer.replaceAll('/', '-')}`;
    const field = page.locator(id);
    assert.equal(await field.count(), 1, `no form field ${id}`);
    await openSection(page, id);
    const tag = await field.evaluate((el) => `${el.tagName.toLowerCase()}:${el.type ?? ''}`);
    if (tag === 'input:checkbox') {
      if (value) await field.check(); else await field.uncheck();
    } else if (tag.startsWith('select')) {
      await field.selectOption(Array.isArray(value) ? value.map(String) : String(value));
    } else {
      await field.fill(typeof value === 'number' ? String(value).replace('.', ',') : String(value));
    }
  }
}

/** Saves the case page's data form and expects the confirmation. */
async function saveData(page) {
  const response = await submitting(page, () => page.getByRole('button', { name: 'Angaben speichern' }).click());
  assert.ok([200, 303].includes(response.status()), `saving: ${response.status()}`);
  assert.ok(page.url().includes('hinweis=gespeichert'), `not saved: ${page.url()}\n${await page.locator('main').textContent()}`);
}

/** Takes the action with this button title; the page afterwards. */
async function act(page, title) {
  const response = await submitting(page, () => page.getByRole('button', { name: title, exact: true }).click());
  assert.ok([200, 303].includes(response.status()), `${title}: ${response.status()}`);
  assert.ok(page.url().includes('hinweis=aktion'), `${title} not taken: ${page.url()}\n${await page.locator('main').textContent()}`);
}

/** Uploads the test PDF under `name` on the case page, with `internal` for the uploader's organisation only. */
async function upload(page, name, { internal = false } = {}) {
  const bytes = await fs.readFile(PDF);
  await page.setInputFiles('#feld-datei', { name, mimeType: 'application/pdf', buffer: bytes });
  if (internal) await page.getByLabel(/^Internes Dokument/).check();
  const response = await submitting(page, () => page.getByRole('button', { name: 'Hochladen', exact: true }).click());
  assert.ok([200, 303].includes(response.status()), `upload ${name}: ${response.status()}`);
  assert.ok((await page.locator('#dokumente').locator('..').textContent()).includes(name), `${name} not listed`);
}

/**
 * Opens the closed section of the case page's data form that holds the field `id`, as a person
 * does: by its summary. Fields outside sections, and those of open ones, are left as they are.
 */
async function openSection(page, id) {
  const section = page.locator(`details.abschnitt:has(${id})`);
  if (await section.count() === 1 && !(await section.evaluate((el) => el.open))) {
    await section.locator(':scope > summary').click();
    assert.ok(await page.locator(id).isVisible(), `${id} shows when its section opens`);
  }
}

/** Selects the document called `name` in the document field with this id. */
async function pickDocument(page, id, name) {
  await openSection(page, id);
  const option = page.locator(`${id} option`, { hasText: name });
  await page.selectOption(id, await option.first().getAttribute('value'));
}

await run(async (browser) => {
  const admin = await newPage(browser, 'desktop');
  await step('the administrator deploys the shipped workflows', async () => {
    await login(admin, ADMIN);
    await page_done(admin, 'admin-start');
    // ki-antrag starts ki-betrieb, so that one comes first.
    for (const key of ['ki-betrieb', 'ki-antrag', 'ki-anregung']) {
      await admin.goto(`${BASE_URL}/admin/workflows/neu`);
      const source = await fs.readFile(`workflows/${key}.yaml`, 'utf8');
      await admin.fill('textarea', source);
      if (key === 'ki-antrag') await page_done(admin, 'admin-editor');
      const response = await submitting(admin, () => admin.getByRole('button', { name: 'Bereitstellen' }).click());
      if (![200, 303].includes(response.status())) {
        const errors = await admin.locator('[role=alert]').first().textContent().catch(() => '');
        assert.fail(`deploy ${key}: ${response.status()}: ${errors}`);
      }
      assert.ok((await admin.locator('main').textContent()).includes('Version 1 wurde bereitgestellt.'), await admin.locator('main').textContent());
    }
    await page_done(admin, 'admin-workflow-mit-diagramm');
    await admin.goto(`${BASE_URL}/admin/workflows`);
    await page_done(admin, 'admin-workflows');
  });

  await step('the administrator downloads each workflow as BPMN, which a BPMN tool reads', async () => {
    const moddle = new BpmnModdle();
    for (const key of ['ki-betrieb', 'ki-antrag', 'ki-anregung']) {
      await admin.goto(`${BASE_URL}/admin/workflows/${key}`);
      const title = (await admin.locator('h1').textContent()).trim();
      const [download] = await Promise.all([
        admin.waitForEvent('download'),
        admin.getByRole('link', { name: 'Version 1 als BPMN-2.0-Datei herunterladen' }).click(),
      ]);
      assert.equal(download.suggestedFilename(), `${key}-v1.bpmn`);
      const xml = await fs.readFile(await download.path(), 'utf8');
      const { rootElement, warnings } = await moddle.fromXML(xml);
      assert.deepEqual(warnings.map((w) => w.message), [], `${key}: the reader's warnings`);
      const process = rootElement.rootElements.find((e) => e.$type === 'bpmn:Process');
      assert.ok(title.includes(process.name), `${key}: "${process.name}" in "${title}"`);
      const tasks = process.flowElements.filter((e) => ['bpmn:UserTask', 'bpmn:ReceiveTask'].includes(e.$type));
      assert.ok(tasks.length >= 2, `${key}: ${tasks.length} tasks`);
      // Every element is drawn, every flow connects elements of the process.
      const drawn = new Set(rootElement.diagrams[0].plane.planeElement.map((d) => d.bpmnElement?.id));
      const undrawn = process.flowElements.filter((e) => !drawn.has(e.id)).map((e) => e.id);
      assert.deepEqual(undrawn, [], `${key}: elements without a shape`);
      for (const flow of process.flowElements.filter((e) => e.$type === 'bpmn:SequenceFlow')) {
        assert.ok(process.flowElements.includes(flow.sourceRef), `${key}: ${flow.id} source`);
        assert.ok(process.flowElements.includes(flow.targetRef), `${key}: ${flow.id} target`);
      }
      bpmnFiles[key] = xml;
    }
  });

  await step('the administrator takes a BPMN file as the draft of a new workflow', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vorgang-bpmn-'));
    const file = path.join(dir, 'ki-anregung-v1.bpmn');
    await fs.writeFile(file, bpmnFiles['ki-anregung']);
    await admin.goto(`${BASE_URL}/admin/workflows/neu`);
    await admin.getByLabel('BPMN-2.0-Datei').setInputFiles(file);
    await submitting(admin, () => admin.getByRole('button', { name: 'Entwurf übernehmen' }).click());
    await fs.rm(dir, { recursive: true });
    const heading = admin.getByRole('heading', { name: 'Entwurf aus „ki-anregung-v1.bpmn“' });
    assert.equal(await heading.count(), 1, await admin.locator('main').textContent());
    const source = await admin.getByLabel('YAML-Definition').inputValue();
    assert.match(source, /^workflow: ki-anregung$/m);
    assert.match(source, /type: task/);
    // The flow as read, drawn with the titles of its steps.
    const diagram = admin.locator('section[aria-labelledby="uebernahme-diagramm"] svg');
    assert.equal(await diagram.count(), 1);
    assert.match(await diagram.locator('desc').first().textContent(), /Anregung prüfen und entscheiden/);
    await page_done(admin, 'admin-workflow-bpmn-entwurf');
  });

  await step('the administrator enters the Antragszeitraum', async () => {
    await admin.goto(`${BASE_URL}/admin`);
    await admin.getByRole('link', { name: 'Zeiträume' }).click();
    await admin.waitForLoadState('load');
    const day = (offset) => new Date(Date.now() + offset * 86400000).toISOString().slice(0, 10);
    await admin.getByLabel('Bezeichnung').fill('Förderjahr 2027');
    await admin.getByLabel('Erster Tag').fill(day(-30));
    await admin.getByLabel('Letzter Tag').fill(day(30));
    await submitting(admin, () => admin.getByRole('button', { name: 'Zeitraum eintragen' }).click());
    const text = await admin.locator('main').textContent();
    assert.match(text, /Der Zeitraum wurde eingetragen\./);
    assert.match(text, /Förderjahr 2027.*läuft/s);
    await page_done(admin, 'admin-zeitraeume');
    await logout(admin);
  });

  const coordinator = await newPage(browser, 'desktop');
  let casePath;
  await step('the coordinator creates the application and fills it in', async () => {
    await login(coordinator, COORDINATOR);
    await page_done(coordinator, 'koordination-start');
    await coordinator.goto(`${BASE_URL}/vorgaenge/neu`);
    await page_done(coordinator, 'neuer-vorgang');
    await coordinator.locator('input[name=verfahren][value=ki-antrag]').check();
    await Promise.all([
      coordinator.waitForURL(/\/vorgaenge\/neu\/ki-antrag/),
      coordinator.getByRole('button', { name: 'Weiter' }).click(),
    ]);
    await fillForm(coordinator, APPLICATION);
    await page_done(coordinator, 'antrag-formular');
    await submitting(coordinator, () => coordinator.getByRole('button', { name: 'Vorgang anlegen' }).click());
    assert.match(coordinator.url(), /\/vorgaenge\/\d+/);
    casePath = new URL(coordinator.url()).pathname;
    // The groups of the data are closed sections that say how much is filled in.
    const summaries = await coordinator.locator('details.abschnitt > summary').allTextContents();
    assert.ok(summaries.includes('Antragsteller (vollständig ausgefüllt)'), summaries.join('\n'));
    assert.ok(summaries.includes('Standort (1 Eintrag)'), summaries.join('\n'));
    assert.ok(!(await coordinator.locator('#feld-antragsteller-email').isVisible()), 'a closed section');
    assert.ok(await coordinator.locator('#feld-zentrum_name').isVisible(), 'single fields stay in view');
    await page_done(coordinator, 'vorgang-angelegt');
  });

  await step('the coordinator starts the Beteiligung', async () => {
    await act(coordinator, 'Beteiligung der Partner starten');
    const text = await coordinator.locator('main').textContent();
    assert.ok(text.includes('Beteiligung der örtlichen Partner'), text);
    await page_done(coordinator, 'beteiligung-gestartet');
    // The form for a Stellungnahme that comes by letter: errors at their fields, nothing stored.
    const casePage = coordinator.url();
    await coordinator.getByRole('link', { name: /^Stellungnahme erfassen für / }).first().click();
    await coordinator.waitForLoadState('load');
    await submitting(coordinator, () => coordinator.getByRole('button', { name: 'Stellungnahme erfassen' }).click());
    assert.match(await coordinator.locator('#fehler').textContent(), /wie die Stellungnahme eingegangen ist/);
    await page_done(coordinator, 'stellungnahme-erfassen-fehler');
    // The form for a Fristverlängerung: a missing day is named at its field, nothing changes.
    await coordinator.goto(casePage);
    await coordinator.getByRole('link', { name: /^Frist verlängern für / }).first().click();
    await coordinator.waitForLoadState('load');
    await submitting(coordinator, () => coordinator.getByRole('button', { name: 'Frist verlängern' }).click());
    assert.match(await coordinator.locator('#fehler-frist').textContent(), /neue Fristende/);
    await page_done(coordinator, 'frist-verlaengern-fehler');
    // The form for inviting a further partner: no choice is named at its field, nobody is invited.
    await coordinator.goto(casePage);
    await coordinator.getByRole('link', { name: 'Weitere Stelle beteiligen' }).click();
    await coordinator.waitForLoadState('load');
    await submitting(coordinator, () => coordinator.getByRole('button', { name: 'Stelle beteiligen' }).click());
    assert.match(await coordinator.locator('#fehler-stelle').textContent(), /Bitte wählen Sie die Stelle/);
    await page_done(coordinator, 'stelle-beteiligen-fehler');
    // The form for withdrawing an invitation: a missing reason is named at its field, the
    // partner stays invited.
    await coordinator.goto(casePage);
    await coordinator.getByRole('link', { name: /^Beteiligung zurücknehmen von / }).first().click();
    await coordinator.waitForLoadState('load');
    await submitting(coordinator, () => coordinator.getByRole('button', { name: 'Beteiligung zurücknehmen' }).click());
    assert.match(await coordinator.locator('#fehler-grund').textContent(), /warum die Beteiligung zurückgenommen wird/);
    await page_done(coordinator, 'beteiligung-zuruecknehmen-fehler');
    await coordinator.goto(casePage);
  });

  await step('a partner says it is not competent; the coordinator keeps it, with a reason', async () => {
    const casePage = coordinator.url();
    const mail = await waitForMail(PARTNERS[0].email, 'Bitte um Stellungnahme');
    const phone = await newPage(browser, 'phone');
    await phone.goto(linkFrom(mail, `${BASE_URL}/beteiligung/`));
    await phone.fill('#zustaendigkeit-grund', 'Die Aufgabe liegt nach unserer Kenntnis beim Kreis.');
    await phone.fill('#zustaendigkeit-name', 'Ansprechperson 1');
    const sent = await submitting(phone, () => phone.getByRole('button', { name: 'Nicht zuständig: der Stelle mitteilen' }).click());
    assert.equal(sent.status(), 200);
    assert.match(await phone.getByRole('status').first().textContent(), /Ihre Mitteilung, dass Sie nicht zuständig sind/);
    await page_done(phone, 'partner-nicht-zustaendig');
    await phone.context().close();
    // The office's form: a missing reason is named at its field; with one, the notice is
    // answered and the partner stays invited.
    await coordinator.goto(casePage);
    await coordinator.getByRole('link', { name: /^Mitteilung „nicht zuständig“ zurückweisen von / }).click();
    await coordinator.waitForLoadState('load');
    await submitting(coordinator, () => coordinator.getByRole('button', { name: 'Mitteilung zurückweisen' }).click());
    assert.match(await coordinator.locator('#fehler-grund').textContent(), /Bitte begründen Sie die Ablehnung/);
    await page_done(coordinator, 'mitteilung-zurueckweisen-fehler');
    await coordinator.fill('#feld-grund', 'Die Stelle ist nach dem Erlass zu beteiligen.');
    await submitting(coordinator, () => coordinator.getByRole('button', { name: 'Mitteilung zurückweisen' }).click());
    assert.match(await coordinator.getByRole('status').first().textContent(), /Die Entscheidung ist vermerkt/);
    assert.ok(!(await coordinator.locator('main').textContent()).includes('Meldet: nicht zuständig'));
    await coordinator.goto(casePage);
  });

  await step('every partner answers through the link in the mail', async () => {
    for (const [index, partner] of PARTNERS.entries()) {
      const mail = await waitForMail(partner.email, 'Bitte um Stellungnahme');
      const link = linkFrom(mail, `${BASE_URL}/beteiligung/`);
      const phone = await newPage(browser, 'phone');
      await phone.goto(link);
      if (index === 0) await page_done(phone, 'partner-antwortseite');
      await phone.locator(`input[name=votum][value=${partner.votum}]`).check();
      if (partner.votum === 'bedenken') {
        await phone.fill('#feld-stellungnahme', 'Für die Sprachförderung fehlen Räume; bitte einen zweiten Standort prüfen.');
      } else {
        await phone.fill('#feld-stellungnahme', 'Wir unterstützen den Antrag.');
      }
      await phone.fill('#feld-name', `Ansprechperson ${index + 1}`);
      const response = await submitting(phone, () => phone.getByRole('button', { name: 'Stellungnahme absenden' }).click());
      assert.equal(response.status(), 200, `answer of ${partner.email}`);
      if (index === 0) await page_done(phone, 'partner-danke');
      await phone.context().close();
    }
  });

  await step('the coordinator reads the answers and records the Kreistag decision', async () => {
    await coordinator.goto(`${BASE_URL}${casePath}`);
    const text = await coordinator.locator('main').textContent();
    assert.ok(text.includes('Stellungnahmen auswerten'), text);
    assert.ok(text.includes('Bedenken'), 'the matrix shows the Votum');
    // Every partner answered and they share the deadline: no column of actions or deadlines
    // (page_done checks that the whole matrix is in view).
    const matrix = coordinator.locator('section[aria-labelledby=beteiligung] table');
    assert.deepEqual(await matrix.locator('thead th').allTextContents(), ['Stelle', 'Eingeladen', 'Stand', 'Stellungnahme']);
    for (const state of await matrix.locator('tbody td:nth-child(3)').allTextContents()) {
      assert.match(state, /^beantwortet am \d\d\.\d\d\.\d{4}, \d\d:\d\d Uhr/);
    }
    await page_done(coordinator, 'stellungnahmen-eingegangen');
    const statement = coordinator.getByRole('link', { name: /Stellungnahme von .* lesen/ }).first();
    await statement.click();
    await coordinator.waitForLoadState('load');
    await page_done(coordinator, 'stellungnahme-lesen');
    await coordinator.goto(`${BASE_URL}${casePath}`);

    await fillForm(coordinator, { auswertung: { zusammenfassung: 'Die Bedenken zu den Räumen werden mit einem zweiten Raum im Kreishaus aufgegriffen.' } });
    await saveData(coordinator);
    await act(coordinator, 'Dem Kreistag bzw. Rat zur Beschlussfassung vorlegen');
    await fillForm(coordinator, { beschluss: { gremium: 'kreistag', datum: '2026-11-19', drucksache: 'SV-10-123',
      beratungsfolge: [{ gremium: 'Ausschuss für Soziales und Integration', datum: '2026-11-05', ergebnis: 'empfohlen' }] } });
    await saveData(coordinator);
    await act(coordinator, 'Beschlossen');
    await page_done(coordinator, 'beschluss-erfasst');
  });

  await step('the coordinator attaches the documents and submits', async () => {
    for (const name of ['antragsformular.pdf', 'finanzierungsplan.pdf', 'arbeitsplan.pdf']) {
      await upload(coordinator, name);
    }
    await pickDocument(coordinator, '#feld-unterlagen-antragsformular', 'antragsformular.pdf');
    await pickDocument(coordinator, '#feld-unterlagen-finanzierungsplan', 'finanzierungsplan.pdf');
    await pickDocument(coordinator, '#feld-unterlagen-arbeitsplan', 'arbeitsplan.pdf');
    await saveData(coordinator);
    await page_done(coordinator, 'unterlagen');
    // A second tab, still showing the form of the draft.
    const stale = await coordinator.context().newPage();
    await stale.goto(coordinator.url());
    await act(coordinator, 'Antrag einreichen');
    await page_done(coordinator, 'eingereicht');
    // Submitted, the Antrag is read-only for its author while the authority examines it.
    const atWork = /Solange der Schritt „Antrag prüfen und bescheiden“ läuft, ändert die Angaben nur: Bewilligungsbehörde/;
    const submittedText = await coordinator.locator('main').textContent();
    assert.match(submittedText, atWork);
    // The authority's actions are not listed one by one as impossible; who acts is said once.
    assert.match(submittedText, /Den Schritt „Antrag prüfen und bescheiden“ bearbeitet: Bewilligungsbehörde \(Kompetenzzentrum/);
    assert.ok(!submittedText.includes('ist noch nicht möglich'), submittedText);
    assert.equal(await coordinator.getByRole('button', { name: 'Angaben speichern' }).count(), 0);
    assert.ok(await coordinator.locator('#feld-zentrum_name').isDisabled());
    // The form of the second tab is refused, and nothing changes.
    await stale.fill('#feld-zentrum_name', 'Nach dem Einreichen geändert');
    const refused = await submitting(stale, () => stale.getByRole('button', { name: 'Angaben speichern' }).click());
    assert.equal(refused.status(), 422);
    assert.match(await stale.locator('main').textContent(), atWork);
    await stale.close();
    await coordinator.reload();
    assert.notEqual(await coordinator.locator('#feld-zentrum_name').inputValue(), 'Nach dem Einreichen geändert');
    // A phone call goes into the file as an Aktenvermerk, line breaks kept.
    const call = 'Telefonat mit dem Kompetenzzentrum:\nEingang des Antrags bestätigt.';
    await coordinator.fill('#feld-vermerk', call);
    await submitting(coordinator, () => coordinator.getByRole('button', { name: 'Vermerk speichern' }).click());
    assert.equal(await coordinator.locator('.zeitleiste .vermerk').first().innerText(), call);
    await page_done(coordinator, 'vermerk');
    // One for the Kreis alone: the Bewilligungsbehörde sees that it stands there, not what it says.
    const internal = 'Kämmerei: Eigenanteil 2027 im Haushaltsentwurf eingeplant.';
    await coordinator.fill('#feld-vermerk', internal);
    await coordinator.getByLabel(/^Interner Vermerk/).check();
    await submitting(coordinator, () => coordinator.getByRole('button', { name: 'Vermerk speichern' }).click());
    const newest = coordinator.locator('.zeitleiste li').first();
    assert.match(await newest.textContent(), /Interner Vermerk \(nur für die verfassende Stelle sichtbar\)/);
    assert.equal(await newest.locator('.vermerk').innerText(), internal);
    assert.ok(!(await coordinator.getByLabel(/^Interner Vermerk/).isChecked()), 'the next Vermerk is for everyone again');
    // A document for the Kreis alone, marked as such in the list and the timeline.
    await upload(coordinator, 'Haushaltsvermerk Kämmerei.pdf', { internal: true });
    assert.match(await coordinator.locator('#dokumente').locator('..').textContent(), /Haushaltsvermerk Kämmerei\.pdf \(intern\)/);
    assert.match(await coordinator.locator('.zeitleiste li').first().textContent(), /\(intern, nur für die hochladende Stelle sichtbar\)/);
    // Printed for the paper file: the data and the timeline, no navigation, buttons or forms to fill in.
    await coordinator.emulateMedia({ media: 'print' });
    assert.ok(await coordinator.locator('#feld-zentrum_name').isVisible(), 'the data prints');
    assert.ok(await coordinator.locator('#feld-antragsteller-email').isVisible(), 'closed sections print');
    assert.ok(await coordinator.locator('.zeitleiste .vermerk').first().isVisible(), 'the timeline prints');
    for (const hidden of ['#feld-vermerk', '#feld-wv-tag', '#feld-datei', '.hauptnavigation', '.aktionen', 'button >> nth=0']) {
      assert.ok(!(await coordinator.locator(hidden).isVisible()), `${hidden} does not print`);
    }
    await screenshot(coordinator, 'vorgang-gedruckt');
    await coordinator.emulateMedia({ media: 'screen' });
    await logout(coordinator);
  });

  const authority = await newPage(browser, 'desktop');
  await step('the Bewilligungsbehörde approves', async () => {
    await login(authority, BEWILLIGUNG);
    await page_done(authority, 'bewilligung-start');
    await authority.goto(`${BASE_URL}${casePath}`);
    const timeline = await authority.locator('.zeitleiste').textContent();
    assert.match(timeline, /Interner Vermerk einer anderen Stelle \(nicht einsehbar\)/);
    assert.match(timeline, /Eingang des Antrags bestätigt/, 'the Vermerk for everyone');
    assert.ok(!timeline.includes('Eigenanteil'), timeline);
    assert.match(timeline, /Internes Dokument einer anderen Stelle hinzugefügt \(nicht einsehbar\)/);
    assert.ok(!(await authority.locator('main').textContent()).includes('Haushaltsvermerk'), 'neither listed nor offered');
    // The authority fills in its decision; the applicant's Antrag is shown, not open to it.
    assert.ok(await authority.locator('#feld-zentrum_name').isDisabled(), 'the Antrag is locked');
    assert.ok(!(await authority.locator('#feld-bewilligung-datum').isDisabled()), 'the decision is open');
    assert.match(await authority.locator('main').textContent(), /Grau dargestellte Angaben ändert nur: „Koordination/);
    await upload(authority, 'bescheid.pdf');
    await fillForm(authority, { bewilligung: { datum: '2026-11-23' } });
    await pickDocument(authority, '#feld-bewilligung-bescheid', 'bescheid.pdf');
    await saveData(authority);
    await page_done(authority, 'bewilligung-vorgang');
    await act(authority, 'Bewilligen');
    assert.match(await authority.locator('main').textContent(), /Abgeschlossen: Bewilligt/);
    await authority.goto(`${BASE_URL}/vorgaenge?status=completed`);
    assert.match(await authority.locator('table').textContent(), /abgeschlossen: Bewilligt/);
    await authority.goto(`${BASE_URL}${casePath}`);
    await page_done(authority, 'bewilligt');
    // The whole file as one archive; its overview is accessible on its own, on a desk and on a phone.
    const [download] = await Promise.all([
      authority.waitForEvent('download'),
      authority.getByRole('link', { name: 'Akte als ZIP-Datei herunterladen' }).click(),
    ]);
    assert.match(download.suggestedFilename(), /^KI-05558-\d{4}-\d{4}\.zip$/);
    const archive = await fs.readFile(await download.path());
    const overview = zipMember(archive, /^KI-05558-\d{4}-\d{4}\/akte\.html$/).toString('utf8');
    for (const viewport of ['desktop', 'phone']) {
      const reader = await newPage(browser, viewport);
      await reader.setContent(overview);
      const text = await reader.locator('main').textContent();
      assert.match(text, /Abgeschlossen: Bewilligt/);
      assert.match(text, /Telefonat mit dem Kompetenzzentrum:/, 'the Vermerk');
      assert.match(text, /Interner Vermerk einer anderen Stelle/, 'the internal one in its place');
      assert.ok(!text.includes('Eigenanteil'), 'without its text');
      assert.ok(!text.includes('Haushaltsvermerk'), 'nor the Kreis\'s internal document');
      assert.match(text, /bescheid\.pdf/, 'the documents');
      await page_done(reader, `akte-${viewport}`);
      await reader.context().close();
    }
    await logout(authority);
  });

  await step('the operation case exists and has its deadlines', async () => {
    await login(coordinator, COORDINATOR);
    await coordinator.goto(`${BASE_URL}/vorgaenge?workflow=ki-betrieb`);
    await page_done(coordinator, 'vorgangsliste');
    // The list as a file for a spreadsheet, with the same filter.
    const [list] = await Promise.all([
      coordinator.waitForEvent('download'),
      coordinator.getByRole('link', { name: 'Diese Liste als CSV-Datei herunterladen' }).click(),
    ]);
    const csv = await fs.readFile(await list.path(), 'utf8');
    assert.match(csv, /^\uFEFFAktenzeichen;Verfahren;/);
    assert.match(csv, /\r\nKIB-05558-\d{4}-\d{4};Betrieb/);
    assert.doesNotMatch(csv, /\r\nKI-05558-/, 'only the filtered procedure');
    await coordinator.getByRole('link', { name: /^KIB-05558-/ }).first().click();
    await coordinator.waitForLoadState('load');
    // It names the approved application it was started from, linked.
    const origin = coordinator.locator('xpath=//dt[normalize-space()="Gestartet aus"]/following-sibling::dd[1]');
    assert.match(
      (await origin.textContent()).trim(),
      /^KI-05558-\d{4}-\d{4} Antrag auf Einrichtung eines Kommunalen Integrationszentrums, Schritt „Bewilligt“ \(Abgeschlossen: Bewilligt\)$/,
    );
    assert.equal(await origin.getByRole('link').getAttribute('href'), casePath);
    await act(coordinator, 'Arbeitsaufnahme bestätigen');
    const text = await coordinator.locator('main').textContent();
    assert.ok(text.includes('Aktualisiertes Integrationskonzept vorlegen'), text);
    // Two steps run side by side: each step's actions stand under its own heading.
    const headings = await coordinator.locator('section[aria-labelledby=aufgaben] h3').allTextContents();
    assert.ok(headings.length >= 2 && headings.every((h) => h.startsWith('Aktionen zu „')), headings.join(' | '));
    assert.ok(headings.includes('Aktionen zu „Aktualisiertes Integrationskonzept vorlegen“'), headings.join(' | '));
    await page_done(coordinator, 'betrieb-fristen');
    // A Wiedervorlage for today comes back on the start page.
    const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Europe/Berlin' });
    await coordinator.fill('#feld-wv-tag', today);
    await coordinator.fill('#feld-wv-anlass', 'Termin für die Auftaktveranstaltung abstimmen');
    await submitting(coordinator, () => coordinator.getByRole('button', { name: 'Wiedervorlage setzen' }).click());
    assert.match(await coordinator.locator('#wiedervorlage').locator('..').textContent(), /Termin für die Auftaktveranstaltung abstimmen/);
    await coordinator.goto(`${BASE_URL}/`);
    assert.match(await coordinator.locator('#wiedervorlagen').locator('..').textContent(), /Heute, .*KIB-05558-.* – Termin für die Auftaktveranstaltung abstimmen/s);
    await page_done(coordinator, 'start-mit-fristen');
    // She takes the operation case over; her list, filtered to her own cases, shows it alone.
    const operation = await coordinator.getByRole('link', { name: /^KIB-05558-/ }).first().textContent();
    await coordinator.getByRole('link', { name: operation }).first().click();
    await coordinator.waitForLoadState('load');
    await submitting(coordinator, () => coordinator.getByRole('button', { name: 'Mir zuweisen' }).click());
    assert.match(await coordinator.locator('#zustaendigkeit').locator('..').textContent(), /Zuständig: .*seit/s);
    await page_done(coordinator, 'zustaendigkeit');
    await coordinator.goto(`${BASE_URL}/vorgaenge`);
    await coordinator.getByLabel('Nur Vorgänge, für die ich zuständig bin').check();
    await Promise.all([
      coordinator.waitForURL(/zustaendig=ich/),
      coordinator.getByRole('button', { name: 'Filtern' }).click(),
    ]);
    const mine = await coordinator.locator('table').textContent();
    assert.ok(mine.includes(operation) && !/KI-05558-/.test(mine), mine);
    await page_done(coordinator, 'vorgangsliste-zustaendig');
    // Sorted by the next deadline: the dated cases earliest first, those without one last.
    await coordinator.goto(`${BASE_URL}/vorgaenge`);
    await Promise.all([
      coordinator.waitForURL(/sort=frist&richtung=auf/),
      coordinator.getByRole('link', { name: 'Nächste Frist' }).click(),
    ]);
    const deadlines = async () => (await coordinator.locator('tbody tr td:nth-child(4)').allTextContents())
      .map((cell) => cell.trim().slice(0, 10))
      .map((day) => (/^\d\d\.\d\d\.\d{4}$/.test(day) ? day.split('.').reverse().join('-') : null));
    const sorted = await deadlines();
    const dated = sorted.filter((day) => day !== null);
    assert.ok(dated.length > 0, sorted.join(' | '));
    assert.deepEqual(sorted.slice(0, dated.length), [...dated].sort(), `dated first, ascending: ${sorted.join(' | ')}`);
    // Filtered to what is due within 30 days (passed deadlines included).
    await coordinator.getByLabel('Nächste Frist endet').selectOption({ label: 'bis in 30 Tagen' });
    await Promise.all([
      coordinator.waitForURL(/frist=30/),
      coordinator.getByRole('button', { name: 'Filtern' }).click(),
    ]);
    const horizon = new Date(Date.now() + 30 * 86400000).toLocaleDateString('sv-SE', { timeZone: 'Europe/Berlin' });
    const due = await deadlines();
    assert.ok(due.every((day) => day !== null && day <= horizon), `${due.join(' | ')} not all by ${horizon}`);
    assert.equal(due.length, dated.filter((day) => day <= horizon).length, due.join(' | '));
    await page_done(coordinator, 'vorgangsliste-fristen');
    await coordinator.goto(`${BASE_URL}/konto`);
    await page_done(coordinator, 'konto');
    await logout(coordinator);
  });

  await step('an account with an open Wiedervorlage and a case it is responsible for offers to hand both over', async () => {
    const admin = await newPage(browser, 'desktop');
    await login(admin, ADMIN);
    await admin.goto(`${BASE_URL}/admin/benutzer`);
    await admin.getByRole('link', { name: COORDINATOR }).click();
    await admin.waitForLoadState('load');
    assert.match(await admin.locator('main').textContent(), /Wiedervorlagen und Zuständigkeiten übergeben/);
    await page_done(admin, 'benutzer-wiedervorlagen');
    await admin.context().close();
  });

  await step('nothing is due for Aussonderung while the cases are young; the record is there', async () => {
    const admin = await newPage(browser, 'desktop');
    await login(admin, ADMIN);
    await admin.goto(`${BASE_URL}/admin`);
    await admin.getByRole('link', { name: 'Aussonderung' }).click();
    await admin.waitForLoadState('load');
    const text = await admin.locator('main').textContent();
    assert.match(text, /Kein Vorgang ist zur Aussonderung fällig\./);
    assert.match(text, /Noch kein Vorgang ausgesondert\./);
    await page_done(admin, 'admin-aussonderung');
    await admin.goto(`${BASE_URL}/admin`);
    await admin.getByRole('link', { name: 'Verwaltungsprotokoll' }).click();
    await admin.waitForLoadState('load');
    assert.match(await admin.locator('main').textContent(), /Einträge, neueste zuerst/);
    await page_done(admin, 'admin-protokoll');
    await admin.context().close();
  });

  await step('a workflow waiting for a message: German errors in the editor, the message with its data', async () => {
    const admin = await newPage(browser, 'desktop');
    await login(admin, ADMIN);
    await admin.goto(`${BASE_URL}/admin/workflows/neu`);
    await admin.fill('textarea', RAEUME.replace('to: raeume', 'to: raeum'));
    const checked = await submitting(admin, () => admin.getByRole('button', { name: 'Prüfen' }).click());
    assert.equal(checked.status(), 422);
    const errors = await admin.locator('[role=alert]').textContent();
    assert.ok(errors.includes("unbekannter Schritt 'raeum' in steps.vorbereiten.actions.angemietet.to (meinten Sie 'raeume'?)"), errors);
    await page_done(admin, 'admin-editor-fehler');
    await admin.fill('textarea', RAEUME);
    const deployed = await submitting(admin, () => admin.getByRole('button', { name: 'Bereitstellen' }).click());
    assert.ok([200, 303].includes(deployed.status()), `deploy ki-raeume: ${deployed.status()}`);
    await admin.context().close();

    const page = await newPage(browser, 'desktop');
    await login(page, COORDINATOR);
    await page.goto(`${BASE_URL}/vorgaenge/neu/ki-raeume`);
    await submitting(page, () => page.getByRole('button', { name: 'Vorgang anlegen' }).click());
    assert.match(page.url(), /\/vorgaenge\/\d+/);
    await act(page, 'Mietvertrag geschlossen');
    await page_done(page, 'nachricht-erwartet');
    await Promise.all([
      page.waitForURL(/\/nachrichten\/raeume%5Fuebergeben$/),
      page.getByRole('link', { name: 'Eingang der Nachricht „Räume übergeben“ erfassen …' }).click(),
    ]);
    await fillForm(page, { uebergabe: { datum: '2027-01-04', schluessel: 3 } });
    await page_done(page, 'nachricht-formular');
    await submitting(page, () => page.getByRole('button', { name: 'Eingang vermerken' }).click());
    assert.ok(page.url().includes('hinweis=nachricht'), page.url());
    const text = await page.locator('main').textContent();
    assert.ok(text.includes('Abgeschlossen: Räume bezogen'), text);
    await page_done(page, 'nachricht-eingegangen');
    await page.context().close();
  });

  let withdrawnPath;
  await step('the coordinator withdraws a second application, with the reason for the file', async () => {
    const page = await newPage(browser, 'desktop');
    await login(page, COORDINATOR);
    await page.goto(`${BASE_URL}/vorgaenge/neu/ki-antrag`);
    await submitting(page, () => page.getByRole('button', { name: 'Vorgang anlegen' }).click());
    assert.match(page.url(), /\/vorgaenge\/\d+/);
    await Promise.all([
      page.waitForURL(/\/zurueckziehen$/),
      page.getByRole('link', { name: 'Antrag zurückziehen' }).click(),
    ]);
    const form = await page.locator('main').textContent();
    assert.ok(form.includes('mit dem Ergebnis „Zurückgezogen“') && form.includes('Was bleibt'), form);
    await page_done(page, 'vorgang-zurueckziehen');
    // Without a reason: named at its field, the case goes on.
    const refused = await submitting(page, () => page.getByRole('button', { name: 'Antrag zurückziehen' }).click());
    assert.equal(refused.status(), 422);
    assert.match(await page.locator('#fehler-grund').textContent(), /Bitte geben Sie an, warum der Vorgang beendet wird/);
    await page_done(page, 'vorgang-zurueckziehen-fehler');
    await page.fill('#feld-grund', 'Kreistag hat die Antragstellung vertagt');
    await submitting(page, () => page.getByRole('button', { name: 'Antrag zurückziehen' }).click());
    assert.ok(page.url().includes('hinweis=beendet'), page.url());
    const text = await page.locator('main').textContent();
    assert.ok(text.includes('Der Vorgang ist beendet.') && text.includes('Vorgang beendet: Zurückgezogen; Grund: Kreistag hat die Antragstellung vertagt'), text);
    await page_done(page, 'vorgang-zurueckgezogen');
    withdrawnPath = new URL(page.url()).pathname;
    await page.context().close();
  });

  await step('the administrator reopens the application withdrawn by mistake, at its draft', async () => {
    const page = await newPage(browser, 'desktop');
    await login(page, ADMIN);
    await page.goto(`${BASE_URL}${withdrawnPath}`);
    await Promise.all([
      page.waitForURL(/\/korrektur$/),
      page.getByRole('link', { name: 'Bearbeitungsstand korrigieren' }).click(),
    ]);
    const form = await page.locator('main').textContent();
    assert.ok(form.includes('Wo der Vorgang steht') && form.includes('Zurückgezogen') && form.includes('läuft wieder'), form);
    await page_done(page, 'vorgang-korrektur');
    await page.getByLabel('Antrag entwerfen').check();
    await page.fill('#feld-grund', 'Rücknahme war ein Irrtum; der Kreistag hat nur vertagt');
    await submitting(page, () => page.getByRole('button', { name: 'Bearbeitungsstand korrigieren' }).click());
    assert.ok(page.url().includes('hinweis=korrigiert'), page.url());
    const text = await page.locator('main').textContent();
    assert.ok(text.includes('Der Bearbeitungsstand wurde korrigiert.') && text.includes('In Bearbeitung'), text);
    assert.ok(text.includes('läuft wieder, weiter bei „Antrag entwerfen“ (Grund: Rücknahme war ein Irrtum; der Kreistag hat nur vertagt)'), text);
    await page_done(page, 'vorgang-korrigiert');
    await page.context().close();
  });

  const staffPages = ['/', '/vorgaenge', casePath, '/vorgaenge/neu', '/konto', '/admin', '/admin/workflows',
    '/admin/workflows/ki-antrag', '/admin/organisationen', '/admin/benutzer', '/admin/anmeldesperren', '/admin/postausgang',
    '/admin/aufgaben', '/admin/aussonderung', '/admin/protokoll'];
  await step('the staff pages show every column of their tables on a desktop', async () => {
    const desk = await newPage(browser, 'desktop');
    await login(desk, ADMIN);
    for (const path of staffPages) {
      const response = await desk.goto(`${BASE_URL}${path}`);
      assert.equal(response.status(), 200, path);
      await assertTablesFit(desk, path);
    }
    assertNoBrowserErrors(desk);
    await desk.context().close();
  });

  await step('the staff pages fit a phone without scrolling sideways', async () => {
    const phone = await newPage(browser, 'phone');
    await login(phone, ADMIN);
    for (const path of staffPages) {
      const response = await phone.goto(`${BASE_URL}${path}`);
      assert.equal(response.status(), 200, path);
      await assertFitsWidth(phone, path);
    }
    assertNoBrowserErrors(phone);
    await phone.context().close();
  });

  await step('an administrator registers partner bodies from a table', async () => {
    const admin = await newPage(browser, 'desktop');
    await login(admin, ADMIN);
    await admin.goto(`${BASE_URL}/admin/organisationen`);
    await admin.getByRole('link', { name: 'Viele aus einer Tabelle anlegen oder Adressen abgleichen' }).click();
    await page_done(admin, 'organisationen-tabelle');
    const table = 'schluessel;name;art;uebergeordnet;funktionspostfach;kontakte\n'
      + 'DRK-COE;DRK-Kreisverband Coesfeld;partner;05558;info@drk-coesfeld.test;"Frau Beispiel <beispiel@drk-coesfeld.test>"\n'
      + 'DIAKONIE-COE;Diakonie im Kreis Coesfeld;partner;05558;info@diakonie-coesfeld.test;\n';
    await admin.getByLabel('Tabelle (CSV)').setInputFiles({ name: 'partner.csv', mimeType: 'text/csv', buffer: Buffer.from(table) });
    await submitting(admin, () => admin.getByRole('button', { name: 'Prüfen' }).click());
    const checked = await admin.locator('main').textContent();
    assert.ok(checked.includes('Neu anzulegen: DRK-COE, DIAKONIE-COE'), checked);
    await page_done(admin, 'organisationen-tabelle-geprueft');
    await submitting(admin, () => admin.getByRole('button', { name: 'Jetzt übernehmen' }).click());
    const listed = await admin.locator('main').textContent();
    assert.ok(listed.includes('Die Tabelle wurde übernommen: 2 Organisationen neu angelegt'), listed);
    assert.ok(listed.includes('DRK-Kreisverband Coesfeld'), listed);
    await admin.context().close();
  });

  await step('a kreisangehörige Gemeinde is pointed to the Anregung', async () => {
    const gemeinde = await newPage(browser, 'desktop');
    await login(gemeinde, GEMEINDE);
    await gemeinde.goto(`${BASE_URL}/vorgaenge/neu/ki-antrag`);
    const text = await gemeinde.locator('main').textContent();
    assert.ok(text.includes('Anregung'), text);
    await page_done(gemeinde, 'gemeinde-anregung');
  });

  await step('a forgotten password is replaced through the mailed link', async () => {
    const visitor = await newPage(browser, 'phone');
    await visitor.goto(`${BASE_URL}/login`);
    await visitor.getByRole('link', { name: 'Passwort vergessen?' }).click();
    await page_done(visitor, 'passwort-vergessen');
    await visitor.fill('#feld-email', GEMEINDE);
    await submitting(visitor, () => visitor.getByRole('button', { name: 'Link anfordern' }).click());
    const sent = await visitor.locator('main').textContent();
    assert.ok(sent.includes(`Wenn zu „${GEMEINDE}“ ein aktives Konto`), sent);
    await page_done(visitor, 'passwort-vergessen-gesendet');
    const mail = await waitForMail(GEMEINDE, 'Neues Passwort');
    await visitor.goto(linkFrom(mail, `${BASE_URL}/login/passwort-vergessen/`));
    await page_done(visitor, 'passwort-neu');
    const chosen = 'ein neuer Satz für die Gemeinde';
    await visitor.fill('#feld-neu', chosen);
    await visitor.fill('#feld-wiederholung', chosen);
    await submitting(visitor, () => visitor.getByRole('button', { name: 'Passwort festlegen' }).click());
    assert.ok(visitor.url().endsWith('/login?passwort=neu'), visitor.url());
    const told = await visitor.locator('main').textContent();
    assert.ok(told.includes('Ihr neues Passwort ist festgelegt'), told);
    await visitor.fill('#feld-email', GEMEINDE);
    await visitor.fill('#feld-passwort', chosen);
    await submitting(visitor, () => visitor.getByRole('button', { name: 'Anmelden' }).click());
    assert.ok(!visitor.url().includes('/login'), `still on the login page: ${visitor.url()}`);
    await visitor.context().close();
  });

  await step('an administrator lifts the login limit of a colleague who mistyped', async () => {
    const admin = await newPage(browser, 'desktop');
    await login(admin, ADMIN);
    const colleague = await newPage(browser, 'desktop');
    const attempt = async (password) => {
      await colleague.goto(`${BASE_URL}/login`);
      await colleague.fill('#feld-email', BEWILLIGUNG);
      await colleague.fill('#feld-passwort', password);
      const response = await submitting(colleague, () => colleague.getByRole('button', { name: 'Anmelden' }).click());
      return { status: response.status(), text: await colleague.locator('main').textContent() };
    };
    for (let i = 0; i < 5; i += 1) assert.notEqual((await attempt('ein falsches Passwort')).status, 429);
    const refused = await attempt(PASSWORD);
    assert.equal(refused.status, 429);
    assert.ok(refused.text.includes('Zu viele fehlgeschlagene Anmeldeversuche'), refused.text);

    await admin.goto(`${BASE_URL}/admin/anmeldesperren`);
    const listed = await admin.locator('main').textContent();
    assert.ok(listed.includes(BEWILLIGUNG) && listed.includes('Uhr'), listed);
    await page_done(admin, 'anmeldesperren');
    // The account and the colleague's computer are both held back: lift each.
    const lift = admin.getByRole('button', { name: /^Sperre für .* aufheben$/ });
    for (let i = 0; i < 4 && (await lift.count()) > 0; i += 1) {
      await submitting(admin, () => lift.first().click());
      assert.ok(admin.url().endsWith('/admin/anmeldesperren?hinweis=aufgehoben'), admin.url());
    }
    const emptied = await admin.locator('main').textContent();
    assert.ok(emptied.includes('Die Sperre wurde aufgehoben') && emptied.includes('Derzeit sind keine Fehlversuche gezählt.'), emptied);
    await page_done(admin, 'anmeldesperren-aufgehoben');
    const record = await admin.goto(`${BASE_URL}/admin/protokoll?art=login_limit_lifted`);
    assert.equal(record.status(), 200);
    const recorded = await admin.locator('main').textContent();
    assert.ok(recorded.includes(`Anmeldesperre für ${BEWILLIGUNG} aufgehoben`), recorded);

    await login(colleague, BEWILLIGUNG);
    await colleague.context().close();
    await admin.context().close();
  });

  await step('the legal pages are reachable without login', async () => {
    const visitor = await newPage(browser, 'phone');
    for (const path of ['/impressum', '/datenschutz', '/barrierefreiheit', '/login']) {
      const response = await visitor.goto(`${BASE_URL}${path}`);
      assert.equal(response.status(), 200, path);
      await page_done(visitor, `oeffentlich${path.replace('/', '-')}`);
    }
  });
});
