import { useState } from 'preact/hooks';
import { minutesBetween } from '../lib/dates';
import { ACTIVITIES, type Activity, type EntryBody, type Placement } from '../lib/types';
import type { Draft } from '../lib/queue';
import { Screen, type Ctx } from './common';

interface Props {
  ctx: Ctx;
  placements: Placement[];
  initial: Draft;
  editing?: EntryBody;
  onSave: (d: Draft) => Promise<string | null>; // an error message, or null
  onCancel: () => void;
}

/** Prefilled with today, the running placement, the last duration and activity: "Save" is the
 *  second tap of the common case. */
export function LogForm({ ctx, placements, initial, editing, onSave, onCancel }: Props) {
  const { t } = ctx;
  const [d, setD] = useState<Draft>(initial);
  const [mode, setMode] = useState<'duration' | 'times'>(initial.start_time ? 'times' : 'duration');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const placement = placements.find((p) => p.id === d.placement_id);
  const outcomes = placement?.body.learning_agreement?.outcomes ?? [];
  const set = (patch: Partial<Draft>) => setD({ ...d, ...patch });

  async function submit(ev: Event) {
    ev.preventDefault();
    let draft: Draft;
    if (mode === 'times') {
      if (!d.start_time || !d.end_time || minutesBetween(d.start_time, d.end_time) <= 0) return setError(t('log.invalid_times'));
      draft = { ...d, duration_minutes: null };
    } else {
      const m = d.duration_minutes ?? 0;
      if (!(m > 0 && m <= 24 * 60)) return setError(t('log.invalid_hours'));
      draft = { ...d, start_time: null, end_time: null };
    }
    setBusy(true);
    setError(await onSave(draft));
    setBusy(false);
  }

  return (
    <Screen title={editing ? t('log.edit_title') : t('log.title')}>
      <form onSubmit={submit} class="form" noValidate>
        <label>{t('log.date')}
          <input type="date" value={d.work_date} required onInput={(e) => set({ work_date: e.currentTarget.value })} />
        </label>
        {placements.length > 1 && (
          <label>{t('log.placement')}
            <select value={d.placement_id} onChange={(e) => set({ placement_id: e.currentTarget.value })}>
              {placements.map((p) => <option key={p.id} value={p.id}>{p.body.workplace_id}</option>)}
            </select>
          </label>
        )}
        <fieldset class="segmented">
          <legend>{t('log.mode')}</legend>
          <div class="seg">
            {(['duration', 'times'] as const).map((m) => (
              <label key={m} class={mode === m ? 'on' : ''}>
                <input type="radio" name="mode" checked={mode === m} onChange={() => setMode(m)} />
                {t(m === 'duration' ? 'log.mode_duration' : 'log.mode_times')}
              </label>
            ))}
          </div>
        </fieldset>
        {mode === 'duration' ? (
          <label>{t('log.hours')}
            <input type="number" inputMode="decimal" min="0.25" max="24" step="0.25"
              value={d.duration_minutes ? d.duration_minutes / 60 : ''}
              onInput={(e) => set({ duration_minutes: Math.round(Number(e.currentTarget.value.replace(',', '.')) * 60) })} />
          </label>
        ) : (
          <div class="row">
            <label>{t('log.start')}
              <input type="time" value={d.start_time ?? ''} onInput={(e) => set({ start_time: e.currentTarget.value })} />
            </label>
            <label>{t('log.end')}
              <input type="time" value={d.end_time ?? ''} onInput={(e) => set({ end_time: e.currentTarget.value })} />
            </label>
          </div>
        )}
        <label>{t('log.activity')}
          <select value={d.activity} onChange={(e) => set({ activity: e.currentTarget.value as Activity })}>
            {ACTIVITIES.map((a) => <option key={a} value={a}>{t(`activity.${a}`)}</option>)}
          </select>
        </label>
        {outcomes.length > 0 && (
          <fieldset class="checks">
            <legend>{t('log.outcomes')}</legend>
            {outcomes.map((o) => (
              <label key={o.outcome_id}>
                <input type="checkbox" checked={d.outcome_ids.includes(o.outcome_id)}
                  onChange={(e) => set({ outcome_ids: e.currentTarget.checked ? [...d.outcome_ids, o.outcome_id]
                                                     : d.outcome_ids.filter((x) => x !== o.outcome_id) })} />
                {o.title}
              </label>
            ))}
          </fieldset>
        )}
        <label>{t('log.note')}
          <input type="text" maxLength={500} value={d.description} onInput={(e) => set({ description: e.currentTarget.value })} />
        </label>
        <div class="actions sticky">
          {error && <p role="alert" class="error">{error}</p>}{/* beside Save: never hidden under the sticky bar */}
          <button type="submit" class="primary" disabled={busy}>{t('log.save')}</button>
          <button type="button" onClick={onCancel}>{t('log.cancel')}</button>
        </div>
      </form>
    </Screen>
  );
}
