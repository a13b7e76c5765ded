// The placement-logging API at /api/placement on the app's own origin (no CORS). Errors: Offline
// (no answer at all), Unauthenticated (401: sign in again), HttpError (any other status, with the
// RFC 9457 problem document).
import type { EntryBody, Home, Problem, ServerEntry } from './types';

export const BASE = '/api/placement';

export class Offline extends Error {}
export class Unauthenticated extends Error {}
export class HttpError extends Error {
  constructor(readonly status: number, readonly problem: Problem, readonly etag: string | null = null) {
    super(`${status} ${problem.title}`);
  }
}

export type TokenSource = () => Promise<string | null>;
export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export class Api {
  constructor(private token: TokenSource, private fetcher: Fetch = (i, o) => fetch(i, o)) {}

  private async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}):
      Promise<Response> {
    const token = await this.token();
    if (!token) throw new Unauthenticated('no token');
    let res: Response;
    try {
      res = await this.fetcher(BASE + path, {
        method, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store',
        headers: { Authorization: `Bearer ${token}`, Accept: 'application/json',
                   ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
      });
    } catch {
      throw new Offline('no answer');
    }
    if (res.status === 401) throw new Unauthenticated('401');
    if (!res.ok) {
      let problem: Problem;
      try { problem = await res.json(); } catch { problem = { title: res.statusText || 'error', status: res.status }; }
      throw new HttpError(res.status, problem, res.headers.get('etag'));
    }
    return res;
  }

  async home(): Promise<Home> {
    return (await this.call('GET', '/v1/me/home')).json();
  }

  async entries(): Promise<ServerEntry[]> {
    const out: ServerEntry[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page: { items: ServerEntry[]; next_cursor: string | null } =
        await (await this.call('GET', `/v1/me/entries?limit=500${q}`)).json();
      out.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    return out;
  }

  async entry(id: string): Promise<{ entry: ServerEntry; etag: string | null }> {
    const res = await this.call('GET', `/v1/me/entries/${id}`);
    return { entry: await res.json(), etag: res.headers.get('etag') };
  }

  async batch(key: string, body: { entries: EntryBody[] }): Promise<{ results: import('./queue').BatchResult[] }> {
    return (await this.call('POST', '/v1/me/entries/batch', body, { 'Idempotency-Key': key })).json();
  }

  async patch(id: string, etag: string, changes: object): Promise<{ entry: ServerEntry; etag: string | null }> {
    const res = await this.call('PATCH', `/v1/me/entries/${id}`, changes, { 'If-Match': etag });
    return { entry: await res.json(), etag: res.headers.get('etag') };
  }

  async withdraw(id: string, etag: string): Promise<{ entry: ServerEntry; etag: string | null }> {
    const res = await this.call('DELETE', `/v1/me/entries/${id}`, undefined, { 'If-Match': etag });
    return { entry: await res.json(), etag: res.headers.get('etag') };
  }

  async dropRefusal(id: string): Promise<void> {
    try {
      await this.call('DELETE', `/v1/me/refusals/${id}`);
    } catch (err) {
      if (!(err instanceof HttpError && err.status === 404)) throw err;
    }
  }
}
