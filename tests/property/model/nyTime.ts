/**
 * New York calendar arithmetic for the reference model, written with Intl (not the library's
 * luxon helpers) so the model's DTE, entry-window and circuit-breaker days are independent.
 */
const ZONE = 'America/New_York';
const DAY_MS = 86_400_000;

const dateParts = new Intl.DateTimeFormat('en-US', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });
const clockParts = new Intl.DateTimeFormat('en-US', {
  timeZone: ZONE,
  weekday: 'short',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

let lastAt = NaN;
let lastDate = '';

/** The New York calendar date of `at`, `yyyy-MM-dd`. */
export function nyDate(at: number): string {
  if (at === lastAt) return lastDate;
  const p: Record<string, string> = {};
  for (const part of dateParts.formatToParts(at)) p[part.type] = part.value;
  lastAt = at;
  lastDate = `${p.year}-${p.month}-${p.day}`;
  return lastDate;
}

/** New York weekday (`Mon`..`Sun`) and minute of the day of `at`. */
export function nyClock(at: number): { weekday: string; minute: number } {
  const p: Record<string, string> = {};
  for (const part of clockParts.formatToParts(at)) p[part.type] = part.value;
  return { weekday: p.weekday, minute: Number(p.hour) * 60 + Number(p.minute) };
}

function utcOf(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return Date.UTC(y, m - 1, d);
}

/** Whole calendar days from `from` to `to` (both `yyyy-MM-dd`). */
export function daysBetween(from: string, to: string): number {
  return Math.round((utcOf(to) - utcOf(from)) / DAY_MS);
}

/** `date` plus `days` calendar days. */
export function addDays(date: string, days: number): string {
  return new Date(utcOf(date) + days * DAY_MS).toISOString().slice(0, 10);
}

/** DTE as traders count it: calendar days from the New York date of `at` to `expiry`. */
export function dteAt(expiry: string, at: number): number {
  return daysBetween(nyDate(at), expiry);
}

/** The first instant of the New York day after the one containing `at`. */
export function nextNyMidnight(at: number): number {
  const next = addDays(nyDate(at), 1);
  // New York is UTC-5 or UTC-4: one of the two candidates is its midnight.
  for (const offsetHours of [5, 4]) {
    const candidate = utcOf(next) + offsetHours * 3_600_000;
    if (nyDate(candidate) === next && nyDate(candidate - 1) !== next) return candidate;
  }
  throw new Error(`no New York midnight found after ${new Date(at).toISOString()}`);
}
