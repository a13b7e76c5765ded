// Helpers of the browser tests: Debian's Chromium through playwright-core at 360×640, sign-in on
// the real IdP page, axe-core, screenshots, PostgreSQL through psql, and a mentor tool's signed
// Standard Webhook. Everything the stack needs is passed in by tests/e2e/test_student_app.py.
import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

export const env = JSON.parse(process.env.WERKPLEK_BROWSER_TEST ?? '{}');
if (!env.app_url) throw new Error('run these through pytest tests/e2e/test_student_app.py (it starts the stack and passes WERKPLEK_BROWSER_TEST)');

const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
               '--disable-component-update', '--disable-sync'];

export async function launch() {
  return chromium.launch({ executablePath: env.chromium ?? '/usr/bin/chromium', headless: true, args: FLAGS });
}

export async function phone(browser, lang = 'nl') {
  // bypassCSP only so axe-core can be injected; the app itself runs under the proxy's CSP otherwise
  const context = await browser.newContext({ viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true,
    locale: lang === 'nl' ? 'nl-BE' : 'en-GB', bypassCSP: true, serviceWorkers: 'allow' });
  const page = await context.newPage();
  page.on('dialog', (d) => void d.accept());
  return { context, page };
}

export async function signIn(page, username, password = env.password) {
  await page.goto(env.app_url + '/');
  await page.getByRole('button', { name: /^(Aanmelden|Sign in)$/ }).click();
  await page.waitForURL((u) => u.href.startsWith(env.idp_url), { timeout: 60_000 });
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('#kc-login').click();
  await page.getByRole('heading', { level: 1, name: /^(Dag|Hello) / }).waitFor({ timeout: 60_000 });
}

/** The service worker controls the page: from now on the app starts offline. */
export async function controlled(page) {
  await page.waitForFunction(() => navigator.serviceWorker?.controller !== null && navigator.serviceWorker?.controller !== undefined,
    null, { timeout: 30_000 });
}

export async function logToday(page, { hours, start, end, date } = {}) {
  await page.getByRole('button', { name: /^(Uren registreren voor vandaag|Log hours for today)$/ }).click();
  await fillForm(page, { hours, start, end, date });
  await page.getByRole('button', { name: /^(Bewaren|Save)$/ }).click();
  await page.getByRole('heading', { level: 1, name: /^(Mijn uren|My hours)$/ }).waitFor();
}

export async function fillForm(page, { hours, start, end, date }) {
  if (date) await page.getByLabel(/^(Datum|Date)$/).fill(date);
  if (start) {
    await page.getByLabel(/^(Begin en einde|Start and end)$/).check();
    await page.getByLabel(/^(Begin|Start)$/).fill(start);
    await page.getByLabel(/^(Einde|End)$/).fill(end);
  } else if (hours) {
    await page.getByLabel(/^(Uren|Hours)$/).fill(String(hours));
  }
}

export function entryItems(page) {
  return page.locator('li.entry');
}

export async function entryIds(page) {
  return page.locator('li.entry').evaluateAll((els) => els.map((e) => e.getAttribute('data-entry-id')));
}

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core on the page as it is: the serious and critical violations (WCAG 2.1 A and AA rules). */
export async function axe(page) {
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(async () => {
    const r = await globalThis.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export async function screenshot(page, name) {
  mkdirSync(env.screenshots, { recursive: true });
  await page.screenshot({ path: `${env.screenshots}/${name}.png` });
}

export function sql(query) {
  return execFileSync('psql', [env.pg_dsn, '-tAqc', query], { encoding: 'utf8' }).trim();
}

/** Poll with a deadline (never a fixed sleep as the test's wait). */
export async function eventually(check, { timeout = 30_000, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeout} ms (last: ${last})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The mentor's tool confirms entries with a Standard Webhook (HMAC-SHA256), through the proxy's
 *  /api/mentor/ route. Until mentor feedback knows the entries it answers 403/422: resend. */
export async function confirmByWebhook(mentorId, entryIds) {
  const id = `msg_${randomUUID().replaceAll('-', '')}`;
  const body = JSON.stringify({ type: 'hours.confirmed', timestamp: new Date().toISOString(),
                                data: { mentor_id: mentorId, entries: entryIds.map((e) => ({ entry_id: e })) } });
  const secret = Buffer.from(env.webhook_secret.replace(/^whsec_/, ''), 'base64');
  return eventually(async () => {
    const ts = Math.floor(Date.now() / 1000).toString();
    const sig = createHmac('sha256', secret).update(`${id}.${ts}.${body}`).digest('base64');
    const res = await fetch(`${env.app_url}/api/mentor/webhooks/${env.webhook_source}`, { method: 'POST', body,
      headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${sig}` } });
    if (res.status === 403 || res.status === 422) return false;
    return res;
  }, { timeout: 60_000, what: 'the webhook accepted' });
}
