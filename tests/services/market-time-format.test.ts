/** The fast New York time helpers agree with luxon everywhere, DST switches included. */
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { daysToExpiry, isIsoDate, marketDate, toMarketIso } from '../../services/market/time';

const ZONE = 'America/New_York';
const from = Date.parse('2024-01-01T00:00:00Z');
const to = Date.parse('2030-12-31T00:00:00Z');

test('toMarketIso and marketDate equal luxon for any instant 2024-2030', () => {
  fc.assert(
    fc.property(fc.integer({ min: from, max: to }), (at) => {
      const dt = DateTime.fromMillis(at, { zone: ZONE });
      expect(toMarketIso(at)).toBe(dt.toISO());
      expect(marketDate(at)).toBe(dt.toISODate());
    }),
    { numRuns: 20_000 },
  );
});

test('toMarketIso equals luxon for any instant 1884-2399 (the calendar arithmetic of its hour prefix)', () => {
  const early = Date.parse('1884-01-01T00:00:00Z');
  const late = Date.parse('2399-12-31T00:00:00Z');
  fc.assert(
    fc.property(fc.integer({ min: early, max: late }), (at) => {
      expect(toMarketIso(at)).toBe(DateTime.fromMillis(at, { zone: ZONE }).toISO());
    }),
    { numRuns: 20_000 },
  );
  // Month and year ends, leap days included, at the local midnight and the hour before it.
  for (const day of ['2024-02-29', '2024-03-01', '2100-02-28', '2100-03-01', '2000-02-29', '2026-12-31', '2027-01-01']) {
    for (const hour of ['T00:00:00.000-05:00', 'T23:59:59.999-05:00']) {
      const at = Date.parse(day + hour);
      expect(toMarketIso(at)).toBe(DateTime.fromMillis(at, { zone: ZONE }).toISO());
    }
  }
});

test('toMarketIso equals luxon for runs of nearby instants (the per-hour memo), across DST switches', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: from, max: to }),
      fc.array(fc.integer({ min: 0, max: 3 * 3_600_000 }), { minLength: 1, maxLength: 40 }),
      (base, steps) => {
        let at = base;
        for (const step of steps) {
          at += step;
          expect(toMarketIso(at)).toBe(DateTime.fromMillis(at, { zone: ZONE }).toISO());
        }
      },
    ),
    { numRuns: 2_000 },
  );
  for (let at = Date.parse('2026-03-08T06:58:59.000Z'); at < Date.parse('2026-03-08T07:01:01.000Z'); at += 997) {
    expect(toMarketIso(at)).toBe(DateTime.fromMillis(at, { zone: ZONE }).toISO());
  }
});

test('toMarketIso repeating and alternating instants (the last-instant memo: the audit formats each record twice) stays right', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: from, max: to }), { minLength: 2, maxLength: 4 }),
      fc.array(fc.nat(3), { maxLength: 30 }),
      (instants, picks) => {
        for (const pick of picks) {
          const at = instants[pick % instants.length];
          expect(toMarketIso(at)).toBe(DateTime.fromMillis(at, { zone: ZONE }).toISO());
        }
      },
    ),
    { numRuns: 1_000 },
  );
  const at = Date.parse('2026-03-02T14:30:00.125Z');
  expect(toMarketIso(at)).toBe('2026-03-02T09:30:00.125-05:00');
  expect(toMarketIso(at)).toBe('2026-03-02T09:30:00.125-05:00');
  expect(toMarketIso(at + 1)).toBe('2026-03-02T09:30:00.126-05:00');
  expect(toMarketIso(Number.NaN)).toBe('Invalid Date');
  expect(toMarketIso(at)).toBe('2026-03-02T09:30:00.125-05:00');
});

test('daysToExpiry alternating between expiries (the last-date memo) stays right', () => {
  const at = Date.parse('2026-11-27T15:00:00Z');
  for (let i = 0; i < 6; i++) {
    expect(daysToExpiry('2026-12-18', at)).toBe(21);
    expect(daysToExpiry('2027-03-19', at)).toBe(112);
    expect(daysToExpiry('2026-02-30', at)).toBeNaN();
  }
});

test.each([
  ['2026-03-08T06:59:59.999Z', '2026-03-08T01:59:59.999-05:00'],
  ['2026-03-08T07:00:00.000Z', '2026-03-08T03:00:00.000-04:00'],
  ['2026-11-01T05:59:59.999Z', '2026-11-01T01:59:59.999-04:00'],
  ['2026-11-01T06:00:00.000Z', '2026-11-01T01:00:00.000-05:00'],
])('across the DST switch: %s is %s', (utc, ny) => {
  expect(toMarketIso(Date.parse(utc))).toBe(ny);
});

test('daysToExpiry counts New York calendar days, like luxon', () => {
  fc.assert(
    fc.property(fc.integer({ min: from, max: to }), fc.integer({ min: -400, max: 400 }), (at, days) => {
      const expiry = DateTime.fromMillis(at, { zone: ZONE }).plus({ days }).toISODate()!;
      expect(daysToExpiry(expiry, at)).toBe(days);
    }),
    { numRuns: 5_000 },
  );
});

test.each([
  ['2026-02-28', true],
  ['2028-02-29', true],
  ['2026-02-29', false],
  ['2026-13-01', false],
  ['2026-1-01', false],
  ['20260101', false],
  ['', false],
])('isIsoDate(%j) is %s', (value, ok) => {
  expect(isIsoDate(value)).toBe(ok);
});

test('an instant between whole milliseconds (a simulated clock at speed 1.5) is written at its millisecond, as luxon writes it', () => {
  // Before, the milliseconds went missing: `2026-12-01T09:30:01.-05:00`.
  fc.assert(
    fc.property(fc.integer({ min: from, max: to }), fc.double({ min: 0.001, max: 0.999, noNaN: true }), (whole, part) => {
      const at = whole + part;
      expect(toMarketIso(at)).toBe(DateTime.fromMillis(Math.floor(at), { zone: ZONE }).toISO());
      expect(toMarketIso(at)).toMatch(/\.\d{3}-0[45]:00$/);
    }),
    { numRuns: 5_000 },
  );
  expect(toMarketIso(Date.parse('2026-12-01T09:30:01.000-05:00') + 0.5)).toBe('2026-12-01T09:30:01.000-05:00');
  expect(toMarketIso(-0.5)).toBe(DateTime.fromMillis(-1, { zone: ZONE }).toISO());
});
