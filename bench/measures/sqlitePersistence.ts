/**
 * SQLite persistence: persisted transitions/s of a write-ahead system (audit record + snapshot in
 * one transaction, WAL, synchronous=FULL) against raw better-sqlite3 single-row inserts with the
 * same durability settings; and restoring 10k strategies (snapshots, trails, deadlines) against
 * reading the same rows raw.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StrategyEvent } from '../../machines/events.js';
import { lt112, strangle, zeroDte } from '../../machines/variants/index.js';
import { createSimulatedClock } from '../../services/clock.js';
import { openStrategySystem } from '../../services/persistentSystem.js';
import { SqliteStore } from '../../services/store/sqliteStore.js';
import { defineBench, duration, si, type BenchRow } from '../harness.js';

interface Sizes {
  transitions: number;
  strategies: number;
}

const VARIANTS = [zeroDte, lt112, strangle];
const CYCLE: StrategyEvent[] = [{ type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' }, { type: 'TIME_WINDOW_END' }, { type: 'MARKET_CLOSE' }];

export const sqlitePersistence = defineBench<Sizes>({
  id: 'sqlite',
  title: 'SQLite persistence and restore',
  full: { transitions: 2000, strategies: 10_000 },
  smoke: { transitions: 20, strategies: 20 },
  async run(ctx, sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'sl-bench-'));
    try {
      const rows: BenchRow[] = [];
      // Persisted transitions, one at a time (each acknowledged after its commit).
      const clock = createSimulatedClock('2026-12-04T10:00:00-05:00');
      const system = await openStrategySystem({ store: new SqliteStore(join(dir, 'ours.db')), variants: VARIANTS, clock });
      await system.add(lt112, { id: 'lt' });
      await system.send('lt', { type: 'MARKET_OPEN' });
      ctx.log(`sqlite: ${sizes.transitions} persisted transitions`);
      let start = ctx.now();
      for (let i = 0; i < sizes.transitions; i++) await system.send('lt', CYCLE[1 + (i % 2)]);
      const oursMs = ctx.now() - start;
      await system.close();

      const raw = new Database(join(dir, 'raw.db'));
      raw.pragma('journal_mode = WAL');
      raw.pragma('synchronous = FULL');
      raw.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, body TEXT NOT NULL)');
      const insert = raw.prepare('INSERT INTO t (at, body) VALUES (?, ?)');
      const body = JSON.stringify({ type: 'TIME_WINDOW_START', pad: 'x'.repeat(200) });
      start = ctx.now();
      for (let i = 0; i < sizes.transitions; i++) insert.run(i, body);
      const rawMs = ctx.now() - start;
      raw.close();
      const oursRate = (sizes.transitions / oursMs) * 1000;
      const rawRate = (sizes.transitions / rawMs) * 1000;
      rows.push({
        measure: 'persisted transitions/s on SQLite (WAL, synchronous=FULL, one at a time)',
        ours: { text: `${si(oursRate)} transitions/s`, value: oursRate, unit: '/s' },
        referenceName: 'raw better-sqlite3 single-row inserts, same settings',
        reference: { text: `${si(rawRate)} inserts/s`, value: rawRate, unit: '/s' },
        ratio: rawRate / oursRate,
        target: 'at least 50% of raw',
        met: oursRate >= rawRate * 0.5,
      });

      // Restore: a database of N strategies built from one real strategy's rows.
      const seedClock = createSimulatedClock('2026-12-04T10:00:00-05:00');
      const file = join(dir, 'restore.db');
      const seed = await openStrategySystem({ store: new SqliteStore(file, { synchronous: 'NORMAL' }), variants: VARIANTS, clock: seedClock });
      await seed.add(lt112, { id: 's0' });
      for (const event of CYCLE.slice(0, 2)) await seed.send('s0', event);
      await seed.close();
      const db = new Database(file);
      const copy = db.transaction(() => {
        const strategy = db.prepare("SELECT * FROM strategies WHERE strategy_id = 's0'").get() as Record<string, unknown>;
        const records = db.prepare("SELECT * FROM audit_records WHERE strategy_id = 's0'").all() as Array<Record<string, unknown>>;
        const addStrategy = db.prepare('INSERT INTO strategies (strategy_id, variant, params, snapshot, seq, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
        const addRecord = db.prepare('INSERT INTO audit_records (strategy_id, seq, at, record) VALUES (?, ?, ?, ?)');
        for (let i = 1; i < sizes.strategies; i++) {
          const id = `s${i}`;
          addStrategy.run(id, strategy.variant, strategy.params, String(strategy.snapshot).replaceAll('"s0"', JSON.stringify(id)), strategy.seq, strategy.state, strategy.created_at, strategy.updated_at);
          for (const r of records) addRecord.run(id, r.seq, r.at, String(r.record));
        }
      });
      copy();
      db.close();
      ctx.log(`sqlite: restoring ${sizes.strategies} strategies`);
      start = ctx.now();
      const restored = await openStrategySystem({ store: new SqliteStore(file, { synchronous: 'NORMAL' }), variants: VARIANTS, clock: seedClock });
      const restoreMs = ctx.now() - start;
      const count = restored.ids().length;
      await restored.close();
      if (count !== sizes.strategies) throw new Error(`restored ${count} strategies, ${sizes.strategies} expected`);
      start = ctx.now();
      const rawDb = new Database(file, { readonly: true });
      const all = rawDb.prepare('SELECT strategy_id, snapshot FROM strategies').all() as Array<{ snapshot: string }>;
      for (const row of all) JSON.parse(row.snapshot);
      for (const row of rawDb.prepare('SELECT record FROM audit_records ORDER BY strategy_id, seq').iterate() as Iterable<{ record: string }>) JSON.parse(row.record);
      rawDb.close();
      const rawReadMs = ctx.now() - start;
      const n = sizes.strategies >= 1000 ? `${sizes.strategies / 1000}k` : String(sizes.strategies);
      rows.push({
        measure: `restore ${n} strategies from SQLite (openStrategySystem)`,
        ours: { text: duration(restoreMs), value: restoreMs, unit: 'ms' },
        referenceName: 'reading and parsing the same rows raw',
        reference: { text: duration(rawReadMs), value: rawReadMs, unit: 'ms' },
        ratio: restoreMs / rawReadMs,
        target: '< 1 s',
        met: restoreMs < 1000,
      });
      return rows;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
});
