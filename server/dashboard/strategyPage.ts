/**
 * The dashboard's strategy page (part of the browser script, see client.ts): facts (what is
 * scheduled next included), statistics, the manual override form, a form that sends any event of
 * the union with a JSON payload, the state diagram with the current state highlighted, the audit
 * trail newest first, and the not-found view for a strategy that is gone.
 */
export const STRATEGY_PAGE_SCRIPT = String.raw`
  // ---- Strategy page.
  function renderStrategyPage(main) {
    var id = page.id;
    var targets = el('select', { id: 'override-target', required: true }, STATES.map(function (s) { return el('option', { value: s, text: s }); }));
    main.replaceChildren(el('div', { class: 'strategy-page', dataset: { id: id } },
      el('nav', { class: 'crumbs' }, el('a', { href: '/', text: '← All strategies' })),
      el('div', { class: 'page-head' }, el('h1', { class: 'h1 mono', id: 'strategy-title', text: id }), el('span', { id: 'strategy-badge' }), el('span', { class: 'muted', id: 'strategy-variant' })),
      el('div', { class: 'cards' },
        el('section', { class: 'card', 'aria-labelledby': 'facts-h' }, el('h2', { id: 'facts-h', text: 'Now' }), el('dl', { class: 'facts', id: 'facts' })),
        el('section', { class: 'card', 'aria-labelledby': 'stats-h' }, el('h2', { id: 'stats-h', text: 'Statistics' }), el('dl', { class: 'facts', id: 'stats' })),
        el('section', { class: 'card', 'aria-labelledby': 'override-h' }, el('h2', { id: 'override-h', text: 'Manual override' }),
          el('form', { id: 'override-form', class: 'override', onsubmit: function (e) { e.preventDefault(); sendOverride(id); } },
            el('label', { class: 'field' }, el('span', { text: 'Target state' }), targets),
            el('label', { class: 'field' }, el('span', { text: 'Reason' }), el('input', { id: 'override-reason', type: 'text', maxlength: '500', placeholder: 'why' })),
            el('label', { class: 'field' }, el('span', { text: 'Operator' }), el('input', { id: 'override-operator', type: 'text', maxlength: '100', value: sessionStorage.getItem(OPERATOR_KEY) || '', placeholder: 'your name' })),
            el('button', { type: 'submit', class: 'btn btn-warn', id: 'override-send', text: 'Send MANUAL_OVERRIDE' }))),
        el('section', { class: 'card', 'aria-labelledby': 'event-h' }, el('h2', { id: 'event-h', text: 'Send event' }),
          el('form', { id: 'event-form', class: 'override', onsubmit: function (e) { e.preventDefault(); sendEvent(id); } },
            el('label', { class: 'field' }, el('span', { text: 'Event type' }),
              el('select', { id: 'event-type', onchange: function () { $('event-payload').value = templateOf($('event-type').value); } }, EVENTS.map(function (t) { return el('option', { value: t, text: t }); }))),
            el('label', { class: 'field' }, el('span', { text: 'Payload (JSON object, without type)' }), el('textarea', { id: 'event-payload', spellcheck: 'false', rows: '4' })),
            el('button', { type: 'submit', class: 'btn', id: 'event-send', text: 'Send event' })))),
      el('section', { class: 'card diagram-card', 'aria-labelledby': 'diagram-h' },
        el('div', { class: 'card-head' }, el('h2', { id: 'diagram-h', text: 'State diagram' }),
          el('button', { type: 'button', class: 'btn btn-small', id: 'diagram-zoom', 'aria-pressed': 'false', text: 'Actual size', onclick: function (e) {
            var on = $('diagram').classList.toggle('actual');
            e.target.setAttribute('aria-pressed', String(on));
            e.target.textContent = on ? 'Fit to width' : 'Actual size';
          } })),
        el('div', { class: 'diagram', id: 'diagram', 'aria-live': 'off' }, el('p', { class: 'muted', text: 'Loading diagram…' }))),
      el('section', { class: 'card', 'aria-labelledby': 'audit-h' },
        el('div', { class: 'card-head' }, el('h2', { id: 'audit-h', text: 'Audit trail' }), el('span', { class: 'muted', id: 'audit-count' })),
        el('div', { class: 'table-wrap' }, el('table', { class: 'grid audit', id: 'audit' },
          el('thead', null, el('tr', null, ['#', 'Time', 'Event', 'From', 'To', 'Result', 'Message'].map(function (h) { return el('th', { scope: 'col', text: h }); }))),
          el('tbody', { id: 'audit-rows' }))))));
    $('event-payload').value = templateOf($('event-type').value);
    updateStrategyPage();
  }
  function loadStrategy(id) {
    var requestedAt = Date.now();
    return api('GET', '/strategies/' + encodeURIComponent(id) + '?limit=100').then(function (data) {
      if (page.id !== id) return;
      var live = model.strategies.get(id);
      if (!live || live.at <= requestedAt) model.strategies.set(id, entryOf(data.strategy));
      var records = data.audit.records;
      var newest = records.length ? records[0].seq : 0;
      // Records that came on the stream after this answer was made stay on top.
      page.audit = page.audit.filter(function (r) { return r.seq > newest; }).concat(records).slice(0, 100);
      page.seq = Math.max(page.seq, newest);
      page.total = data.audit.total;
      page.stats = data.statistics;
      updateStrategyPage();
    }).catch(function (error) {
      if (page.id !== id) return;
      if (error.status === 404 && error.code === 'UNKNOWN_STRATEGY') { page.missing = true; render(); return; }
      showError(error, 'loading ' + id);
    });
  }
  // The same page the server sends for an unknown id, for one removed while the dashboard was open.
  function renderNotFound(main, id) {
    document.title = 'Not found · strategy-lifecycle';
    main.replaceChildren(el('div', { class: 'not-found', dataset: { notFound: id } },
      el('h1', { class: 'h1', text: 'Strategy not found' }),
      el('p', null, 'This service holds no strategy ', el('code', { class: 'mono', text: id }), '. It may have been deleted, never created, or be served by another instance.'),
      el('p', null, el('a', { href: '/', text: '← All strategies' }))));
  }
  function templateOf(type) { return JSON.stringify(CONFIG.templates[type] || {}, null, 1).replace(/\n\s*/g, ' '); }
  // Any event of the union, as the API takes it: the type and the payload beside it. The API's
  // answer is shown as it comes (INVALID_EVENT names the field, 409 gives the refusal's reason).
  function sendEvent(id) {
    var type = $('event-type').value;
    var text = $('event-payload').value.trim();
    var payload;
    try { payload = text ? JSON.parse(text) : {}; } catch (e) { showError(apiError(0, 'INVALID_JSON', 'the payload is not JSON: ' + e.message), type + ' ' + id); return; }
    if (!payload || typeof payload !== 'object' || Array.isArray(payload)) { showError(apiError(0, 'INVALID_JSON', 'the payload must be a JSON object, e.g. { "reason": "..." }'), type + ' ' + id); return; }
    var body = Object.assign({}, payload, { type: type });
    var button = $('event-send');
    button.disabled = true;
    api('POST', '/strategies/' + encodeURIComponent(id) + '/events', body).then(function (data) {
      notify('ok', type + ' accepted', id + ': ' + data.result.from + ' → ' + data.result.to);
      loadStrategy(id);
    }).catch(function (error) { showError(error, type + ' ' + id); }).then(function () { button.disabled = false; });
  }
  function fact(dl, term, value, cls) { dl.append(el('dt', { text: term }), el('dd', { class: cls || '', text: value === '' || value === undefined || value === null ? '—' : String(value) })); }
  function updateStrategyPage() {
    var entry = model.strategies.get(page.id);
    if (!entry || !$('facts')) return;
    var v = entry.view;
    $('strategy-badge').replaceChildren(badge(v.state, v.value));
    $('strategy-variant').textContent = v.variant;
    var facts = $('facts');
    facts.replaceChildren();
    fact(facts, 'State', subState(v.value).join('.') || v.state);
    fact(facts, 'Entered', stamp(v.enteredAt));
    facts.append(el('dt', { text: 'In state' }), el('dd', { class: 'c-time num', dataset: { since: String(entry.at), base: String(v.timeInStateMs) }, text: duration(v.timeInStateMs + (Date.now() - entry.at)) }));
    fact(facts, 'Position', positionText(v.position, v.params) || 'flat');
    fact(facts, 'Next', v.schedule.length ? v.schedule.map(function (n) { return n.label + ' ' + stamp(n.at); }).join('; ') : 'nothing scheduled');
    if (v.instance) fact(facts, 'Instance', v.instance);
    fact(facts, 'Errors', v.errorCount);
    if (v.lastError) fact(facts, 'Last error', v.lastError.reason + ' (' + stamp(v.lastError.at) + ')', 'is-error');
    var params = Object.keys(v.params || {});
    if (params.length) fact(facts, 'Params', params.map(function (k) { return k + '=' + JSON.stringify(v.params[k]); }).join(', '), 'mono');
    var stats = $('stats');
    stats.replaceChildren();
    if (page.stats) {
      fact(stats, 'Transitions', page.stats.totalTransitions);
      fact(stats, 'Rejected', page.stats.rejectedTriggers);
      fact(stats, 'Errors', page.stats.errorCount);
      fact(stats, 'Open quantity', page.stats.openQuantity);
      var per = page.stats.timeInStateMs || {};
      Object.keys(per).filter(function (s) { return per[s] > 0; }).sort(function (a, b) { return per[b] - per[a]; }).slice(0, 4).forEach(function (s, i) {
        fact(stats, i === 0 ? 'Time in' : '', s + ' ' + duration(per[s]));
      });
    }
    ensureDiagram(v.variant).then(function () { highlight(v); });
    renderAudit();
  }
  function ensureDiagram(variant) {
    if (page.diagramVariant === variant) return Promise.resolve();
    page.diagramVariant = variant;
    var cached = diagrams.get(variant);
    var load = cached ? Promise.resolve(cached) : fetch('/variants/' + encodeURIComponent(variant) + '/diagram.svg', { headers: token() ? { Authorization: 'Bearer ' + token() } : {} }).then(function (res) {
      if (!res.ok) return res.json().then(function (d) { throw apiError(res.status, d.error.code, d.error.message); });
      return res.text();
    });
    return load.then(function (svg) {
      diagrams.set(variant, svg);
      var box = $('diagram');
      if (!box || page.diagramVariant !== variant) return;
      box.innerHTML = svg; // generated by this service with every text escaped
      box.classList.add('loaded');
    }).catch(function (error) {
      page.diagramVariant = null;
      var box = $('diagram');
      if (box) box.replaceChildren(el('p', { class: 'is-error', text: (error.code || 'ERROR') + ': ' + error.message }));
    });
  }
  function highlight(view) {
    var box = $('diagram');
    if (!box) return;
    box.querySelectorAll('.current').forEach(function (n) { n.classList.remove('current'); });
    var path = subState(view.value);
    for (var i = 1; i <= Math.max(1, path.length); i++) {
      var name = path.length ? path.slice(0, i).join('.') : view.state;
      var node = box.querySelector('[data-state="' + CSS.escape(name) + '"]');
      if (node) node.classList.add('current');
    }
  }
  function renderAudit() {
    var tbody = $('audit-rows');
    if (!tbody) return;
    $('audit-count').textContent = page.audit.length ? 'newest first · ' + page.audit.length + (page.total > page.audit.length ? ' of ' + page.total : '') + ' records' : '';
    tbody.replaceChildren.apply(tbody, page.audit.map(function (r) {
      var moved = r.previousState !== r.currentState || r.reentered;
      return el('tr', { class: r.accepted ? 'accepted' : 'rejected', dataset: { seq: r.seq } },
        el('td', { class: 'num muted', text: r.seq }),
        el('td', { class: 'mono nowrap', title: r.timestamp, text: stamp(r.timestamp) }),
        el('td', { class: 'mono', text: r.trigger }),
        el('td', null, badge(r.previousState)),
        el('td', null, r.accepted && moved ? badge(r.currentState) : el('span', { class: 'muted', text: r.accepted ? 'stayed' : '—' })),
        el('td', null, r.accepted ? el('span', { class: 'result ok', text: 'accepted' }) : el('span', { class: 'result bad', text: 'rejected' + (r.code ? ' · ' + r.code : '') })),
        el('td', { class: 'msg-cell', text: r.accepted ? r.message : r.reason || r.message }));
    }));
  }
  function sendOverride(id) {
    var body = { type: 'MANUAL_OVERRIDE', target: $('override-target').value, reason: $('override-reason').value, operator: $('override-operator').value };
    sessionStorage.setItem(OPERATOR_KEY, body.operator);
    var button = $('override-send');
    button.disabled = true;
    api('POST', '/strategies/' + encodeURIComponent(id) + '/events', body).then(function (data) {
      notify('ok', 'Override accepted', id + ': ' + data.result.from + ' → ' + data.result.to);
      $('override-reason').value = '';
      loadStrategy(id);
    }).catch(function (error) { showError(error, 'MANUAL_OVERRIDE ' + id); }).then(function () { button.disabled = false; });
  }

`;
