/**
 * DOM helpers and formatting. Every node is built with `textContent`, so strings from the API
 * (strategy ids, reasons) are never parsed as markup.
 */
import { STATE_FAMILIES, type StateFamily } from '../../stateFamilies.js';

/** Where a strategy's page lives (the API keeps `/strategies/<id>`). */
export const PAGE_PREFIX = '/ui/strategies/';

type Child = Node | string | number | null | undefined | false | Child[];
type Props = Record<string, unknown> | null;

/** An element with attributes, `class`, `text`, `dataset`, `on<event>` handlers and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = String(value);
    else if (key === 'text') node.textContent = String(value);
    else if (key === 'dataset') for (const [d, v] of Object.entries(value as Record<string, unknown>)) node.dataset[d] = String(v);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value as EventListener);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node: Element, child: Child): void {
  if (child === undefined || child === null || child === false) return;
  if (Array.isArray(child)) child.forEach((c) => append(node, c));
  else node.append(child instanceof Node ? child : String(child));
}

/** The element with this id; the page's skeleton and renderers guarantee the ones asked for. */
// The caller names the element type the skeleton gives this id (the one cast, in one place).
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

/** The colour family of a state (unknown states are idle). */
export function familyOf(state: string): StateFamily {
  return (STATE_FAMILIES as Record<string, StateFamily>)[state] ?? 'idle';
}

const pad = (n: number) => (n < 10 ? `0${n}` : String(n));

/** `12s`, `4m 05s`, `3h 07m`, `2d 5h`. */
export function duration(ms: number): string {
  if (!(ms >= 0)) return '';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${pad(m % 60)}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

// Every time the API sends is New York time with its offset; shown as such, labelled ET.
/** `2026-11-23 10:00:00 ET` from the API's New York ISO time. */
export function stamp(iso: unknown): string {
  return typeof iso === 'string' && iso.length >= 19 ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} ET` : String(iso ?? '');
}

/** `Mon 2026-11-23 10:00 ET`. */
export function shortStamp(iso: unknown): string {
  if (typeof iso !== 'string' || iso.length < 16) return String(iso ?? '');
  const day = new Date(`${iso.slice(0, 10)}T12:00:00Z`).getUTCDay();
  return `${['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][day]} ${iso.slice(0, 10)} ${iso.slice(11, 16)} ET`;
}

const ET_CLOCK = new Intl.DateTimeFormat('en-GB', { timeZone: 'America/New_York', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const ET_CLOCK_SECONDS = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'America/New_York',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});
/** `10:00 ET` (or `10:00:05 ET` with seconds) for an epoch ms: chart axes and tooltips. */
export function etClock(ms: number, seconds = false): string {
  return `${(seconds ? ET_CLOCK_SECONDS : ET_CLOCK).format(ms)} ET`;
}

/** A strategy's page. */
export function strategyHref(id: string): string {
  return PAGE_PREFIX + encodeURIComponent(id);
}

/** The path of an XState state value: `{ ADJUSTING: 'ROLLING' }` is `['ADJUSTING', 'ROLLING']`. */
export function subState(value: unknown): string[] {
  const path: string[] = [];
  while (value && typeof value === 'object') {
    const key = Object.keys(value)[0];
    if (key === undefined) break;
    path.push(key);
    value = (value as Record<string, unknown>)[key];
  }
  if (typeof value === 'string') path.push(value);
  return path;
}

/** `1 × SPX exp 2027-01-15`, or '' when flat. */
export function positionText(
  p: { quantity: number; expiry?: string; underlying?: string } | null,
  params?: Record<string, unknown>,
): string {
  if (!p) return '';
  const underlying = p.underlying || (params && typeof params.underlying === 'string' ? params.underlying : '');
  return [`${p.quantity} ×`, underlying, p.expiry ? `exp ${p.expiry}` : ''].filter(Boolean).join(' ');
}

/** A state's badge, with its substate path after a dot. */
export function badge(state: string, value?: unknown): HTMLElement {
  const path = subState(value);
  return el(
    'span',
    { class: `badge fam-${familyOf(state)}`, dataset: { state } },
    el('span', { class: 'badge-dot', 'aria-hidden': 'true' }),
    state,
    path.length > 1 ? el('span', { class: 'badge-sub', text: `· ${path.slice(1).join('.')}` }) : null,
  );
}
