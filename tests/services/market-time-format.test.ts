/** The fast New York time helpers agree with luxon everywhere, DST switches included. */
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { daysToExpiry, isIsoDate, marketDate, toMarketIso } from '../../services/time';

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
