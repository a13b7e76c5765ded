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

export async function phone(browser, lang = 'nl') { // a Flemish phone: its own local date and time
  // bypassCSP only so axe-core can be injected; the app itself runs under the proxy's CSP otherwise
  const context = await browser.newContext({ viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true,
    locale: lang === 'nl' ? 'nl-BE' : 'en-GB', timezoneId: 'Europe/Brussels', bypassCSP: true, serviceWorkers: 'allow' });
  const page = await context.newPage();
  page.on('dialog', (d) => void d.accept());
  return { context, page };
}

export async function signIn(page, username, password = env.password) {
  await page.goto(env.app_url + '/');
  await page.getByRole('button', { name: /^(Aanmelden|Sign in)$/ }).click();
  await idpLogin(page, username, password);
}

/** On the IdP's login page (the app sent the browser there): log in and wait for the app's home. */
export async function idpLogin(page, username, password = env.password) {
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
  return mentorWebhook('hours.confirmed', mentorId, entryIds.map((e) => ({ entry_id: e })));
}

/** The mentor's tool rejects entries, each with its reason code and comment, the same way. */
export async function rejectByWebhook(mentorId, rejections) {
  return mentorWebhook('hours.rejected', mentorId, rejections);
}

async function mentorWebhook(type, mentorId, entries) {
  const id = `msg_${randomUUID().replaceAll('-', '')}`;
  const body = JSON.stringify({ type, timestamp: new Date().toISOString(), data: { mentor_id: mentorId, entries } });
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

/** The test's own Keycloak, through its admin API (the admin password is the test stack's). */
async function kcAdmin(path, init = {}) {
  const form = new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: 'admin', password: env.kc_admin_password });
  const tok = await (await fetch(`${env.idp_url}/realms/master/protocol/openid-connect/token`, { method: 'POST', body: form })).json();
  const res = await fetch(`${env.idp_url}/admin/realms/werkplek${path}`, { ...init,
    headers: { Authorization: `Bearer ${tok.access_token}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
  if (!res.ok) throw new Error(`Keycloak admin ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json().catch(() => null);
}

/** The app client's access-token lifetime in seconds (null: the realm's default again). Only the
 *  test stack's Keycloak is changed, and only for the scenario that asks. */
export async function appTokenLifespan(seconds) {
  const [client] = await kcAdmin('/clients?clientId=werkplek-app');
  const attributes = { ...client.attributes, 'access.token.lifespan': seconds === null ? '' : String(seconds) };
  await kcAdmin(`/clients/${client.id}`, { method: 'PUT', body: JSON.stringify({ ...client, attributes }) });
}

/** Ends every session of the user at the IdP: its refresh tokens stop working (a long time offline). */
export async function endSessions(userId) {
  await kcAdmin(`/users/${userId}/logout`, { method: 'POST' });
}

/** The signed-in user as oidc-client-ts keeps it in sessionStorage (never localStorage). */
export async function storedUser(page) {
  return page.evaluate(() => {
    const key = Object.keys(sessionStorage).find((k) => k.startsWith('oidc.user:'));
    return key ? JSON.parse(sessionStorage.getItem(key)) : null;
  });
}

/** The phone's IndexedDB as the app wrote it: its entries and the batch in flight. */
export async function phoneStore(page, studentId) {
  return page.evaluate((name) => new Promise((resolve, reject) => {
    const open = indexedDB.open(name);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction(['entries', 'meta'], 'readonly');
      const entries = tx.objectStore('entries').getAll();
      const batch = tx.objectStore('meta').get('batch');
      tx.oncomplete = () => { resolve({ entries: entries.result, batch: batch.result ?? null }); open.result.close(); };
    };
  }), `werkplek-${studentId}`);
}
