/**
 * Another process holding SQLite's write lock (a second better-sqlite3 connection in a child
 * process, inside `BEGIN IMMEDIATE`; our own writer lock file does not stop a tool that opens the
 * database directly): every write waits out the busy timeout (5 s of real time), then fails with
 * `StoreUnavailableError` naming SQLITE_BUSY; nothing moves, nothing is registered, and once the
 * lock is let go the same calls work and the store agrees with memory. The wait never holds the
 * event loop: SQLite waits a few ms, the store retries on timers (a 300-strategy broadcast froze
 * timers and HTTP for 15 s, three batches of 5 s each). A lock let go during the wait lets the
 * batch commit once; a close during the wait ends it at once.
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

/** The longest gap between `setTimeout(0)` callbacks, in ms of real time, until `stop` is called. */
function loopGaps(): { stop: () => number } {
  let longest = 0;
  let last = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    timer = setTimeout(tick, 0);
  };
  timer = setTimeout(tick, 0);
  return {
    stop: () => {
      clearTimeout(timer);
      return Math.max(longest, performance.now() - last);
    },
  };
}

async function release(child: ChildProcessWithoutNullStreams): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin.write('go\n');
  await exited;
}

test('writes while another process holds the write lock fail with SQLITE_BUSY, move nothing, and work once it lets go', async () => {
  const { dir, cleanup } = tempDir('sl-busy-');
  const file = join(dir, 'busy.db');
  const store = new SqliteStore(file, { checkEveryMs: 0 });
  const system = await openStrategySystem({ store, variants, clock: createSimulatedClock(FRIDAY_11AM) });
  let holder: ChildProcessWithoutNullStreams | undefined;
  try {
    for (const id of ['a', 'b', 'c']) await system.add(lt112, { id });
    await system.send('a', { type: 'MARKET_OPEN' });
    holder = await holdWriteLock(file);
    // Reads take no write lock (WAL): an audit page is answered at once.
    expect(await store.readAuditTrail('a', { limit: 10 })).toHaveLength(1);

    // One batch (the three sends are ready together): one wait, and each of its sends fails. The
    // event loop keeps turning meanwhile (250 ms: generous on two loaded cores; it was 5,000).
    const gaps = loopGaps();
    const results = await system.broadcast({ type: 'MARKET_OPEN' });
    expect(gaps.stop()).toBeLessThan(250);
    for (const id of ['a', 'b', 'c']) {
      expect(results[id]).toBeInstanceOf(StoreUnavailableError);
      expect(String(results[id])).toMatch(BUSY);
    }
    expect(['a', 'b', 'c'].map((id) => system.get(id).state)).toEqual(['READY', 'INITIALIZING', 'INITIALIZING']);
    const addGaps = loopGaps();
    await expect(system.add(lt112, { id: 'd' })).rejects.toThrow(BUSY);
    expect(addGaps.stop()).toBeLessThan(250);
    expect(system.has('d')).toBe(false);

    await release(holder);
    holder = undefined;
    const again = await system.broadcast({ type: 'MARKET_OPEN' });
    expect(Object.values(again).filter((r) => r instanceof StoreUnavailableError)).toEqual([]);
    await system.add(lt112, { id: 'd' });
    expect(system.ids().map((id) => system.get(id).state)).toEqual(['READY', 'READY', 'READY', 'INITIALIZING']);
    const memory = Object.fromEntries(system.ids().map((id) => [id, JSON.parse(JSON.stringify(system.get(id).getAuditTrail()))]));
    await system.close();
    const reader = new SqliteStore(file, { lock: false, checkEveryMs: 0 });
    await reader.open();
    for (const id of Object.keys(memory)) expect(await reader.readAuditTrail(id, { limit: 100 })).toEqual(memory[id]);
    await reader.close();
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

test('a lock let go during the wait: the batch commits once, in order, and is acknowledged after its commit', async () => {
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
    holder = await holdWriteLock(file);
    const gaps = loopGaps();
    let settled = false;
    const broadcast = system.broadcast({ type: 'MARKET_OPEN' }).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(settled).toBe(false); // not acknowledged while nothing is committed
    await release(holder);
    holder = undefined;
    const results = await broadcast;
    expect(gaps.stop()).toBeLessThan(250);
    expect(Object.values(results).filter((r) => r instanceof Error)).toEqual([]);
    expect(system.ids().map((id) => system.get(id).state)).toEqual(['READY', 'READY', 'READY']);
    await system.close();
    expect(await verifyStore(new SqliteStore(file, { lock: false, checkEveryMs: 0 }), variants)).toMatchObject({
      strategies: 3,
      records: 3,
      differences: [],
    });
  } finally {
    if (holder) await release(holder);
    await system.close();
    cleanup();
  }
}, 30_000);

test('a close during the wait ends it at once: the batch fails with StoreUnavailableError, nothing committed', async () => {
  const { dir, cleanup } = tempDir('sl-busy-');
  const file = join(dir, 'busy.db');
  const store = new SqliteStore(file, { checkEveryMs: 0 });
  const system = await openStrategySystem({ store, variants, clock: createSimulatedClock(FRIDAY_11AM) });
  let holder: ChildProcessWithoutNullStreams | undefined;
  try {
    await system.add(lt112, { id: 'a' });
    holder = await holdWriteLock(file);
    const started = performance.now();
    const send = system.send('a', { type: 'MARKET_OPEN' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await store.close();
    const result = await send.then(
      (value) => value,
      (error: unknown) => error,
    );
    // Settled by the close, at about 100 ms: it waited out the whole 5 s before.
    expect(performance.now() - started).toBeLessThan(2500);
    expect(result).toBeInstanceOf(StoreUnavailableError);
    expect(String(result)).toMatch(/SQLITE_BUSY/);
    expect(system.get('a').state).toBe('INITIALIZING');
    await release(holder);
    holder = undefined;
    const reopened = new SqliteStore(file, { lock: false, checkEveryMs: 0 });
    await reopened.open();
    expect(await reopened.readAuditTrail('a', { limit: 10 })).toHaveLength(0);
    await reopened.close();
  } finally {
    if (holder) await release(holder);
    await system.close();
    cleanup();
  }
}, 30_000);
