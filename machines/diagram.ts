/**
 * Diagrams and tables of a strategy lifecycle, generated from the machine itself (its state
 * nodes and their transition maps), so the docs cannot drift from what the machine does.
 * `bin/generate-docs.ts` writes them into `docs/`.
 */
import { and, not, or, type AnyStateMachine, type AnyStateNode, type AnyTransitionDefinition } from 'xstate';
import { definitionOf } from './createStrategyMachine.js';
import type { ResolvedDefinition } from './definition.js';
import { afterDelayOf } from './delays.js';
import type { EdgeRow, GuardRef } from './edges.js';

/** One arrow of a diagram: every event that moves `from` to `to` under the same guard. */
export interface DiagramEdge {
  /** Path of the source state, e.g. `MANAGING` or `ADJUSTING.ROLLING`. */
  from: string;
  /** Path of the target state. */
  to: string;
  /** Event labels, sorted: event types, or `after 30 min (recovery deadline)` for deadlines. */
  events: string[];
  /** Guard text, e.g. `isDteAtOrBelowDefensive`, `hasOpenPosition and isFlat`, `else`. */
  guard?: string;
}

/** An event drawn once as a note instead of one arrow per state (fan-in or fan-out). */
export interface DiagramSummary {
  event: string;
  /** Source state paths, in document order. */
  from: string[];
  /** Target state paths, in document order. */
  to: string[];
  /** Guard texts of those transitions, sorted. */
  guards: string[];
}

/** Options of {@link diagramEdges} and {@link toMermaid}. */
export interface DiagramOptions {
  /**
   * Events summarised as notes rather than drawn per state. Default: `MANUAL_OVERRIDE` (any
   * state to any legal state), `SYSTEM_ERROR` and `lifecycle.hookFailed` (every state to ERROR).
   */
  summarise?: readonly string[];
}

/** The events {@link toMermaid} summarises by default. */
export const SUMMARISED_EVENTS: readonly string[] = ['MANUAL_OVERRIDE', 'SYSTEM_ERROR', 'lifecycle.hookFailed'];

// XState's combinators share one `check` per kind; comparing with it survives minified names.
const COMBINATOR_CHECKS = new Map<unknown, 'and' | 'or' | 'not'>([
  // XState's guard combinators expose their check function only at run time: it identifies them in a chart.
  [(and([]) as unknown as { check: unknown }).check, 'and'],
  [(or([]) as unknown as { check: unknown }).check, 'or'],
  [(not('x') as unknown as { check: unknown }).check, 'not'],
]);

/**
 * True when a top-level state never lets `event` reach the root: it forbids it (`{}`, XState's
 * forbidden transition) or takes it itself without a guard.
 */
function shadowsRoot(node: AnyStateNode, event: string): boolean {
  return (node.transitions.get(event) ?? []).some((t: AnyTransitionDefinition) => t.guard === undefined);
}

/** Every state node below the root, depth first, in document order. */
function allNodes(machine: AnyStateMachine): AnyStateNode[] {
  const out: AnyStateNode[] = [];
  const visit = (node: AnyStateNode) => {
    for (const child of Object.values(node.states) as AnyStateNode[]) {
      out.push(child);
      visit(child);
    }
  };
  visit(machine.root);
  return out;
}

const pathOf = (node: AnyStateNode): string => node.path.join('.');

/** The guard of a transition as a list of conjuncts (`and` is flattened; other forms are one term). */
function guardTerms(guard: unknown): string[] {
  if (guard === undefined || guard === null) return [];
  if (typeof guard === 'string') return [guard];
  if (typeof guard === 'function') {
    const combinator = COMBINATOR_CHECKS.get((guard as { check?: unknown }).check);
    const inner = (guard as { guards?: unknown[] }).guards ?? [];
    if (combinator === 'and') return inner.flatMap(guardTerms);
    if (combinator === 'or') return [`(${inner.map((g) => guardTerms(g).join(' and ')).join(' or ')})`];
    if (combinator === 'not') return [`not ${guardTerms(inner[0]).join(' and ')}`];
    return [guard.name || 'inline guard'];
  }
  if (typeof guard === 'object' && typeof (guard as { type?: unknown }).type === 'string') return [(guard as { type: string }).type];
  return ['guard'];
}

/** `30 min`, `2 h`, `90 s`: a whole-unit duration for labels. */
export function humanDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

/**
 * The label of one transition's event, with the guard terms the label already says removed:
 * `lifecycle.deadline` guarded by `isRecoveryDeadline` reads `after 30 min (recovery deadline)`.
 */
function eventLabel(
  event: string,
  terms: string[],
  from: AnyStateNode,
  def: ResolvedDefinition | undefined,
): { label: string; terms: string[] } {
  const named = afterDelayOf(event);
  if (named === 'errorRecovery') {
    const after = def ? `after ${humanDuration(def.errorRecoveryMs)}` : 'after the delay';
    return { label: `${after} (recovery deadline)`, terms: terms.filter((t) => t !== 'isRecoveryArmed') };
  }
  if (named) {
    const ms = def?.stuckDeadlinesMs[from.path[0] as keyof ResolvedDefinition['stuckDeadlinesMs']];
    const after = ms !== undefined ? `after ${humanDuration(ms)}` : 'after the deadline';
    return { label: `${after} (stuck deadline)`, terms };
  }
  const delayed = /^xstate\.after\.(\d+)\./.exec(event);
  if (delayed) return { label: `after ${humanDuration(Number(delayed[1]))}`, terms };
  return { label: event, terms };
}

interface Collected {
  edges: DiagramEdge[];
  summaries: DiagramSummary[];
  order: Map<string, number>;
}

function collect(machine: AnyStateMachine, options: DiagramOptions): Collected {
  const summarise = new Set(options.summarise ?? SUMMARISED_EVENTS);
  const def = definitionOf(machine);
  const nodes = allNodes(machine);
  const order = new Map(nodes.map((n, i) => [pathOf(n), i]));
  const byOrder = (a: string, b: string) => (order.get(a) ?? 0) - (order.get(b) ?? 0);
  const arrows = new Map<string, DiagramEdge>();
  const summaries = new Map<string, { from: Set<string>; to: Set<string>; guards: Set<string> }>();

  const tops = Object.values(machine.root.states) as AnyStateNode[];
  const forbids = shadowsRoot;
  // The root's events are drawn from every top-level state that does not forbid them (`{}`) or
  // take them itself unconditionally.
  const sources: Array<[AnyStateNode, string, readonly AnyTransitionDefinition[]]> = [];
  for (const [event, transitions] of machine.root.transitions)
    for (const top of tops) if (!forbids(top, event)) sources.push([top, event, transitions]);
  for (const node of nodes) {
    const groups: Array<[string, readonly AnyTransitionDefinition[]]> = [...node.transitions.entries()];
    if (node.always?.length) groups.push(['always', node.always]);
    for (const [event, transitions] of groups) sources.unshift([node, event, transitions]);
  }
  sources.sort((a, b) => nodes.indexOf(a[0]) - nodes.indexOf(b[0]));
  {
    for (const [node, event, transitions] of sources) {
      if (event === '*') continue;
      // An unguarded transition after a guarded one for the same event is that event's `else`.
      let guardedBefore = false;
      for (const t of transitions) {
        const { label, terms } = eventLabel(event, guardTerms(t.guard), node, def);
        const guard = terms.length > 0 ? terms.join(' and ') : guardedBefore ? 'else' : undefined;
        if (terms.length > 0) guardedBefore = true;
        const targets = (t.target ?? []) as readonly AnyStateNode[];
        for (const target of targets) {
          const from = pathOf(node);
          const to = pathOf(target);
          if (summarise.has(event)) {
            const s = summaries.get(event) ?? { from: new Set(), to: new Set(), guards: new Set() };
            s.from.add(from);
            s.to.add(to);
            if (terms.length > 0) s.guards.add(terms.join(' and '));
            summaries.set(event, s);
            continue;
          }
          const key = `${from}\u0000${to}\u0000${guard ?? ''}`;
          const arrow = arrows.get(key) ?? { from, to, events: [], ...(guard !== undefined ? { guard } : {}) };
          if (!arrow.events.includes(label)) arrow.events.push(label);
          arrows.set(key, arrow);
        }
      }
    }
  }
  const edges = [...arrows.values()].map((e) => ({ ...e, events: [...e.events].sort() }));
  edges.sort(
    (a, b) =>
      byOrder(a.from, b.from) ||
      byOrder(a.to, b.to) ||
      (a.guard ?? '').localeCompare(b.guard ?? '') ||
      a.events.join().localeCompare(b.events.join()),
  );
  const summaryList = [...summaries.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([event, s]) => ({ event, from: [...s.from].sort(byOrder), to: [...s.to].sort(byOrder), guards: [...s.guards].sort() }));
  return { edges, summaries: summaryList, order };
}

/**
 * The arrows of a machine's diagram, read from its state nodes: one per (from, to, guard),
 * events merged and sorted. Catch-all (`*`) and targetless transitions are left out, and so
 * are the summarised events (see {@link diagramSummaries}).
 *
 * @example
 * ```ts
 * diagramEdges(createStrategyMachine(lt112)).find((e) => e.from === 'MANAGING' && e.to === 'PENDING_EXIT');
 * // { from: 'MANAGING', to: 'PENDING_EXIT', events: ['DEFENSIVE_EXIT_DTE'], guard: 'isDteAtOrBelowDefensive' }
 * ```
 */
export function diagramEdges(machine: AnyStateMachine, options: DiagramOptions = {}): DiagramEdge[] {
  return collect(machine, options).edges;
}

/** The summarised events of a machine (by default MANUAL_OVERRIDE, SYSTEM_ERROR, lifecycle.hookFailed), sorted by event. */
export function diagramSummaries(machine: AnyStateMachine, options: DiagramOptions = {}): DiagramSummary[] {
  return collect(machine, options).summaries;
}

/** `every state`, `every state but ERROR, TERMINATED`, or the list itself. */
function describeStates(states: readonly string[], all: readonly string[]): string {
  const missing = all.filter((s) => !states.includes(s));
  if (missing.length === 0) return 'every state';
  if (missing.length <= all.length / 3) return `every state but ${missing.join(', ')}`;
  return states.join(', ');
}

/**
 * Mermaid ends a label or a note at `:` or `;` and reads `#` as the start of a comment or an
 * entity (stateDiagram.jison), so those characters are replaced in anything it displays.
 */
function mermaidText(text: string): string {
  return text.replace(/[:;#]/g, ' ').replace(/ {2,}/g, ' ').trim();
}

/** Mermaid ids: the state's key, or its path with `_` when the key is not unique. */
function mermaidIds(nodes: AnyStateNode[]): Map<string, string> {
  const counts = new Map<string, number>();
  for (const n of nodes) counts.set(n.key, (counts.get(n.key) ?? 0) + 1);
  return new Map(nodes.map((n) => [pathOf(n), counts.get(n.key) === 1 ? n.key : n.path.join('_')]));
}

/**
 * A Mermaid `stateDiagram-v2` of a machine, generated from its state nodes: one arrow per
 * (from, to, guard) with the events and the guard in the label, e.g.
 * `MANAGING --> PENDING_EXIT: DEFENSIVE_EXIT_DTE [isDteAtOrBelowDefensive]`; an unguarded
 * fallback after a guarded transition of the same event is labelled `[else]`. Substates are
 * nested `state X { ... }` blocks; durable deadlines read `after 5 min (stuck deadline)`;
 * fan-in and fan-out events (see {@link DiagramOptions.summarise}) are notes. The output is
 * deterministic: states in document order, events sorted.
 *
 * @example
 * ```ts
 * const text = toMermaid(createStrategyMachine(strangle));
 * // stateDiagram-v2
 * //     [*] --> INITIALIZING
 * //     state ADJUSTING { ... }
 * //     INITIALIZING --> READY: MARKET_OPEN
 * ```
 */
export function toMermaid(machine: AnyStateMachine, options: DiagramOptions = {}): string {
  const { edges, summaries } = collect(machine, options);
  const nodes = allNodes(machine);
  const ids = mermaidIds(nodes);
  const id = (path: string) => ids.get(path) ?? path;
  const arrow = (e: DiagramEdge) =>
    `${id(e.from)} --> ${id(e.to)}: ${mermaidText(`${e.events.join(', ')}${e.guard ? ` [${e.guard}]` : ''}`)}`;
  const parentOf = (path: string) => path.split('.').slice(0, -1).join('.');
  // An arrow is drawn inside the block of its endpoints' common parent, or at the top level.
  const scopeOf = (e: DiagramEdge) => (parentOf(e.from) === parentOf(e.to) ? parentOf(e.from) : '');
  const lines: string[] = ['stateDiagram-v2'];

  const block = (node: AnyStateNode | undefined, depth: number) => {
    const pad = '    '.repeat(depth);
    const scope = node ? pathOf(node) : '';
    const children = Object.values(node ? node.states : machine.root.states) as AnyStateNode[];
    for (const child of children) {
      if (ids.get(pathOf(child)) !== child.key) lines.push(`${pad}state "${child.key}" as ${id(pathOf(child))}`);
    }
    const initial = (node ?? machine.root).initial?.target?.[0] as AnyStateNode | undefined;
    if (initial) lines.push(`${pad}[*] --> ${id(pathOf(initial))}`);
    for (const child of children) {
      if (Object.keys(child.states).length === 0) continue;
      lines.push(`${pad}state ${id(pathOf(child))} {`);
      block(child, depth + 1);
      lines.push(`${pad}}`);
    }
    for (const e of edges) if (scopeOf(e) === scope) lines.push(pad + arrow(e));
    for (const child of children) if (child.type === 'final') lines.push(`${pad}${id(pathOf(child))} --> [*]`);
  };
  block(undefined, 1);

  const top = (Object.values(machine.root.states) as AnyStateNode[]).map(pathOf);
  const notes = new Map<string, { side: 'left' | 'right'; text: string[] }>();
  const note = (state: string, side: 'left' | 'right', text: string) => {
    const key = `${side} ${state}`;
    const n = notes.get(key) ?? { side, text: [] };
    n.text.push(text);
    notes.set(key, n);
  };
  const initialTop = machine.root.initial?.target?.[0] as AnyStateNode | undefined;
  for (const s of summaries) {
    const guard = s.guards.length > 0 ? ` [${s.guards.join(' or ')}]` : '';
    if (s.to.length === 1) {
      note(s.to[0], 'right', `${s.event}${guard} from ${describeStates(s.from, top)}`);
    } else {
      const anchor = initialTop ? pathOf(initialTop) : s.from[0];
      const to = s.to.length === top.length ? 'any state it names' : `the state it names (${describeStates(s.to, top)})`;
      note(anchor, 'right', `${s.event}${guard} from ${describeStates(s.from, top)} to ${to}`);
    }
  }
  // A state no transition leaves (summaries included) is terminal; say so, it is not drawn as final.
  const leaves = new Set([...edges.map((e) => e.from.split('.')[0]), ...summaries.flatMap((s) => s.from)]);
  for (const state of top) {
    const node = machine.root.states[state] as AnyStateNode;
    if (!leaves.has(state) && node.type !== 'final') note(state, 'right', 'terminal, no transition leaves it');
  }
  for (const [key, n] of [...notes.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`    note ${n.side} of ${id(key.slice(n.side.length + 1))}`);
    for (const text of n.text) lines.push(`        ${mermaidText(text)}`);
    lines.push('    end note');
  }
  return lines.join('\n') + '\n';
}

function guardText(ref: GuardRef | undefined): string {
  if (ref === undefined) return '';
  if (typeof ref === 'string') return `\`${ref}\``;
  if (Array.isArray(ref)) return ref.map((r) => `\`${r}\``).join(' and ');
  const { type, params } = ref as { type: string; params: Record<string, unknown> };
  return `\`${type}(${Object.entries(params)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(', ')})\``;
}

/** True for a MANUAL_OVERRIDE-style row: its target is the parameter of its own guard. */
function targetsParam(row: EdgeRow): boolean {
  const g = row.guard as { type?: string; params?: { target?: unknown } } | undefined;
  return typeof g === 'object' && g !== null && !Array.isArray(g) && g.params?.target === row.to;
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** `after errorRecovery` for XState's delayed event types, the event type otherwise. */
const eventName = (type: string) => {
  const delay = /^xstate\.after\.([^.]+)\./.exec(type)?.[1];
  return delay === undefined ? type : `after ${delay}`;
};

/** Names of the actions of a transition, without the audit record every edge writes. */
function actionNames(t: AnyTransitionDefinition): EdgeRow['actions'] {
  const names = t.actions
    .map((a) => (typeof a === 'string' ? a : (a as { type?: unknown }).type))
    .filter((n): n is string => typeof n === 'string' && !n.startsWith('record'));
  // Names of this chart's own actions, which EdgeRow lists by their literal types.
  return names as unknown as EdgeRow['actions'];
}

/** The `why` an edge's audit record carries (its `recordTransition` params). */
function whyOf(t: AnyTransitionDefinition): string {
  for (const a of t.actions) {
    const params = (a as { type?: unknown; params?: { why?: unknown } }).params;
    if ((a as { type?: unknown }).type === 'recordTransition' && typeof params?.why === 'string') return params.why;
    if ((a as { type?: unknown }).type === 'recordHookFailure')
      return params ? 'maxErrors reached: forced into ERROR' : 'a hook threw: counted';
    if ((a as { type?: unknown }).type === 'recordRejection') return 'audits what the runtime refused';
  }
  return '';
}

/**
 * The edges of a machine's top-level states, read from the machine itself, as table rows in
 * priority order: each state's own edges in document order, then the root's (one row for every
 * state that does not forbid the event with `{}`). Events with the same target, guard, actions
 * and why are merged into one row.
 */
export function machineEdgeRows(machine: AnyStateMachine): EdgeRow[] {
  const rows: EdgeRow[] = [];
  const states = Object.values(machine.root.states) as AnyStateNode[];
  const forbidden = (t: AnyTransitionDefinition) => (t.target ?? []).length === 0 && t.actions.length === 0;
  const push = (from: string[], event: string, t: AnyTransitionDefinition) => {
    const to = ((t.target ?? []) as readonly AnyStateNode[])[0]?.path[0] ?? null;
    const terms = guardTerms(t.guard);
    const guard: GuardRef | undefined =
      typeof t.guard === 'object' && t.guard !== null && !Array.isArray(t.guard)
        ? (t.guard as GuardRef)
        : terms.length === 0
          ? undefined
          : terms.length === 1
            ? terms[0]
            : terms;
    const row: EdgeRow = { from: from as EdgeRow['from'], on: [event as EdgeRow['on'][number]], to: to as EdgeRow['to'], why: whyOf(t) };
    if (guard !== undefined) row.guard = guard;
    const actions = actionNames(t);
    if (actions && actions.length > 0) row.actions = actions;
    if (t.reenter || (to !== null && from.length === 1 && from[0] === to)) row.reenter = true;
    const last = rows.at(-1);
    if (
      last &&
      last.from.join() === row.from.join() &&
      last.to === row.to &&
      JSON.stringify([last.guard, last.actions, last.why, last.reenter]) === JSON.stringify([row.guard, row.actions, row.why, row.reenter])
    ) {
      (last.on as string[]).push(event);
      return;
    }
    rows.push(row);
  };
  for (const node of states) {
    for (const [event, transitions] of node.transitions) {
      for (const t of transitions) if (!forbidden(t)) push([node.key], event, t);
    }
  }
  for (const [event, transitions] of machine.root.transitions) {
    const from = states.filter((n) => !shadowsRoot(n, event)).map((n) => n.key);
    for (const t of transitions) push(from, event, t);
  }
  return rows;
}

/**
 * The Markdown table of edge rows, in priority order (for one state and event the first row
 * whose guard passes wins): `#`, from, event, to, guard, actions, why. Source lists that
 * cover most of `states` read `every state but ...`; the rows whose target is their guard's
 * `target` parameter (MANUAL_OVERRIDE, one row per state) are shown as one row.
 *
 * @example
 * ```ts
 * edgeTableMarkdown(machineEdgeRows(createStrategyMachine(lt112)), STRATEGY_STATES);
 * // | # | from | event | to | guard | actions | why |
 * // | 1 | INITIALIZING | MARKET_OPEN | READY |  |  | seed |
 * ```
 */
export function edgeTableMarkdown(rows: readonly EdgeRow[], states: readonly string[]): string {
  const lines = ['| # | from | event | to | guard | actions | why |', '|---|---|---|---|---|---|---|'];
  let n = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    n++;
    let to = row.to === null ? '(stays; nothing moves)' : row.reenter && row.from.includes(row.to) ? `${row.to} (re-entered)` : row.to;
    let guard = guardText(row.guard);
    if (targetsParam(row)) {
      // Collapse the per-target rows into one.
      const type = (row.guard as { type: string }).type;
      const targets: string[] = [];
      while (i < rows.length && targetsParam(rows[i]) && (rows[i].guard as { type: string }).type === type && rows[i].why === row.why) {
        targets.push(rows[i].to as string);
        i++;
      }
      i--;
      to = `the event's \`target\`: ${describeStates(targets, states)} (re-entered when it is the current state)`;
      guard = `\`${type}(target)\``;
    }
    const from = describeStates(row.from, states);
    const actions = (row.actions ?? []).map((a) => `\`${a}\``).join(', ');
    lines.push(
      `| ${n} | ${cell(from)} | ${cell(row.on.map(eventName).join(', '))} | ${cell(to)} | ${cell(guard)} | ${actions} | ${cell(row.why)} |`,
    );
  }
  return lines.join('\n') + '\n';
}
