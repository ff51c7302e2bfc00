/**
 * What the page knows: every strategy it has seen, the page it shows, and the table's sort and
 * filter. One object per page load (the script runs once per document); every module reads and
 * writes it here instead of keeping its own copy.
 */
import type { StrategyState } from '../../../machines/states.js';
import type { AuditRecord, Entry, MarketView, Statistics, StrategyView } from './types.js';

/** The strategies and the system-wide facts, as the API and the live stream gave them. */
export const model = {
  strategies: new Map<string, Entry>(),
  tradingState: '',
  market: null as MarketView | null,
  instance: null as string | null,
  marketRefresh: undefined as ReturnType<typeof setTimeout> | undefined,
  versions: 0,
};

/** The strategy page on show (`id` null: the list page). */
export const page = {
  id: null as string | null,
  seq: 0,
  diagramVariant: null as string | null,
  audit: [] as AuditRecord[],
  total: 0,
  stats: null as Statistics | null,
  missing: false,
  refresh: undefined as ReturnType<typeof setTimeout> | undefined,
};

/** The list page's sort column and direction, and its filter text. */
export const list = { sort: { key: 'id', dir: 1 }, filter: '' };

/** Diagrams already fetched, by variant (they never change while the service runs). */
export const diagrams = new Map<string, string>();

/** Counts per state each time they changed, as this page saw them (the main page's chart). */
export const countHistory: Array<{ at: number; counts: Partial<Record<StrategyState, number>> }> = [];

/** Wraps a view as the page holds it; a new version makes its table row rebuild. */
export function entryOf(view: StrategyView): Entry {
  return { view, at: Date.now(), version: ++model.versions };
}
