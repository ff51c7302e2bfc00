/**
 * Loading and the live stream: the list, the summary and the market read at start and after a
 * reset; every later change arrives on `GET /events` and updates the page in place.
 */
import { api, ApiError, notify, showError, token } from './api.js';
import { onStrategyChange, render } from './router.js';
import { entryOf, model, page } from './state.js';
import { loadStrategy } from './strategyPage.js';
import type {
  ConnectedMessage,
  DamagedMessage,
  MarketView,
  StrategiesAnswer,
  StrategyDetail,
  StrategyMessage,
  StrategyView,
  SummaryAnswer,
  SystemMessage,
} from './types.js';
import { $, shortStamp, stamp } from './util.js';

// A view fetched before a live update of the same strategy arrived is older than it: keep the live one.
function setStrategies(list: StrategyView[], requestedAt: number): void {
  const next = new Map<string, ReturnType<typeof entryOf>>();
  for (const s of list) {
    const live = model.strategies.get(s.id);
    next.set(s.id, live && live.at > requestedAt ? live : entryOf(s));
  }
  model.strategies.forEach((entry, id) => {
    if (!next.has(id) && entry.at > requestedAt) next.set(id, entry);
  });
  model.strategies = next;
}

/** Reads every strategy, the summary and the market again. */
export function loadAll(): Promise<void> {
  const requestedAt = Date.now();
  void loadMarket();
  return Promise.all([api<StrategiesAnswer>('GET', '/strategies'), api<SummaryAnswer>('GET', '/summary')])
    .then(([strategies, summary]) => {
      setStrategies(strategies.strategies, requestedAt);
      model.tradingState = summary.tradingState;
      model.instance = strategies.instance || null;
      renderTrading();
      render();
    })
    .catch((error: unknown) => showError(error, 'loading strategies'));
}

// ---- Market: the phase and the next bell, read again every 15 s and after every bell.
/** Reads `GET /market` and shows it in the header. */
export function loadMarket(): Promise<void> {
  return api<MarketView>('GET', '/market')
    .then((m) => {
      model.market = m;
      renderMarket();
    })
    .catch((error: unknown) => {
      $('market-phase').textContent = '?';
      $('market-next').textContent = (error instanceof ApiError && error.code) || 'unavailable';
    });
}

function renderMarket(): void {
  const m = model.market;
  if (!m) return;
  const phase = $('market-phase');
  phase.textContent = m.phase === 'open' ? 'OPEN' : 'CLOSED';
  phase.dataset.phase = m.phase;
  $('market-next').textContent = m.nextBell ? (m.nextBell.type === 'MARKET_OPEN' ? 'opens ' : 'closes ') + shortStamp(m.nextBell.at) : '';
  $('market').title =
    `now ${stamp(m.now)}${m.simulated ? ' (simulated clock)' : ''}${m.driver ? '' : ' · market driver off: only what is sent to the API happens'}${m.instance ? ` · instance ${m.instance}` : ''}`;
  $('market-mode').textContent = m.simulated ? 'simulated' : m.driver ? '' : 'driver off';
  $('instance').textContent = m.instance ? `instance ${m.instance}` : '';
}

/** The trading state badge in the header, and the selector set to it. */
export function renderTrading(): void {
  const b = $('trading-state-badge');
  b.textContent = model.tradingState || '…';
  b.dataset.trading = model.tradingState || '';
  if (model.tradingState) $<HTMLSelectElement>('trading-select').value = model.tradingState;
}

// With serve --auth-reads the stream needs the token; EventSource sends no headers, so it goes
// in the query. A token typed later reconnects the stream. Every event has an id: the browser
// resends the last one when it reconnects by itself (Last-Event-ID) and the service replays
// what was missed (transitions from the store, even after a restart); a new EventSource (a new
// token) passes it as ?lastEventId=. Only the first open, a reset event (missed too much) or a
// resume across a restart of the service reads everything again.
let source: EventSource | null = null;
let lastEventId = '';

/** Opens (or reopens, with the current token) the live stream. */
export function connect(): void {
  source?.close();
  const query: string[] = [];
  if (token()) query.push(`token=${encodeURIComponent(token())}`);
  if (lastEventId) query.push(`lastEventId=${encodeURIComponent(lastEventId)}`);
  const es = new EventSource(`/events${query.length ? `?${query.join('&')}` : ''}`);
  source = es;
  // Each event's data is the JSON the service's stream writes for that event type (types.ts).
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names it
  const on = <T>(type: string, handle: (data: T) => void) =>
    es.addEventListener(type, (event) => {
      const message = event as MessageEvent<string>;
      if (message.lastEventId) lastEventId = message.lastEventId;
      handle((message.data ? JSON.parse(message.data) : null) as T);
    });
  es.addEventListener('open', () => {
    setConn('live');
    if (lastEventId) return; // resumed: the service replays what was missed, or says reset
    void loadAll();
    if (page.id) void loadStrategy(page.id);
  });
  es.addEventListener('error', () => setConn('reconnecting'));
  const reload = () => {
    void loadAll();
    if (page.id) void loadStrategy(page.id);
  };
  // Resumed across a restart of the service: the transitions came from the store, but what only
  // the earlier start knew (strategies added or removed, trading state) is read again.
  on<ConnectedMessage | null>('connected', (data) => {
    if (data?.earlierStart) reload();
  });
  on('reset', reload);
  on<StrategyMessage>('transition', (data) => {
    if (data.strategy) model.strategies.set(data.strategyId, entryOf(data.strategy));
    else removed(data.strategyId);
    onStrategyChange(data.strategyId, data.record ?? null);
    if (data.record && (data.record.trigger === 'MARKET_OPEN' || data.record.trigger === 'MARKET_CLOSE')) {
      clearTimeout(model.marketRefresh);
      model.marketRefresh = setTimeout(loadMarket, 300);
    }
  });
  // A transition the store cannot read: say so (an error stays until dismissed) and read the
  // strategy again, or the page keeps showing it as it was before that transition.
  on<DamagedMessage>('damaged', (data) => {
    notify(
      'error',
      `Damaged audit record: ${data.strategyId} #${data.seq}`,
      `${data.error.code}: ${data.error.message} (the strategy is read again; the service logged the record)`,
    );
    reread(data.strategyId);
  });
  on<StrategyMessage>('strategyAdded', (data) => {
    if (data.strategy) model.strategies.set(data.strategyId, entryOf(data.strategy));
    onStrategyChange(data.strategyId, null);
  });
  on<StrategyMessage>('strategyRemoved', (data) => {
    removed(data.strategyId);
    onStrategyChange(data.strategyId, null);
  });
  on<SystemMessage>('system', (data) => {
    if (data.type === 'tradingState' && data.change) {
      model.tradingState = data.change.to;
      renderTrading();
      notify('info', `Trading state ${data.change.to}`, data.change.reason || '');
    } else if (data.type === 'killSwitch') {
      if (data.error) notify('error', 'KILL_SWITCH_FAILED', data.error);
      else
        notify(
          data.result.failed.length ? 'error' : 'ok',
          'Kill switch done',
          `${data.result.flattened.length} flattened, ${data.result.alreadyFlat.length} already flat, ${data.result.failed.length} failed`,
        );
    }
  });
}

// Strategies being read again, and those asked for again while that read was under way: a burst
// of damaged records (a resume across many) reads each strategy once at a time, and once more after.
const rereading = new Map<string, boolean>();

/** Reads one strategy's view again (without its trail) and updates what shows it; its page reads its detail too. */
function reread(id: string): void {
  if (rereading.has(id)) {
    rereading.set(id, true);
    return;
  }
  rereading.set(id, false);
  const requestedAt = Date.now();
  api<StrategyDetail>('GET', `/strategies/${encodeURIComponent(id)}?limit=0`)
    .then((data) => {
      // A live update that came after this read was asked for is newer than its answer.
      const live = model.strategies.get(id);
      if (!live || live.at <= requestedAt) model.strategies.set(id, entryOf(data.strategy));
      onStrategyChange(id, null);
    })
    .catch((error: unknown) => {
      if (error instanceof ApiError && error.status === 404 && error.code === 'UNKNOWN_STRATEGY') {
        removed(id);
        onStrategyChange(id, null);
      } else showError(error, `reading ${id} again`);
    })
    .finally(() => {
      const again = rereading.get(id);
      rereading.delete(id);
      if (again) reread(id);
    });
}

function removed(id: string): void {
  if (!model.strategies.delete(id)) return;
  if (page.id === id) notify('info', `${id} was removed`, 'it is no longer in the system');
}

function setConn(state: string): void {
  $('conn').dataset.conn = state;
  $('conn-text').textContent = state;
}
