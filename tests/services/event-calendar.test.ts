/** Event files (JSON and CSV), their validation, and notices sent N trading days ahead to the right strategies. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import {
  EventCalendarError,
  calendarNotices,
  parseEventCalendar,
  startEventCalendar,
  type EventCalendar,
} from '../../services/market/eventCalendar';
import { loadEventCalendar } from '../../services/market/eventCalendarFile';
import { drive, start } from '../support/fixtures';

const EXAMPLES = join(__dirname, '../../examples');
const FOMC_2026 = ['2026-01-28', '2026-03-18', '2026-04-29', '2026-06-17', '2026-07-29', '2026-09-16', '2026-10-28', '2026-12-09'];

/** The problems an invalid calendar reports. */
function problemsOf(text: string, format: 'json' | 'csv'): Array<{ line: number; reason: string }> {
  try {
    parseEventCalendar(text, format, 'test');
  } catch (error) {
    expect(error).toBeInstanceOf(EventCalendarError);
    return [...(error as EventCalendarError).problems];
  }
  throw new Error('expected an EventCalendarError');
}

describe('loading event files', () => {
  test('the JSON and CSV examples load to the same events, with the FOMC 2026 decision days', () => {
    const json = loadEventCalendar(join(EXAMPLES, 'event-calendar.example.json'));
    const csv = loadEventCalendar(join(EXAMPLES, 'event-calendar.example.csv'));
    const strip = (c: EventCalendar) => c.events.map(({ line: _line, ...event }) => event);
    expect(strip(json)).toEqual(strip(csv));
    expect(json.events.filter((e) => e.type === 'FOMC' && e.date < '2027').map((e) => e.date)).toEqual(FOMC_2026);
    expect(json.events.some((e) => e.type === 'EARNINGS' && e.symbol === 'AAPL' && e.date === '2026-04-30')).toBe(true);
    expect(json.events.every((e, i, all) => i === 0 || all[i - 1].date <= e.date)).toBe(true);
  });

  test('CSV: header in any order, quoted fields, comments and blank lines, types and symbols in any case', () => {
    const text = '# comment\n\ndate,type,symbol,note\n2026-01-29,earnings,aapl,"after the close, as usual"\n2026-01-28,Fomc,,\n';
    expect(parseEventCalendar(text, 'csv').events).toEqual([
      { type: 'FOMC', date: '2026-01-28', line: 5 },
      { type: 'EARNINGS', symbol: 'AAPL', date: '2026-01-29', note: 'after the close, as usual', line: 4 },
    ]);
  });

  test('CSV: every bad line is reported with its line number and reason', () => {
    const text = [
      'type,symbol,date', // 1
      'FOMC,,2026-01-28', // 2 fine
      'EARNINGS,,2026-01-29', // 3 no symbol
      'DIVIDEND,AAPL,2026-02-02', // 4 unknown type
      'EARNINGS,AAPL,2026-02-30', // 5 not a date
      'EARNINGS,AAPL,2026-11-26', // 6 Thanksgiving
      'FOMC,,2026-03-14', // 7 a Saturday
      'FOMC,SPX,2026-03-18', // 8 FOMC with a symbol
      'FOMC,,2031-01-29', // 9 outside the calendar
      'FOMC,,2026-01-28', // 10 duplicate of line 2
      'EARNINGS,AAPL,2026-04-30,note,extra', // 11 too many columns
    ].join('\n');
    expect(problemsOf(text, 'csv')).toEqual([
      { line: 3, reason: expect.stringMatching(/^symbol must be a ticker/) },
      { line: 4, reason: 'type must be EARNINGS or FOMC, got "DIVIDEND"' },
      { line: 5, reason: 'date must be a date written yyyy-MM-dd, got "2026-02-30"' },
      { line: 6, reason: 'date 2026-11-26 is not a trading day (Thanksgiving Day)' },
      { line: 7, reason: 'date 2026-03-14 is not a trading day (Saturday)' },
      { line: 8, reason: 'an FOMC line takes no symbol' },
      { line: 9, reason: 'date 2031-01-29 is outside the market calendar (2025-2028)' },
      { line: 10, reason: 'duplicate of line 2 (FOMC 2026-01-28)' },
      { line: 11, reason: expect.stringMatching(/^5 columns where the header has 3/) },
    ]);
  });

  test('CSV without a usable header', () => {
    expect(problemsOf('FOMC,,2026-01-28\n', 'csv')).toEqual([{ line: 1, reason: expect.stringMatching(/missing type, date/) }]);
  });

  test('JSON: bad entries are reported with the line each starts on', () => {
    const text = `{
  "events": [
    { "type": "FOMC", "date": "2026-01-28" },
    { "type": "EARNINGS", "date": "2026-01-29" },
    "2026-03-18",
    {
      "type": "FOMC",
      "dat": "2026-04-29"
    },
    { "type": "EARNINGS", "symbol": "MSFT", "date": "2026-07-04" }
  ]
}`;
    expect(problemsOf(text, 'json')).toEqual([
      { line: 4, reason: expect.stringMatching(/^symbol must be a ticker/) },
      { line: 5, reason: 'expected an object { "type", "date", "symbol"? }, got "2026-03-18"' },
      { line: 6, reason: 'unknown field "dat" (fields: type, symbol, date, note)' },
      { line: 10, reason: 'date 2026-07-04 is not a trading day (Saturday)' },
    ]);
  });

  test('JSON: a syntax error names its line; a top-level array works too', () => {
    expect(problemsOf('[\n  { "type": "FOMC", "date": "2026-01-28" }\n  { "type": "FOMC" }\n]', 'json')).toEqual([
      { line: 3, reason: expect.stringMatching(/^invalid JSON: expected ',' or '\]'/) },
    ]);
    expect(problemsOf('{ "event": [] }', 'json')).toEqual([{ line: 1, reason: expect.stringMatching(/expected an array of events/) }]);
    expect(parseEventCalendar('[{ "type": "FOMC", "date": "2026-01-28" }]', 'json').events).toHaveLength(1);
  });

  test('JSON: a bad escape, a raw tab in a string or a leading-zero number is an EventCalendarError naming its line', () => {
    // Before, JSON.parse's own SyntaxError escaped ("Bad escaped character in JSON at position 4"):
    // no line, not an EventCalendarError, and a Windows path in a note was enough to hit it.
    const head = '[\n  { "type": "FOMC", "date": "2026-01-28" },\n';
    expect(problemsOf(`${head}  { "type": "FOMC", "date": "2026-03-18", "note": "C:\\data" }\n]`, 'json')).toEqual([
      { line: 3, reason: expect.stringMatching(/^invalid JSON: "C:\\data" is not a string: /) },
    ]);
    expect(problemsOf(`${head}  { "type": "FOMC", "date": "2026-03-18", "note": "a\tb" }\n]`, 'json')).toEqual([
      { line: 3, reason: expect.stringMatching(/^invalid JSON: "a\tb" is not a string: /) },
    ]);
    expect(problemsOf(`${head}\n  { "type": "FOMC", "date": "2026-03-18", "n": 012 }\n]`, 'json')).toEqual([
      { line: 4, reason: expect.stringMatching(/^invalid JSON: 012 is not a value: /) },
    ]);
    expect(problemsOf(`${head}  { "ty\\pe": "FOMC", "date": "2026-03-18" }\n]`, 'json')).toEqual([
      { line: 3, reason: expect.stringMatching(/^invalid JSON: "ty\\pe" is not a property name: /) },
    ]);
    // Valid escapes still read as JSON reads them.
    expect(parseEventCalendar('[{ "type": "FOMC", "date": "2026-01-28", "note": "C:\\\\data \\u00e9" }]', 'json').events[0]).toMatchObject({
      note: 'C:\\data \u00e9',
    });
  });

  test('"events" given twice in the wrapper object is refused on its line, not read as the last list only', () => {
    // Before, the first list was dropped without a word: its FOMC suspended nothing.
    const text = '{\n  "events": [{ "type": "FOMC", "date": "2026-12-16" }],\n  "events": [{ "type": "FOMC", "date": "2027-01-27" }]\n}';
    expect(problemsOf(text, 'json')).toEqual([
      { line: 3, reason: '"events" given twice: only the last list would be read (merge them into one)' },
    ]);
    // Once, it reads as before.
    expect(parseEventCalendar('{ "events": [{ "type": "FOMC", "date": "2026-12-16" }] }', 'json').events).toHaveLength(1);
  });

  test('a field given twice (a JSON key, a CSV column) is a problem on its line, not silently the last one', () => {
    // Before, JSON kept the last "date" and CSV the last date column: the event moved without a word.
    const json =
      '[\n  { "type": "FOMC", "date": "2026-01-28" },\n  { "type": "FOMC", "date": "2026-01-28", "date": "2026-03-18" },\n  { "type": "FOMC", "date": "2026-04-29" }\n]';
    expect(problemsOf(json, 'json')).toEqual([{ line: 3, reason: '"date" given twice in one event' }]);
    expect(problemsOf('# events\ntype,symbol,date,Date\nFOMC,,2026-01-28,2026-03-18\n', 'csv')).toEqual([
      { line: 2, reason: 'the header names the column date twice' },
    ]);
  });

  test('a file with another extension, or one that cannot be read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'events-'));
    writeFileSync(join(dir, 'events.txt'), 'FOMC');
    expect(() => loadEventCalendar(join(dir, 'events.txt'))).toThrow(/must end in \.json or \.csv/);
    expect(() => loadEventCalendar(join(dir, 'missing.csv'))).toThrow(
      expect.objectContaining({ name: 'EventCalendarError', problems: [expect.objectContaining({ line: 0 })] }),
    );
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('sending notices', () => {
  const calendar = parseEventCalendar(
    ['type,symbol,date', 'EARNINGS,AAPL,2026-04-30', 'FOMC,,2026-06-17', 'EARNINGS,MSFT,2026-11-27'].join('\n'),
    'csv',
  );

  test('notice instants: N trading days before, 09:35 ET by default, skipping holidays', () => {
    const at = (daysBefore: number) =>
      calendarNotices(calendar, { daysBefore }).map((n) => `${n.event.type} ${new Date(n.at).toISOString()}`);
    expect(at(1)).toEqual([
      'EARNINGS_APPROACHING 2026-04-29T13:35:00.000Z',
      'FOMC_MEETING 2026-06-16T13:35:00.000Z',
      'EARNINGS_APPROACHING 2026-11-25T14:35:00.000Z', // Thanksgiving skipped
    ]);
    expect(at(2)[0]).toBe('EARNINGS_APPROACHING 2026-04-28T13:35:00.000Z');
    expect(calendarNotices(calendar, { noticeTime: '08:00' })[0].at).toBe(Date.parse('2026-04-29T12:00:00Z'));
    expect(() => calendarNotices(calendar, { noticeTime: '8am' })).toThrow(/noticeTime must be HH:mm/);
  });

  test("a past event on the calendar's first trading day (no trading day before it to give notice on) does not stop the start", () => {
    const old = parseEventCalendar(['type,symbol,date', 'FOMC,,2025-01-02', 'FOMC,,2026-12-09'].join('\n'), 'csv');
    const clock = createSimulatedClock('2026-12-01T08:00:00-05:00');
    const sent: string[] = [];
    const notices = startEventCalendar({ clock, calendar: old, target: (event) => sent.push(`${event.type} ${event.date}`) });
    clock.set(Date.parse('2026-12-10T00:00:00-05:00'));
    notices.stop();
    expect(sent).toEqual(['FOMC_MEETING 2026-12-09']);
  });

  test('EARNINGS_APPROACHING goes only to strategies on that underlying, FOMC_MEETING to all, at the right time', () => {
    const clock = createSimulatedClock('2026-04-27T08:00:00-04:00');
    const strategies = ['AAPL', 'MSFT', 'SPX'].map(
      (underlying) => start(lt112, { clock, id: `lt112-${underlying}`, params: { underlying } }).strategy,
    );
    for (const s of strategies) drive(s, [{ type: 'MARKET_OPEN' }]); // READY: suspendable
    const notices = startEventCalendar({ clock, calendar, strategies, daysBefore: 2 });
    clock.set(Date.parse('2026-06-30T00:00:00-04:00'));
    notices.stop();
    const received = strategies.map((s) =>
      s
        .getAuditTrail()
        .filter((r) => r.trigger !== 'MARKET_OPEN')
        .map((r) => `${r.trigger} ${r.timestamp} ${JSON.stringify(r.data)} ${r.currentState}`),
    );
    expect(received).toEqual([
      [
        'EARNINGS_APPROACHING 2026-04-28T09:35:00.000-04:00 {"symbol":"AAPL","date":"2026-04-30"} SUSPENDED',
        'FOMC_MEETING 2026-06-15T09:35:00.000-04:00 {"date":"2026-06-17"} SUSPENDED',
      ],
      ['FOMC_MEETING 2026-06-15T09:35:00.000-04:00 {"date":"2026-06-17"} SUSPENDED'],
      ['FOMC_MEETING 2026-06-15T09:35:00.000-04:00 {"date":"2026-06-17"} SUSPENDED'],
    ]);
  });

  test('started after a notice time but before the event: the notice goes out at once; past events never', () => {
    const clock = createSimulatedClock('2026-06-16T11:00:00-04:00');
    const got: string[] = [];
    const notices = startEventCalendar({
      clock,
      calendar,
      target: (event) => got.push(`${event.type} ${new Date(clock.now()).toISOString()}`),
    });
    clock.set(Date.parse('2026-07-01T00:00:00Z'));
    notices.stop();
    expect(got).toEqual(['FOMC_MEETING 2026-06-16T15:00:00.000Z']);
  });
});
