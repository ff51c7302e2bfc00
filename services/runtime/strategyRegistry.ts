import { createActor, type Actor } from 'xstate';
import type { InspectionGate } from './inspectionGate.js';
import type { coordinatorMachine } from '../../machines/coordinator.js';
import { createStrategyMachine, definitionOf, type StrategyMachine } from '../../machines/createStrategyMachine.js';
import type { StrategyDefinition } from '../../machines/definition.js';
import { DuplicateStrategyError, InvalidDefinitionError, UnknownStrategyError } from '../../machines/errors.js';
import type { AfterEvent, HookFailedEvent, StrategyEvent } from '../../machines/events.js';
import type { TransitionRecord } from '../../machines/types.js';
import { checkParams } from '../../machines/params.js';
import { withInvokedChildren } from '../../machines/restoreChildren.js';
import type { Clock } from '../market/clock.js';
import { checkStored, mustStartAtOnce, type StoredState } from './dormantRestore.js';
import { newIncarnation } from './incarnation.js';
import type { RequestAsked } from './handleTypes.js';
import type { PortfolioGate } from './portfolioGate.js';
import { checkPersistedStrategy, restoreFailure, type StrategyHandle, type TransitionListener } from './strategyActor.js';
import { attachStrategy } from './strategyHandle.js';
import type { AddStrategyOptions } from './strategySystem.js';
import type { SystemCoreOptions } from './systemCore.js';

/** What the registry needs from the system around it. */
export interface RegistryOptions extends Pick<
  SystemCoreOptions,
  | 'provideMachine'
  | 'routeDelay'
  | 'routeHookFailure'
  | 'directTrigger'
  | 'systemTrigger'
  | 'auditLimit'
  | 'compactTrail'
  | 'storedThrough'
  | 'onListenerError'
> {
  clock: Clock;
  coordinator: Actor<typeof coordinatorMachine>;
  gate: PortfolioGate;
  /** The system's inspection (the coordinator's `inspect`), held while a transaction is computed. */
  inspection?: InspectionGate;
  /** Where an event a strategy's invoked actor asks for goes; `asked` tells where it is applied whether it still stands. */
  onRequest(strategyId: string, event: StrategyEvent, asked: RequestAsked): void;
  /** A strategy committed a record outside a transaction: write it (see `AttachOptions.onUnwrittenRecord`). */
  onUnwrittenRecord(strategyId: string): void;
}

/** How a strategy restored from its store is attached (see dormantRestore.ts). */
export interface RestoreHints {
  /** It may stay dormant when its state runs nothing at once. */
  mayDefer: boolean;
  /** Its audit window, read when the strategy first needs it (instead of `snapshot.auditTrail`). */
  auditTrail?: () => TransitionRecord[];
}

/** The strategies of one system, in memory: started as the coordinator's children, found by id. */
export interface StrategyRegistry {
  readonly strategies: ReadonlyMap<string, StrategyHandle>;
  /**
   * Starts a strategy in memory only (a new one, or one restored from its stored form). With
   * `restore.mayDefer`, a restored strategy whose state runs nothing at once stays dormant: its snapshot is
   * checked against the chart now, its actor is made when first needed (see dormantRestore.ts).
   */
  attach: (source: StrategyDefinition | StrategyMachine, options: AddStrategyOptions, restore?: RestoreHints) => StrategyHandle;
  /** Stops and forgets a strategy whatever its position (no flat check, no store write). */
  detach: (id: string) => void;
  /** @throws {UnknownStrategyError} */
  handleOf: (id: string) => StrategyHandle;
  handles: () => StrategyHandle[];
  /** Every transition record of every strategy. */
  subscribe: (listener: TransitionListener) => () => void;
}

/**
 * Builds the registry: each strategy a child of the coordinator (same XState system, clock and
 * inspector, addressable by its id as `systemId`), its variant's machine built once.
 *
 * @example
 * ```ts
 * const registry = createStrategyRegistry({ clock, coordinator, gate, onRequest: (id, e) => void send(id, e) });
 * const handle = registry.attach(lt112, { id: 'lt' });
 * ```
 */
export function createStrategyRegistry(options: RegistryOptions): StrategyRegistry {
  const { clock, coordinator, gate } = options;
  const strategies = new Map<string, StrategyHandle>();
  const listeners = new Set<TransitionListener>();
  const report = options.onListenerError ?? ((e: unknown) => console.error('strategy system: listener threw', e));
  const notifyAll: TransitionListener = (notice) => {
    for (const listener of listeners) {
      try {
        listener(notice);
      } catch (error) {
        report(error);
      }
    }
  };
  const machineOf = createMachineCache(options.provideMachine);
  const handleOf = (id: string): StrategyHandle => {
    const handle = strategies.get(id);
    if (!handle) throw new UnknownStrategyError(id);
    return handle;
  };

  const attach: StrategyRegistry['attach'] = (source, addOptions, restore) => {
    const { id } = addOptions;
    if (typeof id !== 'string' || id.length === 0) throw new UnknownStrategyError(typeof id === 'string' ? id : String(id));
    if (strategies.has(id)) throw new DuplicateStrategyError(id);
    const machine = machineOf(source);
    const { routeDelay, routeHookFailure } = options;
    if (addOptions.snapshot) checkPersistedStrategy(machine, addOptions.snapshot);
    // A new strategy's params must fit its variant; a restored one keeps what its store holds.
    const def = definitionOf(machine);
    const params = addOptions.snapshot || !def ? addOptions.params : checkParams(id, def.id, def.params, addOptions.params);
    // Checked against the chart without an actor; kept dormant when nothing in it must run now.
    // The stored snapshot with the children an earlier release's snapshot lacks, as the actor restores it (made once).
    const fromStore = addOptions.snapshot && withInvokedChildren(machine, addOptions.snapshot.snapshot);
    let dormant: StoredState | undefined;
    if (restore?.mayDefer && fromStore) {
      const state = checkStored(machine, fromStore);
      if (!mustStartAtOnce(machine, state, fromStore)) dormant = state;
    }
    // Set once attachStrategy returns: a record written as the actor starts (an invoked actor's
    // report at a restore) reaches the listeners before; its slot is synced after the attach.
    let attached: StrategyHandle | undefined;
    const { storedThrough, systemTrigger } = options;
    // Drawn once per add: a restored strategy and a rollback's respawn keep the stored one.
    const incarnation = newIncarnation();
    // A child of the coordinator: same system, clock and inspector; addressable by systemId.
    // A rollback stops it through the coordinator and makes it again from the committed snapshot.
    const handle: StrategyHandle = (attached = attachStrategy(machine, {
      id,
      clock,
      spawn: (snapshot) => {
        // From the store (first spawn), or the last committed snapshot (a rollback's respawn).
        const restored = snapshot ?? fromStore;
        const ref = createActor(machine, {
          parent: coordinator,
          systemId: id,
          id,
          input: { strategyId: id, params, createdAt: clock.now(), incarnation },
          ...(restored ? { snapshot: restored } : {}),
        });
        // XState restores a snapshot as it creates the actor and reports a failure in its status
        // (the actor is not registered then): refused before it starts, so the error never reaches
        // the coordinator. This is the one restore of a stored strategy, its check included.
        if (!snapshot && fromStore && ref.getSnapshot().status === 'error') throw restoreFailure(ref.getSnapshot());
        return ref;
      },
      stopRef: () => coordinator.send({ type: 'system.stopStrategy', strategyId: id }),
      inspection: options.inspection,
      hooks: addOptions.hooks,
      auditTrail: restore?.auditTrail ?? addOptions.snapshot?.auditTrail ?? [],
      // Plain keys (undefined when not set), not conditional spreads: ten thousand restores add up.
      auditLimit: options.auditLimit,
      compactTrail: options.compactTrail,
      storedThrough: storedThrough ? () => storedThrough(id) : undefined,
      listeners: [
        (notice) => {
          if (attached) gate.syncSlot(attached, notice.record.currentState);
          notifyAll(notice);
        },
      ],
      onListenerError: options.onListenerError,
      directTrigger: options.directTrigger,
      systemTrigger: systemTrigger ? (event: StrategyEvent) => systemTrigger(id, event) : undefined,
      onDelay: routeDelay ? (event: AfterEvent & { at: number; dueAt: number }) => routeDelay(id, event) : undefined,
      onHookFailure: routeHookFailure ? (event: HookFailedEvent & { at: number }) => routeHookFailure(id, event) : undefined,
      onRequest: (event, asked) => options.onRequest(id, event, asked),
      explainGate: gate.check,
      onUnwrittenRecord: () => options.onUnwrittenRecord(id),
      dormant,
    }));
    strategies.set(id, handle);
    gate.restoreSlot(handle);
    return handle;
  };

  const detach = (id: string) => {
    handleOf(id).stop();
    strategies.delete(id);
    gate.slots.delete(id);
    gate.decideSlot(id, false);
  };
  return {
    strategies,
    attach,
    detach,
    handleOf,
    handles: () => [...strategies.values()],
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Each variant's machine built once (and adapted once by `provide`). */
function createMachineCache(provide: ((machine: StrategyMachine) => StrategyMachine) | undefined) {
  const machines = new Map<StrategyDefinition, StrategyMachine>();
  const provided = new Map<StrategyMachine, StrategyMachine>();
  return (source: StrategyDefinition | StrategyMachine): StrategyMachine => {
    let machine: StrategyMachine;
    // JavaScript callers: null, a string... names the problem instead of a TypeError from deep inside.
    if (typeof source !== 'object' || source === null) {
      throw new InvalidDefinitionError(
        '(none)',
        'definition',
        `must be a strategy definition or machine, got ${source === null ? 'null' : typeof source}`,
      );
    }
    if (definitionOf(source) || typeof (source as StrategyMachine).transition === 'function') {
      machine = source as StrategyMachine;
    } else {
      const def = source as StrategyDefinition;
      const known = machines.get(def);
      if (!known) machines.set(def, (machine = createStrategyMachine(def)));
      else machine = known;
    }
    if (!provide) return machine;
    let adapted = provided.get(machine);
    if (!adapted) provided.set(machine, (adapted = provide(machine)));
    return adapted;
  };
}
