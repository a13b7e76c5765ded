// The offline queue's rules as pure functions over local entries: what a new entry, an edit and a
// withdrawal do to it, what the next batch holds, how a batch reply and the server's lists are merged.
// No IndexedDB and no network here (store.ts and sync.ts), so the rules are tested alone.
import { newKey, uuidv7 } from './ids';
import type { EntryBody, LocalEntry, PendingBatch, Problem, Refusal, ServerEntry } from './types';

export const MAX_BATCH = 500; // the API's limit

export type Draft = Omit<EntryBody, 'entry_id'>;

export function createEntry(draft: Draft, now: Date = new Date()): LocalEntry {
  const entry_id = uuidv7(now.getTime());
  return { entry_id, idempotency_key: newKey(), body: { ...draft, entry_id }, op: 'create', state: 'queued',
           created_at: now.toISOString() };
}

export class ReadOnly extends Error {}

/** The status the student sees. A batch not answered yet (sent, or stored while offline) is
 *  "waiting to send" like a queued entry: to the student both are not on the server yet. */
export function shownStatus(e: LocalEntry): string {
  if (e.state === 'refused' || e.state === 'conflict') return e.state;
  if (e.op === 'withdraw') return 'queued';
  if (e.state === 'queued' || e.state === 'sending') return 'queued';
  return e.server?.status ?? 'pending';
}

export function canChange(e: LocalEntry): boolean {
  return !(e.server && (e.server.status === 'confirmed' || e.server.status === 'withdrawn') && e.op === null);
}

/** An edit: never reached the server (or refused) → the create is resent with the same id; on the
 *  server → a PATCH with If-Match of the version the phone saw. Confirmed entries are read-only. */
export function editEntry(e: LocalEntry, changes: Partial<Draft>): LocalEntry {
  if (!canChange(e)) throw new ReadOnly(e.entry_id);
  const body = { ...e.body, ...changes, entry_id: e.entry_id };
  const onServer = e.server !== undefined && e.op !== 'create';
  return { ...e, body, op: onServer ? 'patch' : 'create', state: 'queued', problem: undefined, theirs: undefined };
}

export type Withdrawal = { kind: 'drop' } | { kind: 'queue'; entry: LocalEntry };

/** Never sent → dropped on the phone; refused → the server's refusal is withdrawn too; on the server
 *  → a DELETE with If-Match. An entry in a batch still unanswered waits for the answer. */
export function withdrawEntry(e: LocalEntry): Withdrawal {
  if (!canChange(e) || e.state === 'sending') throw new ReadOnly(e.entry_id);
  if (e.state === 'queued' && e.op === 'create') return { kind: 'drop' };
  return { kind: 'queue', entry: { ...e, op: 'withdraw', state: 'queued', problem: undefined, theirs: undefined } };
}

export function nextBatch(entries: LocalEntry[], key: string, now: Date = new Date()): PendingBatch | null {
  const ready = entries.filter((e) => e.op === 'create' && e.state === 'queued')
    .sort((a, b) => a.entry_id.localeCompare(b.entry_id)).slice(0, MAX_BATCH);
  if (!ready.length) return null;
  return { key, entry_ids: ready.map((e) => e.entry_id), body: { entries: ready.map((e) => e.body) },
           created_at: now.toISOString() };
}

export interface BatchResult { index: number; entry_id: string | null; status: number; entry?: ServerEntry; problem?: Problem }

/** Apply a batch reply: accepted items are synced, refused ones keep their problem. An entry edited
 *  while the batch was in flight keeps its newer body and is sent again. */
export function applyBatch(entries: Map<string, LocalEntry>, batch: PendingBatch, results: BatchResult[]): LocalEntry[] {
  const changed: LocalEntry[] = [];
  for (const r of results) {
    const id = batch.entry_ids[r.index];
    const e = entries.get(id);
    if (!e) continue;
    const sent = batch.body.entries[r.index];
    const editedSince = JSON.stringify(sent) !== JSON.stringify(e.body);
    if (r.status < 300 && r.entry) {
      const next: LocalEntry = { ...e, server: r.entry, etag: r.status === 201 ? '"1"' : e.etag, problem: undefined };
      changed.push(editedSince ? { ...next, op: 'patch', state: 'queued' } : { ...next, op: null, state: 'synced' });
    } else if (r.problem) {
      changed.push(editedSince ? { ...e, state: 'queued' } : { ...e, state: 'refused', problem: r.problem });
    }
  }
  return changed;
}

/** Merge the server's entries and refusals into the local ones. A local operation not yet answered
 *  wins; the server's refusals flag the items the phone may not know about (a lost reply). */
export function mergeServer(entries: Map<string, LocalEntry>, server: ServerEntry[], refusals: Refusal[],
                            now: Date = new Date()): LocalEntry[] {
  const changed: LocalEntry[] = [];
  for (const s of server) {
    const e = entries.get(s.entry_id);
    if (!e) {
      changed.push({ entry_id: s.entry_id, idempotency_key: newKey(), body: bodyOf(s), op: null, state: 'synced',
                     server: s, created_at: s.logged_at });
    } else if (e.op === null || (e.op === 'create' && e.state !== 'queued')) {
      const same = e.server && e.server.revision === s.revision && e.server.status === s.status
        && e.server.updated_at === s.updated_at;
      changed.push({ ...e, body: bodyOf(s), server: s, op: null, state: 'synced', problem: undefined,
                     etag: same ? e.etag : undefined });
    }
  }
  for (const r of refusals) {
    const e = entries.get(r.entry_id);
    if (!e) {
      changed.push({ entry_id: r.entry_id, idempotency_key: newKey(), body: r.entry, op: 'create', state: 'refused',
                     problem: r.problem, created_at: now.toISOString() });
    } else if (e.op === 'create' && e.state === 'sending') {
      changed.push({ ...e, state: 'refused', problem: r.problem });
    }
  }
  return changed;
}

export function bodyOf(s: ServerEntry): EntryBody {
  return { entry_id: s.entry_id, placement_id: s.placement_id, work_date: s.work_date,
           start_time: s.start_time?.slice(0, 5) ?? null, end_time: s.end_time?.slice(0, 5) ?? null,
           duration_minutes: s.duration_minutes, activity: s.activity, outcome_ids: s.outcome_ids,
           description: s.description };
}

/** The fields a PATCH sends: those the student changed against the server's version. */
export function patchOf(e: LocalEntry): Partial<Draft> {
  const base = e.server ? bodyOf(e.server) : undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.body)) {
    if (k === 'entry_id' || k === 'placement_id') continue;
    if (!base || JSON.stringify((base as unknown as Record<string, unknown>)[k]) !== JSON.stringify(v)) out[k] = v;
  }
  return out as Partial<Draft>;
}

/** Exponential backoff with full jitter: 2 s, 4 s, 8 s … at most 5 minutes. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(300_000, 2000 * 2 ** Math.max(0, attempt));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/** Reason codes of a refusal (the catalogue has a sentence for each known one). */
export function reasonsOf(p: Problem | undefined): string[] {
  if (!p) return [];
  if (p.reasons?.length) return p.reasons;
  if (p.type?.endsWith('entry-id-taken')) return ['entry_id_taken'];
  if (p.reason) return [p.reason];
  return ['other'];
}
