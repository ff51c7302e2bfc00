/**
 * A strategy's page: facts (what is scheduled next included), statistics, the manual override
 * form, a form that sends any event of the union with a JSON payload, the timeline of its states
 * over the day, the state diagram with the current state highlighted, the audit trail newest
 * first, and the not-found view for a strategy that is gone.
 */
import { STRATEGY_EVENT_TYPES } from '../../../machines/events.js';
import { STRATEGY_STATES } from '../../../machines/states.js';
import { EVENT_TEMPLATES } from '../eventTemplates.js';
import { api, ApiError, notify, showError, token } from './api.js';
import { drawTimeline } from './charts.js';
import { render } from './router.js';
import { diagrams, entryOf, model, page } from './state.js';
import type { AuditRecord, EventAnswer, StrategyDetail, StrategyView } from './types.js';
import { $, badge, duration, el, stamp, subState, positionText } from './util.js';

const OPERATOR_KEY = 'strategy-lifecycle.operator';

/** Builds the page of `page.id`. */
export function renderStrategyPage(main: HTMLElement): void {
  const id = page.id as string;
  const targets = el(
    'select',
    { id: 'override-target', required: true },
    STRATEGY_STATES.map((s) => el('option', { value: s, text: s })),
  );
  main.replaceChildren(
    el(
      'div',
      { class: 'strategy-page', dataset: { id } },
      el('nav', { class: 'crumbs' }, el('a', { href: '/', text: '← All strategies' })),
      el(
        'div',
        { class: 'page-head' },
        el('h1', { class: 'h1 mono', id: 'strategy-title', text: id }),
        el('span', { id: 'strategy-badge' }),
        el('span', { class: 'muted', id: 'strategy-variant' }),
      ),
      el(
        'div',
        { class: 'cards' },
        el(
          'section',
          { class: 'card', 'aria-labelledby': 'facts-h' },
          el('h2', { id: 'facts-h', text: 'Now' }),
          el('dl', { class: 'facts', id: 'facts' }),
        ),
        el(
          'section',
          { class: 'card', 'aria-labelledby': 'stats-h' },
          el('h2', { id: 'stats-h', text: 'Statistics' }),
          el('dl', { class: 'facts', id: 'stats' }),
        ),
        el(
          'section',
          { class: 'card', 'aria-labelledby': 'override-h' },
          el('h2', { id: 'override-h', text: 'Manual override' }),
          el(
            'form',
            {
              id: 'override-form',
              class: 'override',
              onsubmit: (e: Event) => {
                e.preventDefault();
                sendOverride(id);
              },
            },
            el('label', { class: 'field' }, el('span', { text: 'Target state' }), targets),
            el(
              'label',
              { class: 'field' },
              el('span', { text: 'Reason' }),
              el('input', { id: 'override-reason', type: 'text', maxlength: '500', placeholder: 'why' }),
            ),
            el(
              'label',
              { class: 'field' },
              el('span', { text: 'Operator' }),
              el('input', {
                id: 'override-operator',
                type: 'text',
                maxlength: '100',
                value: sessionStorage.getItem(OPERATOR_KEY) || '',
                placeholder: 'your name',
              }),
            ),
            el('button', { type: 'submit', class: 'btn btn-warn', id: 'override-send', text: 'Send MANUAL_OVERRIDE' }),
          ),
        ),
        el(
          'section',
          { class: 'card', 'aria-labelledby': 'event-h' },
          el('h2', { id: 'event-h', text: 'Send event' }),
          el(
            'form',
            {
              id: 'event-form',
              class: 'override',
              onsubmit: (e: Event) => {
                e.preventDefault();
                sendEvent(id);
              },
            },
            el(
              'label',
              { class: 'field' },
              el('span', { text: 'Event type' }),
              el(
                'select',
                {
                  id: 'event-type',
                  onchange: () => {
                    $<HTMLTextAreaElement>('event-payload').value = templateOf($<HTMLSelectElement>('event-type').value);
                  },
                },
                STRATEGY_EVENT_TYPES.map((t) => el('option', { value: t, text: t })),
              ),
            ),
            el(
              'label',
              { class: 'field' },
              el('span', { text: 'Payload (JSON object, without type)' }),
              el('textarea', { id: 'event-payload', spellcheck: 'false', rows: '4' }),
            ),
            el('button', { type: 'submit', class: 'btn', id: 'event-send', text: 'Send event' }),
          ),
        ),
      ),
      el(
        'section',
        { class: 'card chart-card', 'aria-labelledby': 'timeline-h' },
        el(
          'div',
          { class: 'card-head' },
          el('h2', { id: 'timeline-h', text: 'Timeline of the day' }),
          el('span', { class: 'muted', text: 'a strip per state, × a rejected trigger' }),
        ),
        el('div', { class: 'chart-box timeline-box' }, el('canvas', { id: 'chart-timeline', role: 'img' })),
      ),
      el(
        'section',
        { class: 'card diagram-card', 'aria-labelledby': 'diagram-h' },
        el(
          'div',
          { class: 'card-head' },
          el('h2', { id: 'diagram-h', text: 'State diagram' }),
          el('button', {
            type: 'button',
            class: 'btn btn-small',
            id: 'diagram-zoom',
            'aria-pressed': 'false',
            text: 'Actual size',
            onclick: (e: Event) => {
              const on = $('diagram').classList.toggle('actual');
              const button = e.target as HTMLElement;
              button.setAttribute('aria-pressed', String(on));
              button.textContent = on ? 'Fit to width' : 'Actual size';
            },
          }),
        ),
        el('div', { class: 'diagram', id: 'diagram', 'aria-live': 'off' }, el('p', { class: 'muted', text: 'Loading diagram…' })),
      ),
      el(
        'section',
        { class: 'card', 'aria-labelledby': 'audit-h' },
        el(
          'div',
          { class: 'card-head' },
          el('h2', { id: 'audit-h', text: 'Audit trail' }),
          el('span', { class: 'muted', id: 'audit-count' }),
        ),
        el(
          'div',
          { class: 'table-wrap' },
          el(
            'table',
            { class: 'grid audit', id: 'audit' },
            el(
              'thead',
              null,
              el(
                'tr',
                null,
                ['#', 'Time', 'Event', 'From', 'To', 'Result', 'Message'].map((h) => el('th', { scope: 'col', text: h })),
              ),
            ),
            el('tbody', { id: 'audit-rows' }),
          ),
        ),
      ),
    ),
  );
  $<HTMLTextAreaElement>('event-payload').value = templateOf($<HTMLSelectElement>('event-type').value);
  updateStrategyPage();
}

/** A record from the live stream: newest on top, the page keeps 100. */
export function onPageRecord(record: AuditRecord | null): void {
  if (record && record.seq > page.seq) {
    page.audit.unshift(record);
    page.seq = record.seq;
    page.audit = page.audit.slice(0, 100);
  }
}

/** Reads the strategy, its statistics and the newest 100 records of its trail. */
export function loadStrategy(id: string): Promise<void> {
  const requestedAt = Date.now();
  return api<StrategyDetail>('GET', `/strategies/${encodeURIComponent(id)}?limit=100`)
    .then((data) => {
      if (page.id !== id) return;
      const live = model.strategies.get(id);
      if (!live || live.at <= requestedAt) model.strategies.set(id, entryOf(data.strategy));
      const records: AuditRecord[] = data.audit.records;
      const newest = records.length ? records[0].seq : 0;
      // Records that came on the stream after this answer was made stay on top.
      page.audit = page.audit
        .filter((r) => r.seq > newest)
        .concat(records)
        .slice(0, 100);
      page.seq = Math.max(page.seq, newest);
      page.total = data.audit.total;
      page.stats = data.statistics;
      updateStrategyPage();
    })
    .catch((error: unknown) => {
      if (page.id !== id) return;
      if (error instanceof ApiError && error.status === 404 && error.code === 'UNKNOWN_STRATEGY') {
        page.missing = true;
        render();
        return;
      }
      showError(error, `loading ${id}`);
    });
}

/** The same page the server sends for an unknown id, for one removed while the dashboard was open. */
export function renderNotFound(main: HTMLElement, id: string): void {
  document.title = 'Not found · strategy-lifecycle';
  main.replaceChildren(
    el(
      'div',
      { class: 'not-found', dataset: { notFound: id } },
      el('h1', { class: 'h1', text: 'Strategy not found' }),
      el(
        'p',
        null,
        'This service holds no strategy ',
        el('code', { class: 'mono', text: id }),
        '. It may have been deleted, never created, or be served by another instance.',
      ),
      el('p', null, el('a', { href: '/', text: '← All strategies' })),
    ),
  );
}

function templateOf(type: string): string {
  return JSON.stringify((EVENT_TEMPLATES as Record<string, unknown>)[type] ?? {}, null, 1).replace(/\n\s*/g, ' ');
}

// Any event of the union, as the API takes it: the type and the payload beside it. The API's
// answer is shown as it comes (INVALID_EVENT names the field, 409 gives the refusal's reason).
function sendEvent(id: string): void {
  const type = $<HTMLSelectElement>('event-type').value;
  const text = $<HTMLTextAreaElement>('event-payload').value.trim();
  let payload: unknown;
  try {
    payload = text ? JSON.parse(text) : {};
  } catch (e) {
    showError(new ApiError(0, 'INVALID_JSON', `the payload is not JSON: ${(e as Error).message}`), `${type} ${id}`);
    return;
  }
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) {
    showError(new ApiError(0, 'INVALID_JSON', 'the payload must be a JSON object, e.g. { "reason": "..." }'), `${type} ${id}`);
    return;
  }
  submit($<HTMLButtonElement>('event-send'), id, { ...payload, type }, `${type} accepted`, `${type} ${id}`);
}

function sendOverride(id: string): void {
  const body = {
    type: 'MANUAL_OVERRIDE',
    target: $<HTMLSelectElement>('override-target').value,
    reason: $<HTMLInputElement>('override-reason').value,
    operator: $<HTMLInputElement>('override-operator').value,
  };
  sessionStorage.setItem(OPERATOR_KEY, body.operator);
  submit($<HTMLButtonElement>('override-send'), id, body, 'Override accepted', `MANUAL_OVERRIDE ${id}`, () => {
    $<HTMLInputElement>('override-reason').value = '';
  });
}

function submit(button: HTMLButtonElement, id: string, body: object, accepted: string, action: string, done?: () => void): void {
  button.disabled = true;
  void api<EventAnswer>('POST', `/strategies/${encodeURIComponent(id)}/events`, body)
    .then((data) => {
      notify('ok', accepted, `${id}: ${data.result.from} → ${data.result.to}`);
      done?.();
      void loadStrategy(id);
    })
    .catch((error: unknown) => showError(error, action))
    .then(() => {
      button.disabled = false;
    });
}

function fact(dl: HTMLElement, term: string, value: unknown, cls?: string): void {
  dl.append(
    el('dt', { text: term }),
    el('dd', { class: cls ?? '', text: value === '' || value === undefined || value === null ? '—' : String(value) }),
  );
}

/** Updates the facts, statistics, timeline, diagram highlight and audit trail in place. */
export function updateStrategyPage(): void {
  const entry = model.strategies.get(page.id ?? '');
  if (!entry || !$('facts')) return;
  const v = entry.view;
  $('strategy-badge').replaceChildren(badge(v.state, v.value));
  $('strategy-variant').textContent = v.variant;
  const facts = $('facts');
  facts.replaceChildren();
  fact(facts, 'State', subState(v.value).join('.') || v.state);
  fact(facts, 'Entered', stamp(v.enteredAt));
  facts.append(
    el('dt', { text: 'In state' }),
    el('dd', {
      class: 'c-time num',
      dataset: { since: String(entry.at), base: String(v.timeInStateMs) },
      text: duration(v.timeInStateMs + (Date.now() - entry.at)),
    }),
  );
  fact(facts, 'Position', positionText(v.position, v.params) || 'flat');
  fact(facts, 'Next', v.schedule.length ? v.schedule.map((n) => `${n.label} ${stamp(n.at)}`).join('; ') : 'nothing scheduled');
  if (v.instance) fact(facts, 'Instance', v.instance);
  fact(facts, 'Errors', v.errorCount);
  if (v.lastError) fact(facts, 'Last error', `${v.lastError.reason} (${stamp(v.lastError.at)})`, 'is-error');
  const params = Object.keys(v.params || {});
  if (params.length) fact(facts, 'Params', params.map((k) => `${k}=${JSON.stringify(v.params[k])}`).join(', '), 'mono');
  const stats = $('stats');
  stats.replaceChildren();
  if (page.stats) {
    fact(stats, 'Transitions', page.stats.totalTransitions);
    fact(stats, 'Rejected', page.stats.rejectedTriggers);
    fact(stats, 'Errors', page.stats.errorCount);
    fact(stats, 'Open quantity', page.stats.openQuantity);
    const per = page.stats.timeInStateMs;
    const held = (Object.keys(per) as Array<keyof typeof per>)
      .filter((s) => (per[s] ?? 0) > 0)
      .sort((a, b) => (per[b] ?? 0) - (per[a] ?? 0));
    held.slice(0, 4).forEach((s, i) => fact(stats, i === 0 ? 'Time in' : '', `${s} ${duration(per[s] ?? 0)}`));
  }
  // The last strip ends now on the service's clock: entered at, plus the time in state so far.
  drawTimeline($<HTMLCanvasElement>('chart-timeline'), page.audit, Date.parse(v.enteredAt) + v.timeInStateMs + (Date.now() - entry.at));
  void ensureDiagram(v.variant).then(() => highlight(v));
  renderAudit();
}

function ensureDiagram(variant: string): Promise<void> {
  if (page.diagramVariant === variant) return Promise.resolve();
  page.diagramVariant = variant;
  const cached = diagrams.get(variant);
  const load = cached
    ? Promise.resolve(cached)
    : fetch(`/variants/${encodeURIComponent(variant)}/diagram.svg`, {
        headers: token() ? { Authorization: `Bearer ${token()}` } : {},
      }).then(async (res) => {
        if (!res.ok) {
          const d = (await res.json()) as { error: { code: string; message: string } }; // the service's error body
          throw new ApiError(res.status, d.error.code, d.error.message);
        }
        return res.text();
      });
  return load
    .then((svg) => {
      diagrams.set(variant, svg);
      const box = document.getElementById('diagram');
      if (!box || page.diagramVariant !== variant) return;
      box.innerHTML = svg; // generated by this service with every text escaped
      box.classList.add('loaded');
    })
    .catch((error: unknown) => {
      page.diagramVariant = null;
      const code = error instanceof ApiError ? error.code : 'ERROR';
      document
        .getElementById('diagram')
        ?.replaceChildren(
          el('p', { class: 'is-error', text: `${code || 'ERROR'}: ${error instanceof Error ? error.message : String(error)}` }),
        );
    });
}

function highlight(view: StrategyView): void {
  const box = document.getElementById('diagram');
  if (!box) return;
  box.querySelectorAll('.current').forEach((n) => n.classList.remove('current'));
  const path = subState(view.value);
  for (let i = 1; i <= Math.max(1, path.length); i++) {
    const name = path.length ? path.slice(0, i).join('.') : view.state;
    box.querySelector(`[data-state="${CSS.escape(name)}"]`)?.classList.add('current');
  }
}

function renderAudit(): void {
  const tbody = document.getElementById('audit-rows');
  if (!tbody) return;
  $('audit-count').textContent = page.audit.length
    ? `newest first · ${page.audit.length}${page.total > page.audit.length ? ` of ${page.total}` : ''} records`
    : '';
  tbody.replaceChildren(
    ...page.audit.map((r) => {
      const moved = r.previousState !== r.currentState || r.reentered;
      return el(
        'tr',
        { class: r.accepted ? 'accepted' : 'rejected', dataset: { seq: r.seq } },
        el('td', { class: 'num muted', text: r.seq }),
        el('td', { class: 'mono nowrap', title: r.timestamp, text: stamp(r.timestamp) }),
        el('td', { class: 'mono', text: r.trigger }),
        el('td', null, badge(r.previousState)),
        el('td', null, r.accepted && moved ? badge(r.currentState) : el('span', { class: 'muted', text: r.accepted ? 'stayed' : '—' })),
        el(
          'td',
          null,
          r.accepted
            ? el('span', { class: 'result ok', text: 'accepted' })
            : el('span', { class: 'result bad', text: `rejected${r.code ? ` · ${r.code}` : ''}` }),
        ),
        el('td', { class: 'msg-cell', text: r.accepted ? r.message : r.reason || r.message }),
      );
    }),
  );
}
