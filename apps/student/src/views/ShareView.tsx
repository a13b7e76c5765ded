import { formatHours, formatLongDate, formatPercent } from '../i18n';
import { chartPoints, explain } from '../lib/explain';
import type { LocalEntry, Share } from '../lib/types';
import { Screen, type Ctx } from './common';

export function ShareSummary({ ctx, share, end, day }: { ctx: Ctx; share: Share; end?: string; day: string }) {
  const { t, lang } = ctx;
  const x = explain(share, end, day);
  return (
    <div class="share-summary">
      <p class="big"><span class={`status status-${share.status}`} data-status={share.status}>
        {t(`share.status.${share.status}`)}</span>{' '}
        <span data-testid="real-share" data-value={share.real_share}>{formatPercent(lang, Number(share.real_share))}</span>
      </p>
      <p data-testid="explanation">
        {x.onTrack ? t('share.explain.on_track')
          : x.perWeekHours !== null && end
            ? t('share.explain.gap', { gap: x.gapHours, end: formatLongDate(lang, end), perWeek: x.perWeekHours })
            : t('share.explain.gap_no_end', { gap: x.gapHours })}
        {x.pendingHours > 0 && ` ${t('share.explain.pending', { pending: x.pendingHours })}`}
      </p>
    </div>
  );
}

function Chart({ ctx, entries, start, day, share }: { ctx: Ctx; entries: LocalEntry[]; start: string; day: string; share: Share }) {
  const { t } = ctx;
  const confirmed = entries.filter((e) => e.server?.status === 'confirmed').map((e) => e.server!);
  const { series, target } = chartPoints(confirmed, start, day, share.target_to_date_minutes);
  const t0 = Date.parse(start), t1 = Math.max(Date.parse(day), t0 + 86_400_000);
  const maxH = Math.max(1, target[1].hours, ...series.map((p) => p.hours));
  const X = (d: string) => 8 + ((Date.parse(d) - t0) / (t1 - t0)) * 304, Y = (h: number) => 112 - (h / maxH) * 100;
  const path = series.map((p, i) => `${i ? 'L' : 'M'}${X(p.day).toFixed(1)},${Y(p.hours).toFixed(1)}`).join(' ');
  return (
    <figure class="chart">
      <svg viewBox="0 0 320 120" role="img" aria-label={t('share.chart')}>
        <line x1="8" y1="112" x2="312" y2="112" class="axis" />
        <line x1={X(target[0].day)} y1={Y(0)} x2={X(target[1].day)} y2={Y(target[1].hours)} class="target" />
        {path && <path d={path} class="confirmed" />}
      </svg>
      <figcaption><span class="key key-confirmed" /> {t('share.chart_confirmed')} <span class="key key-target" /> {t('share.chart_target')}</figcaption>
    </figure>
  );
}

export function ShareView({ ctx, share, entries, start, end, day }:
    { ctx: Ctx; share: Share | null; entries: LocalEntry[]; start?: string; end?: string; day: string }) {
  const { t, lang } = ctx;
  if (!share) return <Screen title={t('share.title')}><p>{t('share.none')}</p></Screen>;
  const h = (m: number) => t('duration.h', { h: formatHours(lang, m) });
  const rows: [string, string][] = [
    [t('share.confirmed'), h(share.confirmed_minutes)],
    [t('share.pending'), h(share.pending_minutes)],
    [t('share.planned'), h(share.planned_minutes)],
    [t('share.target'), h(share.target_to_date_minutes)],
    [t('share.projection'), formatPercent(lang, Number(share.projected_share))],
  ];
  return (
    <Screen title={t('share.title')}>
      <ShareSummary ctx={ctx} share={share} end={end} day={day} />
      {start && <Chart ctx={ctx} entries={entries} start={start} day={day} share={share} />}
      <dl class="facts">{rows.map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{v}</dd></div>)}</dl>
      {share.per_phase.length > 0 && (
        <>
          <h2>{t('share.per_phase')}</h2>
          <dl class="facts">{share.per_phase.map((p) => (
            <div key={p.phase}><dt>{t('share.phase', { n: p.phase })}</dt><dd>{formatPercent(lang, Number(p.share))}</dd></div>
          ))}</dl>
        </>
      )}
    </Screen>
  );
}
