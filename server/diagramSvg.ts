/**
 * A self-contained SVG state diagram of a strategy machine, drawn from the same edges as
 * `toMermaid` (`diagramEdges` / `diagramSummaries`): the 15 states, substates inside their parent,
 * one arrow per (from, to) pair labelled with its events and guards, and the fan-in events
 * (MANUAL_OVERRIDE, SYSTEM_ERROR, failed hooks) as notes.
 *
 * The layout is elkjs's (Eclipse Layout Kernel, layered algorithm): states in lifecycle order from
 * top to bottom, compound states as nested graphs, orthogonal arrows and their labels placed by it.
 * We size the boxes and labels and draw what it returns. ELK is deterministic: the same machine
 * always gives the same bytes.
 */
import ELK, { type ElkEdgeSection, type ElkExtendedEdge, type ElkNode, type ElkPoint } from 'elkjs/lib/elk.bundled.js';
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { definitionOf } from '../machines/createStrategyMachine.js';
import type { StrategyMachine } from '../machines/createStrategyMachine.js';
import { diagramEdges, diagramSummaries, type DiagramEdge, type DiagramSummary } from '../machines/diagram.js';
import type { StrategyState } from '../machines/states.js';
import { STATE_FAMILIES, type StateFamily } from './stateFamilies.js';

export { STATE_FAMILIES, type StateFamily } from './stateFamilies.js';

/** Stroke and fill of each family (light theme). */
const PALETTE: Record<StateFamily, { stroke: string; fill: string }> = {
  idle: { stroke: '#0e7490', fill: '#ecfeff' },
  entry: { stroke: '#2563eb', fill: '#eff6ff' },
  position: { stroke: '#15803d', fill: '#f0fdf4' },
  exit: { stroke: '#c2410c', fill: '#fff7ed' },
  closed: { stroke: '#6b7280', fill: '#f3f4f6' },
  error: { stroke: '#dc2626', fill: '#fef2f2' },
  suspended: { stroke: '#7c3aed', fill: '#f5f3ff' },
};

const FONT_SANS = "'Inter','Segoe UI','Helvetica Neue',Arial,'Liberation Sans','DejaVu Sans',sans-serif";
const FONT_MONO = "ui-monospace,'SFMono-Regular',Menlo,Consolas,'Liberation Mono','DejaVu Sans Mono',monospace";
const LABEL_FONT = 10.5;
const CHAR_W = LABEL_FONT * 0.61; // monospace advance, a little generous
const LINE_H = 13;
const WRAP = 26;
const MARGIN = 36;
const HEADER = 40;
const START = 34; // room left of an initial state for its start dot

/** How ELK lays the chart out (https://eclipse.dev/elk/reference.html). */
const LAYOUT: Record<string, string> = {
  'elk.algorithm': 'layered',
  'elk.direction': 'DOWN',
  // Substates are laid out with the states around them, so arrows may cross into a parent.
  'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
  'elk.edgeRouting': 'ORTHOGONAL',
  // Lifecycle order decides which arrows of a cycle run backwards, and keeps the picture stable.
  'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
  'elk.layered.cycleBreaking.strategy': 'MODEL_ORDER',
  'elk.layered.spacing.nodeNodeBetweenLayers': '56',
  'elk.layered.spacing.edgeNodeBetweenLayers': '16',
  'elk.layered.spacing.edgeEdgeBetweenLayers': '9',
  'elk.spacing.nodeNode': '28',
  'elk.spacing.edgeEdge': '9',
  'elk.spacing.edgeNode': '14',
  'elk.spacing.edgeLabel': '3',
  'elk.edgeLabels.placement': 'CENTER',
  // Straighter, shorter arrows than the default node placement.
  'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
  // Every coordinate in the answer is absolute: nothing to add up along the nesting.
  'elk.json.shapeCoords': 'ROOT',
  'elk.json.edgeCoords': 'ROOT',
};

interface Label {
  lines: Array<Array<{ text: string; guard: boolean }>>;
  w: number;
  h: number;
}
interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}
/** A state as drawn: its laid-out box and its substates. */
interface Box extends Rect {
  path: string;
  key: string;
  children: Box[];
  initial?: string;
  depth: number;
}
/** An arrow as drawn: the edges of one (from, to) pair, its points and its label's place. */
interface Arrow {
  from: string;
  to: string;
  edges: DiagramEdge[];
  text: Label;
  points: ElkPoint[];
  label: Rect;
}

/** Escapes text for SVG/XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const familyOf = (path: string): StateFamily => STATE_FAMILIES[path.split('.')[0] as StrategyState] ?? 'idle';
const titleWidth = (text: string, size: number) => text.length * size * 0.7 + 28;
const r1 = (n: number) => Math.round(n * 10) / 10;
const initialOf = (node: AnyStateNode) => (node.initial?.target?.[0] as AnyStateNode | undefined)?.path.join('.');

/** The ELK node of a state: a leaf sized for its name, or a compound holding its substates. */
function elkNode(node: AnyStateNode, depth: number): ElkNode {
  const children = (Object.values(node.states) as AnyStateNode[]).map((c) => elkNode(c, depth + 1));
  const size = depth === 0 ? 13 : 11.5;
  if (children.length === 0)
    return { id: node.path.join('.'), width: Math.max(depth === 0 ? 150 : 112, titleWidth(node.key, size)), height: depth === 0 ? 42 : 32 };
  return {
    id: node.path.join('.'),
    children,
    layoutOptions: {
      'elk.padding': `[top=34,left=${START},bottom=14,right=14]`,
      'elk.nodeSize.minimum': `(${titleWidth(node.key, size)},0)`,
    },
  };
}

/** The laid-out boxes, as nested as the states. */
function boxOf(laid: ElkNode, node: AnyStateNode, depth: number): Box {
  const byId = new Map((laid.children ?? []).map((c) => [c.id, c]));
  const children = (Object.values(node.states) as AnyStateNode[]).map((c) => boxOf(byId.get(c.path.join('.')) as ElkNode, c, depth + 1));
  const initial = children.length > 0 ? initialOf(node) : undefined;
  return {
    x: laid.x ?? 0,
    y: laid.y ?? 0,
    w: laid.width ?? 0,
    h: laid.height ?? 0,
    path: laid.id,
    key: node.key,
    children,
    depth,
    ...(initial ? { initial } : {}),
  };
}

/** The label of an arrow: each edge's events then its `[guard]`, wrapped at {@link WRAP} characters. */
function labelOf(edges: DiagramEdge[]): Label {
  const lines: Label['lines'] = [];
  for (const edge of edges) {
    const words = [
      ...edge.events.flatMap((e, i) => (e + (i < edge.events.length - 1 ? ',' : '')).split(' ').map((text) => ({ text, guard: false }))),
      ...(edge.guard ? `[${edge.guard}]`.split(' ').map((text) => ({ text, guard: true })) : []),
    ];
    let line: Label['lines'][number] = [];
    let length = 0;
    for (const word of words) {
      if (line.length > 0 && length + 1 + word.text.length > WRAP) {
        lines.push(line);
        line = [];
        length = 0;
      }
      length += (line.length > 0 ? 1 : 0) + word.text.length;
      line.push(word);
    }
    if (line.length > 0) lines.push(line);
  }
  const chars = Math.max(...lines.map((l) => l.reduce((s, w) => s + w.text.length, 0) + l.length - 1));
  return { lines, w: chars * CHAR_W + 10, h: lines.length * LINE_H + 5 };
}

/**
 * Lays the chart out with ELK: one node per state (compound nodes for substates), one edge per
 * (from, to) pair with its label's size, in lifecycle order.
 */
async function layout(machine: StrategyMachine | AnyStateMachine): Promise<{ top: Box[]; arrows: Arrow[]; width: number; height: number }> {
  const topNodes = Object.values(machine.root.states) as AnyStateNode[];
  const ids = new Set<string>();
  const collect = (n: AnyStateNode) => {
    ids.add(n.path.join('.'));
    (Object.values(n.states) as AnyStateNode[]).forEach(collect);
  };
  topNodes.forEach(collect);
  // One arrow per ordered pair; the edges of a pair (different guards) share its label.
  const pairs = new Map<string, { from: string; to: string; edges: DiagramEdge[] }>();
  for (const e of diagramEdges(machine)) {
    if (!ids.has(e.from) || !ids.has(e.to)) continue;
    const key = `${e.from}\u0000${e.to}`;
    const pair = pairs.get(key) ?? { from: e.from, to: e.to, edges: [] };
    pair.edges.push(e);
    pairs.set(key, pair);
  }
  const texts = [...pairs.values()].map((p) => labelOf(p.edges));
  const edges: ElkExtendedEdge[] = [...pairs.values()].map((p, i) => ({
    id: `e${i}`,
    sources: [p.from],
    targets: [p.to],
    labels: [{ id: `l${i}`, text: p.edges.map((e) => e.events.join(', ')).join('; '), width: texts[i].w, height: texts[i].h }],
  })); // ELK places only labels with text
  const graph: ElkNode = {
    id: '\u0000root',
    layoutOptions: { ...LAYOUT, 'elk.padding': `[top=4,left=${START},bottom=4,right=4]` },
    children: topNodes.map((n) => elkNode(n, 0)),
    edges,
  };
  const laid = await new ELK().layout(graph);
  const byId = new Map((laid.children ?? []).map((c) => [c.id, c]));
  const top = topNodes.map((n) => boxOf(byId.get(n.path.join('.')) as ElkNode, n, 0));
  const laidEdges = new Map((laid.edges ?? []).map((e) => [e.id, e]));
  const arrows = [...pairs.values()].map((p, i): Arrow => {
    const e = laidEdges.get(`e${i}`);
    const points = sectionsInOrder(e?.sections ?? []).flatMap((s) => [s.startPoint, ...(s.bendPoints ?? []), s.endPoint]);
    const l = e?.labels?.[0];
    // A label ELK left unplaced (at the origin) goes on its arrow's middle rather than in a corner.
    const placed = l && (l.x || l.y) ? { x: l.x ?? 0, y: l.y ?? 0 } : middleOf(points, texts[i]);
    const label = { ...placed, w: texts[i].w, h: texts[i].h };
    return { ...p, text: texts[i], points, label };
  });
  return { top, arrows, width: laid.width ?? 0, height: laid.height ?? 0 };
}

/** An edge's sections from its source to its target (ELK may split an edge into several, in no set order). */
function sectionsInOrder(sections: ElkEdgeSection[]): ElkEdgeSection[] {
  const byId = new Map(sections.map((s) => [s.id, s]));
  const ordered: ElkEdgeSection[] = [];
  for (let s = sections.find((x) => !x.incomingSections?.length); s && !ordered.includes(s); s = byId.get(s.outgoingSections?.[0] ?? ''))
    ordered.push(s);
  return ordered.length === sections.length ? ordered : sections;
}

/** Where a label sits centred on the middle of a path's longest segment. */
function middleOf(points: ElkPoint[], size: { w: number; h: number }): ElkPoint {
  let best = { x: points[0]?.x ?? 0, y: points[0]?.y ?? 0, length: -1 };
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1], points[i]];
    const length = Math.hypot(b.x - a.x, b.y - a.y);
    if (length > best.length) best = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2, length };
  }
  return { x: best.x - size.w / 2, y: best.y - size.h / 2 };
}

/** An SVG path through the points with rounded corners. */
function roundedPath(points: ElkPoint[]): string {
  if (points.length === 0) return '';
  const parts = [`M${r1(points[0].x)},${r1(points[0].y)}`];
  for (let i = 1; i < points.length - 1; i++) {
    const [a, b, c] = [points[i - 1], points[i], points[i + 1]];
    const r = Math.min(7, Math.hypot(b.x - a.x, b.y - a.y) / 2, Math.hypot(c.x - b.x, c.y - b.y) / 2);
    const inward = (p: ElkPoint) => ({
      x: b.x + ((p.x - b.x) / (Math.hypot(p.x - b.x, p.y - b.y) || 1)) * r,
      y: b.y + ((p.y - b.y) / (Math.hypot(p.x - b.x, p.y - b.y) || 1)) * r,
    });
    const before = inward(a);
    const after = inward(c);
    parts.push(`L${r1(before.x)},${r1(before.y)} Q${r1(b.x)},${r1(b.y)} ${r1(after.x)},${r1(after.y)}`);
  }
  const last = points[points.length - 1];
  parts.push(`L${r1(last.x)},${r1(last.y)}`);
  return parts.join(' ');
}

/** `every state`, `every state but ERROR, TERMINATED`, or the list. */
function describe(states: readonly string[], all: readonly string[]): string {
  const missing = all.filter((s) => !states.includes(s));
  if (missing.length === 0) return 'every state';
  if (missing.length <= all.length / 3) return `every state but ${missing.join(', ')}`;
  return states.join(', ');
}

function noteLines(summaries: DiagramSummary[], top: string[], terminal: string[]): Array<{ head: string; text: string }> {
  const out = summaries.map((s) => {
    const guard = s.guards.length > 0 ? ` [${s.guards.join(' or ')}]` : '';
    const to =
      s.to.length === 1
        ? `to ${s.to[0]}`
        : s.to.length === top.length
          ? 'to any state it names'
          : `to the state it names (${describe(s.to, top)})`;
    return { head: s.event, text: `${guard.trim()} from ${describe(s.from, top)} ${to}`.trim() };
  });
  for (const state of terminal) out.push({ head: state, text: 'terminal: no transition leaves it' });
  return out;
}

function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

const STYLE = [
  `.sl-diagram{font-family:${FONT_SANS}}`,
  '.sl-bg{fill:#ffffff}',
  '.sl-title{font-size:16px;font-weight:700;fill:#0f172a}',
  '.sl-subtitle{font-size:12px;fill:#64748b}',
  '.sl-box{stroke-width:1.6}',
  '.sl-name{font-size:13px;font-weight:700;letter-spacing:.02em;fill:#0f172a}',
  '.sl-sub>.sl-box{stroke-width:1.2}',
  '.sl-sub>.sl-name{font-size:11.5px}',
  '.sl-compound>.sl-name{font-size:13px}',
  `.sl-edge-label text{font-family:${FONT_MONO};font-size:${LABEL_FONT}px;fill:#1e293b}`,
  '.sl-edge-label .sl-guard{fill:#6b21a8;font-style:italic}',
  '.sl-edge-label rect{fill:#ffffff;fill-opacity:.92;stroke:#e2e8f0;stroke-width:.8}',
  '.sl-edge path{fill:none;stroke-width:1.35}',
  '.sl-edge.sl-timed path{stroke-dasharray:5 3}',
  '.sl-start{fill:#0f172a}',
  '.sl-note rect{fill:#fefce8;stroke:#ca8a04;stroke-width:1}',
  '.sl-note text{font-size:11.5px;fill:#422006}',
  `.sl-note .sl-note-head{font-family:${FONT_MONO};font-weight:700}`,
  '.sl-legend text{font-size:11px;fill:#334155}',
  ...Object.entries(PALETTE).map(
    ([family, { stroke, fill }]) => `.sl-fam-${family}>.sl-chip{fill:${fill};stroke:${stroke};stroke-width:1.5}`,
  ),
  ...Object.entries(PALETTE).flatMap(([family, { stroke, fill }]) => [
    `.sl-fam-${family}>.sl-box{fill:${fill};stroke:${stroke}}`,
    `.sl-edge.sl-fam-${family} path{stroke:${stroke}}`,
    `.sl-edge-label.sl-fam-${family} rect{stroke:${stroke};stroke-opacity:.35}`,
    `.sl-arrow-${family}{fill:${stroke}}`,
    `.sl-state.current.sl-fam-${family}>.sl-box{fill:${stroke};stroke:${stroke}}`,
  ]),
  '.sl-state.current>.sl-box{stroke-width:3;filter:drop-shadow(0 0 6px rgba(245,158,11,.9))}',
  '.sl-state.current>.sl-name{fill:#ffffff}',
  // A current compound state keeps a light fill: its substates and their arrows stay readable.
  '.sl-state.sl-compound.current>.sl-box{fill-opacity:.16}',
  '.sl-state.sl-compound.current>.sl-name{fill:#0f172a}',
  '.sl-state.current>.sl-ring{display:inline}',
  '.sl-ring{display:none;fill:none;stroke:#f59e0b;stroke-width:2.5;stroke-dasharray:6 3}',
].join('');

/**
 * An SVG state diagram of a strategy machine, laid out by elkjs: the 15 states in lifecycle order,
 * each a `<g class="sl-state sl-fam-<family>" data-state="NAME">` (substates nested inside their
 * parent, `data-state="PARENT.CHILD"`), one arrow per (from, to) pair labelled with its events and
 * `[guards]`, coloured by the family of its target, and the summarised events as notes. The state
 * named by `highlight` (a top-level state or a substate path) gets the class `current`; a page
 * that inlines the SVG can move that class itself. Text from the machine is XML-escaped.
 * Asynchronous because ELK's `layout()` is.
 *
 * @example
 * ```ts
 * writeFileSync('strangle.svg', await diagramSvg(createStrategyMachine(strangle), 'MANAGING'));
 * ```
 */
export async function diagramSvg(machine: StrategyMachine | AnyStateMachine, highlight?: string): Promise<string> {
  const def = definitionOf(machine);
  const topNodes = Object.values(machine.root.states) as AnyStateNode[];
  const { top, arrows, width: graphW, height: graphH } = await layout(machine);
  const all: Box[] = [];
  const walk = (b: Box) => {
    all.push(b);
    b.children.forEach(walk);
  };
  top.forEach(walk);
  const byPath = new Map(all.map((b) => [b.path, b]));
  const initial = byPath.get(initialOf(machine.root) ?? '');

  const dx = MARGIN;
  const dy = HEADER + MARGIN;
  const title = def ? `${def.id} · ${def.name}` : machine.id;
  const legend = Object.keys(PALETTE) as StateFamily[];
  const legendW = legend.reduce((s, f) => s + 22 + f.length * 6.6 + 16, 0);
  const width = Math.max(graphW + 2 * MARGIN, title.length * 9 + legendW + 3 * MARGIN);

  const topPaths = top.map((b) => b.path);
  const summaries = diagramSummaries(machine);
  const edges = diagramEdges(machine);
  const leaves = new Set([...edges.map((e) => e.from.split('.')[0]), ...summaries.flatMap((s) => s.from.map((f) => f.split('.')[0]))]);
  const terminal = topNodes.filter((n) => !leaves.has(n.key) && n.type !== 'final').map((n) => n.key);
  const notes = noteLines(summaries, topPaths, terminal);
  const noteW = (width - 2 * MARGIN - 16 * (Math.max(1, notes.length) - 1)) / Math.max(1, notes.length);
  const noteText = notes.map((n) => wrapText(n.text, Math.floor((noteW - 20) / 6.2)));
  const noteH = 30 + Math.max(0, ...noteText.map((l) => l.length)) * 15;
  const notesY = graphH + dy + 40;
  const height = notes.length > 0 ? notesY + noteH + MARGIN / 2 : graphH + dy + MARGIN;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="sl-diagram" viewBox="0 0 ${r1(width)} ${r1(height)}" width="${r1(width)}" height="${r1(height)}" role="img" aria-labelledby="sl-title">`,
  );
  out.push(`<title id="sl-title">${escapeXml(`${title}: lifecycle state diagram`)}</title>`);
  out.push(`<style>${STYLE}</style>`);
  out.push('<defs>');
  for (const family of legend)
    out.push(
      `<marker id="sl-arrow-${family}" class="sl-arrow-${family}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker>`,
    );
  out.push('</defs>');
  out.push(`<rect class="sl-bg" x="0" y="0" width="${r1(width)}" height="${r1(height)}"/>`);
  out.push(`<text class="sl-title" x="${MARGIN}" y="${MARGIN - 8}">${escapeXml(title)}</text>`);
  out.push(
    `<text class="sl-subtitle" x="${MARGIN}" y="${MARGIN + 12}">Arrows read EVENTS [guard], coloured by the family of their target state; [else] is the fallback of a guarded event.</text>`,
  );
  let lx = width - MARGIN - legendW;
  out.push('<g class="sl-legend">');
  for (const family of legend) {
    out.push(
      `<g class="sl-fam-${family}"><rect class="sl-chip" x="${r1(lx)}" y="${MARGIN - 20}" width="16" height="12" rx="3"/><text x="${r1(lx + 22)}" y="${MARGIN - 10}">${family}</text></g>`,
    );
    lx += 22 + family.length * 6.6 + 16;
  }
  out.push('</g>');
  out.push(`<g class="sl-graph" transform="translate(${r1(dx)},${r1(dy)})">`);
  if (initial) out.push(startMarker(initial, familyOf(initial.path), 30, 6));
  out.push('<g class="sl-states">');
  for (const b of top) out.push(drawBox(b, byPath, highlight));
  out.push('</g>');
  // Arrows after the boxes (they end at the borders); labels last, above every arrow.
  out.push('<g class="sl-edges">');
  for (const a of arrows) {
    const family = familyOf(a.to);
    const timed = a.edges.every((e) => e.events.every((ev) => ev.startsWith('after ')));
    out.push(
      `<g class="sl-edge sl-fam-${family}${timed ? ' sl-timed' : ''}" data-from="${escapeXml(a.from)}" data-to="${escapeXml(a.to)}"><path d="${roundedPath(a.points)}" marker-end="url(#sl-arrow-${family})"/></g>`,
    );
  }
  out.push('</g><g class="sl-edge-labels">');
  for (const a of arrows) out.push(drawLabel(a));
  out.push('</g></g>');
  if (notes.length > 0) {
    out.push(`<g class="sl-notes"><text class="sl-subtitle" x="${MARGIN}" y="${r1(notesY - 10)}">Drawn as notes, not arrows:</text>`);
    notes.forEach((n, i) => {
      const x = MARGIN + i * (noteW + 16);
      const lines = noteText[i].map((l, j) => `<text x="${r1(x + 10)}" y="${r1(notesY + 38 + j * 15)}">${escapeXml(l)}</text>`).join('');
      out.push(
        `<g class="sl-note"><rect x="${r1(x)}" y="${r1(notesY)}" width="${r1(noteW)}" height="${r1(noteH)}" rx="4"/><text class="sl-note-head" x="${r1(x + 10)}" y="${r1(notesY + 19)}">${escapeXml(n.head)}</text>${lines}</g>`,
      );
    });
    out.push('</g>');
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** The dot and short arrow left of an initial state. */
function startMarker(b: Box, family: StateFamily, distance: number, radius: number): string {
  const y = b.y + b.h / 2;
  return `<g class="sl-edge sl-fam-${family}"><circle class="sl-start" cx="${r1(b.x - distance)}" cy="${r1(y)}" r="${radius}"/><path d="M${r1(b.x - distance + radius)},${r1(y)} L${r1(b.x - 3)},${r1(y)}" marker-end="url(#sl-arrow-${family})"/></g>`;
}

/** A state's group: its box and name, its initial-substate marker, its substates inside it. */
function drawBox(b: Box, byPath: Map<string, Box>, highlight: string | undefined): string {
  const family = familyOf(b.path);
  const cls = [
    'sl-state',
    `sl-fam-${family}`,
    b.depth > 0 ? 'sl-sub' : '',
    b.children.length > 0 ? 'sl-compound' : '',
    highlight === b.path ? 'current' : '',
  ]
    .filter(Boolean)
    .join(' ');
  const parts = [`<g class="${cls}" data-state="${escapeXml(b.path)}">`];
  parts.push(`<rect class="sl-ring" x="${r1(b.x - 5)}" y="${r1(b.y - 5)}" width="${r1(b.w + 10)}" height="${r1(b.h + 10)}" rx="11"/>`);
  parts.push(`<rect class="sl-box" x="${r1(b.x)}" y="${r1(b.y)}" width="${r1(b.w)}" height="${r1(b.h)}" rx="${b.depth > 0 ? 6 : 8}"/>`);
  const ty = b.children.length > 0 ? b.y + 20 : b.y + b.h / 2 + 4.5;
  parts.push(`<text class="sl-name" x="${r1(b.x + b.w / 2)}" y="${r1(ty)}" text-anchor="middle">${escapeXml(b.key)}</text>`);
  const child = b.initial ? byPath.get(b.initial) : undefined;
  if (child) parts.push(startMarker(child, family, 20, 4.5));
  for (const c of b.children) parts.push(drawBox(c, byPath, highlight));
  parts.push('</g>');
  return parts.join('');
}

/** An arrow's label: a pill with one `<text>` per line, guards in their own style. */
function drawLabel(a: Arrow): string {
  const { text, label } = a;
  const lines = text.lines.map((line, i) => {
    const spans = line
      .map((w, j) => `${j > 0 ? ' ' : ''}${w.guard ? `<tspan class="sl-guard">${escapeXml(w.text)}</tspan>` : escapeXml(w.text)}`)
      .join('');
    return `<text x="${r1(label.x + label.w / 2)}" y="${r1(label.y + LINE_H * (i + 1))}" text-anchor="middle" xml:space="preserve">${spans}</text>`;
  });
  return `<g class="sl-edge-label sl-fam-${familyOf(a.to)}" data-from="${escapeXml(a.from)}" data-to="${escapeXml(a.to)}"><rect x="${r1(label.x)}" y="${r1(label.y)}" width="${r1(label.w)}" height="${r1(label.h)}" rx="4"/>${lines.join('')}</g>`;
}
