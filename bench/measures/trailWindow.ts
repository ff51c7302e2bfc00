/**
 * The bounded in-memory trail (issue 15), two rows of the issue:
 * - memory: 1,000 strategies (0DTE, LT112, strangles) driven through every trading day of 2026 by
 *   `runSimulation`, heap used after a full GC with them alive, per strategy, when each keeps the
 *   recent window a persistent system keeps (`auditWindow`, default 200, and 20); reference: the
 *   same run keeping the whole year in memory (what every strategy held before the window).
 * - restore: `openStrategySystem` over a SQLite file of 2,000 strategies with a simulated year
 *   of history each (one real simulated trail per variant, copied), loading the recent window;
 *   reference: reading and parsing every stored row raw, the least a restore of whole trails does.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { createStrategyMachine, type StrategyMachine } from '../../machines/createStrategyMachine.js';
import type { StrategyDefinition } from '../../machines/definition.js';
import { mustExist } from '../../machines/errors.js';
import { topLevelState } from '../../machines/states.js';
import { lt112, strangle, zeroDte } from '../../machines/variants/index.js';
import { createSimulatedClock, type SimulatedClockHandle } from '../../services/market/clock.js';
import { DEFAULT_AUDIT_WINDOW, openStrategySystem } from '../../services/runtime/persistentSystem.js';
import { createStrategyActor, type StrategyActor } from '../../services/runtime/strategyActor.js';
import { runSimulation } from '../../services/simulation/simulation.js';
import { SqliteStore } from '../../services/store/sqliteStore.js';
import { collectGarbage, defineBench, duration, heapUsedAfterGc, si, type BenchRow } from '../harness.js';

interface Sizes {
  /** Strategies through the simulated year, for the memory rows. */
  strategies: number;
  /** Stored strategies with a year of history, for the restore row. */
  stored: number;
  from: string;
  to: string;
  restoreRounds: number;
}

const KB = 1024;
const TARGET_KB = 25;
const DEFS: StrategyDefinition[] = [zeroDte, lt112, strangle];
const UNDERLYINGS = ['SPX', 'SPY', 'QQQ', 'AAPL', 'MSFT'];
const VARIANTS = [zeroDte, lt112, strangle];

/** Runs `count` strategies through the year, each keeping at most `limit` records; returns them alive. */
function simulate(sizes: Sizes, count: number, limit: number | undefined): StrategyActor[] {
  const clock: SimulatedClockHandle = createSimulatedClock(DateTime.fromISO(sizes.from, { zone: 'America/New_York' }).toMillis());
  const machines = new Map<StrategyDefinition, StrategyMachine>(DEFS.map((d) => [d, createStrategyMachine(d)]));
  const strategies = Array.from({ length: count }, (_, i) =>
    createStrategyActor(mustExist(machines.get(DEFS[i % 3]), 'the variant machine'), {
      id: `${DEFS[i % 3].id}-${i}`,
      clock,
      params: { underlying: UNDERLYINGS[i % 5], quantity: 1 + (i % 4) },
      ...(limit !== undefined ? { auditLimit: limit } : {}),
    }),
  );
  runSimulation({ from: sizes.from, to: sizes.to, strategies, clock, seed: 42 });
  return strategies;
}

/** Heap per strategy after the year, with the strategies alive; and the records they hold. */
function memoryAfterYear(sizes: Sizes, limit: number | undefined): { perStrategy: number; held: number; written: number } {
  const before = heapUsedAfterGc();
  const strategies = simulate(sizes, sizes.strategies, limit);
  const after = heapUsedAfterGc();
  const held = strategies.reduce((sum, s) => sum + s.getAuditTrail().length, 0);
  const written = strategies.reduce((sum, s) => sum + (s.getSnapshot().context.lastRecord?.seq ?? 0), 0);
  for (const s of strategies) s.stop();
  return { perStrategy: (after - before) / sizes.strategies, held, written };
}

/** Copies one simulated year per variant into the (empty, migrated) SQLite file, `stored` strategies in all. */
function buildYearStore(sizes: Sizes, file: string): void {
  const seeds = simulate(sizes, DEFS.length, Number.MAX_SAFE_INTEGER);
  const shapes = seeds.map((s, i) => {
    const snapshot = s.getSnapshot();
    return {
      variant: DEFS[i].id,
      id: s.id,
      params: JSON.stringify(snapshot.context.params ?? {}),
      snapshot: JSON.stringify(s.actorRef.getPersistedSnapshot()),
      state: topLevelState(snapshot.value),
      createdAt: snapshot.context.createdAt,
      trail: s.getAuditTrail().map((r) => [r.seq, r.at, JSON.stringify(r)] as const),
    };
  });
  for (const s of seeds) s.stop();
  const raw = new Database(file);
  const addStrategy = raw.prepare(
    'INSERT INTO strategies (strategy_id, variant, params, snapshot, seq, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const addRecord = raw.prepare('INSERT INTO audit_records (strategy_id, seq, at, record) VALUES (?, ?, ?, ?)');
  raw.transaction(() => {
    for (let i = 0; i < sizes.stored; i++) {
      const shape = shapes[i % shapes.length];
      const id = `${shape.variant}-${i}`;
      const last = shape.trail.at(-1);
      addStrategy.run(
        id,
        shape.variant,
        shape.params,
        shape.snapshot.replaceAll(JSON.stringify(shape.id), JSON.stringify(id)),
        last?.[0] ?? 0,
        shape.state,
        shape.createdAt,
        last?.[1] ?? shape.createdAt,
      );
      for (const [seq, at, record] of shape.trail) addRecord.run(id, seq, at, record);
    }
  })();
  raw.close();
}

export const trailWindow = defineBench<Sizes>({
  id: 'trail-window',
  title: 'bounded in-memory trail',
  full: { strategies: 1000, stored: 2000, from: '2026-01-01', to: '2026-12-31', restoreRounds: 3 },
  smoke: { strategies: 6, stored: 6, from: '2026-03-02', to: '2026-03-06', restoreRounds: 1 },
  async run(ctx, sizes) {
    const rows: BenchRow[] = [];
    const n = sizes.strategies >= 1000 ? `${sizes.strategies / 1000}k` : String(sizes.strategies);
    ctx.log(`trail window: ${sizes.strategies} strategies through ${sizes.from}..${sizes.to}, whole trail kept`);
    const whole = memoryAfterYear(sizes, Number.MAX_SAFE_INTEGER);
    for (const window of [DEFAULT_AUDIT_WINDOW, 20]) {
      ctx.log(`trail window: the same, window ${window}`);
      const ours = memoryAfterYear(sizes, window);
      rows.push({
        measure: `memory per strategy after a simulated year, ${n} strategies, window ${window}${window === DEFAULT_AUDIT_WINDOW ? ' (default)' : ''} (heap used after GC)`,
        ours: {
          text: `${(ours.perStrategy / KB).toFixed(1)} KB/strategy (${si(ours.held)} records held of ${si(ours.written)})`,
          value: ours.perStrategy / KB,
          unit: 'KB/strategy',
        },
        referenceName: 'the same run keeping the whole year in memory (before the window)',
        reference: {
          text: `${(whole.perStrategy / KB).toFixed(1)} KB/strategy (${si(whole.held)} records held)`,
          value: whole.perStrategy / KB,
          unit: 'KB/strategy',
        },
        ratio: ours.perStrategy / whole.perStrategy,
        target: `< ${TARGET_KB} KB each`,
        met: ours.perStrategy / KB < TARGET_KB,
        notes: [
          `window ${window}: ${sizes.from} to ${sizes.to}, runSimulation with each strategy's auditLimit set to the window a persistent system keeps (auditWindow); each record left out of memory saves ${((whole.perStrategy - ours.perStrategy) / Math.max(1, (whole.held - ours.held) / sizes.strategies)).toFixed(0)} B`,
        ],
      });
    }

    const dir = mkdtempSync(join(tmpdir(), 'sl-bench-window-'));
    try {
      const file = join(dir, 'year.db');
      // The store makes its schema; then the year's rows are copied in raw.
      const init = new SqliteStore(file, { checkEveryMs: 0 });
      await init.open();
      await init.close();
      ctx.log(`trail window: writing ${sizes.stored} strategies with a simulated year each`);
      const records = countRecords(file, sizes);
      const clock = createSimulatedClock(DateTime.fromISO(sizes.to, { zone: 'America/New_York' }).endOf('day').toMillis());
      const restoreTimes: number[] = [];
      const rawTimes: number[] = [];
      let loaded = 0;
      for (let round = 0; round < sizes.restoreRounds; round++) {
        collectGarbage();
        let start = ctx.now();
        const system = await openStrategySystem({
          store: new SqliteStore(file, { synchronous: 'NORMAL', checkEveryMs: 0 }),
          variants: VARIANTS,
          clock,
        });
        restoreTimes.push(ctx.now() - start);
        loaded = system.ids().reduce((sum, id) => sum + system.get(id).getAuditTrail().length, 0);
        const count = system.ids().length;
        await system.close();
        if (count !== sizes.stored) throw new Error(`restored ${count} strategies, ${sizes.stored} expected`);
        collectGarbage();
        start = ctx.now();
        const raw = new Database(file, { readonly: true });
        for (const row of raw.prepare('SELECT snapshot FROM strategies').iterate() as Iterable<{ snapshot: string }>)
          JSON.parse(row.snapshot);
        for (const row of raw.prepare('SELECT record FROM audit_records ORDER BY strategy_id, seq').iterate() as Iterable<{
          record: string;
        }>)
          JSON.parse(row.record);
        raw.close();
        rawTimes.push(ctx.now() - start);
      }
      const restoreMs = [...restoreTimes].sort((a, b) => a - b)[Math.floor(restoreTimes.length / 2)];
      const rawMs = [...rawTimes].sort((a, b) => a - b)[Math.floor(rawTimes.length / 2)];
      const m = sizes.stored >= 1000 ? `${sizes.stored / 1000}k` : String(sizes.stored);
      rows.push({
        measure: `restore ${m} strategies with a simulated year of history each from SQLite (openStrategySystem, window ${DEFAULT_AUDIT_WINDOW})`,
        ours: { text: `${duration(restoreMs)} (${si(loaded)} of ${si(records)} records loaded)`, value: restoreMs, unit: 'ms' },
        referenceName: 'reading and parsing every stored row raw (the least a restore of whole trails does)',
        reference: { text: duration(rawMs), value: rawMs, unit: 'ms' },
        ratio: restoreMs / rawMs,
        target: '< 1 s',
        met: restoreMs < 1000,
        notes: [
          `restore of a year: median of ${sizes.restoreRounds} rounds, each after a full GC; rounds: ours ${restoreTimes.map((t) => duration(t)).join(', ')}, raw ${rawTimes.map((t) => duration(t)).join(', ')}`,
        ],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return rows;
  },
});

/** Writes the year store and returns how many records it holds. */
function countRecords(file: string, sizes: Sizes): number {
  buildYearStore(sizes, file);
  const raw = new Database(file, { readonly: true });
  const { n } = raw.prepare('SELECT count(*) AS n FROM audit_records').get() as { n: number };
  raw.close();
  return n;
}
