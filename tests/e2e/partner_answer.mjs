// A partner answers through the personal link from the invitation mail (tests/it/browser.rs
// prepares the case and checks afterwards that exactly this answer was recorded).
//
// Phone and desktop; a request for more time and a notice of not being competent, both without
// their fields, are refused at them; the answer is given by keyboard alone; then incomplete and
// empty input is refused with German messages linked to their fields. axe on every page state, screenshots.

import assert from 'node:assert/strict';

import {
  assertFitsWidth,
  assertNoBrowserErrors,
  checkA11y,
  env,
  focusedId,
  linkFrom,
  newPage,
  run,
  screenshot,
  step,
  submitting,
  tabTo,
  waitForMail,
} from './lib.mjs';

const BASE_URL = env('BASE_URL');
const PARTNER = env('PARTNER_MAIL');
const AKTENZEICHEN = env('AKTENZEICHEN');
const STELLUNGNAHME = 'Die Räume für die Sprachförderung fehlen.\nBitte einen zweiten Standort prüfen.';

/** The page neither scrolls sideways nor hides its stylesheet (WCAG 1.4.10 reflow, CSP). */
async function assertLaidOut(page) {
  const layout = await page.evaluate(() => ({
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    styled: getComputedStyle(document.querySelector('.kopf')).borderBottomStyle === 'solid',
  }));
  assert.ok(layout.overflow <= 0, `the page scrolls sideways by ${layout.overflow}px`);
  assert.ok(layout.styled, 'the stylesheet applies');
}

async function heading(page) {
  return (await page.locator('h1').textContent()).trim();
}

await run(async (browser) => {
  const invitation = await step('the invitation mail arrives', () => waitForMail(PARTNER, AKTENZEICHEN));
  const link = linkFrom(invitation, `${BASE_URL}/beteiligung/`);

  const phone = await newPage(browser, 'phone');
  await step('phone: the link opens the answer page', async () => {
    const response = await phone.goto(link);
    assert.equal(response.status(), 200);
    assert.equal(await heading(phone), 'Bitte um Stellungnahme');
    assert.ok((await phone.title()).includes(AKTENZEICHEN), await phone.title());
    assert.ok((await phone.locator('main').textContent()).includes(AKTENZEICHEN));
    await assertLaidOut(phone);
    await checkA11y(phone, 'phone: answer page');
    await assertFitsWidth(phone, 'phone: answer page');
    await screenshot(phone, 'phone-antwortseite');
  });

  await step('phone: a request for more time without its fields is refused at them, nothing sent', async () => {
    await phone.goto(link);
    const response = await submitting(phone, () => phone.getByRole('button', { name: 'Um Fristverlängerung bitten' }).tap());
    assert.equal(response.status(), 422);
    const summary = phone.getByRole('alert');
    assert.ok((await summary.textContent()).includes('Bitte prüfen Sie Ihre Angaben zur Fristverlängerung'));
    const toDay = summary.getByRole('link', { name: 'Bitte geben Sie an, bis wann Sie Ihre Stellungnahme abgeben können.' });
    assert.equal(await toDay.getAttribute('href'), '#verlaengerung-frist');
    assert.equal(await phone.locator('#verlaengerung-frist').getAttribute('aria-invalid'), 'true');
    await assertLaidOut(phone);
    await checkA11y(phone, 'phone: request for more time, fields missing');
    await assertFitsWidth(phone, 'phone: request for more time');
    await screenshot(phone, 'phone-fristverlaengerung-fehler');
    await toDay.tap();
    assert.equal(await focusedId(phone), 'verlaengerung-frist');
  });

  await step('phone: a notice of not being competent without its fields is refused at them, nothing sent', async () => {
    await phone.goto(link);
    const response = await submitting(phone, () => phone.getByRole('button', { name: 'Nicht zuständig: der Stelle mitteilen' }).tap());
    assert.equal(response.status(), 422);
    const summary = phone.getByRole('alert');
    assert.ok((await summary.textContent()).includes('Bitte prüfen Sie Ihre Angaben zur Zuständigkeit'));
    const toReason = summary.getByRole('link', { name: 'Bitte begründen Sie kurz, warum Sie nicht zuständig sind.' });
    assert.equal(await toReason.getAttribute('href'), '#zustaendigkeit-grund');
    assert.equal(await phone.locator('#zustaendigkeit-grund').getAttribute('aria-invalid'), 'true');
    await assertLaidOut(phone);
    await checkA11y(phone, 'phone: not competent, fields missing');
    await assertFitsWidth(phone, 'phone: not competent');
    await screenshot(phone, 'phone-nicht-zustaendig-fehler');
    await toReason.tap();
    assert.equal(await focusedId(phone), 'zustaendigkeit-grund');
  });

  const desktop = await newPage(browser, 'desktop');
  await step('desktop: the answer by keyboard alone', async () => {
    await desktop.goto(link);
    await assertLaidOut(desktop);
    await checkA11y(desktop, 'desktop: answer page');
    await screenshot(desktop, 'desktop-antwortseite');

    await desktop.keyboard.press('Tab');
    assert.equal((await desktop.evaluate(() => document.activeElement.textContent)).trim(), 'Zum Inhalt springen');
    await desktop.keyboard.press('Enter');
    assert.equal(await focusedId(desktop), 'inhalt', 'the skip link moves the focus to the content');

    await tabTo(desktop, 'input[name=votum]');
    await desktop.keyboard.press('Space');
    for (let i = 0; i < 4; i += 1) {
      if ((await desktop.locator('input[name=votum]:checked').getAttribute('value')) === 'bedenken') break;
      await desktop.keyboard.press('ArrowDown');
    }
    assert.equal(await desktop.locator('input[name=votum]:checked').getAttribute('value'), 'bedenken');
    await tabTo(desktop, '#feld-stellungnahme');
    await desktop.keyboard.type(STELLUNGNAHME);
    await tabTo(desktop, '#feld-name');
    await desktop.keyboard.type('Frau Muster');
    await tabTo(desktop, '#feld-funktion');
    await desktop.keyboard.type('Schulrätin');
    await tabTo(desktop, 'button[type=submit]');
    await screenshot(desktop, 'desktop-ausgefuellt');

    const response = await submitting(desktop, () => desktop.keyboard.press('Enter'));
    assert.equal(response.status(), 200);
    assert.equal(await heading(desktop), 'Vielen Dank – Ihre Stellungnahme ist eingegangen');
    assert.ok((await desktop.getByRole('status').textContent()).includes(AKTENZEICHEN));
    await checkA11y(desktop, 'desktop: confirmation');
    await screenshot(desktop, 'desktop-bestaetigung');
  });

  await step('the confirmation mail carries a copy', async () => {
    const copy = await waitForMail(PARTNER, 'eingegangen');
    assert.ok(copy.includes('Die Räume für die Sprachförderung fehlen.'), copy);
  });

  await step('desktop: back on the page, the answer is shown', async () => {
    await desktop.getByRole('link', { name: 'Zurück zur Beteiligung' }).click();
    await desktop.waitForLoadState('load');
    const earlier = desktop.getByRole('region', { name: 'Ihre bisherige Stellungnahme' });
    const text = await earlier.textContent();
    assert.ok(text.includes('Fassung 1') && text.includes('Bedenken') && text.includes('Frau Muster'), text);
    assert.ok(text.includes('Bitte einen zweiten Standort prüfen.'), text);
    await checkA11y(desktop, 'desktop: page with the answer');
    await screenshot(desktop, 'desktop-mit-stellungnahme');
  });

  await step('phone: „Bedenken“ without reasons is refused, the message leads to the field', async () => {
    await phone.goto(link);
    await phone.getByLabel('Bedenken', { exact: true }).check();
    await phone.getByLabel('Ihr Name').fill('Frau Muster');
    const response = await submitting(phone, () => phone.getByRole('button', { name: 'Stellungnahme absenden' }).tap());
    assert.equal(response.status(), 422);
    const summary = phone.getByRole('alert');
    assert.ok((await summary.textContent()).includes('Bitte prüfen Sie Ihre Angaben'));
    const message = 'Bitte begründen Sie Ihr Votum in der Stellungnahme.';
    const toField = summary.getByRole('link', { name: message });
    assert.equal(await toField.getAttribute('href'), '#feld-stellungnahme');
    const field = phone.locator('#feld-stellungnahme');
    assert.equal(await field.getAttribute('aria-invalid'), 'true');
    assert.ok((await field.getAttribute('aria-describedby')).split(' ').includes('fehler-stellungnahme'));
    assert.ok((await phone.locator('#fehler-stellungnahme').textContent()).includes(message));
    assert.equal(await phone.locator('input[name=votum]:checked').getAttribute('value'), 'bedenken', 'input kept');
    assert.equal(await phone.getByLabel('Ihr Name').inputValue(), 'Frau Muster', 'input kept');
    await assertLaidOut(phone);
    await checkA11y(phone, 'phone: reasons missing');
    await screenshot(phone, 'phone-fehler-begruendung');
    await toField.tap();
    assert.equal(await focusedId(phone), 'feld-stellungnahme', 'the message moves the focus to the field');
  });

  await step('phone: an empty form is held back by the browser, then refused in German', async () => {
    await phone.goto(link);
    let posted = false;
    const watch = (request) => {
      if (request.method() === 'POST') posted = true;
    };
    phone.on('request', watch);
    await phone.getByRole('button', { name: 'Stellungnahme absenden' }).tap();
    await phone.waitForTimeout(300);
    phone.off('request', watch);
    assert.equal(posted, false, 'the required fields stop an empty form in the browser');
    assert.equal(await phone.locator('form').evaluate((form) => form.checkValidity()), false);

    // As a browser without form validation sends it:
    await phone.locator('form').evaluate((form) => {
      form.noValidate = true;
    });
    const response = await submitting(phone, () => phone.getByRole('button', { name: 'Stellungnahme absenden' }).tap());
    assert.equal(response.status(), 422);
    const summary = phone.getByRole('alert');
    const votum = summary.getByRole('link', { name: 'Bitte wählen Sie Ihr Votum.' });
    const name = summary.getByRole('link', { name: 'Bitte geben Sie an, wer die Stellungnahme abgibt.' });
    assert.equal(await votum.getAttribute('href'), '#feld-votum');
    assert.equal(await name.getAttribute('href'), '#feld-name');
    assert.equal(await phone.locator('#feld-name').getAttribute('aria-invalid'), 'true');
    await checkA11y(phone, 'phone: empty form');
    await screenshot(phone, 'phone-fehler-leer');
    await name.tap();
    assert.equal(await focusedId(phone), 'feld-name');
  });

  assertNoBrowserErrors(phone);
  assertNoBrowserErrors(desktop);
});
