// The offline queue's rules, the sync engine against a fake API (real IndexedDB semantics from
// fake-indexeddb), and the refusal/conflict handling.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { Api, type Fetch } from '../../src/lib/api';
import { uuidv7 } from '../../src/lib/ids';
import { applyBatch, backoffMs, createEntry, editEntry, mergeServer, nextBatch, patchOf, ReadOnly, reasonsOf,
         withdrawEntry, type Draft } from '../../src/lib/queue';
import { openStore, StorageFull } from '../../src/lib/store';
import { Sync } from '../../src/lib/sync';
import type { LocalEntry, ServerEntry } from '../../src/lib/types';

const draft: Draft = { placement_id: 'pl-1', work_date: '2026-11-20', start_time: null, end_time: null,
                       duration_minutes: 450, activity: 'work', outcome_ids: [], description: '' };

function server(id: string, over: Partial<ServerEntry> = {}): ServerEntry {
  return { ...draft, entry_id: id, revision: 1, status: 'pending', logged_at: '2026-11-20T10:00:00Z',
           updated_at: '2026-11-20T10:00:00Z', ...over };
}

describe('ids', () => {
  it('makes version-7 UUIDs that sort by time', () => {
    const a = uuidv7(1_700_000_000_000), b = uuidv7(1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
  });
});

describe('queue rules', () => {
  it('a new entry has its id and key before anything is sent, and is queued', () => {
    const e = createEntry(draft);
    expect(e.body.entry_id).toBe(e.entry_id);
    expect(e.idempotency_key).toMatch(/^[0-9a-f-]{36}$/);
    expect([e.op, e.state]).toEqual(['create', 'queued']);
  });

  it('the next batch holds the queued creates only, at most 500', () => {
    const many = Array.from({ length: 502 }, () => createEntry(draft));
    const synced = { ...createEntry(draft), op: null, state: 'synced' as const };
    const batch = nextBatch([...many, synced], 'k1')!;
    expect(batch.body.entries).toHaveLength(500);
    expect(batch.key).toBe('k1');
    expect(batch.entry_ids).not.toContain(synced.entry_id);
  });

  it('applies a batch reply: accepted synced, refused flagged with the problem', () => {
    const [a, b] = [createEntry(draft), createEntry(draft)];
    const batch = nextBatch([a, b], 'k')!;
    const map = new Map([a, b].map((e) => [e.entry_id, { ...e, state: 'sending' as const }]));
    const problem = { title: 'The entry is not valid', status: 422, reasons: ['overlap'] };
    const i = batch.entry_ids.indexOf(a.entry_id), j = 1 - i;
    const out = applyBatch(map, batch, [
      { index: i, entry_id: a.entry_id, status: 201, entry: server(a.entry_id) },
      { index: j, entry_id: b.entry_id, status: 422, problem }]);
    const byId = new Map(out.map((e) => [e.entry_id, e]));
    expect(byId.get(a.entry_id)).toMatchObject({ state: 'synced', op: null, etag: '"1"' });
    expect(byId.get(b.entry_id)).toMatchObject({ state: 'refused', problem });
    expect(reasonsOf(byId.get(b.entry_id)!.problem)).toEqual(['overlap']);
  });

  it('an entry edited while its batch was in flight is sent again', () => {
    const a = createEntry(draft);
    const batch = nextBatch([a], 'k')!;
    const edited = { ...a, state: 'sending' as const, body: { ...a.body, description: 'later' } };
    const [out] = applyBatch(new Map([[a.entry_id, edited]]), batch, [
      { index: 0, entry_id: a.entry_id, status: 201, entry: server(a.entry_id) }]);
    expect([out.op, out.state]).toEqual(['patch', 'queued']);
  });

  it('a refused entry edited is a create again with the same id; a stored one a PATCH', () => {
    const refused = { ...createEntry(draft), state: 'refused' as const, problem: { title: 'x', status: 422 } };
    const again = editEntry(refused, { start_time: '13:00', end_time: '15:00', duration_minutes: null });
    expect([again.op, again.state, again.entry_id, again.problem]).toEqual(['create', 'queued', refused.entry_id, undefined]);
    const stored = { ...createEntry(draft), op: null, state: 'synced' as const, server: server('x') };
    const patched = editEntry(stored, { description: 'night' });
    expect(patched.op).toBe('patch');
    expect(patchOf(patched)).toEqual({ description: 'night' });
  });

  it('confirmed entries are read-only', () => {
    const e = { ...createEntry(draft), op: null, state: 'synced' as const, server: server('x', { status: 'confirmed' }) };
    expect(() => editEntry(e, { description: 'x' })).toThrow(ReadOnly);
    expect(() => withdrawEntry(e)).toThrow(ReadOnly);
  });

  it('withdrawing: never sent → dropped; refused → withdrawn on the server too; stored → DELETE', () => {
    expect(withdrawEntry(createEntry(draft)).kind).toBe('drop');
    const refused = { ...createEntry(draft), state: 'refused' as const };
    expect(withdrawEntry(refused)).toMatchObject({ kind: 'queue', entry: { op: 'withdraw' } });
  });

  it("merging keeps local operations and flags the server's refusals (a lost reply)", () => {
    const sending = { ...createEntry(draft), state: 'sending' as const };
    const queuedPatch = { ...createEntry(draft), op: 'patch' as const, state: 'queued' as const };
    const problem = { title: 'no', status: 422, reasons: ['future'] };
    const out = mergeServer(new Map<string, LocalEntry>([[sending.entry_id, sending], [queuedPatch.entry_id, queuedPatch]]),
      [server(queuedPatch.entry_id, { description: 'server' })],
      [{ entry_id: sending.entry_id, entry: sending.body, problem, refused_at: '' }]);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ entry_id: sending.entry_id, state: 'refused', problem });
  });

  it('backs off exponentially with jitter, capped at five minutes', () => {
    expect(backoffMs(0, () => 0)).toBe(1000);
    expect(backoffMs(3, () => 1)).toBe(16000);
    expect(backoffMs(30, () => 1)).toBe(300000);
  });
});

type Handler = (method: string, path: string, init: RequestInit) => Response | Promise<Response>;

function fakeApi(handler: Handler): { api: Api; calls: { method: string; path: string; key?: string; body?: string }[] } {
  const calls: { method: string; path: string; key?: string; body?: string }[] = [];
  const fetcher: Fetch = async (input, init = {}) => {
    const path = input.replace('/api/placement', '');
    const headers = init.headers as Record<string, string>;
    calls.push({ method: init.method ?? 'GET', path, key: headers['Idempotency-Key'], body: init.body as string });
    return handler(init.method ?? 'GET', path, init);
  };
  return { api: new Api(async () => 'token', fetcher), calls };
}

const json = (status: number, doc: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(doc), { status, headers: { 'content-type': 'application/json', ...headers } });
const home = { share: null, outcomes: null, placements: [], refusals: [], server_time: new Date().toISOString() };

describe('sync engine', () => {
  it('resends a batch whose reply was lost with the same key and body, then stores the results', async () => {
    const store = await openStore('s1');
    const e = createEntry(draft);
    await store.put([e]);
    let attempt = 0;
    const { api, calls } = fakeApi((_method, path, init) => {
      if (path === '/v1/me/entries/batch') {
        if (attempt++ === 0) throw new TypeError('network'); // the reply is lost
        const body = JSON.parse(init.body as string);
        return json(200, { results: body.entries.map((x: { entry_id: string }, index: number) =>
          ({ index, entry_id: x.entry_id, status: 201, entry: server(x.entry_id) })) });
      }
      if (path === '/v1/me/home') return json(200, home);
      return json(200, { items: [server(e.entry_id)], next_cursor: null });
    });
    const sync = new Sync(store, api);
    expect((await sync.run()).status.kind).toBe('offline');
    expect((await store.get(e.entry_id))!.state).toBe('sending');
    expect(await store.meta('batch')).toBeTruthy(); // kept with its key
    expect((await sync.run()).status.kind).toBe('idle');
    const posts = calls.filter((c) => c.path === '/v1/me/entries/batch');
    expect(posts).toHaveLength(2);
    expect(posts[1].key).toBe(posts[0].key);
    expect(posts[1].body).toBe(posts[0].body);
    expect((await store.get(e.entry_id))!.state).toBe('synced');
    expect(await store.meta('batch')).toBeUndefined();
    expect(await store.meta('last_synced')).toBeTruthy();
  });

  it('a 5xx keeps everything and backs off; a 401 asks to sign in again, nothing lost', async () => {
    const store = await openStore('s2');
    await store.put([createEntry(draft)]);
    let status = 503;
    const { api, calls } = fakeApi(() => json(status, { title: 'down', status }));
    const sync = new Sync(store, api, () => new Date(1000), () => 0);
    const r = await sync.run();
    expect(r.status).toEqual({ kind: 'retry', at: 2000, status: 503 });
    expect((await sync.run()).status).toEqual({ kind: 'retry', at: 3000, status: 503 });
    status = 401;
    expect((await sync.run()).status.kind).toBe('auth');
    expect(new Set(calls.map((c) => c.key)).size).toBe(1); // the same key every time
    expect((await store.all())).toHaveLength(1);
  });

  it('a 412 on a correction becomes a conflict with both versions', async () => {
    const store = await openStore('s3');
    const base = { ...createEntry(draft), op: null, state: 'synced' as const, server: server('e1'), etag: '"1"' };
    const mine = editEntry({ ...base, entry_id: 'e1', body: { ...base.body, entry_id: 'e1' } }, { description: 'mine' });
    await store.put([mine]);
    const theirs = server('e1', { description: 'theirs', revision: 2 });
    const { api } = fakeApi((method, path) => {
      if (method === 'PATCH') return json(412, { title: 'The entry has changed', status: 412 }, { etag: '"3"' });
      if (path === '/v1/me/entries/e1') return json(200, theirs, { etag: '"3"' });
      if (path === '/v1/me/home') return json(200, home);
      return json(200, { items: [theirs], next_cursor: null });
    });
    await new Sync(store, api).run();
    const got = (await store.get('e1'))!;
    expect(got.state).toBe('conflict');
    expect(got.body.description).toBe('mine');
    expect(got.theirs!.description).toBe('theirs');
    expect(got.etag).toBe('"3"');
  });

  it('a full disk is a clear error and writes nothing', async () => {
    const store = await openStore('s4');
    const [a, b] = [createEntry(draft), createEntry(draft)];
    const proto = IDBObjectStore.prototype;
    const put = proto.put;
    let n = 0;
    proto.put = function (this: IDBObjectStore, ...args: Parameters<typeof put>) {
      if (n++ === 1) throw new DOMException('the quota is used up', 'QuotaExceededError'); // the second write
      return put.apply(this, args);
    };
    try {
      await expect(store.put([a, b])).rejects.toBeInstanceOf(StorageFull);
    } finally {
      proto.put = put;
    }
    expect(await store.all()).toHaveLength(0); // not the first one either
  });
});
