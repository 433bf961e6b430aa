// Helpers of the browser stories: Chromium through playwright-core, axe-core, screenshots, and
// the mail directory the test SMTP server writes (see tests/it/support/browser.rs).
//
// A story is `node tests/e2e/<story>.mjs`, started by its Rust test with BASE_URL, MAIL_DIR,
// SCREENSHOT_DIR, CHROMIUM and the story's own variables. It calls `run(async (browser) => …)`
// once and exits 0 only when every step passed.

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import axe from 'axe-core';
import { chromium } from 'playwright-core';

/** A required environment variable. */
export function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (the story is started by its Rust test)`);
  return value;
}

/** The flags Chromium runs with: headless, as root, without talking to the network on its own. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Viewports by name: a phone (touch, 390×844) and a desktop. */
export const VIEWPORTS = {
  phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  desktop: { viewport: { width: 1280, height: 900 } },
};

/**
 * Starts Debian's Chromium (`CHROMIUM`, default /usr/bin/chromium). Playwright gives it a fresh
 * temporary user-data-dir and removes it on close; it never downloads a browser.
 */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

const problems = new WeakMap();

/**
 * A page in a fresh context (own cookies and storage) with a viewport from VIEWPORTS, German
 * locale and Berlin time. It records what should never happen: script errors, console errors
 * (a Content-Security-Policy violation is one), failed requests and sub-resources answered with
 * 4xx/5xx; see assertNoBrowserErrors. Documents may answer 4xx (422 for a refused form).
 */
export async function newPage(browser, viewport = 'desktop') {
  const options = VIEWPORTS[viewport];
  if (!options) throw new Error(`unknown viewport ${viewport}`);
  const context = await browser.newContext({ ...options, locale: 'de-DE', timezoneId: 'Europe/Berlin' });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const found = [];
  problems.set(page, found);
  page.on('pageerror', (error) => found.push(`script error: ${error.message}`));
  page.on('console', (message) => {
    // Chromium also logs every 4xx document as an error; those are checked by the stories.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      found.push(`console: ${message.text()}`);
    }
  });
  page.on('requestfailed', (request) => {
    // The browser loads the icon after the page, and cancels that when the story moves on.
    const icon = new URL(request.url()).pathname === '/static/vorgang.svg';
    if (icon && request.failure()?.errorText === 'net::ERR_ABORTED') return;
    found.push(`request failed: ${request.url()} (${request.failure()?.errorText})`);
  });
  page.on('response', (response) => {
    const request = response.request();
    if (response.status() >= 400 && request.resourceType() !== 'document') {
      found.push(`${response.status()} for ${request.resourceType()} ${response.url()}`);
    }
  });
  return page;
}

/** Fails when the page saw script errors, console errors or failed sub-resources. */
export function assertNoBrowserErrors(page) {
  const found = problems.get(page) ?? [];
  assert.deepEqual(found, [], `the browser reported problems:\n  ${found.join('\n  ')}`);
}

/**
 * Fails when the page is wider than the viewport, i.e. it scrolls sideways as a whole (WCAG 1.4.10
 * Reflow); a wide table may scroll inside its own frame. Names the outermost elements that stick out.
 */
export async function assertFitsWidth(page, name) {
  const { width, viewport, culprits } = await page.evaluate(() => {
    const viewport = window.innerWidth;
    const culprits = [];
    for (const el of document.body.querySelectorAll('*')) {
      const sticksOut = (e) => e.getBoundingClientRect().right > viewport + 1;
      if (sticksOut(el) && !(el.parentElement && sticksOut(el.parentElement))) {
        culprits.push(`${el.tagName.toLowerCase()}${el.className ? `.${el.className}` : ''}: ${(el.textContent ?? '').trim().slice(0, 60)}`);
      }
    }
    return { width: document.documentElement.scrollWidth, viewport, culprits };
  });
  assert.ok(width <= viewport, `${name} is ${width}px wide in a ${viewport}px viewport:\n  ${culprits.join('\n  ')}`);
}

/**
 * Fails when a table frame on the page scrolls sideways in a desktop viewport (1024px or wider):
 * there every column of a table should be in view. Narrower viewports pass; a phone may scroll
 * inside the frame (see assertFitsWidth).
 */
export async function assertTablesFit(page, name) {
  const hidden = await page.evaluate(() => window.innerWidth < 1024 ? [] : [...document.querySelectorAll('.tabelle-rahmen')]
    .filter((frame) => frame.scrollWidth > frame.clientWidth + 1)
    .map((frame) => `${frame.querySelector('th')?.textContent ?? '?'}…: ${frame.scrollWidth}px in ${frame.clientWidth}px`));
  assert.deepEqual(hidden, [], `${name}: tables wider than their frame`);
}

/** The axe rules run on every page: WCAG 2.0 and 2.1, levels A and AA. */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/**
 * Runs axe-core on the page (injected through the DevTools protocol, so the page's CSP stays
 * as it is) and fails with a readable list unless there are no violations.
 */
export async function checkA11y(page, name) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(axe.source);
  }
  const results = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
    WCAG_TAGS,
  );
  const violations = results.violations;
  if (violations.length > 0) {
    const lines = violations.map((v) => {
      const nodes = v.nodes.map((n) => {
        const why = (n.failureSummary ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
        return `      ${n.target.join(' ')}: ${why.join(' / ')}`;
      });
      return `  ${v.id} (${v.impact}): ${v.help}\n    ${v.helpUrl}\n${nodes.join('\n')}`;
    });
    throw new Error(`axe: ${violations.length} violation(s) on ${name}:\n${lines.join('\n')}`);
  }
  console.log(`  axe: ${name}: no violations (${results.passes.length} rules passed)`);
}

let shots = 0;

/** Saves a full-page PNG as SCREENSHOT_DIR/NN-name.png (numbered in the order taken). */
export async function screenshot(page, name) {
  shots += 1;
  const file = path.join(env('SCREENSHOT_DIR'), `${String(shots).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`  screenshot: ${file}`);
  return file;
}

/** The mails received so far: [{ file, text, from, to, subject }] from MAIL_DIR/index.json. */
export async function mails() {
  try {
    return JSON.parse(await fs.readFile(path.join(env('MAIL_DIR'), 'index.json'), 'utf8'));
  } catch (error) {
    if (error.code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Waits for a mail to `to` whose subject contains `subjectContains` (the newest such mail) and
 * returns its decoded plain-text body.
 */
export async function waitForMail(to, subjectContains, { timeout = 30_000 } = {}) {
  const started = Date.now();
  for (;;) {
    const found = (await mails())
      .filter((m) => m.to.includes(to) && m.subject.includes(subjectContains))
      .pop();
    if (found) return fs.readFile(path.join(env('MAIL_DIR'), found.text), 'utf8');
    if (Date.now() - started > timeout) {
      const seen = (await mails()).map((m) => `${m.to.join(', ')}: ${m.subject}`);
      throw new Error(`no mail to ${to} with "${subjectContains}" within ${timeout} ms; received:\n  ${seen.join('\n  ')}`);
    }
    await sleep(100);
  }
}

/** The first link in a plain-text mail that starts with `prefix`. */
export function linkFrom(mailText, prefix) {
  const link = mailText
    .split(/\s+/)
    .find((word) => word.startsWith(prefix));
  if (!link) throw new Error(`no link starting with ${prefix} in:\n${mailText}`);
  return link.replace(/[.,;:)>\]]+$/, '');
}

/**
 * The content of the member of a ZIP archive (a Buffer) whose name matches `pattern`, read from
 * the central directory; only stored (uncompressed) members, as the case file export writes them.
 */
export function zipMember(archive, pattern) {
  const eocd = archive.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(eocd >= 0, 'not a ZIP archive');
  const count = archive.readUInt16LE(eocd + 10);
  let at = archive.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i += 1) {
    assert.equal(archive.readUInt32LE(at), 0x02014b50, 'central directory');
    const method = archive.readUInt16LE(at + 10);
    const size = archive.readUInt32LE(at + 20);
    const nameLength = archive.readUInt16LE(at + 28);
    const extraLength = archive.readUInt16LE(at + 30);
    const commentLength = archive.readUInt16LE(at + 32);
    const local = archive.readUInt32LE(at + 42);
    const name = archive.toString('utf8', at + 46, at + 46 + nameLength);
    if (pattern.test(name)) {
      assert.equal(method, 0, `${name} is compressed`);
      const data = local + 30 + archive.readUInt16LE(local + 26) + archive.readUInt16LE(local + 28);
      return archive.subarray(data, data + size);
    }
    at += 46 + nameLength + extraLength + commentLength;
  }
  throw new Error(`no member ${pattern} in the archive`);
}

/** Presses Tab until the focused element matches `selector` (at most `limit` times). */
export async function tabTo(page, selector, limit = 40) {
  for (let i = 0; i < limit; i += 1) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press('Tab');
  }
  const focused = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120));
  throw new Error(`Tab did not reach ${selector} within ${limit} presses; focus is on ${focused}`);
}

/** The focused element's id (or its tag name when it has none). */
export async function focusedId(page) {
  return page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName.toLowerCase());
}

/**
 * Does `action` (a click, Enter, …) that submits a form with POST, and returns the response to
 * the POST once the page it led to has loaded.
 */
export async function submitting(page, action) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.request().resourceType() === 'document'),
    action(),
  ]);
  await page.waitForLoadState('load');
  return response;
}

/** Runs one step of a story and logs its duration. */
export async function step(title, body) {
  const started = Date.now();
  console.log(`- ${title}`);
  const result = await body();
  console.log(`  ok (${Date.now() - started} ms)`);
  return result;
}

/**
 * Runs a story: launches Chromium, calls `body(browser)`, closes Chromium. On failure it prints
 * the error, saves a screenshot of every open page (FAILED-…png) and sets the exit code to 1.
 */
export async function run(body) {
  const started = Date.now();
  const browser = await launch();
  try {
    await body(browser);
    console.log(`story passed in ${Date.now() - started} ms`);
  } catch (error) {
    console.error(`story FAILED: ${error.stack ?? error}`);
    process.exitCode = 1;
    let n = 0;
    for (const context of browser.contexts()) {
      for (const page of context.pages()) {
        n += 1;
        const file = path.join(env('SCREENSHOT_DIR'), `FAILED-${n}.png`);
        await page.screenshot({ path: file, fullPage: true }).catch(() => {});
        console.error(`  screenshot of the failing page: ${file} (${page.url()})`);
      }
    }
  } finally {
    await browser.close();
  }
}
