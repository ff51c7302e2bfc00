/**
 * The trail-growth check of the events/s benchmark: "audit records must not make the per-event
 * cost grow with the length of the trail". One actor takes a long run of the mixed stream
 * (100k events); the cost per event of its first 10k events is compared with events 90k-100k.
 *
 * Each segment is timed in blocks (1k events): the row compares the median block of the first
 * and the last segment, which a stray GC pause or another process cannot move; the notes give
 * the plain means and the GC pauses observed in each segment, where a heap that grows with the
 * trail would show. Repeated over a few fresh actors; medians over runs.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import type { StrategyMachine } from '../../machines/createStrategyMachine.js';
import { driveStrategy, newStrategy } from '../fixtures/drivers.js';
import { mixedStream } from '../fixtures/mixedStream.js';
import { collectGarbage, duration, type BenchContext, type BenchRow } from '../harness.js';

/** Sizes of the check. */
export interface TrailGrowthSizes {
  longRun: number;
  segment: number;
  block: number;
  longRuns: number;
}

const GROWTH_LIMIT = 1.25;

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

interface SegmentCost {
  /** Median over the segment's blocks, ms per event. */
  medianBlock: number;
  /** Whole segment, ms per event. */
  mean: number;
  /** GC pauses that started inside the segment, ms. */
  gcMs: number;
}

/** Runs the check and returns its row. */
export async function measureTrailGrowth(ctx: BenchContext, machine: StrategyMachine, sizes: TrailGrowthSizes): Promise<BenchRow> {
  const { now, log } = ctx;
  const long = mixedStream(sizes.longRun);
  const segments = Math.floor(long.length / sizes.segment);
  const blocksPerSegment = Math.floor(sizes.segment / sizes.block);
  const gcPauses: Array<{ start: number; ms: number }> = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcPauses.push({ start: entry.startTime, ms: entry.duration });
  });
  observer.observe({ entryTypes: ['gc'] });
  const runs: Array<{ first: SegmentCost; last: SegmentCost }> = [];
  try {
    for (let r = 0; r < sizes.longRuns; r++) {
      log(`trail growth: run ${r + 1}/${sizes.longRuns} (${long.length} events on one actor)`);
      collectGarbage();
      await tick();
      gcPauses.length = 0;
      const { strategy, clock } = newStrategy(machine, long);
      const costs: SegmentCost[] = [];
      const windows: Array<[number, number]> = [];
      for (let s = 0; s < segments; s++) {
        const blocks: number[] = [];
        const wallStart = performance.now();
        const t0 = now();
        for (let b = 0; b < blocksPerSegment; b++) {
          const from = s * sizes.segment + b * sizes.block;
          const tb = now();
          driveStrategy(strategy, clock, long, from, from + sizes.block);
          blocks.push((now() - tb) / sizes.block);
        }
        costs.push({ medianBlock: median(blocks), mean: (now() - t0) / sizes.segment, gcMs: 0 });
        windows.push([wallStart, performance.now()]);
        await tick(); // lets the GC observer deliver this segment's pauses
      }
      // Every trigger writes one record (seq counts them; the in-memory trail itself is capped by auditLimit).
      if ((strategy.getSnapshot().context.lastRecord?.seq ?? 0) !== segments * sizes.segment)
        throw new Error('trail growth run: one record per trigger expected');
      strategy.stop();
      await tick();
      for (const pause of gcPauses) {
        const s = windows.findIndex(([a, b]) => pause.start >= a && pause.start <= b);
        if (s >= 0) costs[s].gcMs += pause.ms;
      }
      runs.push({ first: costs[0], last: costs[segments - 1] });
      log(`  median block per segment: ${costs.map((c) => duration(c.medianBlock)).join(', ')}`);
      log(`  GC ms per segment: ${costs.map((c) => c.gcMs.toFixed(0)).join(', ')}`);
    }
  } finally {
    observer.disconnect();
  }
  const first = median(runs.map((r) => r.first.medianBlock));
  const last = median(runs.map((r) => r.last.medianBlock));
  const growth = last / first;
  const seg = `${sizes.segment / 1000}k`;
  const firstMean = median(runs.map((r) => r.first.mean));
  const lastMean = median(runs.map((r) => r.last.mean));
  return {
    measure: `trail growth: cost/event at events ${(sizes.longRun - sizes.segment) / 1000}k-${sizes.longRun / 1000}k of one ${sizes.longRun / 1000}k-event run`,
    ours: { text: `${duration(last)}/event (last ${seg})`, value: last, unit: 'ms/event' },
    referenceName: `first ${seg} events of the same run`,
    reference: { text: `${duration(first)}/event`, value: first, unit: 'ms/event' },
    ratio: growth,
    target: `flat (≤ ${GROWTH_LIMIT}x)`,
    met: growth <= GROWTH_LIMIT,
    notes: [
      `trail growth: median ${sizes.block / 1000}k-event block of each segment, median of ${sizes.longRuns} runs (per-run ratios ${runs.map((r) => (r.last.medianBlock / r.first.medianBlock).toFixed(2)).join(', ')}); ` +
        `plain means ${duration(firstMean)} -> ${duration(lastMean)}/event (${(lastMean / firstMean).toFixed(2)}x); ` +
        `GC pauses ${mean(runs.map((r) => r.first.gcMs)).toFixed(0)} ms in the first ${seg}, ${mean(runs.map((r) => r.last.gcMs)).toFixed(0)} ms in the last (mean over runs)`,
    ],
  };
}
