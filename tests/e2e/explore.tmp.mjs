import { launch } from './lib.mjs';
const BASE = 'http://127.0.0.1:8080';
const [who, pw, ...paths] = process.argv.slice(2);
const browser = await launch();
const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'de-DE' })).newPage();
await page.goto(`${BASE}/login`);
await page.fill('input[name=email]', who);
await page.fill('input[name=passwort]', pw);
await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
for (const p of paths) {
  const r = await page.goto(BASE + p);
  const name = p.replace(/[^a-z0-9]+/gi, '_');
  await page.screenshot({ path: `/tmp/explore/shots/${who.split('@')[0]}${name}.png`, fullPage: true });
  console.log(p, r.status(), (await page.title()));
}
await browser.close();
