/**
 * The dashboard's charts (chart.js, bundled into the script: nothing comes from a CDN). Each
 * chart's data is computed by a pure function from what the page holds, and the same data gives
 * the canvas its accessible text (`aria-label`), since a canvas says nothing to a screen reader.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  LinearScale,
  Legend,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import { STRATEGY_STATES, type StrategyState } from '../../../machines/states.js';
import type { StateFamily } from '../../stateFamilies.js';
import type { AuditRecord, Entry } from './types.js';
import { duration, etClock, familyOf } from './util.js';

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
);
Chart.defaults.color = '#8594a6';
Chart.defaults.borderColor = '#1f2a37';
Chart.defaults.font.size = 11;

/** The family colours of the dark theme (as in style.css): a canvas cannot read CSS variables per bar. */
const FAMILY_COLOURS: Record<StateFamily, string> = {
  idle: '#22d3ee',
  entry: '#60a5fa',
  position: '#34d399',
  exit: '#fb923c',
  closed: '#9ca3af',
  error: '#f87171',
  suspended: '#a78bfa',
};
/** A state's colour: its family's, fainter for each earlier state of the same family, so neighbours in a stack differ. */
function colourOf(state: string): string {
  const family = familyOf(state);
  const rank = STRATEGY_STATES.filter((s) => familyOf(s) === family).indexOf(state as StrategyState);
  return rank <= 0 ? FAMILY_COLOURS[family] : `${FAMILY_COLOURS[family]}${['', '99', '66'][Math.min(rank, 2)]}`;
}

/** Ticks of a time axis in ET, with seconds when the axis spans less than half an hour. */
function timeTicks(this: { max: number; min: number }, value: number | string): string {
  return etClock(Number(value), this.max - this.min < 30 * 60_000);
}
const REJECTED = '#ef4444';

/** One strip of the timeline: a state held from `start` to `end` (epoch ms). */
export interface Strip {
  state: StrategyState;
  start: number;
  end: number;
}

/**
 * A strategy's states over the day of its newest record: a strip per state change (entering the
 * same state again starts a new strip) and the rejected triggers as marks in the state that
 * refused them. `records` is the trail newest first, as the page holds it; `now` ends the last strip.
 */
export function timelineOf(records: readonly AuditRecord[], now: number): { strips: Strip[]; rejected: AuditRecord[] } {
  if (records.length === 0) return { strips: [], rejected: [] };
  const newest = records[0].timestamp;
  // Midnight in New York on the newest record's day, in its own offset.
  const dayStart = Date.parse(`${newest.slice(0, 10)}T00:00:00${newest.slice(23)}`) || 0;
  const chronological = [...records].reverse();
  const strips: Strip[] = [{ state: chronological[0].previousState, start: chronological[0].at, end: now }];
  for (const r of chronological) {
    if (!r.accepted || (r.previousState === r.currentState && !r.reentered)) continue;
    strips[strips.length - 1].end = r.at;
    strips.push({ state: r.currentState, start: r.at, end: now });
  }
  const today = strips.filter((s) => s.end >= dayStart).map((s) => ({ ...s, start: Math.max(s.start, dayStart) }));
  return { strips: today, rejected: chronological.filter((r) => !r.accepted && r.at >= dayStart) };
}

/** What a timeline says, for its `aria-label`. */
export function describeTimeline(t: ReturnType<typeof timelineOf>): string {
  const n = t.rejected.length;
  return `State timeline of the day: ${t.strips.map((s) => s.state).join(', ') || 'no records'}; ${n} rejected trigger${n === 1 ? '' : 's'}`;
}

/** Draws (or redraws in place) a strategy's timeline on the canvas. */
export function drawTimeline(canvas: HTMLCanvasElement, records: readonly AuditRecord[], now: number): void {
  const t = timelineOf(records, now);
  const states = STRATEGY_STATES.filter(
    (s) => t.strips.some((strip) => strip.state === s) || t.rejected.some((r) => r.previousState === s),
  );
  canvas.setAttribute('aria-label', describeTimeline(t));
  canvas.dataset.strips = String(t.strips.length);
  canvas.dataset.rejected = String(t.rejected.length);
  const datasets = [
    {
      type: 'bar' as const,
      label: 'state',
      data: t.strips.map((s) => ({ x: [s.start, Math.max(s.end, s.start)], y: s.state })),
      backgroundColor: t.strips.map((s) => colourOf(s.state)),
      minBarLength: 4,
      barPercentage: 0.7,
      categoryPercentage: 1,
    },
    {
      type: 'scatter' as const,
      label: 'rejected',
      data: t.rejected.map((r) => ({ x: r.at, y: r.previousState })),
      pointStyle: 'crossRot',
      radius: 7,
      borderWidth: 2,
      borderColor: REJECTED,
      backgroundColor: REJECTED,
    },
  ];
  // The trading day (09:30 to 16:00 ET) at least, widened to what the trail holds.
  const day = records[0]?.timestamp ?? '';
  const at = (clock: string) => Date.parse(`${day.slice(0, 10)}T${clock}${day.slice(23)}`);
  const min = Math.min(at('09:30:00'), ...t.strips.map((s) => s.start)) || undefined;
  const max = Math.max(at('16:00:00'), now) || undefined;
  const chart = Chart.getChart(canvas);
  if (chart) {
    chart.data.datasets = datasets as never;
    Object.assign((chart.options.scales as { x: object }).x, { min, max });
    (chart.options.scales as { y: { labels: string[] } }).y.labels = states;
    chart.update('none');
    return;
  }
  const config = {
    type: 'bar',
    data: { datasets },
    options: {
      indexAxis: 'y',
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (item: { raw: unknown; dataset: { label?: string } }) => tooltipOf(item.raw, item.dataset.label) } },
      },
      scales: {
        x: { type: 'linear', min, max, beginAtZero: false, ticks: { callback: timeTicks, maxTicksLimit: 8 } },
        y: { type: 'category', labels: states, grid: { display: false } },
      },
    },
    // Chart.js types its config per chart type; this mixed-dataset literal is checked by the browser test, not by tsc.
  } as unknown as ChartConfiguration;
  new Chart(canvas, config);
}

function tooltipOf(raw: unknown, label: string | undefined): string {
  const point = raw as { x: number | [number, number]; y: string };
  if (Array.isArray(point.x)) return `${point.y} from ${etClock(point.x[0], true)} for ${duration(point.x[1] - point.x[0])}`;
  return `${label ?? ''} in ${point.y} at ${etClock(point.x, true)}`;
}

/**
 * Milliseconds each strategy spent in each state, as far as this page has seen: what it held
 * before (`closed`, credited whenever a strategy is seen in a new state) plus its current state
 * so far.
 */
export function timeInState(
  entries: Iterable<Entry>,
  closed: Map<string, { state: string; enteredAt: string; totals: Partial<Record<string, number>> }>,
  now: number,
): Map<string, Partial<Record<string, number>>> {
  const out = new Map<string, Partial<Record<string, number>>>();
  for (const entry of entries) {
    const v = entry.view;
    let seen = closed.get(v.id);
    if (!seen) closed.set(v.id, (seen = { state: v.state, enteredAt: v.enteredAt, totals: {} }));
    else if (seen.enteredAt !== v.enteredAt) {
      // The service's own clock on both ends: the old state lasted until the new one was entered.
      seen.totals[seen.state] = (seen.totals[seen.state] ?? 0) + Math.max(0, Date.parse(v.enteredAt) - Date.parse(seen.enteredAt));
      Object.assign(seen, { state: v.state, enteredAt: v.enteredAt });
    }
    const totals = { ...seen.totals };
    totals[v.state] = (totals[v.state] ?? 0) + v.timeInStateMs + (now - entry.at);
    out.set(v.id, totals);
  }
  for (const id of closed.keys()) if (!out.has(id)) closed.delete(id);
  return out;
}

/** Draws time in state per strategy: one stacked bar per strategy, a segment per state. */
export function drawTimeInState(canvas: HTMLCanvasElement, times: Map<string, Partial<Record<string, number>>>): void {
  const ids = [...times.keys()].sort();
  const states = STRATEGY_STATES.filter((s) => ids.some((id) => (times.get(id)?.[s] ?? 0) > 0));
  const datasets = states.map((s) => ({
    label: s,
    data: ids.map((id) => times.get(id)?.[s] ?? 0),
    backgroundColor: colourOf(s),
    borderColor: '#111821',
    borderWidth: 1,
    minBarLength: 0,
  }));
  canvas.setAttribute(
    'aria-label',
    `Time in state per strategy: ${ids.map((id) => `${id} ${states.filter((s) => (times.get(id)?.[s] ?? 0) > 0).join('+')}`).join('; ') || 'no strategies'}`,
  );
  const chart = Chart.getChart(canvas);
  if (chart) {
    chart.data.labels = ids;
    chart.data.datasets = datasets;
    chart.update('none');
    return;
  }
  const config = {
    type: 'bar',
    data: { labels: ids, datasets },
    options: {
      indexAxis: 'y',
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        tooltip: {
          callbacks: {
            label: (item: { raw: unknown; dataset: { label?: string } }) => `${item.dataset.label ?? ''} ${duration(Number(item.raw))}`,
          },
        },
      },
      scales: {
        x: { stacked: true, ticks: { callback: (value: number | string) => duration(Number(value)), maxTicksLimit: 6 } },
        y: { stacked: true, grid: { display: false } },
      },
    },
    // Chart.js types its config per chart type; this mixed-dataset literal is checked by the browser test, not by tsc.
  } as unknown as ChartConfiguration;
  new Chart(canvas, config);
}

/** Counts per state over time, a stepped line per state that has held a strategy, from the samples the page took. */
export function drawCounts(
  canvas: HTMLCanvasElement,
  history: ReadonlyArray<{ at: number; counts: Partial<Record<string, number>> }>,
): void {
  const states = STRATEGY_STATES.filter((s) => history.some((h) => (h.counts[s] ?? 0) > 0));
  const datasets = states.map((s) => ({
    label: s,
    data: history.map((h) => ({ x: h.at, y: h.counts[s] ?? 0 })),
    borderColor: colourOf(s),
    backgroundColor: colourOf(s),
    stepped: true,
    pointRadius: 2,
    borderWidth: 2,
  }));
  const latest = history[history.length - 1]?.counts ?? {};
  canvas.setAttribute(
    'aria-label',
    `Strategies per state over time; now ${
      states
        .filter((s) => latest[s])
        .map((s) => `${s} ${latest[s]}`)
        .join(', ') || 'none'
    }`,
  );
  const chart = Chart.getChart(canvas);
  if (chart) {
    chart.data.datasets = datasets;
    chart.update('none');
    return;
  }
  const config = {
    type: 'line',
    data: { datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      plugins: { legend: { position: 'right', labels: { boxWidth: 10 } } },
      scales: {
        x: { type: 'linear', ticks: { callback: timeTicks, maxTicksLimit: 6 } },
        y: { beginAtZero: true, ticks: { precision: 0 } },
      },
    },
    // Chart.js types its config per chart type; this mixed-dataset literal is checked by the browser test, not by tsc.
  } as unknown as ChartConfiguration;
  new Chart(canvas, config);
}
