/** Bad arguments: one line on stderr naming the problem, nothing on stdout, exit code 2. */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCHEMA_VERSION } from '../../services/store/migrations';
import { run, tempDir } from './cli';

const MONTH = ['--from', '2026-01-01', '--to', '2026-01-31'];

test.each<[string[], string]>([
  [[], 'strategy-lifecycle: missing command (one of serve, simulate, replay, diagram, status; see --help)'],
  [['launch'], 'strategy-lifecycle: unknown command "launch" (one of serve, simulate, replay, diagram, status)'],
  [['--verbose'], 'strategy-lifecycle: unknown flag --verbose (see --help)'],
  [['simulate', ...MONTH, '--strategies', 'x'], 'strategy-lifecycle: simulate: --strategies must be a positive whole number, got "x"'],
  [['simulate', ...MONTH, '--strategies', '0'], 'strategy-lifecycle: simulate: --strategies must be a positive whole number, got "0"'],
  [['simulate', ...MONTH, '--strategies', '2.5'], 'strategy-lifecycle: simulate: --strategies must be a positive whole number, got "2.5"'],
  [['simulate', ...MONTH], 'strategy-lifecycle: simulate: --strategies is required (how many strategies to simulate)'],
  [['simulate', '--to', '2026-01-31', '--strategies', '5'], 'strategy-lifecycle: simulate: --from is required (a date written yyyy-MM-dd)'],
  [
    ['simulate', '--from', '2026-02-30', '--to', '2026-03-31', '--strategies', '5'],
    'strategy-lifecycle: simulate: --from must be a date written yyyy-MM-dd, got "2026-02-30"',
  ],
  [
    ['simulate', '--from', '01/02/2026', '--to', '2026-03-31', '--strategies', '5'],
    'strategy-lifecycle: simulate: --from must be a date written yyyy-MM-dd, got "01/02/2026"',
  ],
  [
    ['simulate', '--from', '2026-03-01', '--to', '2026-01-31', '--strategies', '5'],
    'strategy-lifecycle: simulate: --to 2026-01-31 is before --from 2026-03-01',
  ],
  [
    ['simulate', '--from', '2030-01-02', '--to', '2030-01-31', '--strategies', '5'],
    'strategy-lifecycle: simulate: --from 2030-01-02 is outside the market calendar (covers 2025-2028)',
  ],
  [
    ['simulate', ...MONTH, '--strategies', '5', '--variants', 'lt112,ironCondor'],
    'strategy-lifecycle: simulate: --variants: unknown variant "ironCondor" (known: zeroDte, lt112, strangle)',
  ],
  [
    ['simulate', ...MONTH, '--strategies', '5', '--variants', 'lt112,lt112'],
    'strategy-lifecycle: simulate: --variants lists a variant twice: "lt112,lt112"',
  ],
  [['simulate', ...MONTH, '--strategies', '5', '--seed=-1'], 'strategy-lifecycle: simulate: --seed must be a whole number, got "-1"'],
  [
    ['simulate', ...MONTH, '--strategies', '5', '--seed', '-1'],
    'strategy-lifecycle: simulate: --seed needs a value (for one starting with "-", write --seed=<value>)',
  ],
  [['simulate', ...MONTH, '--strategies'], 'strategy-lifecycle: simulate: --strategies needs a value'],
  [['simulate', ...MONTH, '--strategies', '5', '--days', '3'], 'strategy-lifecycle: simulate: unknown flag --days'],
  [['simulate', ...MONTH, '--strategies', '5', 'extra'], 'strategy-lifecycle: simulate: unexpected argument "extra"'],
  [['diagram'], 'strategy-lifecycle: diagram: missing <variant> (one of zeroDte, lt112, strangle)'],
  [['diagram', 'butterfly'], 'strategy-lifecycle: diagram: unknown variant "butterfly" (known: zeroDte, lt112, strangle)'],
  [['diagram', 'lt112', '--format', 'png'], 'strategy-lifecycle: diagram: --format must be one of mermaid, svg, got "png"'],
  [['diagram', 'lt112', '--out'], 'strategy-lifecycle: diagram: --out needs a value'],
  [['replay'], 'strategy-lifecycle: replay: missing <db> (the SQLite database file to verify)'],
  [['replay', 'a.db', 'b.db'], 'strategy-lifecycle: replay: unexpected argument "b.db"'],
  // An empty path (an unset shell variable) is a missing argument, as --db "" is for status.
  [['replay', ''], 'strategy-lifecycle: replay: missing <db> (the SQLite database file to verify)'],
  [['status', '--data-dir', 'data', '--db', 'x.db'], 'strategy-lifecycle: status: give --data-dir or --db, not both'],
  [['serve', '--port', '70000'], 'strategy-lifecycle: serve: --port must be a port number (0-65535), got "70000"'],
  [['serve', '--port', 'http'], 'strategy-lifecycle: serve: --port must be a port number (0-65535), got "http"'],
  [['serve', '--port', '--inspect'], 'strategy-lifecycle: serve: --port needs a value (for one starting with "-", write --port=<value>)'],
  [['serve', '--inspect=yes'], 'strategy-lifecycle: serve: --inspect does not take a value'],
  [
    ['serve', '--no-market', '--event-calendar', 'events.json'],
    'strategy-lifecycle: serve: --event-calendar needs the market driver: drop --no-market',
  ],
  [
    ['serve', '--store', 'postgres://post gres@[bad'],
    'strategy-lifecycle: serve: --store is not a valid postgres:// URL (check its user, password, host and port parts)',
  ],
  [
    ['serve', '--log-level', 'loud'],
    'strategy-lifecycle: serve: --log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
  ],
])('%j -> exit 2', (args, message) => {
  expect(run(args)).toEqual({ code: 2, stdout: '', stderr: `${message}\n` });
});

test('a bad --event-calendar file is bad input: exit 2, one line naming the file, the line and the problem; nothing is created', () => {
  const { dir, cleanup } = tempDir();
  try {
    const bad = join(dir, 'events.json');
    writeFileSync(bad, '[\n  {"date":"2026-13-01","type":"FOMC"}\n]');
    const data = join(dir, 'data');
    const result = run(['serve', '--port', '0', '--data-dir', data, '--event-calendar', bad]);
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: expect.stringMatching(new RegExp(`^strategy-lifecycle: serve: ${bad}: 1 bad line: line 2: date .+\\n$`)),
    });
    expect(run(['serve', '--port', '0', '--data-dir', data, '--event-calendar', join(dir, 'nope.json')])).toEqual({
      code: 2,
      stdout: '',
      stderr: `strategy-lifecycle: serve: ${join(dir, 'nope.json')}: cannot be read: ENOENT: no such file or directory, open '${join(dir, 'nope.json')}'\n`,
    });
    expect(existsSync(data)).toBe(false);
  } finally {
    cleanup();
  }
});

test('an empty --event-calendar (an unset shell variable) is refused, not read as no calendar at all; nothing is created', () => {
  const { dir, cleanup } = tempDir();
  try {
    const data = join(dir, 'data');
    // Before, the service started without FOMC and earnings notices, the config file's calendar dropped too.
    const config = join(dir, 'strategy-lifecycle.config.json');
    writeFileSync(config, JSON.stringify({ market: { eventCalendar: 'events.json' } }));
    for (const args of [[], ['--config', config]])
      expect(run(['serve', '--port', '0', '--data-dir', data, ...args, '--event-calendar', ''])).toEqual({
        code: 2,
        stdout: '',
        stderr: 'strategy-lifecycle: serve: --event-calendar needs a path\n',
      });
    expect(existsSync(data)).toBe(false);
  } finally {
    cleanup();
  }
});

describe('run-time failures: exit 1, one line, a stack trace only with DEBUG', () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => ({ dir, cleanup } = tempDir()));
  afterAll(() => cleanup());

  test('a database that does not exist is not created', () => {
    const missing = join(dir, 'nothing', 'strategy-lifecycle.db');
    expect(run(['replay', missing])).toEqual({ code: 1, stdout: '', stderr: `strategy-lifecycle: replay: no database at ${missing}\n` });
    expect(run(['status', '--data-dir', join(dir, 'nothing')])).toEqual({
      code: 1,
      stdout: '',
      stderr: `strategy-lifecycle: status: no database at ${missing}\n`,
    });
    expect(run(['status', '--db', missing]).code).toBe(1);
  });

  test('a schema written by a newer version is refused by every command, serve included', () => {
    const dataDir = join(dir, 'newer');
    const file = join(dataDir, 'strategy-lifecycle.db');
    mkdirSync(dataDir);
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    const message = `store sqlite:${file} has schema version 99, written by a newer strategy-lifecycle; this version supports up to ${SCHEMA_VERSION}. Nothing was written.`;
    expect(run(['replay', file])).toEqual({ code: 1, stdout: '', stderr: `strategy-lifecycle: replay: ${message}\n` });
    expect(run(['status', '--data-dir', dataDir])).toEqual({ code: 1, stdout: '', stderr: `strategy-lifecycle: status: ${message}\n` });
    const served = run(['serve', '--data-dir', dataDir, '--port', '0', '--inspect', '--log-level', 'silent']);
    expect(served).toEqual({ code: 1, stdout: '', stderr: `strategy-lifecycle: serve: ${message}\n` });
    // The token a failed first start made was never shown: it is not left behind either.
    expect(existsSync(join(dataDir, 'token'))).toBe(false);
    const debug = run(['replay', file], { env: { DEBUG: '1' } });
    expect(debug.code).toBe(1);
    expect(debug.stderr.split('\n')[0]).toBe(`strategy-lifecycle: replay: ${message}`);
    expect(debug.stderr).toMatch(/\n {4}at /);
  });

  test('a file that is not a strategy-lifecycle database', () => {
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'not a database at all');
    expect(run(['replay', junk])).toEqual({
      code: 1,
      stdout: '',
      stderr: `strategy-lifecycle: replay: cannot read ${junk}: file is not a database\n`,
    });
    const empty = join(dir, 'empty.db');
    writeFileSync(empty, '');
    expect(run(['status', '--db', empty])).toEqual({
      code: 1,
      stdout: '',
      stderr: `strategy-lifecycle: status: ${empty} is not a strategy-lifecycle database\n`,
    });
  });
});
