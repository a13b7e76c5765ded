// Issue 11's "bad input and failure" cases in a real browser (Debian's Chromium at 360×640) against
// the real stack: the token expiring while offline, the IdP down at sign-in, a full phone, silent
// renewal before expiry, a phone clock far off. One demo student per scenario.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { appTokenLifespan, controlled, endSessions, entryItems, env, eventually, fillForm, idpLogin, launch, logToday, phone,
         phoneStore, screenshot, signIn, sql, storedUser } from './support.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const S = env.students;
const count = (q) => Number(sql(q));
// long enough for a sign-in, short enough to expire within the scenario; oidc-client-ts renews 60 s
// before expiry, so a token of 75 s is renewed 15 s after it was issued
const SHORT_TOKEN_S = 75;

test('the token expires while offline: entries stay queued, sign in again, the same queue is sent once', async () => {
  await appTokenLifespan(SHORT_TOKEN_S);
  const { context, page } = await phone(browser);
  try {
    await signIn(page, S.e.username);
    await controlled(page);
    await page.waitForLoadState('networkidle');
    await context.setOffline(true);
    for (const hours of [2, 3]) {
      await page.getByRole('link', { name: 'Start' }).click();
      await logToday(page, { hours });
    }
    const expiresAt = (await storedUser(page)).expires_at;
    // a long time offline: the access token expires and the IdP ends the session (refresh refused)
    await eventually(async () => Date.now() / 1000 > expiresAt + 1, { timeout: (SHORT_TOKEN_S + 15) * 1000, what: 'the token expired' });
    await endSessions(S.e.student_id);
    const before = await phoneStore(page, S.e.student_id);
    assert.equal(before.entries.length, 2);

    const batches = [];
    // the context sees the page's requests and, in Chromium, the service worker's (Background Sync)
    context.on('request', (r) => { if (r.url().endsWith('/v1/me/entries/batch')) batches.push({ key: r.headers()['idempotency-key'], body: r.postData() }); });
    await context.setOffline(false);
    const banner = page.getByRole('alert').filter({ hasText: 'Je aanmelding is verlopen. Meld je opnieuw aan: je uren die nog wachten blijven bewaard.' });
    await banner.waitFor({ timeout: 30_000 });
    await screenshot(page, 'nl-entries-signin-again');
    assert.equal(await entryItems(page).filter({ hasText: 'Wacht om verstuurd te worden' }).count(), 2);
    assert.equal(count(`SELECT count(*) FROM pl_entry WHERE student_id = '${S.e.student_id}'`), 0);
    const held = await phoneStore(page, S.e.student_id); // the batch made for sending, kept with its key
    assert.ok(held.batch, 'the batch is kept on the phone');
    assert.deepEqual([...held.batch.entry_ids].sort(), before.entries.map((e) => e.entry_id).sort());

    await banner.getByRole('button', { name: 'Aanmelden' }).click();
    await idpLogin(page, S.e.username);
    await eventually(() => count(`SELECT count(*) FROM pl_entry WHERE student_id = '${S.e.student_id}'`) === 2,
      { what: 'both entries on the server' });
    // the server stored the entries under the batch's own key, once: whoever sent it (page or service
    // worker, whose requests a browser may not report), it was the queue made offline, key and all
    assert.equal(count(`SELECT count(*) FROM pl_idempotency WHERE key = '${held.batch.key}'`), 1);
    assert.equal(count(`SELECT count(*) FROM pl_idempotency WHERE principal = '${S.e.student_id}'`), 1);
    for (const b of batches) assert.deepEqual(b, { key: held.batch.key, body: JSON.stringify(held.batch.body) });
    const ids = before.entries.map((e) => `'${e.entry_id}'`).join(',');
    assert.equal(count(`SELECT count(*) FROM pl_entry_revision WHERE entry_id IN (${ids}) AND kind = 'logged'`), 2);
    await page.getByRole('link', { name: 'Mijn uren' }).click();
    await eventually(async () => (await entryItems(page).filter({ hasText: 'Wacht op je mentor' }).count()) === 2,
      { what: 'both entries pending with the mentor' });
    assert.equal(await entryItems(page).count(), 2);
  } finally {
    await context.close();
    await appTokenLifespan(null);
  }
});

test('the IdP is down when the student taps sign in: a clear message in Dutch, and sign-in works once it is back', async () => {
  const { context, page } = await phone(browser);
  try {
    const crashes = [];
    page.on('pageerror', (e) => crashes.push(String(e)));
    await page.route(`${env.idp_url}/**`, (route) => route.abort('connectionrefused'));
    await page.goto(env.app_url + '/');
    await page.getByRole('button', { name: 'Aanmelden' }).click();
    await page.getByRole('alert').filter({ hasText: 'De aanmeldpagina van je hogeschool is nu niet bereikbaar. Probeer het straks opnieuw.' })
      .waitFor({ timeout: 30_000 });
    assert.ok(page.url().startsWith(env.app_url), `still in the app, not on a browser error page: ${page.url()}`);
    await screenshot(page, 'nl-signin-idp-down');
    assert.deepEqual(crashes, []);
    await page.unroute(`${env.idp_url}/**`);
    await page.getByRole('button', { name: 'Aanmelden' }).click();
    await page.waitForURL((u) => u.href.startsWith(env.idp_url), { timeout: 60_000 });
    await page.locator('#username').waitFor();
  } finally {
    await context.close();
  }
});

/** A full phone as Chromium reports it: the transaction's requests succeed, then the commit fails
 *  and the transaction aborts with a QuotaExceededError (rolled back). The DevTools protocol's
 *  Storage.overrideQuotaForOrigin had no effect in this Chromium (navigator.storage.estimate()
 *  unchanged, writes still succeed), so the abort is made here, in the page, on the app's
 *  `entries` store, while `__phoneFull` is set. */
function phoneFullWhenAsked() {
  const error = Object.getOwnPropertyDescriptor(IDBTransaction.prototype, 'error');
  const full = new WeakSet();
  Object.defineProperty(IDBTransaction.prototype, 'error', { configurable: true, get() {
    return full.has(this) ? new DOMException('The quota has been exceeded.', 'QuotaExceededError') : error.get.call(this);
  } });
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (...args) {
    const req = put.apply(this, args);
    const tx = this.transaction;
    if (globalThis.__phoneFull && this.name === 'entries') {
      req.addEventListener('success', () => { if (!full.has(tx)) { full.add(tx); tx.abort(); } });
    }
    return req;
  };
}

test('the phone is full: the student is told nothing was saved, and nothing is; with room again it saves', async () => {
  const { context, page } = await phone(browser);
  try {
    await page.addInitScript(phoneFullWhenAsked);
    await signIn(page, S.f.username);
    await page.waitForLoadState('networkidle');
    await page.evaluate(() => { globalThis.__phoneFull = true; });
    await page.getByRole('button', { name: 'Uren registreren voor vandaag' }).click();
    await fillForm(page, { hours: 6 });
    await page.getByRole('button', { name: 'Bewaren' }).click();
    await page.getByRole('alert').filter({ hasText: 'Je telefoon heeft geen opslagruimte meer. Er is niets bewaard' }).waitFor();
    await screenshot(page, 'nl-log-storage-full');
    assert.equal((await phoneStore(page, S.f.student_id)).entries.length, 0);
    assert.equal(await page.getByLabel(/^Uren$/).inputValue(), '6'); // the form keeps what was typed
    assert.equal(count(`SELECT count(*) FROM pl_entry WHERE student_id = '${S.f.student_id}'`), 0);

    await page.evaluate(() => { globalThis.__phoneFull = false; }); // room again
    await page.getByRole('button', { name: 'Bewaren' }).click();
    await eventually(async () => (await entryItems(page).filter({ hasText: 'Wacht op je mentor' }).count()) === 1,
      { what: 'the entry saved and sent' });
    assert.equal(count(`SELECT count(*) FROM pl_entry WHERE student_id = '${S.f.student_id}' AND duration_minutes = 360`), 1);
  } finally {
    await context.close();
  }
});

test('silent renewal: online, the token is renewed before it expires, without a trip to the IdP page', async () => {
  await appTokenLifespan(SHORT_TOKEN_S);
  const { context, page } = await phone(browser);
  try {
    await signIn(page, S.g.username);
    const first = await storedUser(page);
    assert.ok(first.expires_at - Date.now() / 1000 <= SHORT_TOKEN_S + 5, 'the short lifetime applies');
    const navigations = [];
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations.push(f.url()); });
    const renewed = await eventually(async () => {
      const u = await storedUser(page);
      return u && u.access_token !== first.access_token ? { user: u, at: Date.now() / 1000 } : false;
    }, { timeout: SHORT_TOKEN_S * 1000, what: 'a renewed token' });
    assert.ok(renewed.at < first.expires_at, `renewed ${first.expires_at - renewed.at} s before expiry`);
    assert.ok(renewed.user.expires_at > first.expires_at);
    assert.deepEqual(navigations, []); // no redirect: the page stayed as it was
    // the API takes the renewed token: an entry goes through
    await logToday(page, { hours: 1 });
    await eventually(async () => (await entryItems(page).filter({ hasText: 'Wacht op je mentor' }).count()) === 1,
      { what: 'the entry sent with the renewed token' });
  } finally {
    await context.close();
    await appTokenLifespan(null);
  }
});

test("the phone's clock is two days fast: a banner says so, and today's entry is refused as in the future", async () => {
  const { context, page } = await phone(browser);
  try {
    await page.clock.install({ time: Date.now() + 2 * 86_400_000 });
    await signIn(page, S.h.username);
    await page.getByRole('alert').filter({ hasText: 'De klok van je telefoon loopt 2 dagen voor.' }).waitFor({ timeout: 30_000 });
    await screenshot(page, 'nl-home-clock-off');
    await logToday(page, { hours: 3 });
    await entryItems(page).filter({ hasText: 'Geweigerd' }).getByText(/Deze uren liggen in de toekomst/).waitFor({ timeout: 30_000 });
    await screenshot(page, 'nl-entries-clock-off');
    assert.equal(count(`SELECT count(*) FROM pl_entry WHERE student_id = '${S.h.student_id}'`), 0);
    assert.equal(count(`SELECT count(*) FROM pl_refusal WHERE student_id = '${S.h.student_id}'`), 1);
  } finally {
    await context.close();
  }
});
