import { DateTime } from 'luxon';

/** The exchange time zone: every session, window and DTE is counted in it. */
export const MARKET_ZONE = 'America/New_York';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/**
 * New York's UTC offset (minutes) per UTC hour. America/New_York changes offset only at 02:00
 * local time, which is always on a UTC hour boundary, so one luxon look-up per hour is exact.
 * A pure memo (bounded), shared because the zone rules are the same for everyone.
 */
const offsetByHour = new Map<number, number>();

/** New York's offset from UTC at `at`, in minutes (-300 in winter, -240 in summer). */
export function marketOffsetMinutes(at: number): number {
  const hour = Math.floor(at / HOUR_MS);
  let offset = offsetByHour.get(hour);
  if (offset === undefined) {
    offset = DateTime.fromMillis(hour * HOUR_MS, { zone: MARKET_ZONE }).offset;
    if (offsetByHour.size >= 100_000) offsetByHour.clear();
    offsetByHour.set(hour, offset);
  }
  return offset;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * The local `yyyy-MM-ddTHH:` and the `-05:00` suffix of the last UTC hour formatted. New York's
 * offset is a whole number of hours, so a UTC hour is one local hour: minutes, seconds and
 * milliseconds are the same in both, and only the hour's two strings need a Date.
 */
let memoHour = NaN;
let memoPrefix = '';
let memoSuffix = '';

const TWO_DIGITS: readonly string[] = Array.from({ length: 60 }, (_, n) => (n < 10 ? `0${n}` : String(n)));
const THREE_DIGITS: readonly string[] = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));

/**
 * The last instant formatted and its text: a record's timestamp is formatted when the audit writes
 * it and again when the audit window packs it (to leave out a timestamp it can make again), and
 * the second call finds the first one's string here, with nothing to build.
 */
let lastAt = NaN;
let lastIso = '';

/** `at` (epoch ms) as an ISO 8601 string in New York time, with its offset. */
export function toMarketIso(at: number): string {
  if (at === lastAt) return lastIso;
  if (!Number.isFinite(at)) return new Date(NaN).toString();
  // A clock between whole milliseconds (a simulated clock at speed 1.5) is written at the millisecond it is in.
  if (!Number.isInteger(at)) return toMarketIso(Math.floor(at));
  const hour = Math.floor(at / HOUR_MS);
  if (hour !== memoHour) {
    const offset = marketOffsetMinutes(at);
    // Before 1883 New York kept local mean time (-4:56:02): not a whole hour, no shortcut.
    if (offset % 60 !== 0) return slowMarketIso(at, offset);
    memoHour = hour;
    memoPrefix = localHourPrefix(hour + offset / 60); // 2026-12-04T11:
    memoSuffix = offset === -300 ? '-05:00' : offset === -240 ? '-04:00' : offsetSuffix(offset);
  }
  const ms = at - hour * HOUR_MS; // 0..3599999
  const minutes = Math.floor(ms / 60_000);
  const rest = ms - minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  // One flat string: `+` would build six cons strings (~190 bytes), and every record keeps its timestamp.
  lastIso = [memoPrefix, TWO_DIGITS[minutes], ':', TWO_DIGITS[seconds], '.', THREE_DIGITS[rest - seconds * 1000], memoSuffix].join('');
  lastAt = at;
  return lastIso;
}

/**
 * `yyyy-MM-ddTHH:` of a local hour (hours since the epoch, shifted to local time), by calendar
 * arithmetic (H. Hinnant's days-to-civil): consecutive records rarely share an hour, and a `Date`
 * with its ISO string per record cost more than the rest of the timestamp.
 */
function localHourPrefix(localHour: number): string {
  const days = Math.floor(localHour / 24);
  const h = localHour - days * 24;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  // Outside four-digit years the ISO form changes (+010000-...): Date writes it.
  if (y < 0 || y > 9999) return new Date(localHour * HOUR_MS).toISOString().slice(0, -10);
  return `${y < 1000 ? String(y).padStart(4, '0') : y}-${TWO_DIGITS[m]}-${TWO_DIGITS[d]}T${TWO_DIGITS[h]}:`;
}

function slowMarketIso(at: number, offset: number): string {
  return new Date(at + offset * 60_000).toISOString().slice(0, 23) + offsetSuffix(offset);
}

/** `-05:00` for an offset of -300 minutes. */
function offsetSuffix(offset: number): string {
  const abs = Math.abs(offset);
  return `${offset < 0 ? '-' : '+'}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

/** The New York calendar date (`yyyy-MM-dd`) of `at`. */
export function marketDate(at: number): string {
  return new Date(at + marketOffsetMinutes(at) * 60_000).toISOString().slice(0, 10);
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

let lastDayText = '';
let lastDay = NaN;

/** Days since the epoch of a `yyyy-MM-dd` date, or NaN when it is not a real date (the last answer is kept: guards ask about one expiry again and again). */
function epochDay(value: string): number {
  if (value === lastDayText) return lastDay;
  const day = parseEpochDay(value);
  lastDayText = value;
  lastDay = day;
  return day;
}

function parseEpochDay(value: string): number {
  const match = ISO_DATE.exec(value);
  if (!match) return NaN;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const ms = Date.UTC(year, month - 1, day);
  const check = new Date(ms);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return NaN;
  return ms / DAY_MS;
}

/** True when `value` is a real calendar date written `yyyy-MM-dd`. */
export function isIsoDate(value: unknown): value is string {
  return typeof value === 'string' && !Number.isNaN(epochDay(value));
}

/**
 * Days to expiry as options traders count them: whole calendar days from the New York date
 * of `at` to the expiry date (an option expiring today has DTE 0).
 */
export function daysToExpiry(expiry: string, at: number): number {
  const today = Math.floor((at + marketOffsetMinutes(at) * 60_000) / DAY_MS);
  return epochDay(expiry) - today;
}

/** A duration written the way the audit trail shows it: `5m0s`, `1h30m0s`, `0s`. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}
