/**
 * Memory per strategy actor: heap used after a full GC with N LT112 strategies alive (created
 * with createStrategyActor on one simulated clock, each past MARKET_OPEN so it holds one audit
 * record), minus the heap before, over N; the same for N bare XState actors of the same
 * 15-state machine. Not a tinybench measure: heap figures come from process.memoryUsage().
 */
import { performance } from 'node:perf_hooks';
import { createActor, type AnyActorRef } from 'xstate';
import { createStrategyMachine } from '../../machines/createStrategyMachine.js';
import { lt112 } from '../../machines/variants/index.js';
import { createSimulatedClock } from '../../services/market/clock.js';
import { createStrategyActor, type StrategyActor } from '../../services/runtime/strategyActor.js';
import { createBareMachine } from '../fixtures/bareMachine.js';
import { driveStrategy, newStrategy } from '../fixtures/drivers.js';
import { CYCLE_EVENTS, mixedStream } from '../fixtures/mixedStream.js';
import { defineBench, duration, heapUsedAfterGc, type BenchRow } from '../harness.js';

interface Sizes {
  counts: number[];
  /** Events of the mixed stream sent to one actor to measure what each retained audit record costs. */
  trailEvents: number;
}

const KB = 1024;
const GB = 1024 ** 3;
const TARGET_KB = 20;
const TARGET_TOTAL_AT = 100_000;

/** Heap used by `count` live objects made by `make`, per object, after GC; `release` stops them. */
function heapPer<T>(
  count: number,
  make: (i: number) => T,
  release: (item: T) => void,
): { perItem: number; total: number; createMs: number } {
  const before = heapUsedAfterGc();
  const items = new Array<T>(count);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) items[i] = make(i);
  const createMs = performance.now() - t0;
  const after = heapUsedAfterGc();
  for (const item of items) release(item);
  items.length = 0;
  heapUsedAfterGc();
  return { perItem: (after - before) / count, total: after - before, createMs };
}

const kb = (bytes: number) => `${(bytes / KB).toFixed(1)} KB`;
const mb = (bytes: number) => (bytes >= GB ? `${(bytes / GB).toFixed(2)} GB` : `${(bytes / KB / KB).toFixed(0)} MB`);

export const memoryPerActor = defineBench<Sizes>({
  id: 'memory-per-actor',
  title: 'memory per strategy actor',
  full: { counts: [10_000, 100_000], trailEvents: 20_000 },
  smoke: { counts: [50], trailEvents: 60 },
  async run(ctx, sizes) {
    const machine = createStrategyMachine(lt112);
    const bare = createBareMachine();
    const rows: BenchRow[] = [];
    // What the in-memory audit trail adds: one actor, the mixed stream, heap per retained record.
    const stream = mixedStream(sizes.trailEvents);
    const trailBefore = heapUsedAfterGc();
    const { strategy: long, clock: longClock } = newStrategy(machine, stream);
    driveStrategy(long, longClock, stream);
    const perRecord = (heapUsedAfterGc() - trailBefore) / long.getAuditTrail().length;
    long.stop();
    for (const count of sizes.counts) {
      const clock = createSimulatedClock('2026-01-05T09:00:00-05:00');
      ctx.log(`memory: ${count} strategy actors`);
      const ours = heapPer<StrategyActor>(
        count,
        (i) => {
          const s = createStrategyActor(machine, { id: `lt112-${i}`, clock, params: { underlying: 'SPX' } });
          s.trigger({ type: 'MARKET_OPEN' });
          return s;
        },
        (s) => s.stop(),
      );
      ctx.log(`memory: ${count} bare XState actors`);
      const bareRun = heapPer<AnyActorRef>(
        count,
        () => {
          const a = createActor(bare, { clock }).start();
          a.send({ type: 'MARKET_OPEN' });
          return a;
        },
        (a) => a.stop(),
      );
      const perKb = ours.perItem / KB;
      const atTarget = (ours.perItem * TARGET_TOTAL_AT) / GB;
      const n = count >= 1000 ? `${count / 1000}k` : String(count);
      rows.push({
        measure: `memory per strategy actor, ${n} actors (heap used after GC)`,
        ours: { text: `${kb(ours.perItem)}/actor (${mb(ours.total)} in all)`, value: perKb, unit: 'KB/actor' },
        referenceName: 'bare XState actors of the same machine',
        reference: { text: `${kb(bareRun.perItem)}/actor (${mb(bareRun.total)} in all)`, value: bareRun.perItem / KB, unit: 'KB/actor' },
        ratio: ours.perItem / bareRun.perItem,
        target: `≤ ${TARGET_KB} KB each; 100k in < 2 GB`,
        met: perKb <= TARGET_KB && atTarget < 2,
        notes: [
          `memory ${n}: each actor started and past MARKET_OPEN (one audit record); creating them took ${duration(ours.createMs)} (bare: ${duration(bareRun.createMs)}); 100k at this size: ${atTarget.toFixed(2)} GB` +
            (count === sizes.counts[sizes.counts.length - 1]
              ? `; every further audit record kept in memory adds ${perRecord.toFixed(0)} B (mixed stream, one actor, ${long.getAuditTrail().length} records): one full lifecycle (${CYCLE_EVENTS} records) brings an actor to ~${((ours.perItem + (CYCLE_EVENTS - 1) * perRecord) / KB).toFixed(1)} KB`
              : ''),
        ],
      });
    }
    return rows;
  },
});
