import { CalendarRangeError, marketCalendar, type MarketSession } from '../../services/market/marketCalendar';

const cal = marketCalendar;
const iso = (ms: number): string => new Date(ms).toISOString();
const sessionOrFail = (date: string): MarketSession => {
  const s = cal.session(date);
  if (!s) throw new Error(`expected a session on ${date}`);
  return s;
};

// ---------------------------------------------------------------------------------------------
// An independent implementation of NYSE's holiday rules, using plain UTC `Date` arithmetic (no
// luxon, nothing shared with the module), so a typo in the module's explicit table fails a test.
// ---------------------------------------------------------------------------------------------
const pad = (n: number): string => String(n).padStart(2, '0');
const ymd = (y: number, m: number, d: number): string => {
  const t = new Date(Date.UTC(y, m - 1, d));
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
};
/** 0 = Sunday ... 6 = Saturday. */
const dow = (y: number, m: number, d: number): number => new Date(Date.UTC(y, m - 1, d)).getUTCDay();
const nthWeekday = (y: number, m: number, weekday: number, n: number): number => 1 + ((weekday - dow(y, m, 1) + 7) % 7) + 7 * (n - 1);
const lastWeekday = (y: number, m: number, weekday: number): number => {
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return last - ((dow(y, m, last) - weekday + 7) % 7);
};
/** Easter Sunday, anonymous Gregorian algorithm (Meeus/Jones/Butcher). */
function easter(y: number): [number, number] {
  const a = y % 19,
    b = Math.floor(y / 100),
    c = y % 100,
    d = Math.floor(b / 4),
    e = b % 4;
  const f = Math.floor((b + 8) / 25),
    g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30,
    i = Math.floor(c / 4),
    k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7,
    m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  return [month, ((h + l - 7 * m + 114) % 31) + 1];
}

function ruleClosures(y: number): Map<string, string> {
  const out = new Map<string, string>();
  const fixed = (m: number, d: number, name: string, saturdayToFriday = true): void => {
    const wd = dow(y, m, d);
    if (wd === 6) {
      if (saturdayToFriday) out.set(ymd(y, m, d - 1), `${name} (observed)`);
    } else if (wd === 0) out.set(ymd(y, m, d + 1), `${name} (observed)`);
    else out.set(ymd(y, m, d), name);
  };
  fixed(1, 1, "New Year's Day", false); // NYSE: a Saturday Jan 1 is not observed on Dec 31
  out.set(ymd(y, 1, nthWeekday(y, 1, 1, 3)), 'Martin Luther King Jr. Day');
  out.set(ymd(y, 2, nthWeekday(y, 2, 1, 3)), "Washington's Birthday");
  const [em, ed] = easter(y);
  out.set(ymd(y, em, ed - 2), 'Good Friday');
  out.set(ymd(y, 5, lastWeekday(y, 5, 1)), 'Memorial Day');
  fixed(6, 19, 'Juneteenth National Independence Day');
  fixed(7, 4, 'Independence Day');
  out.set(ymd(y, 9, nthWeekday(y, 9, 1, 1)), 'Labor Day');
  out.set(ymd(y, 11, nthWeekday(y, 11, 4, 4)), 'Thanksgiving Day');
  fixed(12, 25, 'Christmas Day');
  return out;
}

/** One-off closures, which no rule produces. */
const SPECIAL_CLOSURES: Record<string, string> = {
  '2025-01-09': 'National Day of Mourning for President Jimmy Carter',
};

function ruleEarlyCloses(y: number, closures: Map<string, string>): Set<string> {
  const out = new Set<string>();
  const ifMonToThuOpen = (m: number, d: number): void => {
    const wd = dow(y, m, d);
    if (wd >= 1 && wd <= 4 && !closures.has(ymd(y, m, d))) out.add(ymd(y, m, d));
  };
  ifMonToThuOpen(7, 3);
  out.add(ymd(y, 11, nthWeekday(y, 11, 4, 4) + 1));
  ifMonToThuOpen(12, 24);
  return out;
}

describe('marketCalendar table vs. independently computed NYSE rules', () => {
  it.each([2025, 2026, 2027, 2028])('%i: every day of the year matches the rules', (y) => {
    const closures = ruleClosures(y);
    for (const [date, name] of Object.entries(SPECIAL_CLOSURES)) if (date.startsWith(`${y}-`)) closures.set(date, name);
    const early = ruleEarlyCloses(y, closures);
    const mismatches: string[] = [];
    for (let t = Date.UTC(y, 0, 1); t < Date.UTC(y + 1, 0, 1); t += 86_400_000) {
      const date = iso(t).slice(0, 10);
      const wd = new Date(t).getUTCDay();
      const expectedHoliday = closures.get(date) ?? null;
      const expectedOpen = wd !== 0 && wd !== 6 && expectedHoliday === null;
      const s = cal.session(date);
      const got = { holiday: cal.holiday(date), open: cal.isTradingDay(date), session: s !== null, early: s?.earlyClose ?? false };
      const want = { holiday: expectedHoliday, open: expectedOpen, session: expectedOpen, early: early.has(date) };
      if (JSON.stringify(got) !== JSON.stringify(want))
        mismatches.push(`${date}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('the rule implementation itself: Easter and a few anchors', () => {
    expect([2025, 2026, 2027, 2028].map(easter)).toEqual([
      [4, 20],
      [4, 5],
      [3, 28],
      [4, 16],
    ]);
    expect(ruleClosures(2028).has('2027-12-31')).toBe(false);
    expect(ruleClosures(2027).get('2027-12-24')).toBe('Christmas Day (observed)');
    expect([...ruleEarlyCloses(2025, ruleClosures(2025))]).toEqual(['2025-07-03', '2025-11-28', '2025-12-24']);
  });
});

describe('named days', () => {
  it.each([
    ['2026-04-03', 'Good Friday'],
    ['2026-07-03', 'Independence Day (observed)'],
    ['2026-11-26', 'Thanksgiving Day'],
    ['2026-12-25', 'Christmas Day'],
    ['2025-01-09', 'National Day of Mourning for President Jimmy Carter'],
    ['2027-12-24', 'Christmas Day (observed)'],
  ])('%s is closed (%s)', (date, name) => {
    expect(cal.isTradingDay(date)).toBe(false);
    expect(cal.session(date)).toBeNull();
    expect(cal.holiday(date)).toBe(name);
  });

  it.each([
    ['2026-11-27', '2026-11-27T14:30:00.000Z', '2026-11-27T18:00:00.000Z'],
    ['2026-12-24', '2026-12-24T14:30:00.000Z', '2026-12-24T18:00:00.000Z'],
    ['2025-07-03', '2025-07-03T13:30:00.000Z', '2025-07-03T17:00:00.000Z'], // EDT
  ])('%s closes early at 13:00 ET', (date, open, close) => {
    const s = sessionOrFail(date);
    expect({ date: s.date, open: iso(s.open), close: iso(s.close), earlyClose: s.earlyClose }).toEqual({
      date,
      open,
      close,
      earlyClose: true,
    });
    expect(cal.holiday(date)).toBeNull();
  });

  it('a normal day runs 09:30-16:00 ET', () => {
    const s = sessionOrFail('2026-12-01');
    expect({ open: iso(s.open), close: iso(s.close), earlyClose: s.earlyClose }).toEqual({
      open: '2026-12-01T14:30:00.000Z',
      close: '2026-12-01T21:00:00.000Z',
      earlyClose: false,
    });
  });

  it('weekends are not trading days and not holidays', () => {
    for (const date of ['2026-12-05', '2026-12-06']) {
      expect(cal.isTradingDay(date)).toBe(false);
      expect(cal.session(date)).toBeNull();
      expect(cal.holiday(date)).toBeNull();
    }
  });

  it.each([
    [2025, '2025-01-02', '2025-12-31'],
    [2026, '2026-01-02', '2026-12-31'],
    [2027, '2027-01-04', '2027-12-31'], // Jan 1 2027 is a Friday holiday; Jan 1 2028 (Sat) is not observed
    [2028, '2028-01-03', '2028-12-29'],
  ])('%i trades from %s to %s', (y, first, last) => {
    const days = cal.tradingDays(`${y}-01-01`, `${y}-12-31`);
    expect([days[0], days[days.length - 1]]).toEqual([first, last]);
  });

  it('trading-day counts per year', () => {
    const count = (y: number) => cal.tradingDays(`${y}-01-01`, `${y}-12-31`).length;
    expect([2025, 2026, 2027, 2028].map(count)).toEqual([250, 251, 251, 251]);
  });
});

describe('DST', () => {
  it.each([
    ['2026-03-06', '2026-03-06T14:30:00.000Z', '2026-03-06T21:00:00.000Z'], // EST
    ['2026-03-09', '2026-03-09T13:30:00.000Z', '2026-03-09T20:00:00.000Z'], // EDT (from Mar 8)
    ['2026-10-30', '2026-10-30T13:30:00.000Z', '2026-10-30T20:00:00.000Z'], // EDT
    ['2026-11-02', '2026-11-02T14:30:00.000Z', '2026-11-02T21:00:00.000Z'], // EST (from Nov 1)
  ])('%s opens at %s and closes at %s', (date, open, close) => {
    const s = sessionOrFail(date);
    expect([iso(s.open), iso(s.close)]).toEqual([open, close]);
  });

  it('epoch-ms input is read as the New York date', () => {
    expect(cal.isTradingDay(Date.parse('2026-11-27T03:00:00Z'))).toBe(false); // 22:00 ET on Thanksgiving
    expect(cal.session(Date.parse('2026-11-27T15:00:00Z'))?.date).toBe('2026-11-27');
    expect(cal.holiday(Date.parse('2026-07-04T03:59:59Z'))).toBe('Independence Day (observed)');
  });
});

describe('navigation across holidays', () => {
  const at = (s: string): number => Date.parse(s);

  it('nextSession', () => {
    expect(cal.nextSession(at('2026-12-01T12:00:00Z')).date).toBe('2026-12-01'); // 07:00 ET, before the open
    expect(cal.nextSession(at('2026-11-25T15:00:00Z')).date).toBe('2026-11-25'); // during the session
    expect(cal.nextSession(at('2026-11-25T21:00:00Z')).date).toBe('2026-11-27'); // exactly at the close: next one
    expect(cal.nextSession(at('2026-11-26T15:00:00Z'))).toEqual(sessionOrFail('2026-11-27')); // Thanksgiving
    expect(cal.nextSession(at('2026-11-27T17:59:59Z')).date).toBe('2026-11-27');
    expect(cal.nextSession(at('2026-11-27T18:00:00Z')).date).toBe('2026-11-30'); // after the 13:00 early close
    expect(cal.nextSession(at('2026-07-02T21:00:00Z')).date).toBe('2026-07-06'); // over Jul 3 (observed) + weekend
    expect(cal.nextSession(at('2027-12-31T21:00:00Z')).date).toBe('2028-01-03'); // over the year end
  });

  it('nextTradingDay / previousTradingDay', () => {
    expect(cal.nextTradingDay('2026-04-02')).toBe('2026-04-06');
    expect(cal.previousTradingDay('2026-04-06')).toBe('2026-04-02');
    expect(cal.nextTradingDay('2026-12-24')).toBe('2026-12-28');
    expect(cal.previousTradingDay('2026-12-28')).toBe('2026-12-24');
    expect(cal.nextTradingDay('2026-12-05')).toBe('2026-12-07'); // from a Saturday
    expect(cal.nextTradingDay('2025-01-08')).toBe('2025-01-10'); // over the Carter closure
  });

  it('addTradingDays', () => {
    expect(cal.addTradingDays('2026-11-25', 1)).toBe('2026-11-27');
    expect(cal.addTradingDays('2026-11-25', 2)).toBe('2026-11-30');
    expect(cal.addTradingDays('2026-11-30', -2)).toBe('2026-11-25');
    expect(cal.addTradingDays('2026-11-25', 0)).toBe('2026-11-25');
    expect(cal.addTradingDays('2026-11-26', 0)).toBe('2026-11-27'); // a holiday rolls forward
    expect(cal.addTradingDays('2026-11-28', 1)).toBe('2026-11-30'); // from a Saturday
    expect(cal.addTradingDays('2026-11-28', -1)).toBe('2026-11-27');
    expect(cal.addTradingDays('2027-12-30', 2)).toBe('2028-01-03');
  });

  it('addTradingDays agrees with tradingDays over the whole range', () => {
    const all = cal.tradingDays('2025-01-01', '2028-12-31');
    for (let i = 0; i < all.length; i += 37) {
      for (const n of [1, 5, 21, 252, -1, -5, -21]) {
        const j = i + n;
        if (j >= 0 && j < all.length) expect(cal.addTradingDays(all[i], n)).toBe(all[j]);
      }
    }
  });

  it('tradingDays is inclusive and skips closures', () => {
    expect(cal.tradingDays('2026-11-25', '2026-11-30')).toEqual(['2026-11-25', '2026-11-27', '2026-11-30']);
    expect(cal.tradingDays('2026-11-26', '2026-11-26')).toEqual([]);
    expect(cal.tradingDays('2027-12-30', '2028-01-04')).toEqual(['2027-12-30', '2027-12-31', '2028-01-03', '2028-01-04']);
    expect(cal.tradingDays('2026-12-02', '2026-12-01')).toEqual([]);
  });
});

describe('range and input errors', () => {
  it('CalendarRangeError is typed and names the date and the covered years', () => {
    let caught: unknown;
    try {
      cal.isTradingDay('2031-01-02');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(CalendarRangeError);
    expect(caught).toBeInstanceOf(Error);
    const err = caught as CalendarRangeError;
    expect(err.name).toBe('CalendarRangeError');
    expect(err.message).toBe('2031-01-02 is outside the market calendar (covers 2025-2028)');
    expect(err.date).toBe('2031-01-02');
    expect(err.covered).toEqual({ from: 2025, to: 2028 });
    expect(cal.coveredYears).toEqual({ from: 2025, to: 2028 });
  });

  it('every function throws outside 2025-2028, including when stepping out of range', () => {
    const calls: Array<() => unknown> = [
      () => cal.isTradingDay('2024-12-31'),
      () => cal.isTradingDay(Date.parse('2025-01-01T04:00:00Z')), // 2024-12-31 23:00 in New York
      () => cal.session('2029-01-02'),
      () => cal.holiday('2029-01-01'),
      () => cal.nextSession(Date.parse('2024-12-31T15:00:00Z')),
      () => cal.nextSession(Date.parse('2028-12-29T21:00:00Z')), // next session is in 2029
      () => cal.nextTradingDay('2028-12-29'),
      () => cal.previousTradingDay('2025-01-02'),
      () => cal.addTradingDays('2028-12-28', 2),
      () => cal.addTradingDays('2025-01-03', -2),
      () => cal.tradingDays('2024-12-30', '2025-01-03'),
      () => cal.tradingDays('2028-12-28', '2029-01-03'),
    ];
    for (const call of calls) expect(call).toThrow(CalendarRangeError);
    expect(() => cal.nextTradingDay('2028-12-29')).toThrow('2029-01-01 is outside the market calendar (covers 2025-2028)');
  });

  it('bad input throws a TypeError naming the value', () => {
    expect(() => cal.isTradingDay('2026-02-30')).toThrow(TypeError);
    expect(() => cal.isTradingDay('2026-02-30')).toThrow('"2026-02-30"');
    expect(() => cal.session('tomorrow')).toThrow('"tomorrow"');
    expect(() => cal.holiday('2026-1-5')).toThrow('"2026-1-5"');
    expect(() => cal.isTradingDay(Number.NaN)).toThrow('NaN');
    expect(() => cal.isTradingDay(undefined as unknown as string)).toThrow('undefined');
    expect(() => cal.nextSession('2026-12-01' as unknown as number)).toThrow(TypeError);
    expect(() => cal.addTradingDays('2026-12-01', 1.5)).toThrow('1.5');
  });

  it('is immutable', () => {
    expect(Object.isFrozen(cal)).toBe(true);
    expect(Object.isFrozen(cal.coveredYears)).toBe(true);
  });
});
