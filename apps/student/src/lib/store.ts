// IndexedDB (through idb): the phone's copy of the student's entries, the batch in flight, the last
// home screen and the last sync time. One database per signed-in student. Every write is one
// transaction: a full disk (QuotaExceededError) leaves nothing half-written.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { Home, LocalEntry, PendingBatch } from './types';

interface Meta { batch: PendingBatch; home: Home; last_synced: string }

interface Schema extends DBSchema {
  entries: { key: string; value: LocalEntry };
  meta: { key: string; value: unknown };
}

export class StorageFull extends Error {}

export interface Store {
  all(): Promise<LocalEntry[]>;
  get(id: string): Promise<LocalEntry | undefined>;
  put(entries: LocalEntry[], batch?: PendingBatch | null): Promise<void>;
  remove(id: string): Promise<void>;
  meta<K extends keyof Meta>(key: K): Promise<Meta[K] | undefined>;
  setMeta<K extends keyof Meta>(key: K, value: Meta[K] | null): Promise<void>;
}

function isQuota(err: unknown): boolean {
  const name = (err as { name?: string })?.name;
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED';
}

async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isQuota(err)) throw new StorageFull('storage full');
    throw err;
  }
}

export async function openStore(student: string): Promise<Store> {
  const db: IDBPDatabase<Schema> = await openDB<Schema>(`werkplek-${student}`, 1, { upgrade });
  return {
    all: () => db.getAll('entries'),
    get: (id) => db.get('entries', id),
    // the entries and the batch that names them in one transaction
    put: (entries, batch) => guarded(async () => {
      const tx = db.transaction(['entries', 'meta'], 'readwrite');
      const es = tx.objectStore('entries');
      try {
        for (const e of entries) await es.put(e);
        if (batch === null) await tx.objectStore('meta').delete('batch');
        else if (batch) await tx.objectStore('meta').put(batch, 'batch');
      } catch (err) {
        tx.abort(); // all or nothing
        await tx.done.catch(() => undefined);
        throw err;
      }
      await tx.done;
    }),
    remove: (id) => guarded(() => db.delete('entries', id)),
    meta: async (key) => (await db.get('meta', key)) as never,
    setMeta: (key, value) => guarded(async () => {
      if (value === null) await db.delete('meta', key);
      else await db.put('meta', value, key);
    }),
  };
}

function upgrade(db: IDBPDatabase<Schema>): void {
  db.createObjectStore('entries', { keyPath: 'entry_id' });
  db.createObjectStore('meta');
}
