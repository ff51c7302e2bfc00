/**
 * Another process holding SQLite's write lock (a second better-sqlite3 connection in a child
 * process, inside `BEGIN IMMEDIATE`; our own writer lock file does not stop a tool that opens the
 * database directly): every write waits out the busy timeout (5 s of real time), then fails with
 * `StoreUnavailableError` naming SQLITE_BUSY; nothing moves, nothing is registered, and once the
 * lock is let go the same calls work and the store agrees with memory.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { StoreUnavailableError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { verifyStore } from '../../services/runtime/replay';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';
import { tempDir } from './helpers';

const variants = VARIANTS.map((v) => v.def);
const BUSY = /unavailable: SQLITE_BUSY: database is locked/;

/** A child process holding the write lock of `file` until its stdin gets a line. */
async function holdWriteLock(file: string): Promise<ChildProcessWithoutNullStreams> {
  const script = `
    const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
    const db = new Database(${JSON.stringify(file)});
    db.exec('BEGIN IMMEDIATE');
    process.stdout.write('locked\\n');
    process.stdin.once('data', () => { db.exec('COMMIT'); db.close(); process.exit(0); });`;
  const child = spawn(process.execPath, ['-e', script]);
  await new Promise((resolve, reject) => {
    child.stdout.once('data', resolve);
    child.once('exit', (code) => reject(new Error(`the lock holder exited with ${code}`)));
  });
  return child;
}

async function release(child: ChildProcessWithoutNullStreams): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin.write('go\n');
  await exited;
}

test('writes while another process holds the write lock fail with SQLITE_BUSY, move nothing, and work once it lets go', async () => {
  const { dir, cleanup } = tempDir('sl-busy-');
  const file = join(dir, 'busy.db');
  const system = await openStrategySystem({
    store: new SqliteStore(file, { checkEveryMs: 0 }),
    variants,
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  let holder: ChildProcessWithoutNullStreams | undefined;
  try {
    for (const id of ['a', 'b', 'c']) await system.add(lt112, { id });
    await system.send('a', { type: 'MARKET_OPEN' });
    holder = await holdWriteLock(file);

    // One batch (the three sends are ready together): one wait, and each of its sends fails.
    const results = await system.broadcast({ type: 'MARKET_OPEN' });
    for (const id of ['a', 'b', 'c']) {
      expect(results[id]).toBeInstanceOf(StoreUnavailableError);
      expect(String(results[id])).toMatch(BUSY);
    }
    expect(['a', 'b', 'c'].map((id) => system.get(id).state)).toEqual(['READY', 'INITIALIZING', 'INITIALIZING']);
    await expect(system.add(lt112, { id: 'd' })).rejects.toThrow(BUSY);
    expect(system.has('d')).toBe(false);

    await release(holder);
    holder = undefined;
    const again = await system.broadcast({ type: 'MARKET_OPEN' });
    expect(Object.values(again).filter((r) => r instanceof StoreUnavailableError)).toEqual([]);
    await system.add(lt112, { id: 'd' });
    expect(system.ids().map((id) => system.get(id).state)).toEqual(['READY', 'READY', 'READY', 'INITIALIZING']);
    const memory = Object.fromEntries(system.ids().map((id) => [id, JSON.parse(JSON.stringify(system.get(id).getAuditTrail()))]));
    await system.close();
    const store = new SqliteStore(file, { lock: false, checkEveryMs: 0 });
    await store.open();
    for (const id of Object.keys(memory)) expect(await store.readAuditTrail(id, { limit: 100 })).toEqual(memory[id]);
    await store.close();
    expect(await verifyStore(new SqliteStore(file, { lock: false, checkEveryMs: 0 }), variants)).toMatchObject({
      strategies: 4,
      records: 4,
      differences: [],
    });
  } finally {
    if (holder) await release(holder);
    await system.close();
    cleanup();
  }
}, 30_000);
