import type { ComponentChildren } from 'preact';
import { formatDate, formatDuration, type Lang, type T } from '../i18n';
import { reasonsOf, shownStatus } from '../lib/queue';
import type { EntryBody, LocalEntry, Problem } from '../lib/types';

export interface Ctx { t: T; lang: Lang }

export function Screen({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section aria-labelledby="screen-title">
      <h1 id="screen-title" tabIndex={-1}>{title}</h1>
      {children}
    </section>
  );
}

export function Reasons({ ctx, problem }: { ctx: Ctx; problem?: Problem }) {
  const { t } = ctx;
  return (
    <ul class="reasons">
      {reasonsOf(problem).map((r) => {
        const key = `reason.${r}` as const;
        const known = (t as (k: string) => string)(key) !== key && r !== 'other';
        return <li key={r}>{known ? t(key as never) : t('reason.other', { detail: problem?.detail ?? problem?.title ?? '' })}</li>;
      })}
    </ul>
  );
}

export function entryDuration(b: EntryBody): number {
  if (b.duration_minutes) return b.duration_minutes;
  if (b.start_time && b.end_time) {
    const [sh, sm] = b.start_time.split(':').map(Number), [eh, em] = b.end_time.split(':').map(Number);
    return eh * 60 + em - sh * 60 - sm;
  }
  return 0;
}

export function EntrySummary({ ctx, body }: { ctx: Ctx; body: EntryBody }) {
  const { t, lang } = ctx;
  const span = body.start_time && body.end_time ? ` · ${body.start_time}–${body.end_time}` : '';
  return (
    <span>
      <strong>{formatDate(lang, body.work_date)}</strong> · {formatDuration(lang, entryDuration(body))}{span}
      {' · '}{t(`activity.${body.activity}`)}{body.description ? ` · ${body.description}` : ''}
    </span>
  );
}

export function StatusBadge({ ctx, entry }: { ctx: Ctx; entry: LocalEntry }) {
  const s = shownStatus(entry);
  return <span class={`badge badge-${s}`}>{ctx.t(`status.${s}` as never)}</span>;
}
