/**
 * Spawning: 10k LT112 strategies added to one system (`createStrategySystem().add`, as a user
 * does it: from the definition; the system builds the machine once), against 10k bare XState
 * actors of the same 15-state machine created and started with `createActor(...).start()`.
 */
import { createActor, type AnyActorRef } from 'xstate';
import { lt112 } from '../../machines/variants/index.js';
import { createSimulatedClock } from '../../services/market/clock.js';
import { createStrategySystem, type StrategySystem } from '../../services/runtime/strategySystem.js';
import { createBareMachine } from '../fixtures/bareMachine.js';
import { defineBench, duration, setUp, type Figure, type Timing } from '../harness.js';

interface Sizes {
  strategies: number;
  iterations: number;
}

function spawnFigure(timing: Timing, count: number): Figure {
  return { text: `${duration(timing.meanMs)} (${duration(timing.meanMs / count)}/strategy)`, value: timing.meanMs, unit: 'ms' };
}

export const spawnSystem = defineBench<Sizes>({
  id: 'spawn-system',
  title: 'spawn strategies into one system',
  full: { strategies: 10_000, iterations: 5 },
  smoke: { strategies: 20, iterations: 1 },
  async run(ctx, sizes) {
    const count = sizes.strategies;
    const clock = createSimulatedClock('2026-01-05T09:00:00-05:00');
    const bare = createBareMachine();
    let system: StrategySystem | undefined;
    ctx.log(`spawn: ${count} strategies with system.add`);
    const ours = await ctx.measurer.time(
      'createStrategySystem().add x N',
      () => {
        const added = setUp(system, 'system');
        for (let i = 0; i < count; i++) added.add(lt112, { id: `lt112-${i}`, params: { underlying: 'SPX' } });
      },
      {
        iterations: sizes.iterations,
        timeMs: 0,
        beforeEach: () => void (system = createStrategySystem({ clock })),
        afterEach: () => {
          const done = setUp(system, 'system');
          if (done.ids().length !== count) throw new Error(`spawn: ${done.ids().length} strategies added, ${count} expected`);
          done.stop();
          system = undefined;
        },
      },
    );
    let actors: AnyActorRef[] = [];
    ctx.log(`spawn: ${count} bare XState actors`);
    const bareTiming = await ctx.measurer.time(
      'bare createActor().start() x N',
      () => {
        for (let i = 0; i < count; i++) actors.push(createActor(bare, { clock }).start());
      },
      {
        iterations: sizes.iterations,
        timeMs: 0,
        afterEach: () => {
          for (const a of actors) a.stop();
          actors = [];
        },
      },
    );
    const n = count >= 1000 ? `${count / 1000}k` : String(count);
    return [
      {
        measure: `spawn ${n} strategies into one system (system.add)`,
        ours: spawnFigure(ours, count),
        referenceName: `bare XState createActor().start() x ${n}`,
        reference: spawnFigure(bareTiming, count),
        ratio: ours.meanMs / bareTiming.meanMs,
        target: 'report',
        met: null,
      },
    ];
  },
});
