/**
 * The dashboard's browser script, plain modern JavaScript kept as a string (no bundler, no
 * network beyond this service). It builds every node with `textContent`, so strings from the API
 * (strategy ids, reasons) are never parsed as HTML; the one `innerHTML` is the state diagram, an
 * SVG this service generated with its text escaped.
 *
 * Written without template literals so it can live inside `String.raw`.
 */
import { LIST_PAGE_SCRIPT } from './listPage.js';
import { STRATEGY_PAGE_SCRIPT } from './strategyPage.js';

/** Helpers, the API client, messages, the live stream, the router and the operator controls. */
const CORE_SCRIPT = String.raw`
'use strict';
(function () {
  var STATES = CONFIG.states;
  var FAMILIES = CONFIG.families;
  var EVENTS = CONFIG.events;
  var PAGE_PREFIX = CONFIG.pagePrefix;
  var TOKEN_KEY = 'strategy-lifecycle.token';
  var OPERATOR_KEY = 'strategy-lifecycle.operator';

  var model = { strategies: new Map(), tradingState: '', market: null };
  var page = { id: null, seq: 0, diagramVariant: null, audit: [] };
  var sort = { key: 'id', dir: 1 };
  var filter = '';
  var diagrams = new Map();
  var versions = 0;

  // ---- DOM helpers: text goes in as text nodes, never as markup.
  function el(tag, props) {
    var node = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (key) {
        var value = props[key];
        if (value === undefined || value === null || value === false) return;
        if (key === 'class') node.className = value;
        else if (key === 'text') node.textContent = String(value);
        else if (key === 'dataset') Object.keys(value).forEach(function (d) { node.dataset[d] = String(value[d]); });
        else if (key.slice(0, 2) === 'on') node.addEventListener(key.slice(2), value);
        else node.setAttribute(key, value === true ? '' : String(value));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }
  function append(node, child) {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.append(child instanceof Node ? child : String(child));
  }
  function $(id) { return document.getElementById(id); }
  function familyOf(state) { return FAMILIES[state] || 'idle'; }

  // ---- Formatting.
  function duration(ms) {
    if (!(ms >= 0)) return '';
    var s = Math.floor(ms / 1000);
    if (s < 60) return s + 's';
    var m = Math.floor(s / 60);
    if (m < 60) return m + 'm ' + pad(s % 60) + 's';
    var h = Math.floor(m / 60);
    if (h < 48) return h + 'h ' + pad(m % 60) + 'm';
    return Math.floor(h / 24) + 'd ' + (h % 24) + 'h';
  }
  function pad(n) { return n < 10 ? '0' + n : String(n); }
  // Every time the API sends is New York time with its offset; shown as such, labelled ET.
  function stamp(iso) { return typeof iso === 'string' && iso.length >= 19 ? iso.slice(0, 10) + ' ' + iso.slice(11, 19) + ' ET' : String(iso || ''); }
  function shortStamp(iso) {
    if (typeof iso !== 'string' || iso.length < 16) return String(iso || '');
    var day = new Date(iso.slice(0, 10) + 'T12:00:00Z').getUTCDay();
    return ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][day] + ' ' + iso.slice(0, 10) + ' ' + iso.slice(11, 16) + ' ET';
  }
  function strategyHref(id) { return PAGE_PREFIX + encodeURIComponent(id); }
  function nextText(v) { var n = v.schedule && v.schedule[0]; return n ? n.label + ' ' + shortStamp(n.at) : ''; }
  function subState(value) {
    var path = [];
    while (value && typeof value === 'object') {
      var key = Object.keys(value)[0];
      if (key === undefined) break;
      path.push(key);
      value = value[key];
    }
    if (typeof value === 'string') path.push(value);
    return path;
  }
  function positionText(p, params) {
    if (!p) return '';
    var underlying = p.underlying || (params && typeof params.underlying === 'string' ? params.underlying : '');
    return [p.quantity + ' ×', underlying, p.expiry ? 'exp ' + p.expiry : ''].filter(Boolean).join(' ');
  }
  function badge(state, value) {
    var path = subState(value);
    return el('span', { class: 'badge fam-' + familyOf(state), dataset: { state: state } },
      el('span', { class: 'badge-dot', 'aria-hidden': 'true' }), state,
      path.length > 1 ? el('span', { class: 'badge-sub', text: '· ' + path.slice(1).join('.') }) : null);
  }

  // ---- API: every error is { code, message } from the service, or a network failure.
  function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }
  function api(method, path, body) {
    var headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token()) headers.Authorization = 'Bearer ' + token();
    return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) })
      .catch(function (error) { throw apiError(0, 'NETWORK', 'the service did not answer: ' + error.message); })
      .then(function (res) {
        return res.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
          if (!res.ok) {
            var err = data && data.error ? data.error : { code: 'HTTP_' + res.status, message: text.slice(0, 200) || res.statusText };
            throw apiError(res.status, err.code, err.message, err.field);
          }
          return data;
        });
      });
  }
  function apiError(status, code, message, field) {
    var error = new Error(message);
    error.status = status;
    error.code = code;
    error.field = field;
    return error;
  }

  // ---- Messages: errors stay until dismissed; confirmations fade after a while.
  function notify(kind, title, detail) {
    var box = $('messages');
    var item = el('div', { class: 'msg msg-' + kind, role: kind === 'error' ? 'alert' : null },
      el('div', { class: 'msg-body' }, el('strong', { class: 'msg-title', text: title }), detail ? el('span', { class: 'msg-detail', text: detail }) : null),
      el('button', { type: 'button', class: 'msg-close', 'aria-label': 'Dismiss', text: '×', onclick: function () { item.remove(); } }));
    box.prepend(item);
    while (box.children.length > 4) box.lastChild.remove();
    if (kind !== 'error') setTimeout(function () { item.remove(); }, 8000);
  }
  function showError(error, action) {
    notify('error', (error.code || 'ERROR') + (error.status ? ' (' + error.status + ')' : ''), (action ? action + ': ' : '') + error.message);
  }

  // ---- Data.
  // A strategy as the page holds it: its view, when it arrived (time in state ticks from there)
  // and a version that changes with every update (rows are rebuilt only when it does).
  function entryOf(view) { return { view: view, at: Date.now(), version: ++versions }; }
  // A view fetched before a live update of the same strategy arrived is older than it: keep the live one.
  function setStrategies(list, requestedAt) {
    var next = new Map();
    list.forEach(function (s) {
      var live = model.strategies.get(s.id);
      next.set(s.id, live && live.at > requestedAt ? live : entryOf(s));
    });
    model.strategies.forEach(function (entry, id) { if (!next.has(id) && entry.at > requestedAt) next.set(id, entry); });
    model.strategies = next;
  }
  function loadAll() {
    var requestedAt = Date.now();
    loadMarket();
    return Promise.all([api('GET', '/strategies'), api('GET', '/summary')]).then(function (r) {
      setStrategies(r[0].strategies, requestedAt);
      model.tradingState = r[1].tradingState;
      model.instance = r[0].instance || null;
      renderTrading();
      render();
    }).catch(function (error) { showError(error, 'loading strategies'); });
  }
  // ---- Market: the phase and the next bell, read again every 15 s and after every bell.
  function loadMarket() {
    return api('GET', '/market').then(function (m) { model.market = m; renderMarket(); })
      .catch(function (error) { $('market-phase').textContent = '?'; $('market-next').textContent = error.code || 'unavailable'; });
  }
  function renderMarket() {
    var m = model.market;
    if (!m) return;
    var phase = $('market-phase');
    phase.textContent = m.phase === 'open' ? 'OPEN' : 'CLOSED';
    phase.dataset.phase = m.phase;
    $('market-next').textContent = m.nextBell ? (m.nextBell.type === 'MARKET_OPEN' ? 'opens ' : 'closes ') + shortStamp(m.nextBell.at) : '';
    $('market').title = 'now ' + stamp(m.now) + (m.simulated ? ' (simulated clock)' : '') + (m.driver ? '' : ' · market driver off: only what is sent to the API happens') + (m.instance ? ' · instance ' + m.instance : '');
    $('market-mode').textContent = m.simulated ? 'simulated' : m.driver ? '' : 'driver off';
    $('instance').textContent = m.instance ? 'instance ' + m.instance : '';
  }
  setInterval(loadMarket, 15000);

  // ---- Live stream.
  // With serve --auth-reads the stream needs the token; EventSource sends no headers, so it goes
  // in the query. A token typed later reconnects the stream. Every event has an id: the browser
  // resends the last one when it reconnects by itself (Last-Event-ID) and the service replays
  // what was missed; a new EventSource (a new token) passes it as ?lastEventId=. Only the first
  // open, or a reset event (missed too much, or the service restarted), reads everything again.
  var source = null;
  var lastEventId = '';
  function connect() {
    if (source) source.close();
    var query = [];
    if (token()) query.push('token=' + encodeURIComponent(token()));
    if (lastEventId) query.push('lastEventId=' + encodeURIComponent(lastEventId));
    source = new EventSource('/events' + (query.length ? '?' + query.join('&') : ''));
    source.addEventListener('open', function () {
      setConn('live');
      if (lastEventId) return; // resumed: the service replays what was missed, or says reset
      loadAll();
      if (page.id) loadStrategy(page.id);
    });
    source.addEventListener('error', function () { setConn('reconnecting'); });
    function track(event) { if (event.lastEventId) lastEventId = event.lastEventId; }
    source.addEventListener('connected', track);
    source.addEventListener('reset', function (event) {
      track(event);
      loadAll();
      if (page.id) loadStrategy(page.id);
    });
    source.addEventListener('transition', function (event) {
      track(event);
      var data = JSON.parse(event.data);
      if (data.strategy) model.strategies.set(data.strategyId, entryOf(data.strategy));
      else removed(data.strategyId);
      onStrategyChange(data.strategyId, data.record);
      if (data.record && (data.record.trigger === 'MARKET_OPEN' || data.record.trigger === 'MARKET_CLOSE')) { clearTimeout(model.marketRefresh); model.marketRefresh = setTimeout(loadMarket, 300); }
    });
    source.addEventListener('strategyAdded', function (event) {
      track(event);
      var data = JSON.parse(event.data);
      if (data.strategy) model.strategies.set(data.strategyId, entryOf(data.strategy));
      onStrategyChange(data.strategyId, null);
    });
    source.addEventListener('strategyRemoved', function (event) {
      track(event);
      var data = JSON.parse(event.data);
      removed(data.strategyId);
      onStrategyChange(data.strategyId, null);
    });
    source.addEventListener('system', function (event) {
      track(event);
      var data = JSON.parse(event.data);
      if (data.type === 'tradingState' && data.change) {
        model.tradingState = data.change.to;
        renderTrading();
        notify('info', 'Trading state ' + data.change.to, data.change.reason || '');
      } else if (data.type === 'killSwitch') {
        if (data.error) notify('error', 'KILL_SWITCH_FAILED', data.error);
        else notify(data.result.failed.length ? 'error' : 'ok', 'Kill switch done', data.result.flattened.length + ' flattened, ' + data.result.alreadyFlat.length + ' already flat, ' + data.result.failed.length + ' failed');
      }
    });
  }
  function removed(id) {
    if (!model.strategies.delete(id)) return;
    if (page.id === id) notify('info', id + ' was removed', 'it is no longer in the system');
  }
  function setConn(state) {
    $('conn').dataset.conn = state;
    $('conn-text').textContent = state;
  }

  // ---- Router.
  // A strategy's page is /ui/strategies/<id> (the server answers 404 for an id it does not hold);
  // moving between pages stays in this document (history API), so the live stream is kept.
  function route() {
    var legacy = /^#\/strategies\/(.+)$/.exec(location.hash);
    if (legacy) history.replaceState(null, '', PAGE_PREFIX + legacy[1]);
    var path = location.pathname;
    var id = path.indexOf(PAGE_PREFIX) === 0 && path.length > PAGE_PREFIX.length ? decodeURIComponent(path.slice(PAGE_PREFIX.length)) : null;
    if (id !== page.id) { page.id = id; page.seq = 0; page.audit = []; page.diagramVariant = null; page.missing = false; }
    document.title = (id ? id : 'Strategies') + ' · strategy-lifecycle';
    render();
    if (id) loadStrategy(id);
  }
  function navigate(href) {
    if (href === location.pathname) return;
    history.pushState(null, '', href);
    route();
    // A new page: start at its top, with focus on it (keyboard and screen-reader users land there).
    window.scrollTo(0, 0);
    $('main').focus({ preventScroll: true });
  }
  document.addEventListener('click', function (e) {
    var a = e.target.closest && e.target.closest('a[href]');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || a.target) return;
    var url = new URL(a.href, location.href);
    if (url.origin !== location.origin || (url.pathname !== '/' && url.pathname.indexOf(PAGE_PREFIX) !== 0)) return;
    e.preventDefault();
    navigate(url.pathname);
  });
  function render() {
    var main = $('main');
    if (page.id && page.missing) { if (!main.querySelector('.not-found')) renderNotFound(main, page.id); return; }
    if (page.id) { if (!main.querySelector('.strategy-page[data-id]') || main.firstChild.dataset.id !== page.id) renderStrategyPage(main); else updateStrategyPage(); }
    else { if (!main.querySelector('.list-page')) renderListPage(main); else updateListPage(); }
  }
  function onStrategyChange(id, record) {
    if (!page.id) { updateListPage(id); return; }
    if (id !== page.id) return;
    if (record && record.seq > page.seq) { page.audit.unshift(record); page.seq = record.seq; page.audit = page.audit.slice(0, 100); }
    updateStrategyPage();
    // The statistics are not on the stream: read them again once a burst of updates is over.
    clearTimeout(page.refresh);
    page.refresh = setTimeout(function () { if (page.id === id) loadStrategy(id); }, 400);
  }

  // ---- Trading state.
  function renderTrading() {
    var b = $('trading-state-badge');
    b.textContent = model.tradingState || '…';
    b.dataset.trading = model.tradingState || '';
    if (model.tradingState) $('trading-select').value = model.tradingState;
  }

  // ---- Operator controls.
  function reason() { return $('op-reason').value.trim(); }
  function operation(button, label, call) {
    button.disabled = true;
    call().catch(function (error) { showError(error, label); }).then(function () { button.disabled = false; });
  }
  function wireOperator() {
    $('operator').addEventListener('submit', function (e) { e.preventDefault(); });
    var tokenInput = $('token');
    tokenInput.value = token();
    tokenInput.addEventListener('input', function () {
      if (tokenInput.value) sessionStorage.setItem(TOKEN_KEY, tokenInput.value.trim()); else sessionStorage.removeItem(TOKEN_KEY);
    });
    tokenInput.addEventListener('change', function () { connect(); });
    $('btn-suspend').addEventListener('click', function (e) {
      operation(e.currentTarget, 'Suspend all', function () {
        return api('POST', '/system/suspend', { reason: reason() }).then(function (d) {
          notify('ok', 'Suspended ' + d.result.changed.length, d.result.skipped.length + ' skipped (not READY, ANALYZING or PENDING_ENTRY)');
        });
      });
    });
    $('btn-resume').addEventListener('click', function (e) {
      operation(e.currentTarget, 'Resume all', function () {
        return api('POST', '/system/resume', {}).then(function (d) { notify('ok', 'Resumed ' + d.result.changed.length, d.result.skipped.length ? d.result.skipped.length + ' could not resume' : ''); });
      });
    });
    $('btn-trading').addEventListener('click', function (e) {
      var state = $('trading-select').value;
      operation(e.currentTarget, 'Set trading state', function () {
        return api('POST', '/system/trading-state', { state: state, reason: reason() }).then(function (d) {
          model.tradingState = d.change.to;
          renderTrading();
        });
      });
    });
    var dialog = $('kill-dialog');
    $('kill-cancel').addEventListener('click', function () { dialog.close('cancel'); });
    $('btn-kill').addEventListener('click', function () {
      $('kill-reason').value = reason();
      dialog.returnValue = '';
      dialog.showModal();
      $('kill-reason').focus();
    });
    dialog.addEventListener('close', function () {
      if (dialog.returnValue !== 'confirm') return;
      var why = $('kill-reason').value.trim();
      operation($('btn-kill'), 'Kill switch', function () {
        return api('POST', '/system/kill-switch', { reason: why }).then(function (d) {
          model.tradingState = d.tradingState;
          renderTrading();
          notify('info', 'Kill switch engaged', 'trading HALTED; flattening every position, the outcome follows on the live stream');
        });
      });
    });
  }

  // Time in state ticks in place: only the text of those cells changes.
  setInterval(function () {
    var now = Date.now();
    document.querySelectorAll('.c-time[data-since]').forEach(function (cell) {
      cell.textContent = duration(Number(cell.dataset.base) + (now - Number(cell.dataset.since)));
    });
  }, 1000);

  // @@PAGES@@ (the list page and the strategy page are spliced in here)
  window.addEventListener('popstate', function () { route(); });
  wireOperator();
  connect();
  route();
  loadAll(); // also without the stream (it opens a moment later and reads again)
})();
`;

/**
 * The whole browser script: its configuration (the lifecycle's states and their colour families),
 * then one function scope holding the core and both pages.
 */
export function dashboardScript(config: { states: readonly string[]; families: Readonly<Record<string, string>>; events: readonly string[]; templates: Readonly<Record<string, unknown>>; pagePrefix: string }): string {
  return `const CONFIG = ${JSON.stringify(config)};\n${CORE_SCRIPT.replace(/ {2}\/\/ @@PAGES@@.*\n/, () => LIST_PAGE_SCRIPT + STRATEGY_PAGE_SCRIPT)}`;
}
