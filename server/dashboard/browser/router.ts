/**
 * The router: a strategy's page is /ui/strategies/<id> (the server answers 404 for an id it does
 * not hold); moving between pages stays in this document (history API), so the live stream is kept.
 */
import { renderListPage, updateListPage } from './listPage.js';
import { page } from './state.js';
import { loadStrategy, onPageRecord, renderNotFound, renderStrategyPage, updateStrategyPage } from './strategyPage.js';
import type { AuditRecord } from './types.js';
import { $, PAGE_PREFIX } from './util.js';

/** Shows the page the address names. */
export function route(): void {
  const legacy = /^#\/strategies\/(.+)$/.exec(location.hash);
  if (legacy) history.replaceState(null, '', PAGE_PREFIX + legacy[1]);
  const path = location.pathname;
  const id = path.startsWith(PAGE_PREFIX) && path.length > PAGE_PREFIX.length ? decodeURIComponent(path.slice(PAGE_PREFIX.length)) : null;
  if (id !== page.id) Object.assign(page, { id, seq: 0, audit: [], diagramVariant: null, missing: false });
  document.title = `${id ?? 'Strategies'} · strategy-lifecycle`;
  render();
  if (id) void loadStrategy(id);
}

/** Goes to a page of the dashboard without leaving the document. */
export function navigate(href: string): void {
  if (href === location.pathname) return;
  history.pushState(null, '', href);
  route();
  // A new page: start at its top, with focus on it (keyboard and screen-reader users land there).
  window.scrollTo(0, 0);
  $('main').focus({ preventScroll: true });
}

/** Follows links to the dashboard's own pages in place. */
export function wireLinks(): void {
  document.addEventListener('click', (e) => {
    const a = (e.target as Element | null)?.closest?.<HTMLAnchorElement>('a[href]');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || a.target) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || (url.pathname !== '/' && !url.pathname.startsWith(PAGE_PREFIX))) return;
    e.preventDefault();
    navigate(url.pathname);
  });
  window.addEventListener('popstate', () => route());
}

/** Builds the page on show, or updates it in place when it is already there. */
export function render(): void {
  const main = $('main');
  if (page.id && page.missing) {
    if (!main.querySelector('.not-found')) renderNotFound(main, page.id);
    return;
  }
  if (page.id) {
    const shown = main.querySelector<HTMLElement>('.strategy-page[data-id]');
    if (!shown || (main.firstChild as HTMLElement).dataset.id !== page.id) renderStrategyPage(main);
    else updateStrategyPage();
  } else if (!main.querySelector('.list-page')) renderListPage(main);
  else updateListPage();
}

/** A strategy changed (a transition, added or removed): update what shows it. */
export function onStrategyChange(id: string, record: AuditRecord | null): void {
  if (!page.id) {
    updateListPage(id);
    return;
  }
  if (id !== page.id) return;
  onPageRecord(record);
  updateStrategyPage();
  // The statistics are not on the stream: read them again once a burst of updates is over.
  clearTimeout(page.refresh);
  page.refresh = setTimeout(() => {
    if (page.id === id) void loadStrategy(id);
  }, 400);
}
