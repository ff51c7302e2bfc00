/**
 * The -shm file (SQLite's memory-mapped index of the write-ahead log) truncated or made immutable
 * while the store runs. Before, the store checked the -wal and the .lock file, never the -shm: the
 * next commit wrote through the mapping and the kernel killed the process with SIGBUS, taking every
 * strategy of the process with it. Now the store checks it before SQLite touches it: the send is
 * refused with a StoreUnavailableError naming the -shm, and the process lives on and closes. A
 * truncated -shm is given its size back, so the process also exits normally and a restart opens
 * the store with everything acknowledged. An immutable one cannot be helped: better-sqlite3 closes
 * the connection as the process exits, and SQLite's close writes to the index, so that exit may
 * end with SIGBUS (docs/reliability.md says so); the store must be made writable before a restart.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { SqliteStore } from '../../services/store/sqliteStore';
import { setImmutable, tempDir } from './helpers';

const dist = join(__dirname, '../../dist/cjs');

function runChild(
  dir: string,
  fault: 'truncate' | 'immutable',
): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  const script = `
    const fs = require('fs'); const { execFileSync } = require('child_process');
    const { SqliteStore } = require(${JSON.stringify(join(dist, 'entries/sqlite.js'))});
    const { openStrategySystem } = require(${JSON.stringify(join(dist, 'entries/persistence.js'))});
    const { lt112, createSimulatedClock } = require(${JSON.stringify(join(dist, 'index.js'))});
    (async () => {
      const file = ${JSON.stringify(join(dir, 's.db'))};
      const system = await openStrategySystem({ store: new SqliteStore(file, { checkEveryMs: 0 }), variants: [lt112],
        clock: createSimulatedClock(Date.parse('2026-12-04T11:00:00-05:00')) });
      await system.add(lt112, { id: 'a' });
      if (${JSON.stringify(fault)} === 'truncate') fs.truncateSync(file + '-shm', 0);
      else execFileSync('chattr', ['+i', file + '-shm']);
      const r = await system.send('a', { type: 'MARKET_OPEN' }).then(() => 'ACKED', (e) => 'REFUSED ' + e.constructor.name + ': ' + e.message);
      console.log(r);
      // Still serving: reads answer from memory, a second send is refused the same way.
      const again = await system.send('a', { type: 'MARKET_OPEN' }).then(() => 'ACKED', (e) => e.constructor.name);
      console.log('STATE ' + system.get('a').state + ' AGAIN ' + again);
      await system.close().catch(() => undefined);
      console.log('SURVIVED');
    })().catch((e) => { console.log('FAILED ' + e.message); process.exit(3); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, out })));
}

describe.each(['truncate', 'immutable'] as const)('the -shm file %s while the store runs', (fault) => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir('sl-shm-')));
  afterEach(() => {
    setImmutable([join(dir, 's.db-shm')], false);
    cleanup();
  });

  it('the process survives; the send is refused with a StoreUnavailableError naming the -shm, not killed by SIGBUS', async () => {
    const result = await runChild(dir, fault);
    expect(result.out).toMatch(/REFUSED StoreUnavailableError: .*s\.db-shm was (truncated|made unwritable)/);
    expect(result.out).toContain('STATE INITIALIZING AGAIN StoreUnavailableError');
    expect(result.out).toContain('SURVIVED');
    if (fault === 'truncate') {
      expect(result).toMatchObject({ signal: null, code: 0 });
      // Restarted, the store opens with what was acknowledged (the add).
      const store = new SqliteStore(join(dir, 's.db'), { checkEveryMs: 0 });
      await store.open();
      expect((await store.loadAll()).map((s) => s.strategyId)).toEqual(['a']);
      await store.close();
    }
  });
});
