// The catalogues and the student's locale: dates, numbers and durations formatted with Intl.
import { en } from './en';
import { nl, type Key } from './nl';

export type Lang = 'nl' | 'en';
export type { Key };
const catalogues: Record<Lang, Record<Key, string>> = { nl, en };
const LANG_KEY = 'werkplek.lang';

export function initialLang(): Lang {
  const saved = globalThis.localStorage?.getItem(LANG_KEY); // a preference, never a token
  if (saved === 'nl' || saved === 'en') return saved;
  return 'nl'; // Dutch is the default, whatever the browser says
}

export function saveLang(lang: Lang): void {
  globalThis.localStorage?.setItem(LANG_KEY, lang);
}

export type T = (key: Key, params?: Record<string, string | number>) => string;

export function translator(lang: Lang): T {
  const cat = catalogues[lang];
  return (key, params) => cat[key].replace(/\{(\w+)\}/g, (_, name: string) => String(params?.[name] ?? `{${name}}`));
}

export const locale = (lang: Lang): string => (lang === 'nl' ? 'nl-BE' : 'en-GB');

export function formatHours(lang: Lang, minutes: number): string {
  return new Intl.NumberFormat(locale(lang), { maximumFractionDigits: 1 }).format(minutes / 60);
}

export function formatDuration(lang: Lang, minutes: number): string {
  const t = translator(lang);
  const h = Math.floor(minutes / 60), m = minutes % 60;
  return m ? t('duration.hm', { h, m }) : t('duration.h', { h });
}

export function formatDate(lang: Lang, iso: string): string {
  return new Intl.DateTimeFormat(locale(lang), { weekday: 'short', day: 'numeric', month: 'short' })
    .format(new Date(`${iso}T12:00:00`));
}

export function formatLongDate(lang: Lang, iso: string): string {
  return new Intl.DateTimeFormat(locale(lang), { day: 'numeric', month: 'long', year: 'numeric' })
    .format(new Date(`${iso}T12:00:00`));
}

export function formatTime(lang: Lang, when: Date): string {
  return new Intl.DateTimeFormat(locale(lang), { dateStyle: 'short', timeStyle: 'short' }).format(when);
}

export function formatPercent(lang: Lang, ratio: number): string {
  return new Intl.NumberFormat(locale(lang), { style: 'percent', maximumFractionDigits: 1 }).format(ratio);
}

/** How far the phone's clock is off, in the largest whole unit: "12 minuten", "3 uur", "2 dagen". */
export function formatSkew(lang: Lang, ms: number): string {
  const minutes = Math.round(Math.abs(ms) / 60_000);
  const [unit, n] = minutes < 120 ? ['minute', minutes] as const
    : minutes < 48 * 60 ? ['hour', Math.round(minutes / 60)] as const : ['day', Math.round(minutes / 1440)] as const;
  return new Intl.NumberFormat(locale(lang), { style: 'unit', unit, unitDisplay: 'long' }).format(n);
}
