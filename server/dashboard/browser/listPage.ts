/**
 * The list page: the summary bar, the charts (time in state per strategy, counts per state over
 * time) and the table of every strategy, updated in place from the live stream.
 */
import { STRATEGY_STATES, type StrategyState } from '../../../machines/states.js';
import { drawCounts, drawTimeInState, timeInState } from './charts.js';
import { navigate } from './router.js';
import { countHistory, list, model } from './state.js';
import type { Entry } from './types.js';
import { $, badge, duration, el, familyOf, positionText, shortStamp, stamp, strategyHref } from './util.js';

const COLUMNS = [
  { key: 'id', label: 'Strategy', cls: 'c-id' },
  { key: 'variant', label: 'Variant', cls: 'c-variant' },
  { key: 'state', label: 'State', cls: 'c-state' },
  { key: 'time', label: 'In state', cls: 'c-time num' },
  { key: 'position', label: 'Position', cls: 'c-pos' },
  { key: 'errors', label: 'Errors', cls: 'c-err num' },
  { key: 'next', label: 'Next (ET)', cls: 'c-next' },
  { key: 'instance', label: 'Instance', cls: 'c-inst' },
  { key: 'reason', label: 'Error reason', cls: 'c-reason' },
];

/** What the time-in-state chart has credited to each strategy's earlier states. */
const closedTimes = new Map<string, { state: string; enteredAt: string; totals: Partial<Record<string, number>> }>();

/** Builds the list page. */
export function renderListPage(main: HTMLElement): void {
  main.replaceChildren(
    el(
      'div',
      { class: 'list-page' },
      el('section', { class: 'summary', id: 'summary', 'aria-label': 'Summary' }),
      el(
        'div',
        { class: 'charts' },
        el(
          'section',
          { class: 'card chart-card', 'aria-labelledby': 'time-h' },
          el('h2', { id: 'time-h', text: 'Time in state (as this page saw it)' }),
          el('div', { class: 'chart-box' }, el('canvas', { id: 'chart-time', role: 'img' })),
        ),
        el(
          'section',
          { class: 'card chart-card', 'aria-labelledby': 'counts-h' },
          el('h2', { id: 'counts-h', text: 'Strategies per state over time' }),
          el('div', { class: 'chart-box' }, el('canvas', { id: 'chart-counts', role: 'img' })),
        ),
      ),
      el(
        'div',
        { class: 'table-tools' },
        el('h1', { class: 'h1', text: 'Strategies' }),
        el(
          'label',
          { class: 'field filter' },
          el('span', { class: 'sr-only', text: 'Filter strategies' }),
          el('input', {
            id: 'filter',
            type: 'search',
            placeholder: 'Filter by id, variant or state',
            value: list.filter,
            oninput: (e: Event) => {
              list.filter = (e.target as HTMLInputElement).value;
              updateListPage();
            },
          }),
        ),
      ),
      el(
        'div',
        { class: 'table-wrap' },
        el(
          'table',
          { class: 'grid', id: 'strategies' },
          el(
            'colgroup',
            null,
            COLUMNS.map((c) => el('col', { class: c.cls })),
          ),
          el(
            'thead',
            null,
            el(
              'tr',
              null,
              COLUMNS.map((c) =>
                el(
                  'th',
                  { scope: 'col', class: c.cls, 'aria-sort': 'none' },
                  el(
                    'button',
                    {
                      type: 'button',
                      class: 'sort',
                      dataset: { key: c.key },
                      onclick: () => {
                        list.sort = { key: c.key, dir: list.sort.key === c.key ? -list.sort.dir : 1 };
                        updateListPage();
                      },
                    },
                    c.label,
                    el('span', { class: 'sort-mark', 'aria-hidden': 'true' }),
                  ),
                ),
              ),
            ),
          ),
          el('tbody', { id: 'rows' }),
        ),
      ),
      el('p', { class: 'empty', id: 'empty', hidden: true, text: 'No strategies yet. Create one with POST /strategies.' }),
    ),
  );
  updateListPage();
}

function sortValue(entry: Entry, key: string): string | number {
  const v = entry.view;
  if (key === 'state') return STRATEGY_STATES.indexOf(v.state);
  if (key === 'time') return v.timeInStateMs + (Date.now() - entry.at);
  if (key === 'position') return v.position ? v.position.quantity : -1;
  if (key === 'errors') return v.errorCount;
  if (key === 'reason') return v.lastError ? v.lastError.reason : '';
  if (key === 'next') return v.schedule[0] ? v.schedule[0].at : '~';
  // The remaining columns are plain fields of the view, read by column name.
  return String((v as unknown as Record<string, unknown>)[key] ?? '');
}

function visibleEntries(): Entry[] {
  const needle = list.filter.trim().toLowerCase();
  const entries = [...model.strategies.values()].filter(
    (e) => !needle || `${e.view.id} ${e.view.variant} ${e.view.state}`.toLowerCase().includes(needle),
  );
  const { key, dir } = list.sort;
  return entries.sort((a, b) => {
    const x = sortValue(a, key);
    const y = sortValue(b, key);
    return (x < y ? -1 : x > y ? 1 : a.view.id < b.view.id ? -1 : 1) * dir;
  });
}

function rowFor(entry: Entry): HTMLTableRowElement {
  const v = entry.view;
  const href = strategyHref(v.id);
  const reason = v.lastError ? v.lastError.reason : '';
  const next = v.schedule[0] ? `${v.schedule[0].label} ${shortStamp(v.schedule[0].at)}` : '';
  return el(
    'tr',
    {
      dataset: { id: v.id, state: v.state, family: familyOf(v.state) },
      onclick: (e: Event) => {
        if (!(e.target as Element).closest('a')) navigate(href);
      },
    },
    el('td', { class: 'c-id' }, el('a', { href, class: 'id-link', text: v.id })),
    el('td', { class: 'c-variant', text: v.variant }),
    el('td', { class: 'c-state' }, badge(v.state, v.value)),
    el('td', {
      class: 'c-time num',
      dataset: { since: String(entry.at), base: String(v.timeInStateMs) },
      text: duration(v.timeInStateMs + (Date.now() - entry.at)),
    }),
    el('td', { class: 'c-pos', text: positionText(v.position, v.params) }),
    el('td', { class: `c-err num${v.errorCount ? ' has-errors' : ''}`, text: String(v.errorCount) }),
    el('td', { class: 'c-next mono', title: v.schedule.map((n) => `${n.label} ${stamp(n.at)}`).join('\n'), text: next }),
    el('td', { class: 'c-inst mono', text: v.instance || '' }),
    el('td', { class: `c-reason${v.lastError ? ' is-error' : ''}`, title: reason, text: reason }),
  );
}

/** Updates the table (keyed: a row is rebuilt only when its strategy changed), the summary and the charts. */
export function updateListPage(changedId?: string): void {
  const tbody = $('rows');
  if (!tbody) return;
  const existing = new Map<string, HTMLElement>();
  for (const tr of Array.from(tbody.children) as HTMLElement[]) existing.set(tr.dataset.id ?? '', tr);
  // Rows move only when the order changed, so focus and scroll stay where the operator left them.
  const rows = visibleEntries().map((entry) => {
    const old = existing.get(entry.view.id);
    existing.delete(entry.view.id);
    if (old && old.dataset.version === String(entry.version)) return old;
    const row = rowFor(entry);
    row.dataset.version = String(entry.version);
    if (old) {
      const focused = old.contains(document.activeElement);
      old.replaceWith(row);
      if (focused) row.querySelector('a')?.focus();
      if (entry.view.id === changedId) row.classList.add('flash');
    }
    return row;
  });
  existing.forEach((tr) => tr.remove());
  rows.forEach((row, i) => {
    if (tbody.children[i] !== row) tbody.insertBefore(row, tbody.children[i] ?? null);
  });
  $('empty').hidden = model.strategies.size > 0;
  // The instance column only means something when several instances share one database.
  $('strategies').classList.toggle('single-instance', !model.instance);
  document.querySelectorAll('#strategies th').forEach((th, i) => {
    const key = COLUMNS[i].key;
    th.setAttribute('aria-sort', list.sort.key === key ? (list.sort.dir > 0 ? 'ascending' : 'descending') : 'none');
    (th.querySelector('.sort-mark') as HTMLElement).textContent = list.sort.key === key ? (list.sort.dir > 0 ? '▲' : '▼') : '';
  });
  renderSummary();
}

function renderSummary(): void {
  const box = $('summary');
  if (!box) return;
  if (!box.firstChild) {
    const tile = (key: string, label: string) =>
      el(
        'div',
        { class: 'tile', id: `tile-${key}` },
        el('span', { class: 'tile-value', text: '0' }),
        el('span', { class: 'tile-label', text: label }),
      );
    box.append(
      el(
        'div',
        { class: 'tiles' },
        tile('total', 'strategies'),
        tile('managing', 'managing'),
        tile('positions', 'open positions'),
        tile('error', 'in error'),
        tile('suspended', 'suspended'),
      ),
      el(
        'div',
        { class: 'state-counts', role: 'group', 'aria-label': 'Strategies per state (click to filter)' },
        STRATEGY_STATES.map((s) =>
          el(
            'button',
            {
              type: 'button',
              class: `count fam-${familyOf(s)}`,
              dataset: { state: s },
              title: `Show only ${s}`,
              'aria-pressed': 'false',
              onclick: () => {
                list.filter = list.filter === s ? '' : s;
                $<HTMLInputElement>('filter').value = list.filter;
                updateListPage();
              },
            },
            el('span', { class: 'count-n', text: '0' }),
            el('span', { class: 'count-s', text: s }),
          ),
        ),
      ),
    );
  }
  const counts: Partial<Record<StrategyState, number>> = {};
  let positions = 0;
  model.strategies.forEach((e) => {
    counts[e.view.state] = (counts[e.view.state] ?? 0) + 1;
    if (e.view.position) positions++;
  });
  const set = (key: string, value: number, cls?: string) => {
    const t = $(`tile-${key}`);
    (t.querySelector('.tile-value') as HTMLElement).textContent = String(value);
    t.className = `tile${value && cls ? ` ${cls}` : ''}`;
  };
  set('total', model.strategies.size);
  set('managing', (counts.MANAGING ?? 0) + (counts.ADJUSTING ?? 0), 'fam-position');
  set('positions', positions);
  set('error', counts.ERROR ?? 0, 'fam-error alert');
  set('suspended', counts.SUSPENDED ?? 0, 'fam-suspended');
  box.querySelectorAll<HTMLElement>('.count').forEach((b) => {
    const n = counts[b.dataset.state as StrategyState] ?? 0;
    (b.querySelector('.count-n') as HTMLElement).textContent = String(n);
    b.classList.toggle('zero', n === 0);
    b.setAttribute('aria-pressed', String(list.filter === b.dataset.state));
  });
  recordCounts(counts);
  drawListCharts();
}

// A sample only when the counts changed: the line steps where something moved.
function recordCounts(counts: Partial<Record<StrategyState, number>>): void {
  const last = countHistory[countHistory.length - 1];
  if (model.strategies.size === 0 && !last) return;
  if (last && JSON.stringify(last.counts) === JSON.stringify(counts)) return;
  countHistory.push({ at: Date.now(), counts });
  if (countHistory.length > 500) countHistory.splice(0, countHistory.length - 500);
}

/** Redraws both charts of the list page (also every few seconds, so time in state grows). */
export function drawListCharts(): void {
  const time = document.getElementById('chart-time') as HTMLCanvasElement | null;
  const counts = document.getElementById('chart-counts') as HTMLCanvasElement | null;
  if (!time || !counts) return;
  const now = Date.now();
  drawTimeInState(time, timeInState(model.strategies.values(), closedTimes, now));
  // The counts line runs on to now, at the latest counts.
  const last = countHistory[countHistory.length - 1];
  drawCounts(counts, last && last.at < now ? [...countHistory, { at: now, counts: last.counts }] : countHistory);
}
