/**
 * Invariants read off the real strategy and its audit trail alone (no reference model): where a
 * position may be, that TERMINATED is final, how errorCount moves and when ERROR is left.
 */
import type { TransitionRecord } from '../../machines/types';
import type { Driven } from './driver';
import { nyDate } from './model/nyTime';
import { FLAT_OK, HOLDING_OK, STATES, type Traits } from './model/table';

/** What the trail checks remember between steps of one run. */
export interface TrailWatch {
  terminated: boolean;
  /** The open ERROR stay: when it began and the recovery deadline it must have (null: circuit breaker open). */
  errorEntry: { at: number; deadline: number | null } | null;
  /** Auto-recoveries seen in the trail, per New York date. */
  recoveriesByDay: Map<string, number>;
  /** Failed hooks since ERROR was last left, capped at maxErrors: what errorCount must be. */
  hookFailures: number;
}

interface Host {
  main: Driven;
  fail(message: string): never;
}

const WAYS_OUT_OF_ERROR: readonly string[] = ['lifecycle.deadline', 'RESET', 'MANUAL_OVERRIDE', 'EMERGENCY_EXIT'];

/**
 * Invariant 2: a position is held only in a state that may hold one (never READY, CLOSED or
 * TERMINATED), and a flat strategy is never in a state that needs one (MANAGING, EXITING, ...);
 * TERMINATED is never left.
 */
export function checkPosition(host: Host, watch: TrailWatch, fresh: readonly TransitionRecord[]): void {
  for (const r of fresh) {
    if (!STATES.includes(r.previousState) || !STATES.includes(r.currentState)) host.fail(`record ${r.seq} names a state outside the 15`);
    if (watch.terminated && (r.accepted || r.previousState !== 'TERMINATED' || r.currentState !== 'TERMINATED')) {
      host.fail(`TERMINATED was left or moved: record ${JSON.stringify(r)}`);
    }
    if (r.currentState === 'TERMINATED') watch.terminated = true;
  }
  const state = host.main.state;
  const position = host.main.context.position;
  if (position !== null && !(position.quantity > 0)) host.fail(`a position of ${position.quantity} contracts is kept instead of none`);
  if (position && !(HOLDING_OK as readonly string[]).includes(state)) host.fail(`${state} while holding ${position.quantity} contracts`);
  if (!position && !(FLAT_OK as readonly string[]).includes(state)) host.fail(`${state} while flat`);
  if (watch.terminated && state !== 'TERMINATED') host.fail(`left TERMINATED for ${state}`);
}

/**
 * Invariant 3: errorCount is the number of failed hooks since ERROR was last left (never above
 * maxErrors); ERROR is left only by its recovery deadline, RESET, MANUAL_OVERRIDE or (holding a position) EMERGENCY_EXIT to EXITING, and by the
 * deadline exactly at entry + errorRecoveryMs, never while the circuit breaker is open.
 */
export function checkErrors(host: Host, watch: TrailWatch, fresh: readonly TransitionRecord[], traits: Traits): void {
  for (const r of fresh) {
    const leaves = r.previousState === 'ERROR' && r.accepted && (r.currentState !== 'ERROR' || r.reentered === true);
    if (leaves) {
      if (!WAYS_OUT_OF_ERROR.includes(r.trigger)) host.fail(`ERROR left by ${r.trigger} (record ${r.seq})`);
      // The safety rule: a position held in ERROR can be flattened, and only that.
      if (r.trigger === 'EMERGENCY_EXIT' && r.currentState !== 'EXITING')
        host.fail(`ERROR left by EMERGENCY_EXIT to ${r.currentState} (record ${r.seq})`);
      if (r.trigger === 'lifecycle.deadline') {
        const entry = watch.errorEntry;
        if (!entry || entry.deadline === null)
          host.fail(`ERROR recovered by itself at ${new Date(r.at).toISOString()} while the circuit breaker was open`);
        if (r.at !== entry.deadline)
          host.fail(`ERROR recovered at ${new Date(r.at).toISOString()}, its deadline was ${new Date(entry.deadline).toISOString()}`);
        const day = nyDate(r.at);
        watch.recoveriesByDay.set(day, (watch.recoveriesByDay.get(day) ?? 0) + 1);
      }
      watch.hookFailures = 0;
      watch.errorEntry = null;
    }
    if (r.code === 'HOOK_FAILED') watch.hookFailures = Math.min(traits.maxErrors, watch.hookFailures + 1);
    if (r.currentState === 'ERROR' && (r.previousState !== 'ERROR' || r.reentered === true)) {
      const used = watch.recoveriesByDay.get(nyDate(r.at)) ?? 0;
      watch.errorEntry = { at: r.at, deadline: used >= traits.maxAutoRecoveries ? null : r.at + traits.recoveryMs };
    }
  }
  const ctx = host.main.context;
  if (ctx.errorCount < 0 || ctx.errorCount > traits.maxErrors) host.fail(`errorCount ${ctx.errorCount} is outside 0..${traits.maxErrors}`);
  if (ctx.errorCount !== watch.hookFailures)
    host.fail(`errorCount is ${ctx.errorCount}, but ${watch.hookFailures} hooks failed since ERROR was last left`);
  if (host.main.state !== 'ERROR') return;
  const entry = watch.errorEntry;
  if (!entry) return host.fail('in ERROR without a record that entered it');
  const deadline = ctx.deadline;
  if (entry.deadline === null && deadline !== null)
    host.fail(`circuit breaker open, yet a recovery deadline is armed: ${JSON.stringify(deadline)}`);
  if (entry.deadline !== null && (deadline?.kind !== 'ERROR_RECOVERY' || deadline.at !== entry.deadline)) {
    host.fail(
      `ERROR entered at ${new Date(entry.at).toISOString()} must recover at ${new Date(entry.deadline).toISOString()}, deadline is ${JSON.stringify(deadline)}`,
    );
  }
  if (deadline && deadline.at <= host.main.clock.now())
    host.fail(`still in ERROR at ${new Date(host.main.clock.now()).toISOString()}, past its deadline`);
}
