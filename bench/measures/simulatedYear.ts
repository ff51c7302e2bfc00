/**
 * A simulated year: `runSimulation` (services/simulation/simulation.ts) drives 100 strategies (0DTE, LT112
 * and strangles on five underlyings, as in its own test) through every NYSE trading day of 2026
 * on a simulated clock, with the example event calendar when it is present. No reference.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { StrategyDefinition } from '../../machines/definition.js';
import { mustExist } from '../../machines/errors.js';
import { lt112, strangle, zeroDte } from '../../machines/variants/index.js';
import { loadEventCalendar } from '../../services/market/eventCalendarFile.js';
import { runSimulation, type SimulatedStrategy, type SimulationResult } from '../../services/simulation/simulation.js';
import { defineBench, duration, repoRoot, si } from '../harness.js';

interface Sizes {
  strategies: number;
  from: string;
  to: string;
  iterations: number;
}

const TARGET_MS = 10_000;
const DEFS: StrategyDefinition[] = [zeroDte, lt112, strangle];
const UNDERLYINGS = ['SPX', 'SPY', 'QQQ', 'AAPL', 'MSFT'];

function strategies(n: number): SimulatedStrategy[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${DEFS[i % 3].id}-${i}`,
    definition: DEFS[i % 3],
    params: { underlying: UNDERLYINGS[i % 5], quantity: 1 + (i % 4) },
  }));
}

export const simulatedYear = defineBench<Sizes>({
  id: 'simulated-year',
  title: 'simulated year',
  full: { strategies: 100, from: '2026-01-01', to: '2026-12-31', iterations: 3 },
  smoke: { strategies: 3, from: '2026-03-02', to: '2026-03-06', iterations: 1 },
  async run(ctx, sizes) {
    const calendarPath = join(repoRoot(), 'examples', 'event-calendar.example.json');
    const eventCalendar = existsSync(calendarPath) ? loadEventCalendar(calendarPath) : undefined;
    let result: SimulationResult | undefined;
    ctx.log(`simulated year: ${sizes.strategies} strategies, ${sizes.from} to ${sizes.to}`);
    const timing = await ctx.measurer.time(
      'runSimulation',
      () => {
        result = runSimulation({
          from: sizes.from,
          to: sizes.to,
          strategies: strategies(sizes.strategies),
          seed: 42,
          ...(eventCalendar ? { eventCalendar } : {}),
        });
      },
      { iterations: sizes.iterations, timeMs: 0, warmup: false },
    );
    // Records written, not held: a strategy keeps at most its auditLimit in memory.
    const ran = mustExist(result, 'the simulation result');
    const records = ran.strategies.reduce((sum, s) => sum + (s.getSnapshot().context.lastRecord?.seq ?? 0), 0);
    const transitions = ran.statistics.reduce((sum, s) => sum + s.totalTransitions, 0);
    return [
      {
        measure: `simulated year, ${sizes.strategies} strategies (runSimulation)`,
        ours: {
          text: `${duration(timing.meanMs)} (${ran.tradingDays} trading days, ${si(records)} audit records)`,
          value: timing.meanMs,
          unit: 'ms',
        },
        referenceName: 'none',
        reference: null,
        ratio: null,
        target: `< ${TARGET_MS / 1000} s`,
        met: timing.meanMs < TARGET_MS,
        notes: [
          `simulated year: mean of ${timing.samples} runs, no warm-up; ${si(transitions)} accepted transitions; event calendar: ${eventCalendar ? 'examples/event-calendar.example.json' : 'none (file absent)'}`,
        ],
      },
    ];
  },
});
