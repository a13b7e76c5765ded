// The app shell: sign-in, the sync loop, the screens (path routes, the proxy falls back to index.html).
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { formatSkew, formatTime, initialLang, saveLang, translator, type Lang } from './i18n';
import { Api } from './lib/api';
import type { Auth } from './lib/auth';
import { runningPlacement, today } from './lib/dates';
import { createEntry, editEntry, withdrawEntry, type Draft } from './lib/queue';
import { openStore, StorageFull, type Store } from './lib/store';
import { Sync, type SyncStatus } from './lib/sync';
import type { Home as HomeDoc, LocalEntry } from './lib/types';
import { Entries } from './views/Entries';
import { LogForm } from './views/LogForm';
import { OutcomesView } from './views/OutcomesView';
import { ShareSummary, ShareView } from './views/ShareView';
import { Screen, type Ctx } from './views/common';

type Route = '/' | '/log' | '/entries' | '/share' | '/outcomes' | '/settings';
const ROUTES: Route[] = ['/', '/log', '/entries', '/share', '/outcomes', '/settings'];
const CLOCK_SKEW_MS = 5 * 60_000;

function routeOf(path: string): Route {
  return (ROUTES as string[]).includes(path) ? (path as Route) : '/';
}

interface Session { sub: string; name: string }

export function App({ auth, session, authFailed = false }: { auth: Auth; session: Session | null; authFailed?: boolean }) {
  const [lang, setLang] = useState<Lang>(initialLang());
  const t = useMemo(() => translator(lang), [lang]);
  const ctx: Ctx = { t, lang };
  useEffect(() => { document.documentElement.lang = lang; }, [lang]);
  const changeLang = (l: Lang) => { saveLang(l); setLang(l); };
  if (!session) return <SignIn ctx={ctx} auth={auth} error={authFailed ? t('auth.failed') : undefined} onLang={changeLang} />;
  return <Signed ctx={ctx} auth={auth} session={session} onLang={changeLang} />;
}

function SignIn({ ctx, auth, error, onLang }: { ctx: Ctx; auth: Auth; error?: string; onLang: (l: Lang) => void }) {
  const { t, lang } = ctx;
  const [problem, setProblem] = useState<string | undefined>(error);
  async function go() {
    if (!navigator.onLine) return setProblem(t('auth.offline'));
    try { await auth.signIn(lang); } catch { setProblem(t('auth.idp_down')); }
  }
  return (
    <main id="main" class="signin">
      <h1>{t('app.name')}</h1>
      <p>{t('app.tagline')}</p>
      <p>{t('auth.intro')}</p>
      {problem && <p role="alert" class="error">{problem}</p>}
      <button type="button" class="primary big" onClick={go}>{t('auth.signin')}</button>
      <LangSwitch ctx={ctx} onLang={onLang} />
    </main>
  );
}

function LangSwitch({ ctx, onLang }: { ctx: Ctx; onLang: (l: Lang) => void }) {
  return (
    <fieldset class="segmented">
      <legend>{ctx.t('settings.language')}</legend>
      <div class="seg">
        {(['nl', 'en'] as const).map((l) => (
          <label key={l} class={ctx.lang === l ? 'on' : ''} lang={l}>
            <input type="radio" name="lang" checked={ctx.lang === l} onChange={() => onLang(l)} />
            {l === 'nl' ? 'Nederlands' : 'English'}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function Signed({ ctx, auth, session, onLang }: { ctx: Ctx; auth: Auth; session: Session; onLang: (l: Lang) => void }) {
  const { t, lang } = ctx;
  const [route, setRoute] = useState<Route>(routeOf(location.pathname));
  const [store, setStore] = useState<Store | null>(null);
  const [entries, setEntries] = useState<LocalEntry[]>([]);
  const [home, setHome] = useState<HomeDoc | null>(null);
  const [lastSynced, setLastSynced] = useState<string | null>(null);
  const [status, setStatus] = useState<SyncStatus>({ kind: 'idle' });
  const [online, setOnline] = useState(navigator.onLine);
  const [notice, setNotice] = useState<string | null>(null);
  const [editing, setEditing] = useState<LocalEntry | null>(null);
  const sync = useRef<Sync | null>(null);
  const onHome = useRef(route === '/');
  onHome.current = route === '/';
  const retry = useRef<number | undefined>(undefined);

  const go = useCallback((r: Route) => {
    history.pushState(null, '', r); setRoute(r); setNotice(null);
    onHome.current = r === '/'; // before the sync below: it reads the entries list only off the home screen
    if (r === '/entries' || r === '/share') void runSyncRef.current?.(); // fresh statuses where they are shown
    requestAnimationFrame(() => document.getElementById('screen-title')?.focus());
  }, []);
  useEffect(() => {
    const pop = () => setRoute(routeOf(location.pathname));
    addEventListener('popstate', pop);
    return () => removeEventListener('popstate', pop);
  }, []);

  const reload = useCallback(async (s: Store) => {
    setEntries(await s.all());
    setHome((await s.meta('home')) ?? null);
    setLastSynced((await s.meta('last_synced')) ?? null);
  }, []);

  const runSync = useCallback(async () => {
    if (!sync.current || !store) return;
    setStatus({ kind: 'running' });
    const result = await sync.current.run({ entries: !onHome.current }).catch((err) => ({ status: { kind: 'idle' } as SyncStatus, err }));
    setStatus(result.status);
    await reload(store);
    clearTimeout(retry.current);
    if (result.status.kind === 'retry') retry.current = window.setTimeout(runSync, result.status.at - Date.now());
  }, [store, reload]);

  const runSyncRef = useRef<(() => Promise<void>) | null>(null);
  runSyncRef.current = runSync;
  // while open and online, read again every 30 s and when the app comes back to the foreground
  useEffect(() => {
    const tick = () => { if (navigator.onLine && document.visibilityState === 'visible') void runSyncRef.current?.(); };
    const timer = window.setInterval(tick, 30_000);
    document.addEventListener('visibilitychange', tick);
    return () => { clearInterval(timer); document.removeEventListener('visibilitychange', tick); };
  }, []);

  useEffect(() => {
    void openStore(session.sub).then(async (s) => {
      sync.current = new Sync(s, new Api(() => auth.token()));
      await reload(s);
      setStore(s);
    });
  }, [session.sub]);

  useEffect(() => {
    if (!store) return;
    void runSync(); // on start
    const up = () => { setOnline(true); setNotice(null); void runSync(); }; // "sent once you are online" is stale now
    const down = () => setOnline(false);
    const fromWorker = (ev: MessageEvent) => { if (ev.data?.type === 'sync') void runSync(); };
    addEventListener('online', up);
    addEventListener('offline', down);
    navigator.serviceWorker?.addEventListener('message', fromWorker);
    return () => {
      removeEventListener('online', up); removeEventListener('offline', down);
      navigator.serviceWorker?.removeEventListener('message', fromWorker);
    };
  }, [store, runSync]);

  const queued = async (changed: LocalEntry[]) => {
    await store!.put(changed);
    await reload(store!);
    if (navigator.onLine) void runSync();
    else void requestBackgroundSync();
  };

  const day = today();
  const placements = home?.placements ?? [];
  const running = runningPlacement(placements, day) ?? placements[0];
  const lastEntry = [...entries].sort((a, b) => b.created_at.localeCompare(a.created_at))[0];
  const initial: Draft = editing ? { ...editing.body } : {
    placement_id: running?.id ?? '', work_date: day, start_time: null, end_time: null,
    duration_minutes: lastEntry?.body.duration_minutes ?? 7.5 * 60, activity: lastEntry?.body.activity ?? 'work',
    outcome_ids: [], description: '' };

  async function save(draft: Draft): Promise<string | null> {
    try {
      const entry = editing ? editEntry(editing, draft) : createEntry(draft);
      await queued([entry]); // stored in IndexedDB before anything is sent
      setEditing(null);
      go('/entries');
      setNotice(navigator.onLine ? t('log.saved') : t('log.saved_offline'));
      return null;
    } catch (err) {
      if (err instanceof StorageFull) return t('log.storage_full');
      return t('error.generic', { detail: String(err) });
    }
  }

  async function withdraw(e: LocalEntry) {
    if (!confirm(t('entries.withdraw_confirm'))) return;
    const w = withdrawEntry(e);
    if (w.kind === 'drop') { await store!.remove(e.entry_id); await reload(store!); } else await queued([w.entry]);
  }

  const skew = home ? Date.parse(home.server_time) - Date.now() : 0;
  const waiting = entries.filter((e) => e.state === 'queued' || e.state === 'sending').length;
  const attention = entries.filter((e) => e.state === 'refused' || e.state === 'conflict').length;
  const share = home?.share ?? null;

  let screen;
  if (!store) screen = <p aria-busy="true">…</p>;
  else if (route === '/log') {
    screen = <LogForm key={editing?.entry_id ?? 'new'} ctx={ctx} placements={placements} initial={initial}
      editing={editing?.body} onSave={save} onCancel={() => { setEditing(null); go(editing ? '/entries' : '/'); }} />;
  } else if (route === '/entries') {
    screen = <Entries ctx={ctx} entries={entries} onEdit={(e) => { setEditing(e); go('/log'); }} onWithdraw={withdraw}
      onKeepMine={(e) => queued([{ ...e, op: 'patch', state: 'queued', theirs: undefined, problem: undefined }])}
      onKeepTheirs={(e) => queued([{ ...e, body: { ...e.theirs! }, server: e.theirs, op: null, state: 'synced',
                                     theirs: undefined, problem: undefined }])} />;
  } else if (route === '/share') {
    screen = <ShareView ctx={ctx} share={share} entries={entries} start={running?.body.start_date}
      end={running?.body.ended_on ?? running?.body.end_date} day={day} />;
  } else if (route === '/outcomes') {
    screen = <OutcomesView ctx={ctx} outcomes={home?.outcomes ?? null} placements={placements} />;
  } else if (route === '/settings') {
    screen = (
      <Screen title={t('settings.title')}>
        <p>{t('settings.signed_in_as', { name: session.name })}</p>
        <LangSwitch ctx={ctx} onLang={onLang} />
        <button type="button" onClick={() => void auth.signOut()}>{t('auth.signout')}</button>
      </Screen>
    );
  } else {
    screen = (
      <Screen title={t('home.greeting', { name: session.name })}>
        {running ? <button type="button" class="primary big" onClick={() => { setEditing(null); go('/log'); }}>
          {t('home.log_today')}</button> : <p>{t('home.no_placement')}</p>}
        {attention > 0 && <p class="flag"><a href="/entries" onClick={(e) => { e.preventDefault(); go('/entries'); }}>
          {t('home.needs_you', { n: attention })}</a></p>}
        <h2>{t('home.share_title')}</h2>
        {share ? <ShareSummary ctx={ctx} share={share} end={running?.body.ended_on ?? running?.body.end_date} day={day} />
               : <p>{t('share.none')}</p>}
      </Screen>
    );
  }

  return (
    <>
      <a class="skip" href="#main">{t('app.name')}</a>
      <header class="top">
        <span class="brand">{t('app.name')}</span>
        <button type="button" class="link" onClick={() => go('/settings')}>{t('nav.settings')}</button>
      </header>
      <div class="syncbar" role="status" aria-live="polite">
        <span data-testid="last-synced">{lastSynced ? t('sync.last', { when: formatTime(lang, new Date(lastSynced)) }) : t('sync.never')}</span>
        {waiting > 0 && <span data-testid="waiting"> · {t('sync.waiting', { n: waiting })}</span>}
        {!online && <span class="warn"> · {t('sync.offline')}</span>}
        {status.kind === 'retry' && <span class="warn"> · {t('sync.server_down', { when: formatTime(lang, new Date(status.at)) })}</span>}
        {online && waiting > 0 && status.kind !== 'running' && status.kind !== 'auth' && <button type="button" class="link" onClick={() => void runSync()}>{t('sync.now')}</button>}
      </div>
      {status.kind === 'auth' && (
        <div class="banner" role="alert">
          <p>{t('auth.again')}</p>
          <button type="button" class="primary" onClick={() => void auth.signIn(lang)}>{t('auth.signin')}</button>
        </div>
      )}
      {Math.abs(skew) > CLOCK_SKEW_MS && ( // skew = server − phone: negative when the phone is fast
        <p class="banner" role="alert">{t(skew < 0 ? 'sync.clock_fast' : 'sync.clock_slow', { amount: formatSkew(lang, skew) })}</p>)}
      <main id="main">
        {notice && <p class="notice" role="status">{notice}</p>}
        {screen}
      </main>
      <nav class="tabs" aria-label={t('nav.main')}>
        {([['/', 'nav.home'], ['/entries', 'nav.entries'], ['/share', 'nav.share'], ['/outcomes', 'nav.outcomes']] as const).map(([r, k]) => (
          <a key={r} href={r} aria-current={route === r ? 'page' : undefined} onClick={(e) => { e.preventDefault(); go(r); }}>{t(k)}</a>
        ))}
      </nav>
    </>
  );
}

/** Background Sync where the browser has it: the service worker wakes this page to send the queue. */
async function requestBackgroundSync(): Promise<void> {
  try {
    const reg = await navigator.serviceWorker?.ready;
    await (reg as unknown as { sync?: { register(tag: string): Promise<void> } })?.sync?.register('werkplek-sync');
  } catch { /* not supported: the `online` event and the next start send the queue */ }
}
