// Issue 11's browser scenarios (node's test runner): Debian's Chromium at 360×640 against the real
// stack (Kafka, PostgreSQL, the services, Keycloak, the nginx proxy), one demo student per scenario.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { axe, confirmByWebhook, controlled, entryIds, entryItems, env, eventually, fillForm, launch, logToday, phone,
         rejectByWebhook, screenshot, signIn, sql } from './support.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const S = env.students;
let fail503 = 0;
const count = (q) => Number(sql(q));

test('sign in on the IdP page, every screen in Dutch and English: screenshots and no serious axe violation', async () => {
  const { context, page } = await phone(browser);
  try {
    await page.goto(env.app_url + '/');
    await page.getByRole('button', { name: 'Aanmelden' }).waitFor();
    const violations = { signin: await axe(page) };
    await screenshot(page, 'nl-signin');
    await signIn(page, S.a.username);
    assert.match(await page.title(), /werkplek/);
    const screens = [['home', null], ['log', /^(Uren registreren voor vandaag|Log hours for today)$/],
                     ['entries', /^(Mijn uren|My hours)$/], ['share', /^(Mijn aandeel|My share)$/],
                     ['outcomes', /^(Leerresultaten|Outcomes)$/], ['settings', /^(Instellingen|Settings)$/]];
    for (const lang of ['nl', 'en']) {
      if (lang === 'en') {
        await page.getByRole('button', { name: 'Instellingen' }).click();
        await page.getByLabel('English').check();
        await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
      }
      for (const [name, control] of screens) {
        await page.goto(env.app_url + '/');
        await page.getByRole('heading', { level: 1, name: /^(Dag|Hello) / }).waitFor();
        if (control) await page.getByRole(name === 'log' ? 'button' : 'link', { name: control }).or(
          page.getByRole('button', { name: control })).first().click();
        await page.locator('h1').first().waitFor();
        await page.waitForLoadState('networkidle');
        violations[`${lang}-${name}`] = await axe(page);
        await screenshot(page, `${lang}-${name}`);
      }
    }
    const bad = Object.entries(violations).filter(([, v]) => v.length);
    assert.deepEqual(bad, [], JSON.stringify(bad, null, 1));
  } finally {
    await context.close();
  }
});

test('offline: three entries queued, kept over a reload, each in the ledger exactly once when back online', async () => {
  const { context, page } = await phone(browser);
  try {
    const keys = [];
    await page.route('**/api/placement/v1/me/entries/batch', async (route) => {
      keys.push(route.request().headers()['idempotency-key']);
      if (fail503++ === 0) await route.fulfill({ status: 503, contentType: 'application/problem+json',
                                                 body: JSON.stringify({ title: 'Service Unavailable', status: 503 }) });
      else await route.continue();
    });
    await signIn(page, S.a.username);
    await controlled(page);
    await page.waitForLoadState('networkidle');
    await context.setOffline(true);
    for (const hours of [2, 3, 1.5]) {
      await page.getByRole('link', { name: 'Start' }).click();
      await logToday(page, { hours });
    }
    await page.reload(); // offline: the service worker starts the app from its precache
    await page.getByRole('link', { name: 'Mijn uren' }).click();
    await eventually(async () => (await entryItems(page).filter({ hasText: 'Wacht om verstuurd te worden' }).count()) === 3,
      { what: 'three entries waiting to send after the reload' });
    await screenshot(page, 'nl-entries-offline');
    const ids = await entryIds(page);
    assert.equal(count(`SELECT count(*) FROM pl_entry WHERE student_id = '${S.a.student_id}'`), 0);

    await context.setOffline(false);
    // the first batch meets a 503: the app says it retries (with backoff), then the same batch goes through
    await page.getByText(/De server antwoordt niet\. We proberen het opnieuw om/).waitFor({ timeout: 30_000 });
    await eventually(async () => (await entryItems(page).filter({ hasText: 'Wacht op je mentor' }).count()) === 3,
      { what: 'the three entries pending with the mentor' });
    assert.equal(fail503, 2);
    assert.equal(keys[1], keys[0]); // the retry is the same batch under the same key
    const list = ids.map((i) => `'${i}'`).join(',');
    assert.equal(count(`SELECT count(*) FROM pl_entry_revision WHERE entry_id IN (${list}) AND kind = 'logged'`), 3);
    assert.equal(count(`SELECT count(*) FROM pl_entry WHERE student_id = '${S.a.student_id}'`), 3);
    await page.getByText(/^Laatst gesynchroniseerd: /).waitFor();
  } finally {
    await context.close();
  }
});

test('an overlapping entry is flagged with the reason; edited and resent it is accepted', async () => {
  const { context, page } = await phone(browser);
  try {
    await signIn(page, S.b.username);
    await logToday(page, { start: '11:00', end: '13:00', date: S.b.past_date });
    const flagged = entryItems(page).filter({ hasText: 'Geweigerd' });
    await flagged.getByText('Deze uren overlappen met een andere registratie van jou op die dag.').waitFor();
    await flagged.getByText(/Pas de registratie aan en verstuur ze opnieuw, of trek ze in/).waitFor();
    await screenshot(page, 'nl-entries-refused');
    const [id] = await flagged.evaluateAll((els) => els.map((e) => e.getAttribute('data-entry-id')));
    assert.equal(count(`SELECT count(*) FROM pl_refusal WHERE student_id = '${S.b.student_id}' AND entry_id = '${id}'`), 1);

    await flagged.getByRole('button', { name: 'Aanpassen en opnieuw versturen' }).click();
    await fillForm(page, { start: '13:00', end: '15:00' });
    await page.getByRole('button', { name: 'Bewaren' }).click();
    await eventually(async () => (await page.locator(`li[data-entry-id="${id}"]`).textContent()).includes('Wacht op je mentor'),
      { what: 'the corrected entry pending' });
    assert.equal(count(`SELECT count(*) FROM pl_entry WHERE entry_id = '${id}' AND start_time = '13:00'`), 1);
    assert.equal(count(`SELECT count(*) FROM pl_refusal WHERE student_id = '${S.b.student_id}'`), 0);
  } finally {
    await context.close();
  }
});

test("a mentor confirms through a signed webhook: the app's share and status become hour accounting's", async () => {
  const { context, page } = await phone(browser);
  try {
    await signIn(page, S.c.username);
    const res = await confirmByWebhook(S.c.mentor_id, S.c.entry_ids);
    assert.equal(res.status, 202);
    const total = S.c.minutes;
    const truth = await eventually(() => {
      const row = sql(`SELECT body->>'real_share' || '|' || (body->>'status') FROM share_read_model
                       WHERE student_id = '${S.c.student_id}' AND (body->>'confirmed_minutes')::int = ${total}`);
      return row || false;
    }, { timeout: 60_000, what: "the confirmed hours in hour accounting's read model" });
    const [realShare, status] = truth.split('|');
    await eventually(async () => {
      await page.reload();
      const el = page.getByTestId('real-share');
      await el.waitFor({ timeout: 5000 });
      return (await el.getAttribute('data-value')) === realShare
        && (await page.locator('[data-status]').getAttribute('data-status')) === status;
    }, { timeout: 30_000, what: `the app showing real share ${realShare} and status ${status}` });
    await page.getByRole('link', { name: 'Mijn aandeel' }).click();
    await page.getByRole('img', { name: /doellijn/ }).locator('path.confirmed').waitFor({ timeout: 30_000 });
    await screenshot(page, 'nl-share-confirmed');
  } finally {
    await context.close();
  }
});

test("a mentor rejects through a signed webhook with a reason: the app says why, quotes the comment and what to do", async () => {
  const { context, page } = await phone(browser);
  const [id] = S.i.entry_ids;
  const comment = 'Die dag was je op school, niet bij ons.';
  try {
    await signIn(page, S.i.username);
    const res = await rejectByWebhook(S.i.mentor_id, [{ entry_id: id, reason: 'not_at_workplace', comment }]);
    assert.equal(res.status, 202);
    const item = page.locator(`li[data-entry-id="${id}"]`);
    await eventually(async () => {
      await page.goto(env.app_url + '/');
      await page.getByRole('link', { name: 'Mijn uren' }).click();
      await item.waitFor({ timeout: 5000 });
      return (await item.textContent()).includes('Afgewezen door je mentor');
    }, { timeout: 60_000, what: 'the entry shown rejected' });
    await item.getByText('Je mentor zegt dat je die uren niet op de werkplek doorbracht.').waitFor();
    assert.equal(await item.locator('blockquote').textContent(), comment);
    await item.getByText(/pas de registratie dan aan: ze gaat opnieuw naar je mentor.*trek ze dan in/).waitFor();
    assert.deepEqual(await axe(page), []);
    await screenshot(page, 'nl-entries-rejected');
    assert.equal(sql(`SELECT rejection_reason || '|' || rejection_comment FROM pl_entry WHERE entry_id = '${id}'`),
                 `not_at_workplace|${comment}`);

    await page.getByRole('button', { name: 'Instellingen' }).click();
    await page.getByLabel('English').check();
    await page.getByRole('link', { name: 'My hours' }).click();
    await item.getByText('Your mentor says you did not spend these hours at the workplace.').waitFor();
    await item.getByText(/If something is wrong, correct the entry: it goes to your mentor again.*withdraw it/).waitFor();
    assert.equal(await item.locator('blockquote').textContent(), comment);
    await screenshot(page, 'en-entries-rejected');
  } finally {
    await context.close();
  }
});

test('a lost batch reply: after a reload the refused item is still shown, and nothing is logged twice', async () => {
  const { context, page } = await phone(browser);
  try {
    await signIn(page, S.d.username);
    await controlled(page);
    await context.setOffline(true);
    await logToday(page, { hours: 4 });
    await page.getByRole('link', { name: 'Start' }).click();
    await logToday(page, { hours: 2, date: S.d.future_date }); // refused: in the future
    let lost = 0;
    await page.route('**/api/placement/v1/me/entries/batch', async (route) => {
      if (lost++ === 0) {
        await route.fetch(); // the server stores the batch ...
        await route.abort('connectionreset'); // ... and the reply never reaches the phone
      } else {
        await route.continue();
      }
    });
    await context.setOffline(false);
    await eventually(() => lost >= 1, { what: 'the batch sent' });
    await page.reload();
    const refused = entryItems(page).filter({ hasText: 'Geweigerd' });
    await refused.getByText(/Deze uren liggen in de toekomst/).waitFor({ timeout: 30_000 });
    await eventually(async () => (await entryItems(page).filter({ hasText: 'Wacht op je mentor' }).count()) === 1,
      { what: 'the accepted entry pending' });
    assert.equal(await entryItems(page).count(), 2);
    const ids = await entryIds(page);
    const list = ids.map((i) => `'${i}'`).join(',');
    assert.equal(count(`SELECT count(*) FROM pl_entry_revision WHERE entry_id IN (${list})`), 1);
    assert.equal(count(`SELECT count(*) FROM pl_refusal WHERE entry_id IN (${list})`), 1);
  } finally {
    await context.close();
  }
});
