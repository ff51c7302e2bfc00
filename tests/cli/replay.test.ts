/** `replay`: every strategy rebuilt from its audit trail; exit 1 listing what a tampered database disagrees on. */
import { join } from 'node:path';
import { run, tempDir } from './cli';
import { buildDatabase, digest } from './database';
import { deepenRecord, tamperSqlite } from '../support/tamper';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

test('an untouched database replays with no difference: exit 0, nothing written', async () => {
  const file = join(dir, 'ok.db');
  await buildDatabase(file);
  const before = digest(file);
  const { code, stdout, stderr } = run(['replay', file]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  expect(stdout).toMatch(
    new RegExp(
      `^Replayed 4 strategies \\(\\d+ audit records\\) from ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\nNo difference: every audit trail rebuilds its stored snapshot\\.\\n$`,
    ),
  );
  expect(digest(file)).toBe(before);
});

test('a tampered snapshot and a tampered record: exit 1, each difference listed', async () => {
  const file = join(dir, 'tampered.db');
  await buildDatabase(file);
  tamperSqlite(file, {
    quantity: { strategyId: 'lt112-spx', to: 5 },
    record: { strategyId: '0dte-spx', seq: 1, replace: '"currentState":"READY"', with: '"currentState":"ANALYZING"' },
  });

  const { code, stdout, stderr } = run(['replay', file]);
  expect({ code, stderr }).toEqual({ code: 1, stderr: '' });
  expect(stdout).toMatch(/^Replayed 4 strategies \(\d+ audit records\) from .*\n2 differences:\n/);
  expect(stdout).toContain('  0dte-spx  record 1  currentState\n    stored:   "ANALYZING"\n    replayed: "READY"\n');
  expect(stdout).toMatch(
    /^ {2}lt112-spx {2}snapshot {2}position\n {4}stored: {3}\{[^\n]*"quantity":5[^\n]*\}\n {4}replayed: \{[^\n]*"quantity":2[^\n]*\}$/m,
  );

  const json = JSON.parse(run(['replay', file, '--json']).stdout);
  expect(json).toMatchObject({
    database: file,
    strategies: 4,
    differences: [
      { strategyId: '0dte-spx', where: 'record 1', field: 'currentState', stored: 'ANALYZING', replayed: 'READY' },
      {
        strategyId: 'lt112-spx',
        where: 'snapshot',
        field: 'position',
        stored: expect.objectContaining({ quantity: 5 }),
        replayed: expect.objectContaining({ quantity: 2 }),
      },
    ],
  });
});

test('a record nested past the depth limit (an older version store): exit 1 naming the strategy and record, no stack overflow', async () => {
  const file = join(dir, 'deep.db');
  await buildDatabase(file);
  deepenRecord(file, 'lt112-spx', 2, 3000);
  const { code, stdout, stderr } = run(['replay', file]);
  expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
  expect(stderr).toContain('strategy "lt112-spx": stored record 2 nests deeper than 32 levels (at data.legs.0.note.a.a');
  expect(stderr).not.toMatch(/RangeError|Maximum call stack|\n\s+at /);
});
