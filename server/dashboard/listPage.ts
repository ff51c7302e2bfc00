/**
 * The dashboard's list page (part of the browser script, see client.ts): the summary bar and the
 * table of every strategy, updated in place from the live stream.
 */
export const LIST_PAGE_SCRIPT = String.raw`
  // ---- List page.
  var COLUMNS = [
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
  function renderListPage(main) {
    main.replaceChildren(el('div', { class: 'list-page' },
      el('section', { class: 'summary', id: 'summary', 'aria-label': 'Summary' }),
      el('div', { class: 'table-tools' },
        el('h1', { class: 'h1', text: 'Strategies' }),
        el('label', { class: 'field filter' }, el('span', { class: 'sr-only', text: 'Filter strategies' }),
          el('input', { id: 'filter', type: 'search', placeholder: 'Filter by id, variant or state', value: filter, oninput: function (e) { filter = e.target.value; updateListPage(); } }))),
      el('div', { class: 'table-wrap' },
        el('table', { class: 'grid', id: 'strategies' },
          el('colgroup', null, COLUMNS.map(function (c) { return el('col', { class: c.cls }); })),
          el('thead', null, el('tr', null, COLUMNS.map(function (c) {
            return el('th', { scope: 'col', class: c.cls, 'aria-sort': 'none' }, el('button', { type: 'button', class: 'sort', dataset: { key: c.key }, onclick: function () { sort = { key: c.key, dir: sort.key === c.key ? -sort.dir : 1 }; updateListPage(); } }, c.label, el('span', { class: 'sort-mark', 'aria-hidden': 'true' })));
          }))),
          el('tbody', { id: 'rows' }))),
      el('p', { class: 'empty', id: 'empty', hidden: true, text: 'No strategies yet. Create one with POST /strategies.' })));
    updateListPage();
  }
  function sortValue(entry, key) {
    var v = entry.view;
    if (key === 'state') return STATES.indexOf(v.state);
    if (key === 'time') return v.timeInStateMs + (Date.now() - entry.at);
    if (key === 'position') return v.position ? v.position.quantity : -1;
    if (key === 'errors') return v.errorCount;
    if (key === 'reason') return v.lastError ? v.lastError.reason : '';
    if (key === 'next') return v.schedule && v.schedule[0] ? v.schedule[0].at : '~';
    return String(v[key] || '');
  }
  function visibleEntries() {
    var needle = filter.trim().toLowerCase();
    var list = Array.from(model.strategies.values()).filter(function (e) {
      return !needle || (e.view.id + ' ' + e.view.variant + ' ' + e.view.state).toLowerCase().indexOf(needle) >= 0;
    });
    list.sort(function (a, b) {
      var x = sortValue(a, sort.key), y = sortValue(b, sort.key);
      return (x < y ? -1 : x > y ? 1 : a.view.id < b.view.id ? -1 : 1) * sort.dir;
    });
    return list;
  }
  function rowFor(entry) {
    var v = entry.view;
    var href = strategyHref(v.id);
    var reason = v.lastError ? v.lastError.reason : '';
    var next = nextText(v);
    return el('tr', { dataset: { id: v.id, state: v.state, family: familyOf(v.state) }, onclick: function (e) { if (!e.target.closest('a')) navigate(href); } },
      el('td', { class: 'c-id' }, el('a', { href: href, class: 'id-link', text: v.id })),
      el('td', { class: 'c-variant', text: v.variant }),
      el('td', { class: 'c-state' }, badge(v.state, v.value)),
      el('td', { class: 'c-time num', dataset: { since: String(entry.at), base: String(v.timeInStateMs) }, text: duration(v.timeInStateMs + (Date.now() - entry.at)) }),
      el('td', { class: 'c-pos', text: positionText(v.position, v.params) }),
      el('td', { class: 'c-err num' + (v.errorCount ? ' has-errors' : ''), text: String(v.errorCount) }),
      el('td', { class: 'c-next mono', title: v.schedule.map(function (n) { return n.label + ' ' + stamp(n.at); }).join('\n'), text: next }),
      el('td', { class: 'c-inst mono', text: v.instance || '' }),
      el('td', { class: 'c-reason' + (v.lastError ? ' is-error' : ''), title: reason, text: reason }));
  }
  function updateListPage(changedId) {
    var tbody = $('rows');
    if (!tbody) return;
    var entries = visibleEntries();
    var existing = new Map();
    Array.from(tbody.children).forEach(function (tr) { existing.set(tr.dataset.id, tr); });
    // Keyed update: a row is rebuilt only when its strategy changed, and rows move only when the
    // order changed, so focus and scroll stay where the operator left them.
    var rows = entries.map(function (entry) {
      var old = existing.get(entry.view.id);
      existing.delete(entry.view.id);
      if (old && old.dataset.version === String(entry.version)) return old;
      var row = rowFor(entry);
      row.dataset.version = String(entry.version);
      if (old) {
        var focused = old.contains(document.activeElement);
        old.replaceWith(row);
        if (focused) row.querySelector('a').focus();
        if (entry.view.id === changedId) row.classList.add('flash');
      }
      return row;
    });
    existing.forEach(function (tr) { tr.remove(); });
    rows.forEach(function (row, i) { if (tbody.children[i] !== row) tbody.insertBefore(row, tbody.children[i] || null); });
    $('empty').hidden = model.strategies.size > 0;
    // The instance column only means something when several instances share one database.
    $('strategies').classList.toggle('single-instance', !model.instance);
    document.querySelectorAll('#strategies th').forEach(function (th, i) {
      var key = COLUMNS[i].key;
      th.setAttribute('aria-sort', sort.key === key ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none');
      th.querySelector('.sort-mark').textContent = sort.key === key ? (sort.dir > 0 ? '▲' : '▼') : '';
    });
    renderSummary();
  }
  function renderSummary() {
    var box = $('summary');
    if (!box) return;
    if (!box.firstChild) {
      var tile = function (key, label) { return el('div', { class: 'tile', id: 'tile-' + key }, el('span', { class: 'tile-value', text: '0' }), el('span', { class: 'tile-label', text: label })); };
      box.append(
        el('div', { class: 'tiles' }, tile('total', 'strategies'), tile('managing', 'managing'), tile('positions', 'open positions'), tile('error', 'in error'), tile('suspended', 'suspended')),
        el('div', { class: 'state-counts', role: 'group', 'aria-label': 'Strategies per state (click to filter)' }, STATES.map(function (s) {
          return el('button', { type: 'button', class: 'count fam-' + familyOf(s), dataset: { state: s }, title: 'Show only ' + s, 'aria-pressed': 'false', onclick: function () { filter = filter === s ? '' : s; $('filter').value = filter; updateListPage(); } },
            el('span', { class: 'count-n', text: '0' }), el('span', { class: 'count-s', text: s }));
        })));
    }
    var counts = {};
    var positions = 0;
    model.strategies.forEach(function (e) { counts[e.view.state] = (counts[e.view.state] || 0) + 1; if (e.view.position) positions++; });
    var set = function (key, value, cls) {
      var t = $('tile-' + key);
      t.querySelector('.tile-value').textContent = String(value);
      t.className = 'tile' + (value && cls ? ' ' + cls : '');
    };
    set('total', model.strategies.size);
    set('managing', (counts.MANAGING || 0) + (counts.ADJUSTING || 0), 'fam-position');
    set('positions', positions);
    set('error', counts.ERROR || 0, 'fam-error alert');
    set('suspended', counts.SUSPENDED || 0, 'fam-suspended');
    box.querySelectorAll('.count').forEach(function (b) {
      var n = counts[b.dataset.state] || 0;
      b.querySelector('.count-n').textContent = String(n);
      b.classList.toggle('zero', n === 0);
      b.setAttribute('aria-pressed', String(filter === b.dataset.state));
    });
  }

`;
