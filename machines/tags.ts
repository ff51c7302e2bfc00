/**
 * State lists derived from the tags written in `machines/lifecycle.ts`: the one source of truth
 * for facts about states. Code holding a snapshot asks `snapshot.hasTag(tag)`; code that only
 * has a state name (a stored row, a summary) asks {@link statesTagged} or {@link hasStateTag}.
 */
import { lifecycleConfig, type STATE_TAGS } from './lifecycle.js';
import type { StrategyState } from './states.js';

/** One of the tags of {@link STATE_TAGS}. */
export type StateTag = keyof typeof STATE_TAGS;

const byTag = new Map<StateTag, readonly StrategyState[]>();

/**
 * The top-level states that carry `tag`, in lifecycle order, read from the lifecycle config.
 *
 * @example
 * ```ts
 * statesTagged('suspendable'); // ['READY', 'ANALYZING', 'PENDING_ENTRY']
 * ```
 */
export function statesTagged(tag: StateTag): readonly StrategyState[] {
  let list = byTag.get(tag);
  if (!list) {
    const states = lifecycleConfig.states as Record<string, { tags?: readonly string[] }>;
    list = Object.freeze(Object.keys(states).filter((name) => states[name].tags?.includes(tag)) as StrategyState[]);
    byTag.set(tag, list);
  }
  return list;
}

/** Whether the top-level state `state` carries `tag` (what `snapshot.hasTag(tag)` says in it). */
export function hasStateTag(state: StrategyState, tag: StateTag): boolean {
  return statesTagged(tag).includes(state);
}
