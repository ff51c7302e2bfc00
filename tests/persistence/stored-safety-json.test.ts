/**
 * JSON of the safety state and of the live feed that no longer parses, or that is not what was
 * written (a byte flipped inside a row, a hand edit), is damage: StoreCorruptError naming the file,
 * the table, the row and the column. Not SQLite's "malformed JSON" or a SyntaxError as a
 * StoreUnavailableError (which says to retry and names nothing), nor a step read as a run with
 * nothing to flatten. A running system's strategies go on; what reads the damaged row says why. A
 * damaged feed row is a marker in its place (its strategy, seq and error) between the rows around
 * it, so the live stream reads on past it.
 */
import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoreCorruptError } from '../../machines/errors';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import type { KillSwitchProgress } from '../../services/store/types';
import { FRIDAY_11AM } from '../support/fixtures';
import { holdZeroDte } from '../support/restartHarness';
import { runSql, tempDir } from './helpers';

const variants = [zeroDte, lt112, strangle];
let cleanup: () => void;
let file: string;
beforeEach(() => {
  let dir: string;
  ({ dir, cleanup } = tempDir('sl-safety-json-'));
  file = join(dir, 'strategies.db');
});
afterEach(() => cleanup());

const newStore = () => new SqliteStore(file, { checkEveryMs: 0 });
const open = () => openStrategySystem({ store: newStore(), variants, clock: createSimulatedClock(FRIDAY_11AM) });
const run = (sql: string, ...args: unknown[]) => runSql(file, sql, ...args);

const step = (reason: string, startedAt: number, tradingStateChanges: number): KillSwitchProgress => ({
  reason,
  operator: 'ops',
  startedAt,
  at: startedAt,
  pending: ['z'],
  flattened: [],
  alreadyFlat: [],
  failed: [],
  finishedAt: null,
  tradingStateChanges,
});

/** A closed store with two kill switch runs stored: seq 1 (older), seq 2 (newest). */
async function storeSteps(): Promise<void> {
  const store = newStore();
  await store.open();
  await store.saveKillSwitch(step('drill', 1_000, 1));
  await store.saveKillSwitch(step('panic', 2_000, 3));
  await store.close();
}

async function loadRefusal(): Promise<StoreCorruptError> {
  const store = newStore();
  await store.open();
  const error = await store.loadSystemState().catch((e: unknown) => e);
  await store.close();
  expect(error).toBeInstanceOf(StoreCorruptError);
  expect(error).toMatchObject({ path: file });
  return error as StoreCorruptError;
}

describe('kill switch steps', () => {
  test("a step that is not JSON: refused naming the table, the row and the column, not SQLite's malformed JSON", async () => {
    await storeSteps();
    // SQLite refuses such an update (an index reads the step's count): a byte flipped on disk.
    const bytes = readFileSync(file);
    const at = bytes.indexOf('{"reason":"panic"');
    expect(bytes.indexOf('{"reason":"panic"', at + 1)).toBe(-1);
    bytes.write('#', at + 1);
    writeFileSync(file, bytes);
    expect((await loadRefusal()).detail).toMatch(/^kill_switch_steps row seq 2: its progress column is not JSON \(/);
    // The system does not open on a safety state it cannot read.
    await expect(open()).rejects.toMatchObject({
      constructor: StoreCorruptError,
      detail: expect.stringContaining('kill_switch_steps row seq 2'),
    });
  });

  test('the newest run with a mistyped field: refused, not read as a run with something else to flatten', async () => {
    await storeSteps();
    run(`UPDATE kill_switch_steps SET progress = json_set(progress, '$.pending', 'z') WHERE seq = 2`);
    expect((await loadRefusal()).detail).toBe(
      'kill_switch_steps row seq 2: its progress column is not a kill switch step: its pending is not a list of strategy ids',
    );
  });

  test('an older step that is not an object, or whose count is not a number: refused, not taken for another run', async () => {
    await storeSteps();
    run("UPDATE kill_switch_steps SET progress = '[1]' WHERE seq = 1");
    expect((await loadRefusal()).detail).toBe(
      'kill_switch_steps row seq 1: its progress column is not a kill switch step: it is not an object',
    );
    run(
      `UPDATE kill_switch_steps SET progress = '${JSON.stringify({ ...step('drill', 1_000, 1), tradingStateChanges: '9' })}' WHERE seq = 1`,
    );
    expect((await loadRefusal()).detail).toBe(
      'kill_switch_steps row seq 1: its progress column is not a kill switch step: its tradingStateChanges is not a count',
    );
  });

  test('damaged while the system runs: the strategies go on, the read of the safety state names the row', async () => {
    const system = await open();
    await holdZeroDte(system, 'z', { expiry: '2026-01-02' });
    await system.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
    await system.store.saveKillSwitch(step('drill', 1_000, 0));
    run("UPDATE kill_switch_steps SET progress = 'null'");
    await expect(system.store.loadSystemState()).rejects.toMatchObject({
      constructor: StoreCorruptError,
      detail: 'kill_switch_steps row seq 1: its progress column is not a kill switch step: it is not an object',
    });
    await system.send('lt', { type: 'MARKET_OPEN' });
    expect(system.peek('lt').snapshot.value).not.toBe('IDLE');
    await system.close();
  });
});

describe('audit feed', () => {
  /** A closed store: `z` holding, `lt` moved through a few events. */
  async function store(): Promise<void> {
    const system = await open();
    await holdZeroDte(system, 'z', { expiry: '2026-01-02' });
    await system.add(lt112, { id: 'lt', params: { underlying: 'SPX' } });
    await system.send('lt', { type: 'MARKET_OPEN' });
    await system.close();
  }
  const feedIdOf = (id: string, seq: number) => {
    const db = new Database(file, { readonly: true });
    const row = db.prepare('SELECT feed_id FROM audit_records WHERE strategy_id = ? AND seq = ?').get(id, seq) as { feed_id: number };
    db.close();
    return row.feed_id;
  };
  /** Reads the whole feed: `lt`'s seq 1 is a marker in its place, the rows around it are read. */
  async function feedRefusal(): Promise<StoreCorruptError> {
    const direct = newStore();
    await direct.open();
    const { rows } = await direct.readAuditAfter('0', { limit: 100 });
    await direct.close();
    const at = rows.findIndex((row) => row.damaged);
    expect(rows.filter((row) => row.damaged)).toHaveLength(1);
    expect(rows[at]).toMatchObject({ cursor: String(feedIdOf('lt', 1)), strategyId: 'lt', seq: 1 });
    expect(rows[at].record).toBeUndefined();
    expect(rows.slice(at + 1).map((row) => `${row.strategyId}#${row.record?.seq}`)).toEqual(
      Array.from({ length: rows.length - at - 1 }, (_, i) => `lt#${i + 2}`),
    );
    expect(rows.slice(0, at).every((row) => row.record && row.strategyId === 'z')).toBe(true);
    const error = rows[at].damaged;
    expect(error).toBeInstanceOf(StoreCorruptError);
    expect(error).toMatchObject({ path: file });
    return error!;
  }

  test('a record that is not JSON: a marker naming the table, the row (feed id, strategy, seq) and the column', async () => {
    await store();
    run("UPDATE audit_records SET record = '{bad' WHERE strategy_id = 'lt' AND seq = 1");
    expect((await feedRefusal()).detail).toMatch(
      new RegExp(`^audit_records row feed_id ${feedIdOf('lt', 1)} \\(strategy "lt", seq 1\\): its record column is not JSON \\(`),
    );
  });

  test('a record that is JSON but not a transition record: a marker, not handed to the live stream as a record', async () => {
    await store();
    const db = new Database(file, { readonly: true });
    const { record } = db.prepare("SELECT record FROM audit_records WHERE strategy_id = 'lt' AND seq = 1").get() as { record: string };
    db.close();
    run("UPDATE audit_records SET record = '42' WHERE strategy_id = 'lt' AND seq = 1");
    expect((await feedRefusal()).detail).toBe(
      `audit_records row feed_id ${feedIdOf('lt', 1)} (strategy "lt", seq 1): its record column is not a transition record: it is not an object`,
    );
    run(`UPDATE audit_records SET record = json_set('${record}', '$.currentState', 7) WHERE strategy_id = 'lt' AND seq = 1`);
    expect((await feedRefusal()).detail).toMatch(/is not a transition record: its currentState is not a string$/);
  });

  test('damaged while the system runs: the strategies go on, the feed read names the row and reads on after it', async () => {
    await store();
    const system = await open();
    run("UPDATE audit_records SET record = '{bad' WHERE strategy_id = 'z' AND seq = 1");
    await system.send('lt', { type: 'TIME_WINDOW_START' });
    const { rows } = await system.store.readAuditAfter!(String(feedIdOf('z', 1) - 1), { limit: 100 });
    expect(rows[0]).toMatchObject({
      strategyId: 'z',
      seq: 1,
      damaged: { constructor: StoreCorruptError, detail: expect.stringMatching(/^audit_records row feed_id \d+ \(strategy "z", seq 1\)/) },
    });
    // The newest record, written after the damage, is read past it.
    expect(rows.at(-1)).toMatchObject({ strategyId: 'lt', record: { trigger: 'TIME_WINDOW_START' } });
    await system.close();
  });
});
