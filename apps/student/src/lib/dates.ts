// Local dates and the running placement.
import type { Placement } from './types';

export function today(now: Date = new Date()): string {
  const y = now.getFullYear(), m = String(now.getMonth() + 1).padStart(2, '0'), d = String(now.getDate()).padStart(2, '0');
  return `${y}-${m}-${d}`;
}

/** The placement running on `day` (not ended before it), else the latest one that started. */
export function runningPlacement(placements: Placement[], day: string): Placement | undefined {
  const live = placements.filter((p) => p.body.start_date <= day && day <= (p.body.ended_on ?? p.body.end_date));
  return live[0] ?? undefined;
}

export function minutesBetween(start: string, end: string): number {
  const [sh, sm] = start.split(':').map(Number), [eh, em] = end.split(':').map(Number);
  return eh * 60 + em - (sh * 60 + sm);
}

export function weeksBetween(from: string, to: string): number {
  return (Date.parse(`${to}T12:00:00Z`) - Date.parse(`${from}T12:00:00Z`)) / (7 * 86_400_000);
}
