/**
 * Snapshots written before the lifecycle's states invoked actors (`positionMonitor`,
 * `entryAnalyzer`, `errorAlert`) have no entry for them among their children. XState restores the
 * children a snapshot lists and starts nothing else, so such a strategy restored in MANAGING would
 * run without its position monitor until MANAGING was next entered. This adds the missing entries,
 * so the actors start with the restored strategy, with the input they would have had on entry.
 * Only XState's public API is used: state nodes' `invoke` definitions, the machine's actor
 * implementations, and a never-started actor's persisted snapshot.
 */
import { createActor, type AnyActorLogic, type AnyStateMachine, type AnyStateNode, type Snapshot } from 'xstate';

/** The part of XState's persisted machine snapshot this reads and completes. */
interface PersistedMachineSnapshot {
  value?: unknown;
  context?: unknown;
  children?: Record<string, unknown>;
}

/** The state nodes a state value makes active, outermost first. */
function activeNodes(parent: AnyStateNode, value: unknown, into: AnyStateNode[]): AnyStateNode[] {
  if (typeof value === 'string') {
    const node = parent.states[value] as AnyStateNode | undefined;
    if (node) into.push(node);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      const node = parent.states[key] as AnyStateNode | undefined;
      if (!node) continue;
      into.push(node);
      activeNodes(node, inner, into);
    }
  }
  return into;
}

/**
 * Returns `snapshot` with a child entry for every actor its active states invoke and it does not
 * list (a snapshot of an earlier release); any other snapshot is returned as it is.
 */
export function withInvokedChildren(machine: AnyStateMachine, snapshot: Snapshot<unknown>): Snapshot<unknown> {
  const persisted = snapshot as PersistedMachineSnapshot;
  if (persisted.value === undefined) return snapshot;
  const children = persisted.children ?? {};
  let added: Record<string, unknown> | undefined;
  for (const node of activeNodes(machine.root, persisted.value, [machine.root])) {
    for (const invoke of node.invoke) {
      if (invoke.id in children || typeof invoke.src !== 'string') continue;
      const logic = (machine.implementations.actors as Record<string, AnyActorLogic | undefined>)[invoke.src];
      if (!logic) continue;
      const mapper: unknown = invoke.input;
      const input: unknown =
        typeof mapper === 'function'
          ? (mapper as (args: { context: unknown; event: { type: string }; self: undefined }) => unknown)({
              context: persisted.context,
              event: { type: 'xstate.init' },
              self: undefined,
            })
          : mapper;
      // A never-started actor: its initial snapshot, nothing run.
      const child = createActor(logic, { input }).getPersistedSnapshot();
      (added ??= { ...children })[invoke.id] = { snapshot: child, src: invoke.src, syncSnapshot: false, systemId: invoke.systemId };
    }
  }
  return added ? Object.assign({}, snapshot, { children: added }) : snapshot;
}
