// The sync engine: sends what the phone has queued, in order (the batch in flight first, byte for
// byte with its Idempotency-Key; then new entries as a new batch; then corrections and withdrawals
// with If-Match), then reads the home screen and the entries. It runs on start, on `online`, when
// the service worker's Background Sync fires, after every change, and after a failure with backoff.
import { Api, HttpError, Offline, Unauthenticated } from './api';
import { newKey } from './ids';
import { applyBatch, backoffMs, mergeServer, nextBatch, patchOf } from './queue';
import type { Store } from './store';
import type { Home, LocalEntry } from './types';

export type SyncStatus =
  | { kind: 'idle' }
  | { kind: 'running' }
  | { kind: 'offline' }
  | { kind: 'auth' } // the token expired or was refused: sign in again, nothing is lost
  | { kind: 'retry'; at: number; status: number }; // a 5xx: retried with backoff, same keys

export interface SyncResult { status: SyncStatus; home?: Home }

export class Sync {
  private running: Promise<SyncResult> | null = null;
  private failures = 0;

  constructor(private store: Store, private api: Api, private now: () => Date = () => new Date(),
              private random: () => number = Math.random,
              private online: () => boolean = () => globalThis.navigator?.onLine ?? true) {}

  /** One pass; concurrent callers share it. `entries`: also read the entries list (the home screen
   *  alone needs one request, /v1/me/home). */
  run({ entries = true }: { entries?: boolean } = {}): Promise<SyncResult> {
    this.running ??= this.pass(entries).finally(() => { this.running = null; });
    return this.running;
  }

  private async pass(withEntries: boolean): Promise<SyncResult> {
    if (!this.online()) return { status: { kind: 'offline' } }; // nothing to try: `online` runs the next pass
    try {
      await this.sendBatches();
      await this.sendChanges();
      const home = await this.refresh(withEntries);
      this.failures = 0;
      return { status: { kind: 'idle' }, home };
    } catch (err) {
      if (err instanceof Offline) return { status: { kind: 'offline' } };
      if (err instanceof Unauthenticated) return { status: { kind: 'auth' } };
      if (err instanceof HttpError && err.status >= 500) {
        const at = this.now().getTime() + backoffMs(this.failures++, this.random);
        return { status: { kind: 'retry', at, status: err.status } };
      }
      throw err;
    }
  }

  private async sendBatches(): Promise<void> {
    for (;;) {
      let batch = await this.store.meta('batch');
      if (!batch) {
        const all = await this.store.all();
        batch = nextBatch(all, newKey(), this.now()) ?? undefined;
        if (!batch) return;
        const ids = new Set(batch.entry_ids);
        // stored with its key before it is sent: a reload resends exactly this
        await this.store.put(all.filter((e) => ids.has(e.entry_id)).map((e) => ({ ...e, state: 'sending' })), batch);
      }
      const reply = await this.api.batch(batch.key, batch.body);
      const entries = new Map((await this.store.all()).map((e) => [e.entry_id, e] as const));
      await this.store.put(applyBatch(entries, batch, reply.results), null);
    }
  }

  private async sendChanges(): Promise<void> {
    for (const e of await this.store.all()) {
      if (e.state !== 'queued' || (e.op !== 'patch' && e.op !== 'withdraw')) continue;
      if (e.op === 'withdraw' && !e.server) { // a refused item given up
        await this.api.dropRefusal(e.entry_id);
        await this.store.remove(e.entry_id);
        continue;
      }
      await this.store.put([await this.change(e)]);
    }
  }

  private async change(e: LocalEntry): Promise<LocalEntry> {
    const etag = e.etag ?? (await this.api.entry(e.entry_id)).etag ?? '*';
    try {
      const done = e.op === 'patch' ? await this.api.patch(e.entry_id, etag, patchOf(e))
                                    : await this.api.withdraw(e.entry_id, etag);
      return { ...e, server: done.entry, etag: done.etag ?? undefined, op: null, state: 'synced', problem: undefined };
    } catch (err) {
      if (!(err instanceof HttpError) || err.status >= 500) throw err;
      if (err.status === 412) { // changed on the server meanwhile: show both, overwrite nothing
        const theirs = await this.api.entry(e.entry_id);
        return { ...e, state: 'conflict', theirs: theirs.entry, etag: theirs.etag ?? undefined, problem: err.problem };
      }
      return { ...e, state: 'refused', problem: err.problem }; // 409 confirmed meanwhile, 422 invalid
    }
  }

  private async refresh(withEntries: boolean): Promise<Home> {
    const [home, list] = await Promise.all([this.api.home(), withEntries ? this.api.entries() : null]);
    const server = list ?? [];
    const entries = new Map((await this.store.all()).map((e) => [e.entry_id, e] as const));
    const merged = mergeServer(entries, server, home.refusals, this.now());
    // without the list, an entry still 'sending' may be on the server: leave it for the next full read
    const known = new Set([...server.map((s) => s.entry_id), ...home.refusals.map((r) => r.entry_id)]);
    if (!list) for (const e of entries.values()) if (e.state === 'sending') known.add(e.entry_id);
    // in no batch (answered above), not on the server and not refused: never arrived, send again
    const lost = [...entries.values()].filter((e) => e.state === 'sending' && !known.has(e.entry_id))
      .map((e): LocalEntry => ({ ...e, state: 'queued' }));
    await this.store.put([...merged, ...lost]);
    await this.store.setMeta('home', home);
    await this.store.setMeta('last_synced', this.now().toISOString());
    return home;
  }
}
