// The share's status in plain language: how far the confirmed hours are from the target for today,
// and how many more confirmed hours a week close the gap by the end of the placement.
import { weeksBetween } from './dates';
import type { Share } from './types';

export interface Explanation { onTrack: boolean; gapHours: number; perWeekHours: number | null; pendingHours: number }

export function explain(share: Share, endDate: string | undefined, day: string): Explanation {
  const gap = Math.max(0, share.target_to_date_minutes - share.confirmed_minutes) / 60;
  const weeks = endDate ? weeksBetween(day, endDate) : 0;
  return {
    onTrack: gap === 0,
    gapHours: Math.round(gap),
    perWeekHours: endDate && weeks >= 1 ? Math.max(1, Math.round(gap / weeks)) : null,
    pendingHours: Math.round(share.pending_minutes / 60),
  };
}

/** Points of the chart: cumulative confirmed hours per work date, and the target line from the
 *  placement's start (0) to today's target. */
export function chartPoints(confirmed: { work_date: string; duration_minutes?: number | null }[],
                            start: string, day: string, targetMinutes: number) {
  const byDay = new Map<string, number>();
  for (const e of confirmed) byDay.set(e.work_date, (byDay.get(e.work_date) ?? 0) + (e.duration_minutes ?? 0));
  let total = 0;
  const days = [...byDay.entries()].filter(([d]) => d >= start).sort(([a], [b]) => a.localeCompare(b));
  // from the placement's start at 0, one step per work date, held until today
  const series = [{ day: start, hours: 0 }, ...days.map(([d, m]) => ({ day: d, hours: (total += m) / 60 }))];
  if (series.length > 1) series.push({ day, hours: total / 60 });
  return { series, target: [{ day: start, hours: 0 }, { day, hours: targetMinutes / 60 }] };
}
