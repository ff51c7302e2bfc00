/** `replay`: every strategy rebuilt from its audit trail; exit 1 listing what a tampered database disagrees on. */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { run, tempDir } from './cli';
import { buildDatabase, digest } from './database';

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
  expect(stdout).toMatch(new RegExp(`^Replayed 4 strategies \\(\\d+ audit records\\) from ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\nNo difference: every audit trail rebuilds its stored snapshot\\.\\n$`));
  expect(digest(file)).toBe(before);
});

test('a tampered snapshot and a tampered record: exit 1, each difference listed', async () => {
  const file = join(dir, 'tampered.db');
  await buildDatabase(file);
  const raw = new Database(file);
  const row = raw.prepare("SELECT snapshot FROM strategies WHERE strategy_id = 'lt112-spx'").get() as { snapshot: string };
  const snapshot = JSON.parse(row.snapshot);
  snapshot.context.position.quantity = 5;
  raw.prepare("UPDATE strategies SET snapshot = ? WHERE strategy_id = 'lt112-spx'").run(JSON.stringify(snapshot));
  const rec = raw.prepare("SELECT record FROM audit_records WHERE strategy_id = '0dte-spx' AND seq = 1").get() as { record: string };
  raw.prepare("UPDATE audit_records SET record = ? WHERE strategy_id = '0dte-spx' AND seq = 1").run(rec.record.replace('"currentState":"READY"', '"currentState":"ANALYZING"'));
  raw.close();

  const { code, stdout, stderr } = run(['replay', file]);
  expect({ code, stderr }).toEqual({ code: 1, stderr: '' });
  expect(stdout).toMatch(/^Replayed 4 strategies \(\d+ audit records\) from .*\n2 differences:\n/);
  expect(stdout).toContain('  0dte-spx  record 1  currentState\n    stored:   "ANALYZING"\n    replayed: "READY"\n');
  expect(stdout).toMatch(/^ {2}lt112-spx {2}snapshot {2}position\n {4}stored: {3}\{[^\n]*"quantity":5[^\n]*\}\n {4}replayed: \{[^\n]*"quantity":2[^\n]*\}$/m);

  const json = JSON.parse(run(['replay', file, '--json']).stdout);
  expect(json).toMatchObject({ database: file, strategies: 4, differences: [
    { strategyId: '0dte-spx', where: 'record 1', field: 'currentState', stored: 'ANALYZING', replayed: 'READY' },
    { strategyId: 'lt112-spx', where: 'snapshot', field: 'position', stored: expect.objectContaining({ quantity: 5 }), replayed: expect.objectContaining({ quantity: 2 }) },
  ] });
});
