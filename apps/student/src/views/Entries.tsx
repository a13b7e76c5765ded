import { canChange, shownStatus } from '../lib/queue';
import { REJECTION_REASONS, type LocalEntry, type RejectionReason } from '../lib/types';
import { EntrySummary, Reasons, Screen, StatusBadge, type Ctx } from './common';

interface Props {
  ctx: Ctx;
  entries: LocalEntry[];
  onEdit: (e: LocalEntry) => void;
  onWithdraw: (e: LocalEntry) => void;
  onKeepMine: (e: LocalEntry) => void;
  onKeepTheirs: (e: LocalEntry) => void;
}

export function Entries({ ctx, entries, onEdit, onWithdraw, onKeepMine, onKeepTheirs }: Props) {
  const { t } = ctx;
  const sorted = [...entries].sort((a, b) => b.body.work_date.localeCompare(a.body.work_date)
    || b.entry_id.localeCompare(a.entry_id));
  return (
    <Screen title={t('entries.title')}>
      {sorted.length === 0 && <p>{t('entries.empty')}</p>}
      <ul class="entries">
        {sorted.map((e) => {
          const status = shownStatus(e);
          return (
            <li key={e.entry_id} class={`entry entry-${status}`} data-entry-id={e.entry_id}>
              <div class="entry-head"><EntrySummary ctx={ctx} body={e.body} /><StatusBadge ctx={ctx} entry={e} /></div>
              {status === 'refused' && (
                <div class="flag" role="note">
                  <Reasons ctx={ctx} problem={e.problem} />
                  <p>{t('refusal.what_to_do')}</p>
                </div>
              )}
              {status === 'rejected' && <Rejection ctx={ctx} entry={e} />}
              {status === 'conflict' && e.theirs && (
                <div class="flag" role="note">
                  <p>{t('conflict.title')}</p>
                  <p><strong>{t('conflict.mine')}:</strong> <EntrySummary ctx={ctx} body={e.body} /></p>
                  <p><strong>{t('conflict.theirs')}:</strong> <EntrySummary ctx={ctx} body={e.theirs} /></p>
                  <div class="actions">
                    <button type="button" class="primary" onClick={() => onKeepMine(e)}>{t('conflict.keep_mine')}</button>
                    <button type="button" onClick={() => onKeepTheirs(e)}>{t('conflict.keep_theirs')}</button>
                  </div>
                </div>
              )}
              {!canChange(e) && e.server?.status === 'confirmed' && <p class="muted">{t('entries.readonly')}</p>}
              {canChange(e) && e.state !== 'sending' && status !== 'withdrawn' && status !== 'conflict' && (
                <div class="actions">
                  <button type="button" onClick={() => onEdit(e)}>
                    {status === 'refused' ? t('entries.resend') : t('entries.edit')}
                  </button>
                  <button type="button" onClick={() => onWithdraw(e)}>{t('entries.withdraw')}</button>
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </Screen>
  );
}

/** Why the mentor rejected the entry (a sentence per reason code, the comment quoted) and what to do. */
function Rejection({ ctx, entry }: { ctx: Ctx; entry: LocalEntry }) {
  const { t } = ctx;
  const rejection = entry.server?.rejection;
  const code = rejection?.reason;
  const reason: RejectionReason = REJECTION_REASONS.find((r) => r === code) ?? 'other'; // a newer code: the general sentence
  return (
    <div class="flag" role="note">
      <p class="rejection-reason">{t(`rejection.reason.${reason}` as const)}</p>
      {rejection?.comment && (
        <figure class="rejection-comment">
          <figcaption>{t('rejection.comment')}</figcaption>
          <blockquote>{rejection.comment}</blockquote>
        </figure>
      )}
      <p>{t('rejection.what_to_do')}</p>
    </div>
  );
}
