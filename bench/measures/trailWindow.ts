/**
 * The bounded in-memory trail (issue 15), two rows of the issue:
 * - memory: strategies (0DTE, LT112, strangles) driven through every trading day of 2026 by
 *   `runSimulation`, memory after a full GC with them alive (V8 heap used plus external memory,
 *   where Buffers and array buffers are counted), per strategy, when each keeps the recent window
 *   a persistent system keeps (`auditWindow`, default 100, and 20) in its compact form
 *   (`AuditWindow`); reference: the same run keeping the whole year.
 * - restore: `openStrategySystem` over a SQLite file of strategies with a month, then a year of
 *   history each (one real simulated trail per variant, copied), split into the store's open
 *   (its integrity check covers the tables a restore reads whole, not the audit trail, so it
 *   does not grow with history) and the rest (load the snapshots and the
 *   `restoreWindow` newest records, start the strategies); reference: reading and parsing every
 *   stored row raw, the least a restore of whole trails does.
 *
 * `TRAIL_WINDOW_SIZE=quick` runs 200 strategies through the year and restores 500, to iterate.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { createActor } from 'xstate';
import { createStrategyMachine, type StrategyMachine } from '../../machines/createStrategyMachine.js';
import type { StrategyDefinition } from '../../machines/definition.js';
import { mustExist } from '../../machines/errors.js';
import { topLevelState } from '../../machines/states.js';
import { lt112, strangle, zeroDte } from '../../machines/variants/index.js';
import { createSimulatedClock, type SimulatedClockHandle } from '../../services/market/clock.js';
import { DEFAULT_AUDIT_WINDOW, openStrategySystem } from '../../services/runtime/persistentSystem.js';
import { DEFAULT_RESTORE_WINDOW } from '../../services/runtime/restoreStrategies.js';
import { storeBackedTrail } from '../../services/runtime/auditChunks.js';
import { parkedClock } from '../../services/runtime/durableDelays.js';
import type { StrategyActor } from '../../services/runtime/strategyActor.js';
import { attachStrategy } from '../../services/runtime/strategyHandle.js';
import { runSimulation } from '../../services/simulation/simulation.js';
import { SqliteStore } from '../../services/store/sqliteStore.js';
import { collectGarbage, defineBench, duration, si, type BenchContext, type BenchRow } from '../harness.js';

interface Sizes {
  /** Strategies through the simulated year, for the memory rows. */
  strategies: number;
  /** Stored strategies with a year of history, for the restore row. */
  stored: number;
  from: string;
  to: string;
  /** Last day of the short history restored beside the year (a month). */
  shortTo: string;
  restoreRounds: number;
}

const KB = 1024;
const TARGET_KB = 25;
const DEFS: StrategyDefinition[] = [zeroDte, lt112, strangle];
const UNDERLYINGS = ['SPX', 'SPY', 'QQQ', 'AAPL', 'MSFT'];
const VARIANTS = [zeroDte, lt112, strangle];

/**
 * A strategy that keeps its records in memory as a persistent system keeps them
 * ({@link storeBackedTrail}: the newest `limit`, packed), without a store under it.
 */
function storeBackedStrategy(
  machine: StrategyMachine,
  id: string,
  clock: SimulatedClockHandle,
  params: Record<string, unknown>,
  limit: number,
) {
  return attachStrategy(machine, {
    id,
    clock,
    spawn: (snapshot) =>
      createActor(machine, {
        clock: parkedClock(clock),
        input: { strategyId: id, params, createdAt: clock.now() },
        ...(snapshot ? { snapshot } : {}),
      }),
    stopRef: (ref) => ref.stop(),
    ...storeBackedTrail(limit),
  });
}

/** Runs `count` strategies through the year, each keeping at most `limit` records as a persistent system does; returns them alive. */
function simulate(sizes: Sizes, count: number, limit: number): StrategyActor[] {
  const clock: SimulatedClockHandle = createSimulatedClock(DateTime.fromISO(sizes.from, { zone: 'America/New_York' }).toMillis());
  const machines = new Map<StrategyDefinition, StrategyMachine>(DEFS.map((d) => [d, createStrategyMachine(d)]));
  const strategies = Array.from({ length: count }, (_, i) =>
    storeBackedStrategy(
      mustExist(machines.get(DEFS[i % 3]), 'the variant machine'),
      `${DEFS[i % 3].id}-${i}`,
      clock,
      { underlying: UNDERLYINGS[i % 5], quantity: 1 + (i % 4) },
      limit,
    ),
  );
  runSimulation({ from: sizes.from, to: sizes.to, strategies, clock, seed: 42 });
  return strategies;
}

/** Heap used plus external memory (Buffers, array buffers) after a full GC. */
function memoryAfterGc(): number {
  collectGarbage();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

/** Memory per strategy after the year, with the strategies alive; and the records they hold. */
function memoryAfterYear(sizes: Sizes, limit: number): { perStrategy: number; held: number; written: number } {
  const before = memoryAfterGc();
  const strategies = simulate(sizes, sizes.strategies, limit);
  const after = memoryAfterGc();
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
  full:
    process.env.TRAIL_WINDOW_SIZE === 'quick'
      ? { strategies: 200, stored: 500, from: '2026-01-01', to: '2026-12-31', shortTo: '2026-01-31', restoreRounds: 1 }
      : { strategies: 1000, stored: 2000, from: '2026-01-01', to: '2026-12-31', shortTo: '2026-01-31', restoreRounds: 3 },
  smoke: { strategies: 6, stored: 6, from: '2026-03-02', to: '2026-03-06', shortTo: '2026-03-03', restoreRounds: 1 },
  async run(ctx, sizes) {
    const rows: BenchRow[] = [];
    const n = sizes.strategies >= 1000 ? `${sizes.strategies / 1000}k` : String(sizes.strategies);
    ctx.log(`trail window: ${sizes.strategies} strategies through ${sizes.from}..${sizes.to}, whole trail kept`);
    const whole = memoryAfterYear(sizes, Number.MAX_SAFE_INTEGER);
    for (const window of [DEFAULT_AUDIT_WINDOW, 20]) {
      ctx.log(`trail window: the same, window ${window}`);
      const ours = memoryAfterYear(sizes, window);
      rows.push({
        measure: `memory per strategy after a simulated year, ${n} strategies, window ${window}${window === DEFAULT_AUDIT_WINDOW ? ' (default)' : ''} (heap used + external after GC)`,
        ours: {
          text: `${(ours.perStrategy / KB).toFixed(1)} KB/strategy (${si(ours.held)} records held of ${si(ours.written)})`,
          value: ours.perStrategy / KB,
          unit: 'KB/strategy',
        },
        referenceName: 'the same run keeping the whole year in memory (in the same compact form)',
        reference: {
          text: `${(whole.perStrategy / KB).toFixed(1)} KB/strategy (${si(whole.held)} records held)`,
          value: whole.perStrategy / KB,
          unit: 'KB/strategy',
        },
        ratio: ours.perStrategy / whole.perStrategy,
        target: `< ${TARGET_KB} KB each`,
        met: ours.perStrategy / KB < TARGET_KB,
        notes: [
          `window ${window}: ${sizes.from} to ${sizes.to}, runSimulation with each strategy keeping its records as a persistent system does (storeBackedTrail: the newest auditWindow, packed); each record left out of memory saves ${((whole.perStrategy - ours.perStrategy) / Math.max(1, (whole.held - ours.held) / sizes.strategies)).toFixed(0)} B`,
        ],
      });
    }

    const dir = mkdtempSync(join(tmpdir(), 'sl-bench-window-'));
    try {
      const m = sizes.stored >= 1000 ? `${sizes.stored / 1000}k` : String(sizes.stored);
      const month = await measureRestore(ctx, { ...sizes, to: sizes.shortTo }, join(dir, 'month.db'));
      const year = await measureRestore(ctx, sizes, join(dir, 'year.db'));
      for (const [label, r] of [
        ['a month', month],
        ['a simulated year', year],
      ] as const) {
        rows.push({
          measure: `restore ${m} strategies with ${label} of history each from SQLite (openStrategySystem, restoreWindow ${DEFAULT_RESTORE_WINDOW}, auditWindow ${DEFAULT_AUDIT_WINDOW})`,
          ours: {
            text: `${duration(r.totalMs)} (store open ${duration(r.openMs)} + load and start ${duration(r.restoreMs)}; ${si(r.loaded)} of ${si(r.records)} records loaded)`,
            value: r.totalMs,
            unit: 'ms',
          },
          referenceName: 'reading and parsing every stored row raw (the least a restore of whole trails does)',
          reference: { text: duration(r.rawMs), value: r.rawMs, unit: 'ms' },
          ratio: r.totalMs / r.rawMs,
          target: '< 1 s, flat in history',
          met: r.totalMs < 1000,
          notes: [
            `${label}: ${sizes.stored} strategies x ${Math.round(r.records / sizes.stored)} records each (${r.fileMb.toFixed(0)} MB file); median of ${sizes.restoreRounds} rounds, each after a full GC. The store's open checks the integrity of the tables a restore reads whole (PRAGMA quick_check(TABLE), not the audit trail); neither it nor loading the snapshots and the newest ${DEFAULT_RESTORE_WINDOW} records and starting the strategies grows with history. Rounds: store open ${r.openTimes.map(duration).join(', ')}; load and start ${r.restoreTimes.map(duration).join(', ')}; raw ${r.rawTimes.map(duration).join(', ')}`,
          ],
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return rows;
  },
});

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Restores a store of `sizes.stored` strategies with history from `sizes.from` to `sizes.to`, timed. */
async function measureRestore(ctx: BenchContext, sizes: Sizes, file: string) {
  // The store makes its schema; then the rows are copied in raw.
  const init = new SqliteStore(file, { checkEveryMs: 0 });
  await init.open();
  await init.close();
  ctx.log(`trail window: writing ${sizes.stored} strategies with history ${sizes.from}..${sizes.to}`);
  const records = countRecords(file, sizes);
  const clock = createSimulatedClock(DateTime.fromISO(sizes.to, { zone: 'America/New_York' }).endOf('day').toMillis());
  const openTimes: number[] = [];
  const restoreTimes: number[] = [];
  const rawTimes: number[] = [];
  let loaded = 0;
  for (let round = 0; round < sizes.restoreRounds; round++) {
    collectGarbage();
    let start = ctx.now();
    const store = new SqliteStore(file, { synchronous: 'NORMAL', checkEveryMs: 0 });
    await store.open();
    openTimes.push(ctx.now() - start);
    start = ctx.now();
    const system = await openStrategySystem({ store, variants: VARIANTS, clock });
    restoreTimes.push(ctx.now() - start);
    loaded = system.ids().reduce((sum, id) => sum + system.get(id).getAuditTrail().length, 0);
    const count = system.ids().length;
    await system.close();
    if (count !== sizes.stored) throw new Error(`restored ${count} strategies, ${sizes.stored} expected`);
    collectGarbage();
    start = ctx.now();
    const raw = new Database(file, { readonly: true });
    for (const row of raw.prepare('SELECT snapshot FROM strategies').iterate() as Iterable<{ snapshot: string }>) JSON.parse(row.snapshot);
    for (const row of raw.prepare('SELECT record FROM audit_records ORDER BY strategy_id, seq').iterate() as Iterable<{ record: string }>)
      JSON.parse(row.record);
    raw.close();
    rawTimes.push(ctx.now() - start);
  }
  const openMs = median(openTimes);
  const restoreMs = median(restoreTimes);
  const totals = openTimes.map((t, i) => t + restoreTimes[i]);
  return {
    openMs,
    restoreMs,
    totalMs: median(totals),
    rawMs: median(rawTimes),
    openTimes,
    restoreTimes,
    rawTimes,
    loaded,
    records,
    fileMb: statSync(file).size / (1024 * 1024),
  };
}

/** Writes the year store and returns how many records it holds. */
function countRecords(file: string, sizes: Sizes): number {
  buildYearStore(sizes, file);
  const raw = new Database(file, { readonly: true });
  const { n } = raw.prepare('SELECT count(*) AS n FROM audit_records').get() as { n: number };
  raw.close();
  return n;
}
