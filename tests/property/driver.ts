/**
 * The real thing, driven the way a caller and a crash would drive it: `trigger()`, a simulated
 * clock, and persist/restore as a JSON round trip into a new actor on a new clock at the same
 * time. Counts every event delivered, for the volume check of the property suite.
 */
import { createStrategyMachine, type StrategyMachine } from '../../machines/createStrategyMachine';
import type { StrategyHooks } from '../../machines/definition';
import type { StrategyEvent } from '../../machines/events';
import type { StrategyContext, TransitionRecord } from '../../machines/types';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock, type SimulatedClockHandle } from '../../services/market/clock';
import { createStrategyActor, type PersistedStrategy, type StrategyActor, type TriggerResult } from '../../services/runtime/strategyActor';
import type { Traits } from './model/table';

/** Events delivered to any strategy by the property suite (valid or not). */
export const delivered = { events: 0 };

/** One machine per variant, shared by every run (the mutation checks of the harness swap them). */
export const MACHINES: Record<Traits['id'], StrategyMachine> = {
  zeroDte: createStrategyMachine(zeroDte),
  lt112: createStrategyMachine(lt112),
  strangle: createStrategyMachine(strangle),
};

/** One strategy under test, with a hook that throws on demand. */
export class Driven {
  clock: SimulatedClockHandle;
  actor: StrategyActor;
  restores = 0;
  private readonly flag = { throws: false };
  private readonly hooks: StrategyHooks | undefined;
  private readonly machine: StrategyMachine;

  constructor(variant: Traits['id'], start: number, withHooks: boolean) {
    this.machine = MACHINES[variant];
    this.clock = createSimulatedClock(start);
    const flag = this.flag;
    this.hooks = withHooks
      ? {
          onTransition: () => {
            if (flag.throws) throw new Error('hook failure on demand');
          },
        }
      : undefined;
    this.actor = createStrategyActor(this.machine, { id: `${variant}-prop`, clock: this.clock, hooks: this.hooks });
  }

  get state(): string {
    return this.actor.state;
  }

  get context(): StrategyContext {
    return this.actor.getSnapshot().context;
  }

  get trail(): readonly TransitionRecord[] {
    return this.actor.getAuditTrail();
  }

  trigger(input: unknown, hookThrows: boolean): TriggerResult {
    delivered.events++;
    this.flag.throws = hookThrows;
    try {
      return this.actor.trigger(input as StrategyEvent);
    } finally {
      this.flag.throws = false;
    }
  }

  advanceTo(at: number, hookThrows: boolean): void {
    this.flag.throws = hookThrows;
    try {
      this.clock.set(at);
    } finally {
      this.flag.throws = false;
    }
  }

  /** Persists through JSON, stops the actor, and restores into a new one on a new clock at the same time. */
  restore(): void {
    const saved = JSON.parse(JSON.stringify(this.actor.getPersistedSnapshot())) as PersistedStrategy;
    const now = this.clock.now();
    this.actor.stop();
    this.clock = createSimulatedClock(now);
    this.actor = createStrategyActor(this.machine, { clock: this.clock, snapshot: saved, hooks: this.hooks });
    this.restores++;
  }
}
