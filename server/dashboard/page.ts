/**
 * The dashboard's one HTML page: a skeleton the client script (`/app.js`) fills. Everything that
 * changes is rendered by the script; the skeleton reserves the space so nothing jumps on load.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark">
<title>Strategies · strategy-lifecycle</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/style.css">
<script src="/app.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="topbar">
  <div class="brand"><a href="/" class="brand-link">strategy-lifecycle</a><span class="brand-sub">operator console</span><span class="brand-sub mono" id="instance"></span></div>
  <div class="market" id="market" aria-live="polite"><span class="trading-label">Market</span><span class="market-phase" id="market-phase" data-phase="">…</span><span class="market-next mono" id="market-next"></span><span class="market-mode" id="market-mode"></span></div>
  <div class="trading" id="trading" aria-live="polite"><span class="trading-label">Trading</span><span class="trading-state" id="trading-state-badge" data-trading="">…</span></div>
  <div class="conn" id="conn" data-conn="connecting" title="Live stream status"><span class="conn-dot"></span><span id="conn-text">connecting</span></div>
</header>
<form class="operator" id="operator" aria-label="Operator controls">
  <label class="field token-field"><span>Token</span><input id="token" type="password" autocomplete="off" spellcheck="false" placeholder="bearer token (kept for this tab)"></label>
  <label class="field reason-field"><span>Reason</span><input id="op-reason" type="text" maxlength="500" placeholder="why (recorded in the audit trail)"></label>
  <div class="op-buttons">
    <button type="button" id="btn-suspend" class="btn">Suspend all</button>
    <button type="button" id="btn-resume" class="btn">Resume all</button>
    <span class="op-sep" aria-hidden="true"></span>
    <label class="field inline"><span class="sr-only">Trading state</span><select id="trading-select"><option value="ACTIVE">ACTIVE</option><option value="REDUCING">REDUCING</option><option value="HALTED">HALTED</option></select></label>
    <button type="button" id="btn-trading" class="btn">Set trading state</button>
    <span class="op-sep" aria-hidden="true"></span>
    <button type="button" id="btn-kill" class="btn btn-danger">Kill switch</button>
  </div>
</form>
<div class="messages" id="messages" role="status" aria-live="polite"></div>
<main id="main" tabindex="-1"></main>
<dialog id="kill-dialog" aria-labelledby="kill-title">
  <form method="dialog" id="kill-form">
    <h2 id="kill-title">Kill switch</h2>
    <p>This sets trading to <strong>HALTED</strong> and flattens <strong>every open position</strong> with emergency exits. It cannot be undone from here.</p>
    <label class="field"><span>Reason</span><input id="kill-reason" type="text" maxlength="500" required placeholder="why (recorded in the audit trail)"></label>
    <div class="dialog-buttons"><button type="button" class="btn" id="kill-cancel">Cancel</button><button type="submit" value="confirm" class="btn btn-danger" id="kill-confirm">Flatten everything</button></div>
  </form>
</dialog>
</body>
</html>
`;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The page a browser gets for a strategy id the service does not hold (status 404): the id as text
 * (escaped, cut to 80 characters) and the way back to the list.
 *
 * @example
 * ```ts
 * reply.status(404).type('text/html; charset=utf-8').send(notFoundPage('lt112-xyz'));
 * ```
 */
export function notFoundPage(id: string): string {
  const shown = escapeHtml(id.length > 80 ? `${id.slice(0, 80)}…` : id);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark">
<title>Not found · strategy-lifecycle</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header class="topbar"><div class="brand"><a href="/" class="brand-link">strategy-lifecycle</a><span class="brand-sub">operator console</span></div></header>
<main id="main" class="not-found" data-not-found="${shown}">
  <h1 class="h1">Strategy not found</h1>
  <p>This service holds no strategy <code class="mono">${shown}</code>. It may have been deleted, never created, or be served by another instance.</p>
  <p><a href="/">← All strategies</a></p>
</main>
</body>
</html>
`;
}
