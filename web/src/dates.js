// Calendar dates as the API writes them (`YYYY-MM-DD`, JST wall-clock), shown the way people
// read them: 「12月8日（火）」, 「14:00」. No time zone arithmetic: a date string is a date.

import { getLang, t, addStrings } from './i18n.js';

addStrings({
  wdShort0: ['日', 'Sun'], wdShort1: ['月', 'Mon'], wdShort2: ['火', 'Tue'], wdShort3: ['水', 'Wed'],
  wdShort4: ['木', 'Thu'], wdShort5: ['金', 'Fri'], wdShort6: ['土', 'Sat'],
  nextDate: ['次回: {d}', 'Next: {d}'],
});

const MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n) => String(n).padStart(2, '0');

/** `YYYY-MM-DD` → {y, m (1–12), d}, or null. */
export function parseDate(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(s || ''));
  return m ? { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]) } : null;
}

export function isoDate(y, m, d) {
  // Normalises overflow (day 0, month 13) the way Date does, without a time zone.
  const u = new Date(Date.UTC(y, m - 1, d));
  return `${u.getUTCFullYear()}-${pad(u.getUTCMonth() + 1)}-${pad(u.getUTCDate())}`;
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(s) {
  const p = parseDate(s);
  return p ? new Date(Date.UTC(p.y, p.m - 1, p.d)).getUTCDay() : 0;
}

export function addDays(s, n) {
  const p = parseDate(s);
  return isoDate(p.y, p.m, p.d + n);
}

/** Today in Japan (the dates of the API are JST). */
export function todayJst() {
  const u = new Date(Date.now() + 9 * 3600 * 1000);
  return `${u.getUTCFullYear()}-${pad(u.getUTCMonth() + 1)}-${pad(u.getUTCDate())}`;
}

/** 「12月8日（火）」 / "Tue 8 Dec"; with the year when `year` is set. */
export function dayLabel(s, { year = false } = {}) {
  const p = parseDate(s);
  if (!p) return String(s || '');
  const w = t(`wdShort${weekday(s)}`);
  if (getLang() === 'en') return `${w} ${p.d} ${MONTHS_EN[p.m - 1]}${year ? ` ${p.y}` : ''}`;
  return `${year ? `${p.y}年` : ''}${p.m}月${p.d}日（${w}）`;
}

/** 「2026年12月」 / "December 2026" for `YYYY-MM`. */
export function monthLabel(ym) {
  const [y, m] = ym.split('-').map(Number);
  if (getLang() === 'en') return new Date(Date.UTC(y, m - 1, 1)).toLocaleString('en', { month: 'long', year: 'numeric', timeZone: 'UTC' });
  return `${y}年${m}月`;
}

/** `HH:MM` of an RFC 3339 time (`2026-12-08T14:00:00+09:00`) or of `14:00`, without a leading zero hour. */
export function clock(s) {
  const m = /(?:T|^)(\d{2}):(\d{2})/.exec(String(s || ''));
  return m ? `${Number(m[1])}:${m[2]}` : '';
}

/** 「次回: 12月8日（火） 14:00」 for a patient group: its `next_date` and, when known, the time. */
export function nextDateText(date, from) {
  if (!date) return '';
  return t('nextDate', { d: `${dayLabel(date)}${from ? ` ${clock(from)}` : ''}` });
}

/**
 * A moment the API names (`next_open`): an RFC 3339 time as 「12月8日（火） 8:30」,
 * anything else as written.
 */
export function momentText(s) {
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(String(s || ''))) return `${dayLabel(s)} ${clock(s)}`;
  return String(s || '');
}
