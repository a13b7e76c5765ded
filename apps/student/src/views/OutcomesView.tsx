import { formatDate } from '../i18n';
import type { Outcomes, Placement } from '../lib/types';
import { Screen, type Ctx } from './common';

export function OutcomesView({ ctx, outcomes, placements }: { ctx: Ctx; outcomes: Outcomes | null; placements: Placement[] }) {
  const { t, lang } = ctx;
  const titles = new Map(placements.flatMap((p) => p.body.learning_agreement?.outcomes ?? []).map((o) => [o.outcome_id, o.title]));
  if (!outcomes) {
    const agreed = placements.flatMap((p) => p.body.learning_agreement?.outcomes ?? []);
    return (
      <Screen title={t('outcomes.title')}>
        <p>{t('outcomes.none')}</p>
        <ul class="outcomes">
          {agreed.map((o) => (
            <li key={o.outcome_id}>
              <strong>{o.title}</strong>
              <span class="muted"> · {t(`outcomes.kind.${o.kind}` as never)}</span><br />
              {t('outcomes.never')}
            </li>
          ))}
        </ul>
      </Screen>
    );
  }
  return (
    <Screen title={t('outcomes.title')}>
      <h2>{t('outcomes.coverage')}</h2>
      <dl class="facts">
        {(['knowledge', 'skill', 'attitude'] as const).map((k) => {
          const c = outcomes.coverage[k] ?? { agreed: 0, assessed: 0, achieved: 0 };
          return <div key={k}><dt>{t(`outcomes.kind.${k}`)}</dt><dd>{t('outcomes.counts', c as never)}</dd></div>;
        })}
      </dl>
      <ul class="outcomes">
        {outcomes.outcomes.map((o) => (
          <li key={o.outcome_id}>
            <strong>{titles.get(o.outcome_id) ?? o.outcome_id}</strong>
            <span class="muted"> · {t(`outcomes.kind.${o.kind}` as never)}</span><br />
            {o.latest_level ? `${t(`level.${o.latest_level}` as never)}${o.assessed_on ? ` · ${formatDate(lang, o.assessed_on)}` : ''}`
                            : t('outcomes.never')}
          </li>
        ))}
      </ul>
    </Screen>
  );
}
