/**
 * A self-contained SVG state diagram of a strategy machine, drawn from the same edges as
 * `toMermaid` (`diagramEdges` / `diagramSummaries`): the 15 states on a fixed lifecycle grid,
 * substates inside their parent, one arrow per (from, to) pair labelled with its events and
 * guards, and the fan-in events (MANUAL_OVERRIDE, SYSTEM_ERROR, failed hooks) as notes.
 *
 * No layout library and no randomness: grid neighbours are joined straight; every other arrow
 * runs along the corridors between rows and columns (a shortest path that pays for turns and for
 * crowded stretches), parallel runs get their own tracks, and each label goes where it covers the
 * fewest boxes, labels and arrows. The same machine always gives the same bytes.
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { definitionOf } from '../machines/createStrategyMachine.js';
import type { StrategyMachine } from '../machines/createStrategyMachine.js';
import { diagramEdges, diagramSummaries, type DiagramEdge, type DiagramSummary } from '../machines/diagram.js';
import type { StrategyState } from '../machines/states.js';

/** The colour family of a state: the diagram and the dashboard colour states by it. */
export type StateFamily = 'idle' | 'entry' | 'position' | 'exit' | 'closed' | 'error' | 'suspended';

/** The family of each of the 15 states. */
export const STATE_FAMILIES: Readonly<Record<StrategyState, StateFamily>> = {
  INITIALIZING: 'idle',
  READY: 'idle',
  ANALYZING: 'entry',
  PENDING_ENTRY: 'entry',
  ENTERING: 'entry',
  POSITION_OPEN: 'position',
  MANAGING: 'position',
  ADJUSTING: 'position',
  PENDING_EXIT: 'exit',
  EXITING: 'exit',
  PARTIAL_EXIT: 'exit',
  CLOSED: 'closed',
  ERROR: 'error',
  SUSPENDED: 'suspended',
  TERMINATED: 'closed',
};

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

/**
 * Grid cell (column, row) of each top-level state, read clockwise from the top left: the entry
 * flow on top, position management down the right, exits along the bottom, CLOSED and TERMINATED
 * on the left on the way back to READY, and SUSPENDED and ERROR in the middle, next to the many
 * states that lead to them. A state missing from the table (a foreign machine) gets a cell in an
 * extra row.
 */
const GRID: Readonly<Record<string, readonly [number, number]>> = {
  INITIALIZING: [0, 0], READY: [1, 0], ANALYZING: [2, 0], PENDING_ENTRY: [3, 0], ENTERING: [4, 0],
  TERMINATED: [0, 1], SUSPENDED: [1, 1], ERROR: [2, 1], MANAGING: [3, 1], POSITION_OPEN: [4, 1],
  CLOSED: [0, 2], PARTIAL_EXIT: [1, 2], EXITING: [2, 2], PENDING_EXIT: [3, 2], ADJUSTING: [4, 2],
};

const FONT_SANS = "'Inter','Segoe UI','Helvetica Neue',Arial,'Liberation Sans','DejaVu Sans',sans-serif";
const FONT_MONO = "ui-monospace,'SFMono-Regular',Menlo,Consolas,'Liberation Mono','DejaVu Sans Mono',monospace";
const LABEL_FONT = 10.5;
const CHAR_W = LABEL_FONT * 0.61; // monospace advance, a little generous
const LINE_H = 13;
const WRAP = 26;
const COL_GAP = 176;
const ROW_GAP = 150;
const MARGIN = 36;
const HEADER = 40;

interface Rect { x: number; y: number; w: number; h: number }
interface Point { x: number; y: number }
interface Box extends Rect { path: string; key: string; children: Box[]; initial?: string; depth: number }
interface Label { lines: Array<Array<{ text: string; guard: boolean }>>; w: number; h: number }
interface Pair { from: Box; to: Box; edges: DiagramEdge[]; twoWay: boolean }

/** Escapes text for SVG/XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const familyOf = (path: string): StateFamily => STATE_FAMILIES[path.split('.')[0] as StrategyState] ?? 'idle';
const titleWidth = (text: string, size: number) => text.length * size * 0.7 + 28;
const r1 = (n: number) => Math.round(n * 10) / 10;

/** Boxes of a node's children, sized bottom-up; children of a compound state sit in one row. */
function sizeBox(node: AnyStateNode, depth: number): Box {
  const key = node.key;
  const children = (Object.values(node.states) as AnyStateNode[]).map((c) => sizeBox(c, depth + 1));
  const size = depth === 0 ? 13 : 11.5;
  if (children.length === 0) return { x: 0, y: 0, w: Math.max(depth === 0 ? 150 : 112, titleWidth(key, size)), h: depth === 0 ? 42 : 32, path: node.path.join('.'), key, children, depth };
  const innerGap = 170;
  const lead = 26; // room for the initial-state dot
  const w = Math.max(titleWidth(key, size), 14 + lead + children.reduce((s, c) => s + c.w, 0) + innerGap * (children.length - 1) + 14);
  const h = 30 + Math.max(...children.map((c) => c.h)) + 16;
  const initial = (node.initial?.target?.[0] as AnyStateNode | undefined)?.path.join('.');
  return { x: 0, y: 0, w, h, path: node.path.join('.'), key, children, depth, ...(initial ? { initial } : {}) };
}

/** Places a compound box's children inside it, left to right. */
function placeChildren(box: Box): void {
  const gap = box.children.length > 1 ? (box.w - 14 - 26 - 14 - box.children.reduce((s, c) => s + c.w, 0)) / (box.children.length - 1) : 0;
  let x = box.x + 14 + 26;
  for (const child of box.children) {
    child.x = x;
    child.y = box.y + 30 + (box.h - 46 - child.h) / 2;
    x += child.w + gap;
    placeChildren(child);
  }
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

const centre = (r: Rect): Point => ({ x: r.x + r.w / 2, y: r.y + r.h / 2 });
const overlaps = (a: Rect, b: Rect, pad = 0) => a.x < b.x + b.w + pad && b.x < a.x + a.w + pad && a.y < b.y + b.h + pad && b.y < a.y + a.h + pad;

type Side = 'top' | 'bottom' | 'left' | 'right';
type Axis = 'h' | 'v';
const SIDES: readonly Side[] = ['top', 'bottom', 'right', 'left'];
const stubAxis = (side: Side): Axis => (side === 'top' || side === 'bottom' ? 'v' : 'h');

/** A corridor centre line between rows (`h`, at a y) or between columns (`v`, at an x), with the stops on it. */
interface Line { key: string; axis: Axis; at: number; stops: number[]; outer: boolean }
/** A stretch of an arrow along one corridor line, between two coordinates on it. */
interface Run { line: Line; from: number; to: number; offset: number }
/** Where an arrow leaves or enters a box. */
interface Port { box: Box; side: Side; pos: number; sortKey: number }
/** An arrow with its route: direct (neighbours), along corridors, or a loop. */
interface Arrow { pair: Pair; kind: 'direct' | 'corridor' | 'loop'; start: Port; end: Port; runs: Run[]; points: Point[]; label?: Rect; text: Label }

/** Grid geometry: cells, corridor lines, and which cell holds each top-level box. */
interface Grid { cell: Map<Box, readonly [number, number]>; gapX: number[]; gapY: number[]; lines: Line[]; bounds: Rect }

const TRACK = 7; // distance between parallel arrows in a corridor
const BEND = 70; // a turn costs as much as 70 px of corridor
const CROWD = 28; // each arrow already on a corridor stretch makes it this much dearer
const OUTER = 38; // distance of the outer corridors from the grid

const sidePoint = (box: Box, side: Side, pos: number): Point =>
  side === 'top' ? { x: pos, y: box.y } : side === 'bottom' ? { x: pos, y: box.y + box.h } : side === 'left' ? { x: box.x, y: pos } : { x: box.x + box.w, y: pos };

/** The corridor stop a box side opens onto, and the line it lies on. */
function portStop(grid: Grid, box: Box, side: Side): { line: Line; at: number } {
  const [c, r] = grid.cell.get(box)!;
  const mid = centre(box);
  const find = (axis: Axis, at: number) => grid.lines.find((l) => l.axis === axis && l.at === at)!;
  if (side === 'top') return { line: find('h', grid.gapY[r]), at: mid.x };
  if (side === 'bottom') return { line: find('h', grid.gapY[r + 1]), at: mid.x };
  if (side === 'left') return { line: find('v', grid.gapX[c]), at: mid.y };
  return { line: find('v', grid.gapX[c + 1]), at: mid.y };
}

/**
 * The cheapest corridor route from one box to another (Dijkstra over the corridor stops): length,
 * plus a price per turn and per arrow already using a stretch, so arrows spread over corridors.
 */
function corridorRoute(grid: Grid, from: Box, to: Box, usage: Map<string, number>, sideUse: Map<string, number>): { startSide: Side; endSide: Side; runs: Run[] } {
  type State = { line: Line; index: number; axis: Axis; cost: number; prev?: State; from?: number; startSide?: Side };
  const stopIndex = (line: Line, at: number) => line.stops.findIndex((s) => Math.abs(s - at) < 0.01);
  const nodeKey = (line: Line, index: number) => (line.axis === 'h' ? `${r1(line.stops[index])},${r1(line.at)}` : `${r1(line.at)},${r1(line.stops[index])}`);
  // Lines crossing at a node, for turning.
  const crossing = new Map<string, Array<{ line: Line; index: number }>>();
  for (const line of grid.lines) line.stops.forEach((_, index) => {
    const key = nodeKey(line, index);
    crossing.set(key, [...(crossing.get(key) ?? []), { line, index }]);
  });
  const open: State[] = [];
  const best = new Map<string, number>();
  const stub = (box: Box, side: Side) => {
    const stop = portStop(grid, box, side);
    const p = sidePoint(box, side, stop.at);
    return { stop, length: Math.abs(stop.line.axis === 'h' ? stop.line.at - p.y : stop.line.at - p.x) };
  };
  for (const side of SIDES) {
    const { stop, length } = stub(from, side);
    const index = stopIndex(stop.line, stop.at);
    open.push({ line: stop.line, index, axis: stubAxis(side), cost: length + 18 * (sideUse.get(`${from.path}:${side}`) ?? 0), startSide: side });
  }
  const goals = SIDES.map((side) => ({ side, ...stub(to, side) }));
  let found: { state: State; side: Side; cost: number } | undefined;
  while (open.length > 0) {
    let k = 0;
    for (let i = 1; i < open.length; i++) if (open[i].cost < open[k].cost) k = i;
    const state = open.splice(k, 1)[0];
    if (found && state.cost >= found.cost) break;
    const key = `${nodeKey(state.line, state.index)}|${state.axis}`;
    if ((best.get(key) ?? Infinity) <= state.cost) continue;
    best.set(key, state.cost);
    for (const goal of goals) {
      if (goal.stop.line !== state.line || stopIndex(state.line, goal.stop.at) !== state.index || !state.prev) continue;
      const cost = state.cost + goal.length + (state.axis !== stubAxis(goal.side) ? BEND : 0) + 18 * (sideUse.get(`${to.path}:${goal.side}`) ?? 0);
      if (!found || cost < found.cost) found = { state, side: goal.side, cost };
    }
    for (const { line, index } of crossing.get(nodeKey(state.line, state.index)) ?? []) {
      for (const next of [index - 1, index + 1]) {
        if (next < 0 || next >= line.stops.length) continue;
        const length = Math.abs(line.stops[next] - line.stops[index]);
        const segment = `${line.key}:${Math.min(index, next)}`;
        const cost = state.cost + length * (line.outer ? 1.25 : 1) + CROWD * (usage.get(segment) ?? 0) + (line.axis !== state.axis ? BEND : 0);
        open.push({ line, index: next, axis: line.axis, cost, prev: state, from: line.stops[index] });
      }
    }
  }
  if (!found) throw new Error(`no route from ${from.path} to ${to.path}`);
  // Walk back: consecutive moves on one line make one run.
  const moves: Array<{ line: Line; from: number; to: number }> = [];
  let first: State = found.state;
  for (let s: State | undefined = found.state; s?.prev; s = s.prev) {
    const last = moves[0];
    if (last && last.line === s.line) last.from = s.from!;
    else moves.unshift({ line: s.line, from: s.from!, to: s.line.stops[s.index] });
    first = s.prev;
  }
  for (const m of moves) {
    const lo = Math.min(m.from, m.to);
    const hi = Math.max(m.from, m.to);
    m.line.stops.forEach((stop, i) => {
      if (i < m.line.stops.length - 1 && stop >= lo - 0.01 && m.line.stops[i + 1] <= hi + 0.01) usage.set(`${m.line.key}:${i}`, (usage.get(`${m.line.key}:${i}`) ?? 0) + 1);
    });
  }
  return { startSide: first.startSide!, endSide: found.side, runs: moves.map((m) => ({ line: m.line, from: m.from, to: m.to, offset: 0 })) };
}

/** Spreads parallel runs on each corridor line over tracks, so arrows never lie on each other. */
function assignTracks(arrows: Arrow[]): void {
  const byLine = new Map<Line, Run[]>();
  for (const a of arrows) for (const run of a.runs) byLine.set(run.line, [...(byLine.get(run.line) ?? []), run]);
  for (const runs of byLine.values()) {
    const lo = (r: Run) => Math.min(r.from, r.to);
    const hi = (r: Run) => Math.max(r.from, r.to);
    runs.sort((a, b) => lo(a) - lo(b) || hi(a) - hi(b));
    const tracks: number[] = [];
    const track = new Map<Run, number>();
    for (const run of runs) {
      let t = tracks.findIndex((end) => end < lo(run) - 4);
      if (t < 0) t = tracks.push(0) - 1;
      tracks[t] = hi(run);
      track.set(run, t);
    }
    for (const run of runs) run.offset = (track.get(run)! - (tracks.length - 1) / 2) * TRACK;
  }
}

/** Places the ports of each box side evenly, ordered by where their arrows go, so they do not cross at the box. */
function spreadPorts(arrows: Arrow[]): void {
  const bySide = new Map<string, Port[]>();
  for (const a of arrows) for (const port of [a.start, a.end]) {
    const key = `${port.box.path}:${port.side}`;
    bySide.set(key, [...(bySide.get(key) ?? []), port]);
  }
  for (const ports of bySide.values()) {
    const { box, side } = ports[0];
    const vertical = side === 'top' || side === 'bottom';
    const length = vertical ? box.w : box.h;
    const mid = vertical ? box.x + box.w / 2 : box.y + box.h / 2;
    const spacing = Math.min(vertical ? 20 : 11, (length - 16) / Math.max(1, ports.length));
    ports.sort((a, b) => a.sortKey - b.sortKey);
    ports.forEach((port, i) => (port.pos = mid + (i - (ports.length - 1) / 2) * spacing));
  }
}

/** The corner points of an arrow once its ports and tracks are known. */
function arrowPoints(a: Arrow): Point[] {
  const p0 = sidePoint(a.start.box, a.start.side, a.start.pos);
  const p1 = sidePoint(a.end.box, a.end.side, a.end.pos);
  if (a.kind === 'direct') {
    const shared = (a.start.pos + a.end.pos) / 2;
    const q0 = sidePoint(a.start.box, a.start.side, shared);
    const q1 = sidePoint(a.end.box, a.end.side, shared);
    return [q0, q1];
  }
  if (a.kind === 'loop') {
    const out = 22;
    const d = a.start.side === 'top' ? { x: 0, y: -out } : a.start.side === 'bottom' ? { x: 0, y: out } : a.start.side === 'left' ? { x: -out, y: 0 } : { x: out, y: 0 };
    return [p0, { x: p0.x + d.x, y: p0.y + d.y }, { x: p1.x + d.x, y: p1.y + d.y }, p1];
  }
  const coord = (run: Run) => run.line.at + run.offset;
  const points = [p0];
  let previous: { axis: Axis; at: number } = { axis: stubAxis(a.start.side), at: a.start.pos };
  for (const run of a.runs) {
    const at = coord(run);
    points.push(previous.axis === 'v' ? { x: previous.at, y: at } : { x: at, y: previous.at });
    previous = { axis: run.line.axis, at };
  }
  points.push(previous.axis === 'v' ? { x: previous.at, y: p1.y } : { x: p1.x, y: previous.at });
  points.push(p1);
  return points.filter((p, i) => i === 0 || Math.hypot(p.x - points[i - 1].x, p.y - points[i - 1].y) > 0.01);
}

/** An SVG path through the points with rounded corners. */
function roundedPath(points: Point[]): string {
  const parts = [`M${r1(points[0].x)},${r1(points[0].y)}`];
  for (let i = 1; i < points.length - 1; i++) {
    const [a, b, c] = [points[i - 1], points[i], points[i + 1]];
    const r = Math.min(7, Math.hypot(b.x - a.x, b.y - a.y) / 2, Math.hypot(c.x - b.x, c.y - b.y) / 2);
    const inward = (p: Point) => ({ x: b.x + ((p.x - b.x) / (Math.hypot(p.x - b.x, p.y - b.y) || 1)) * r, y: b.y + ((p.y - b.y) / (Math.hypot(p.x - b.x, p.y - b.y) || 1)) * r });
    const before = inward(a);
    const after = inward(c);
    parts.push(`L${r1(before.x)},${r1(before.y)} Q${r1(b.x)},${r1(b.y)} ${r1(after.x)},${r1(after.y)}`);
  }
  const last = points[points.length - 1];
  parts.push(`L${r1(last.x)},${r1(last.y)}`);
  return parts.join(' ');
}

/** A segment of an arrow as its bounding rectangle (arrows are axis-aligned), tagged with its arrow and index. */
interface Segment extends Rect { arrow: Arrow; index: number }

function segmentsOf(a: Arrow): Segment[] {
  return a.points.slice(1).map((q, index) => {
    const p = a.points[index];
    return { x: Math.min(p.x, q.x), y: Math.min(p.y, q.y), w: Math.abs(q.x - p.x), h: Math.abs(q.y - p.y), arrow: a, index };
  });
}

/** True when a segment (a degenerate rectangle) passes through the rectangle's inside. */
const hits = (s: Rect, r: Rect) => s.x + s.w > r.x && s.x < r.x + r.w && s.y + s.h > r.y && s.y < r.y + r.h;

/**
 * Puts each label on or beside its own arrow where it covers the fewest boxes, labels and other
 * arrows, preferring the middle of the arrow.
 */
function placeLabels(arrows: Arrow[], boxes: Box[], bounds: Rect, related: (a: string, b: string) => boolean): void {
  const order = [...arrows].sort((a, b) => b.text.w * b.text.h - a.text.w * a.text.h);
  const placed: Rect[] = [];
  // Segments bucketed by 100 px columns, so a label only looks at the segments near it.
  const all = arrows.flatMap(segmentsOf);
  const buckets = new Map<number, Segment[]>();
  for (const seg of all) for (let k = Math.floor(seg.x / 100); k <= Math.floor((seg.x + seg.w) / 100); k++) buckets.set(k, [...(buckets.get(k) ?? []), seg]);
  const near = (r: Rect) => {
    const found = new Set<Segment>();
    for (let k = Math.floor(r.x / 100); k <= Math.floor((r.x + r.w) / 100); k++) for (const seg of buckets.get(k) ?? []) found.add(seg);
    return found;
  };
  for (const a of order) {
    const { w, h } = a.text;
    const segments = a.points.slice(1).map((p, i) => [a.points[i], p] as const);
    const total = segments.reduce((s, [p, q]) => s + Math.hypot(q.x - p.x, q.y - p.y), 0);
    // Inside a compound state (an arrow between its substates) only its title strip is in the way.
    const inner = (b: Box) => b.children.length > 0 && related(b.path, a.pair.from.path) && related(b.path, a.pair.to.path) && b.path !== a.pair.from.path && b.path !== a.pair.to.path;
    const obstacles = boxes.map((b) => (inner(b) ? { x: b.x, y: b.y, w: b.w, h: 30 } : b));
    let best: { score: number; rect: Rect } | undefined;
    let walked = 0;
    segments.forEach(([p, q], index) => {
      const length = Math.hypot(q.x - p.x, q.y - p.y);
      const horizontal = Math.abs(q.y - p.y) < 0.5;
      const edge = a.kind === 'corridor' && (index === 0 || index === segments.length - 1) ? 12 : 6;
      for (let s = Math.min(edge, length / 2); s <= length - Math.min(edge, length / 2) + 0.01; s += 10) {
        const x = p.x + ((q.x - p.x) * s) / (length || 1);
        const y = p.y + ((q.y - p.y) * s) / (length || 1);
        const spots = [{ x: x - w / 2, y: y - h / 2, beside: 0 }];
        for (const gap of [4, 16, 30]) {
          if (horizontal) spots.push({ x: x - w / 2, y: y - h - gap, beside: gap }, { x: x - w / 2, y: y + gap, beside: gap });
          else spots.push({ x: x + gap, y: y - h / 2, beside: gap }, { x: x - w - gap, y: y - h / 2, beside: gap });
        }
        for (const spot of spots) {
          const rect = { x: spot.x, y: spot.y, w, h };
          let score = Math.abs(walked + s - total * 0.45) * 0.12 + spot.beside * 2.5 + (!spot.beside && horizontal && length < w + 50 ? 60 : 0);
          if (rect.x < bounds.x || rect.y < bounds.y || rect.x + w > bounds.x + bounds.w || rect.y + h > bounds.y + bounds.h) score += 2000;
          for (const b of obstacles) if (overlaps(rect, b, 3)) score += 10000;
          for (const other of placed) if (overlaps(rect, other, 3)) score += 6000;
          for (const seg of near(rect)) {
            if (seg.arrow === a && seg.index === index && !spot.beside) continue;
            if (hits(seg, rect)) score += seg.arrow === a ? 150 : 90;
          }
          if (!best || score < best.score) best = { score, rect };
        }
      }
      walked += length;
    });
    a.label = best!.rect;
    placed.push(best!.rect);
  }
}

/**
 * Routes every arrow: neighbours in one row or column are joined straight, the rest run along the
 * corridors between rows and columns (shortest first, each avoiding crowded stretches), then the
 * runs get tracks, the ports get spread, and the labels a place.
 */
function route(pairs: Pair[], grid: Grid, boxes: Box[], related: (a: string, b: string) => boolean): Arrow[] {
  const top = (b: Box) => boxes.find((x) => x.depth === 0 && related(x.path, b.path))!;
  const span = (p: Pair) => {
    const [c0, r0] = grid.cell.get(top(p.from))!;
    const [c1, r1] = grid.cell.get(top(p.to))!;
    return Math.abs(c0 - c1) + Math.abs(r0 - r1);
  };
  const ordered = [...pairs].sort((a, b) => span(a) - span(b));
  const usage = new Map<string, number>();
  const sideUse = new Map<string, number>();
  const useSide = (box: Box, side: Side) => sideUse.set(`${box.path}:${side}`, (sideUse.get(`${box.path}:${side}`) ?? 0) + 1);
  const arrows: Arrow[] = [];
  for (const pair of ordered) {
    const text = labelOf(pair.edges);
    const port = (box: Box, side: Side, sortKey: number): Port => ({ box, side, pos: 0, sortKey });
    const a = top(pair.from);
    const b = top(pair.to);
    if (pair.from === pair.to) {
      // A loop on the least used of top and bottom (top for the first row).
      const [, row] = grid.cell.get(a)!;
      const side: Side = pair.from.depth > 0 || row === 0 || (sideUse.get(`${a.path}:top`) ?? 0) <= (sideUse.get(`${a.path}:bottom`) ?? 0) ? 'top' : 'bottom';
      const key = centre(pair.from).x + pair.from.w / 4;
      arrows.push({ pair, kind: 'loop', start: port(pair.from, side, key - 1), end: port(pair.from, side, key + 1), runs: [], points: [], text });
      useSide(pair.from, side);
      continue;
    }
    const ca = centre(pair.from);
    const cb = centre(pair.to);
    const [c0, r0] = a === b ? [0, 0] : grid.cell.get(a)!;
    const [c1, r1] = a === b ? [0, 0] : grid.cell.get(b)!;
    // Substates of one parent and grid neighbours are joined by a straight line.
    if (a === b || (r0 === r1 && Math.abs(c0 - c1) === 1)) {
      const right = cb.x > ca.x;
      const shift = pair.twoWay ? (right ? -6 : 6) : 0;
      arrows.push({ pair, kind: 'direct', start: port(pair.from, right ? 'right' : 'left', ca.y + shift), end: port(pair.to, right ? 'left' : 'right', ca.y + shift), runs: [], points: [], text });
      useSide(pair.from, right ? 'right' : 'left');
      useSide(pair.to, right ? 'left' : 'right');
      continue;
    }
    if (c0 === c1 && Math.abs(r0 - r1) === 1) {
      const down = cb.y > ca.y;
      const shift = pair.twoWay ? (down ? 12 : -12) : 0;
      arrows.push({ pair, kind: 'direct', start: port(a, down ? 'bottom' : 'top', ca.x + shift), end: port(b, down ? 'top' : 'bottom', ca.x + shift), runs: [], points: [], text });
      useSide(a, down ? 'bottom' : 'top');
      useSide(b, down ? 'top' : 'bottom');
      continue;
    }
    const found = corridorRoute(grid, a, b, usage, sideUse);
    useSide(a, found.startSide);
    useSide(b, found.endSide);
    const firstRun = found.runs[0];
    const lastRun = found.runs[found.runs.length - 1];
    arrows.push({ pair, kind: 'corridor', start: port(a, found.startSide, firstRun.to), end: port(b, found.endSide, lastRun.from), runs: found.runs, points: [], text });
  }
  assignTracks(arrows);
  // Ports sort by where the arrow turns next: its first run's track, or the far end of a direct line.
  for (const a of arrows) {
    if (a.kind !== 'corridor') continue;
    a.start.sortKey = a.runs[0].to + a.runs[0].offset * 0.01;
    a.end.sortKey = a.runs[a.runs.length - 1].from;
  }
  spreadPorts(arrows);
  for (const a of arrows) a.points = arrowPoints(a);
  placeLabels(arrows, boxes, grid.bounds, related);
  return arrows;
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
    const to = s.to.length === 1 ? `to ${s.to[0]}` : s.to.length === top.length ? 'to any state it names' : `to the state it names (${describe(s.to, top)})`;
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
  ...Object.entries(PALETTE).map(([family, { stroke, fill }]) => `.sl-fam-${family}>.sl-chip{fill:${fill};stroke:${stroke};stroke-width:1.5}`),
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
 * An SVG state diagram of a strategy machine: the 15 states laid out in lifecycle order, each a
 * `<g class="sl-state sl-fam-<family>" data-state="NAME">` (substates nested inside their parent,
 * `data-state="PARENT.CHILD"`), one arrow per (from, to) pair labelled with its events and
 * `[guards]`, coloured by the family of its target, and the summarised events as notes. The state
 * named by `highlight` (a top-level state or a substate path) gets the class `current`; a page
 * that inlines the SVG can move that class itself. Text from the machine is XML-escaped.
 *
 * @example
 * ```ts
 * writeFileSync('strangle.svg', diagramSvg(createStrategyMachine(strangle), 'MANAGING'));
 * ```
 */
export function diagramSvg(machine: StrategyMachine | AnyStateMachine, highlight?: string): string {
  const def = definitionOf(machine);
  const topNodes = Object.values(machine.root.states) as AnyStateNode[];
  const top = topNodes.map((n) => sizeBox(n, 0));
  // Cells: the lifecycle grid, then an extra row for states it does not know.
  const extraRow = Math.max(...Object.values(GRID).map(([, r]) => r)) + 1;
  let extraCol = 0;
  const cell = new Map(top.map((b) => [b.path, GRID[b.path] ?? ([extraCol++, extraRow] as const)]));
  const cols = Math.max(...[...cell.values()].map(([c]) => c)) + 1;
  const rows = Math.max(...[...cell.values()].map(([, r]) => r)) + 1;
  const colW = Array.from({ length: cols }, (_, c) => Math.max(150, ...top.filter((b) => cell.get(b.path)![0] === c).map((b) => b.w)));
  const rowH = Array.from({ length: rows }, (_, r) => Math.max(0, ...top.filter((b) => cell.get(b.path)![1] === r).map((b) => b.h)));
  const colX = colW.map((_, c) => colW.slice(0, c).reduce((s, w) => s + w + COL_GAP, 0));
  const rowY = rowH.map((_, r) => rowH.slice(0, r).reduce((s, h) => s + (h > 0 ? h + ROW_GAP : 0), 0));
  for (const b of top) {
    const [c, r] = cell.get(b.path)!;
    b.x = colX[c] + (colW[c] - b.w) / 2;
    b.y = rowY[r] + (rowH[r] - b.h) / 2;
    placeChildren(b);
  }
  const all: Box[] = [];
  const walk = (b: Box) => {
    all.push(b);
    b.children.forEach(walk);
  };
  top.forEach(walk);
  const byPath = new Map(all.map((b) => [b.path, b]));
  const related = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
  const grid: Rect = { x: 0, y: 0, w: colX[cols - 1] + colW[cols - 1], h: rowY[rows - 1] + rowH[rows - 1] };

  // One arrow per ordered pair; the edges of a pair (different guards) share its label.
  const pairs = new Map<string, Pair>();
  const edges = diagramEdges(machine);
  for (const e of edges) {
    const from = byPath.get(e.from);
    const to = byPath.get(e.to);
    if (!from || !to) continue;
    const key = `${e.from}\u0000${e.to}`;
    const pair = pairs.get(key) ?? { from, to, edges: [], twoWay: false };
    pair.edges.push(e);
    pairs.set(key, pair);
  }
  for (const p of pairs.values()) p.twoWay = p.from !== p.to && pairs.has(`${p.to.path}\u0000${p.from.path}`);
  // Corridor lines: between and around the rows and columns; their stops are the crossings and the box sides.
  const gapX = [-OUTER, ...colX.slice(1).map((x, c) => (colX[c] + colW[c] + x) / 2), grid.w + OUTER];
  const gapY = [-OUTER, ...rowY.slice(1).map((y, r) => (rowY[r] + rowH[r] + y) / 2), grid.h + OUTER];
  const cellOf = new Map(top.map((b) => [b, cell.get(b.path)!] as const));
  const uniq = (xs: number[]) => [...xs].sort((a, b) => a - b).filter((x, i, all) => i === 0 || x - all[i - 1] > 0.01);
  const lines: Line[] = [
    ...gapY.map((y, j) => ({ key: `h${j}`, axis: 'h' as const, at: y, outer: j === 0 || j === rows, stops: uniq([...gapX, ...top.filter((b) => [j - 1, j].includes(cellOf.get(b)![1])).map((b) => centre(b).x)]) })),
    ...gapX.map((x, i) => ({ key: `v${i}`, axis: 'v' as const, at: x, outer: i === 0 || i === cols, stops: uniq([...gapY, ...top.filter((b) => [i - 1, i].includes(cellOf.get(b)![0])).map((b) => centre(b).y)]) })),
  ];
  const bounds = { x: -OUTER - 30, y: -OUTER - 30, w: grid.w + 2 * OUTER + 60, h: grid.h + 2 * OUTER + 60 };
  const arrows = route([...pairs.values()], { cell: cellOf, gapX, gapY, lines, bounds }, all, related);

  // The canvas: everything drawn, plus the header above and the notes below.
  const initial = byPath.get((machine.root.initial?.target?.[0] as AnyStateNode | undefined)?.path.join('.') ?? '');
  const content = [grid, ...arrows.map((a) => a.label!), ...arrows.flatMap((a) => a.points.map((p) => ({ x: p.x, y: p.y, w: 0, h: 0 }))), ...(initial ? [{ x: initial.x - 34, y: initial.y, w: 1, h: 1 }] : [])];
  const minX = Math.min(...content.map((r) => r.x));
  const minY = Math.min(...content.map((r) => r.y));
  const maxX = Math.max(...content.map((r) => r.x + r.w));
  const maxY = Math.max(...content.map((r) => r.y + r.h));
  const dx = MARGIN - minX;
  const dy = HEADER + MARGIN - minY;
  const title = def ? `${def.id} · ${def.name}` : machine.id;
  const legend = Object.keys(PALETTE) as StateFamily[];
  const legendW = legend.reduce((s, f) => s + 22 + f.length * 6.6 + 16, 0);
  const width = Math.max(maxX - minX + 2 * MARGIN, title.length * 9 + legendW + 3 * MARGIN);

  const topPaths = top.map((b) => b.path);
  const summaries = diagramSummaries(machine);
  const leaves = new Set([...edges.map((e) => e.from.split('.')[0]), ...summaries.flatMap((s) => s.from.map((f) => f.split('.')[0]))]);
  const terminal = topNodes.filter((n) => !leaves.has(n.key) && n.type !== 'final').map((n) => n.key);
  const notes = noteLines(summaries, topPaths, terminal);
  const noteW = (width - 2 * MARGIN - 16 * (Math.max(1, notes.length) - 1)) / Math.max(1, notes.length);
  const noteText = notes.map((n) => wrapText(n.text, Math.floor((noteW - 20) / 6.2)));
  const noteH = 30 + Math.max(0, ...noteText.map((l) => l.length)) * 15;
  const notesY = maxY + dy + 56;
  const height = notes.length > 0 ? notesY + noteH + MARGIN / 2 : maxY + dy + MARGIN;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="sl-diagram" viewBox="0 0 ${r1(width)} ${r1(height)}" width="${r1(width)}" height="${r1(height)}" role="img" aria-labelledby="sl-title">`);
  out.push(`<title id="sl-title">${escapeXml(`${title}: lifecycle state diagram`)}</title>`);
  out.push(`<style>${STYLE}</style>`);
  out.push('<defs>');
  for (const family of legend) out.push(`<marker id="sl-arrow-${family}" class="sl-arrow-${family}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker>`);
  out.push('</defs>');
  out.push(`<rect class="sl-bg" x="0" y="0" width="${r1(width)}" height="${r1(height)}"/>`);
  out.push(`<text class="sl-title" x="${MARGIN}" y="${MARGIN - 8}">${escapeXml(title)}</text>`);
  out.push(`<text class="sl-subtitle" x="${MARGIN}" y="${MARGIN + 12}">Arrows read EVENTS [guard], coloured by the family of their target state; [else] is the fallback of a guarded event.</text>`);
  let lx = width - MARGIN - legendW;
  out.push('<g class="sl-legend">');
  for (const family of legend) {
    out.push(`<g class="sl-fam-${family}"><rect class="sl-chip" x="${r1(lx)}" y="${MARGIN - 20}" width="16" height="12" rx="3"/><text x="${r1(lx + 22)}" y="${MARGIN - 10}">${family}</text></g>`);
    lx += 22 + family.length * 6.6 + 16;
  }
  out.push('</g>');
  out.push(`<g class="sl-graph" transform="translate(${r1(dx)},${r1(dy)})">`);
  if (initial) {
    const y = initial.y + initial.h / 2;
    out.push(`<g class="sl-edge sl-fam-${familyOf(initial.path)}"><circle class="sl-start" cx="${r1(initial.x - 30)}" cy="${r1(y)}" r="6"/><path d="M${r1(initial.x - 24)},${r1(y)} L${r1(initial.x - 3)},${r1(y)}" marker-end="url(#sl-arrow-${familyOf(initial.path)})"/></g>`);
  }
  out.push('<g class="sl-states">');
  for (const b of top) out.push(drawBox(b, byPath, highlight));
  out.push('</g>');
  // Arrows after the boxes (they end at the borders); labels last, above every arrow.
  out.push('<g class="sl-edges">');
  for (const a of arrows) {
    const family = familyOf(a.pair.to.path);
    const timed = a.pair.edges.every((e) => e.events.every((ev) => ev.startsWith('after ')));
    out.push(`<g class="sl-edge sl-fam-${family}${timed ? ' sl-timed' : ''}" data-from="${escapeXml(a.pair.from.path)}" data-to="${escapeXml(a.pair.to.path)}"><path d="${roundedPath(a.points)}" marker-end="url(#sl-arrow-${family})"/></g>`);
  }
  out.push('</g><g class="sl-edge-labels">');
  for (const a of arrows) out.push(drawLabel(a));
  out.push('</g></g>');
  if (notes.length > 0) {
    out.push(`<g class="sl-notes"><text class="sl-subtitle" x="${MARGIN}" y="${r1(notesY - 10)}">Drawn as notes, not arrows:</text>`);
    notes.forEach((n, i) => {
      const x = MARGIN + i * (noteW + 16);
      const lines = noteText[i].map((l, j) => `<text x="${r1(x + 10)}" y="${r1(notesY + 38 + j * 15)}">${escapeXml(l)}</text>`).join('');
      out.push(`<g class="sl-note"><rect x="${r1(x)}" y="${r1(notesY)}" width="${r1(noteW)}" height="${r1(noteH)}" rx="4"/><text class="sl-note-head" x="${r1(x + 10)}" y="${r1(notesY + 19)}">${escapeXml(n.head)}</text>${lines}</g>`);
    });
    out.push('</g>');
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** A state's group: its box and name, its initial-substate marker, its substates inside it. */
function drawBox(b: Box, byPath: Map<string, Box>, highlight: string | undefined): string {
  const family = familyOf(b.path);
  const cls = ['sl-state', `sl-fam-${family}`, b.depth > 0 ? 'sl-sub' : '', b.children.length > 0 ? 'sl-compound' : '', highlight === b.path ? 'current' : ''].filter(Boolean).join(' ');
  const parts = [`<g class="${cls}" data-state="${escapeXml(b.path)}">`];
  parts.push(`<rect class="sl-ring" x="${r1(b.x - 5)}" y="${r1(b.y - 5)}" width="${r1(b.w + 10)}" height="${r1(b.h + 10)}" rx="11"/>`);
  parts.push(`<rect class="sl-box" x="${r1(b.x)}" y="${r1(b.y)}" width="${r1(b.w)}" height="${r1(b.h)}" rx="${b.depth > 0 ? 6 : 8}"/>`);
  const ty = b.children.length > 0 ? b.y + 20 : b.y + b.h / 2 + 4.5;
  parts.push(`<text class="sl-name" x="${r1(b.x + b.w / 2)}" y="${r1(ty)}" text-anchor="middle">${escapeXml(b.key)}</text>`);
  const child = b.initial ? byPath.get(b.initial) : undefined;
  if (child) {
    const y = child.y + child.h / 2;
    parts.push(`<g class="sl-edge sl-fam-${family}"><circle class="sl-start" cx="${r1(child.x - 20)}" cy="${r1(y)}" r="4.5"/><path d="M${r1(child.x - 15)},${r1(y)} L${r1(child.x - 3)},${r1(y)}" marker-end="url(#sl-arrow-${family})"/></g>`);
  }
  for (const c of b.children) parts.push(drawBox(c, byPath, highlight));
  parts.push('</g>');
  return parts.join('');
}

/** An arrow's label: a pill with one `<text>` per line, guards in their own style. */
function drawLabel(a: Arrow): string {
  const { text } = a;
  const label = a.label!;
  const family = familyOf(a.pair.to.path);
  const lines = text.lines.map((line, i) => {
    const spans = line.map((w, j) => `${j > 0 ? ' ' : ''}${w.guard ? `<tspan class="sl-guard">${escapeXml(w.text)}</tspan>` : escapeXml(w.text)}`).join('');
    return `<text x="${r1(label.x + label.w / 2)}" y="${r1(label.y + LINE_H * (i + 1))}" text-anchor="middle" xml:space="preserve">${spans}</text>`;
  });
  return `<g class="sl-edge-label sl-fam-${family}" data-from="${escapeXml(a.pair.from.path)}" data-to="${escapeXml(a.pair.to.path)}"><rect x="${r1(label.x)}" y="${r1(label.y)}" width="${r1(label.w)}" height="${r1(label.h)}" rx="4"/>${lines.join('')}</g>`;
}
