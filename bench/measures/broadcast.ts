/**
 * Broadcast: one event to 10k LT112 strategies of one system (`system.broadcast`, with the
 * system's trading-state gate and listeners), against a loop of `actor.send` over 10k bare
 * XState actors. The event alternates between TIME_WINDOW_START (READY -> ANALYZING) and
 * TIME_WINDOW_END (ANALYZING -> READY), so every delivery is an accepted, audited transition.
 */
import { createActor, type AnyActorRef } from 'xstate';
import type { StrategyEvent } from '../../machines/events.js';
import { lt112 } from '../../machines/variants/index.js';
import { createSimulatedClock } from '../../services/market/clock.js';
import { createStrategySystem, type StrategySystem } from '../../services/runtime/strategySystem.js';
import { createBareMachine } from '../fixtures/bareMachine.js';
import { defineBench, duration, setUp, type Figure, type Timing } from '../harness.js';

interface Sizes {
  strategies: number;
  iterations: number;
  timeMs: number;
}

const TARGET_MS = 50;
const EVENTS: StrategyEvent[] = [
  { type: 'TIME_WINDOW_START', window: 'entry' },
  { type: 'TIME_WINDOW_END', window: 'entry' },
];

function broadcastFigure(timing: Timing): Figure {
  return { text: `${duration(timing.meanMs)} per broadcast (±${timing.rmePct.toFixed(1)}%)`, value: timing.meanMs, unit: 'ms' };
}

export const broadcast = defineBench<Sizes>({
  id: 'broadcast',
  title: 'broadcast one event to all strategies',
  full: { strategies: 10_000, iterations: 30, timeMs: 3000 },
  smoke: { strategies: 20, iterations: 1, timeMs: 0 },
  async run(ctx, sizes) {
    const count = sizes.strategies;
    const clock = createSimulatedClock('2026-01-05T09:00:00-05:00');
    let system: StrategySystem | undefined;
    let sent = 0;
    let refused = 0;
    let last: Record<string, { accepted: boolean }> = {};
    ctx.log(`broadcast: ${count} strategies`);
    const ours = await ctx.measurer.time('system.broadcast', () => void (last = setUp(system, 'system').broadcast(EVENTS[sent++ % 2])), {
      iterations: sizes.iterations,
      timeMs: sizes.timeMs,
      beforeAll: () => {
        system = createStrategySystem({ clock });
        for (let i = 0; i < count; i++) system.add(lt112, { id: `lt112-${i}`, params: { underlying: 'SPX' } });
        system.broadcast({ type: 'MARKET_OPEN' });
        sent = 0;
      },
      beforeEach: () => clock.increment(1000),
      afterEach: () => {
        const results = Object.values(last);
        if (results.length !== count) throw new Error(`broadcast reached ${results.length} strategies, ${count} expected`);
        refused += results.filter((r) => !r.accepted).length;
      },
      afterAll: () => {
        setUp(system, 'system').stop();
        system = undefined;
      },
    });
    const bare = createBareMachine();
    let actors: AnyActorRef[] = [];
    let bareSent = 0;
    ctx.log(`broadcast: ${count} bare XState actors`);
    const bareTiming = await ctx.measurer.time(
      'loop of actor.send over bare actors',
      () => {
        const event = EVENTS[bareSent++ % 2];
        for (const actor of actors) actor.send(event);
      },
      {
        iterations: sizes.iterations,
        timeMs: sizes.timeMs,
        beforeAll: () => {
          actors = Array.from({ length: count }, () => createActor(bare, { clock }).start());
          for (const actor of actors) actor.send({ type: 'MARKET_OPEN' });
          bareSent = 0;
        },
        afterAll: () => {
          for (const actor of actors) actor.stop();
          actors = [];
        },
      },
    );
    const n = count >= 1000 ? `${count / 1000}k` : String(count);
    return [
      {
        measure: `broadcast one event to ${n} strategies (system.broadcast)`,
        ours: broadcastFigure(ours),
        referenceName: `loop of actor.send over ${n} bare actors`,
        reference: broadcastFigure(bareTiming),
        ratio: ours.meanMs / bareTiming.meanMs,
        target: `< ${TARGET_MS} ms`,
        met: ours.meanMs < TARGET_MS,
        notes: [
          `broadcast: every delivery an accepted transition (alternating TIME_WINDOW_START / TIME_WINDOW_END); refused deliveries: ${refused}`,
        ],
      },
    ];
  },
});
