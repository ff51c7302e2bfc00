import type { StateFamily } from '../diagramSvg.js';

/** Colour of each state family on the dark theme (text, dots, borders; tints are derived). */
const FAMILY_COLOURS: Record<StateFamily, string> = {
  idle: '#22d3ee',
  entry: '#60a5fa',
  position: '#34d399',
  exit: '#fb923c',
  closed: '#9ca3af',
  error: '#f87171',
  suspended: '#a78bfa',
};

const families = Object.entries(FAMILY_COLOURS) as Array<[StateFamily, string]>;

/** Per-family rules: badges, counters, table rows and the inlined diagram's dark restyle. */
const familyRules = families
  .map(([family, colour]) =>
    [
      `.fam-${family}{--fam:${colour}}`,
      `tr[data-family="${family}"]{--fam:${colour}}`,
      `.diagram .sl-fam-${family}>.sl-box{fill:color-mix(in srgb,${colour} 13%,#0d131b);stroke:${colour}}`,
      `.diagram .sl-fam-${family}>.sl-chip{fill:color-mix(in srgb,${colour} 13%,#0d131b);stroke:${colour}}`,
      `.diagram .sl-edge.sl-fam-${family} path{stroke:${colour}}`,
      `.diagram .sl-arrow-${family}{fill:${colour}}`,
      `.diagram .sl-state.current.sl-fam-${family}>.sl-box{fill:${colour};stroke:#fbbf24}`,
    ].join('\n'),
  )
  .join('\n');

/** The dashboard's stylesheet: a dense dark console, system fonts, no web fonts, no network. */
export const DASHBOARD_CSS = `
:root{
  --bg:#0b0f14;--panel:#111821;--panel-2:#0e141c;--line:#1f2a37;--line-2:#2a3746;
  --text:#d9e1ea;--muted:#8594a6;--strong:#f3f6f9;--accent:#38bdf8;--warn:#fbbf24;--danger:#ef4444;--ok:#34d399;
  --mono:ui-monospace,SFMono-Regular,Menlo,Consolas,'Liberation Mono','DejaVu Sans Mono',monospace;
  --sans:Inter,'Segoe UI',system-ui,-apple-system,'Helvetica Neue',Arial,'Liberation Sans',sans-serif;
  color-scheme:dark;
}
*{box-sizing:border-box}
html,body{margin:0;background:var(--bg);color:var(--text);font:13px/1.45 var(--sans)}
body{min-height:100vh;overflow-y:scroll}
a{color:var(--accent);text-decoration:none}
a:hover{text-decoration:underline}
:focus-visible{outline:2px solid var(--accent);outline-offset:2px;border-radius:3px}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.skip{position:absolute;left:-999px;top:8px;background:var(--panel);padding:6px 10px;z-index:10}
.skip:focus{left:8px}
.mono{font-family:var(--mono)}
.muted{color:var(--muted)}
.nowrap{white-space:nowrap}
.num{font-variant-numeric:tabular-nums;text-align:right}
.is-error{color:#fca5a5}

/* Top bar */
.topbar{display:flex;align-items:center;gap:20px;padding:10px 20px;background:var(--panel-2);border-bottom:1px solid var(--line);position:sticky;top:0;z-index:5}
.brand{display:flex;align-items:baseline;gap:10px;flex:1;min-width:0}
.brand-link{color:var(--strong);font-weight:700;font-size:15px;letter-spacing:.01em}
.brand-sub{color:var(--muted);font-size:12px}
.trading{display:flex;align-items:center;gap:8px}
.trading-label{color:var(--muted);font-size:11px;text-transform:uppercase;letter-spacing:.08em}
.trading-state{font:700 13px/1 var(--mono);padding:7px 12px;border-radius:6px;border:1px solid var(--line-2);min-width:96px;text-align:center;letter-spacing:.06em}
.trading-state[data-trading="ACTIVE"]{background:rgba(52,211,153,.14);color:#6ee7b7;border-color:rgba(52,211,153,.5)}
.trading-state[data-trading="REDUCING"]{background:rgba(251,191,36,.16);color:#fcd34d;border-color:rgba(251,191,36,.6)}
.trading-state[data-trading="HALTED"]{background:#7f1d1d;color:#fff;border-color:#ef4444;box-shadow:0 0 0 3px rgba(239,68,68,.25);animation:pulse 1.6s ease-in-out infinite}
@keyframes pulse{50%{box-shadow:0 0 0 6px rgba(239,68,68,.08)}}
.conn{display:flex;align-items:center;gap:6px;color:var(--muted);font-size:12px;min-width:104px}
.conn-dot{width:8px;height:8px;border-radius:50%;background:#64748b}
.conn[data-conn="live"] .conn-dot{background:var(--ok);box-shadow:0 0 6px var(--ok)}
.conn[data-conn="reconnecting"] .conn-dot{background:var(--warn)}

.market{display:flex;align-items:center;gap:8px}
.market-phase{font:700 12px/1 var(--mono);padding:6px 10px;border-radius:6px;border:1px solid var(--line-2);letter-spacing:.06em}
.market-phase[data-phase="open"]{background:rgba(52,211,153,.14);color:#6ee7b7;border-color:rgba(52,211,153,.5)}
.market-phase[data-phase="closed"]{color:var(--muted)}
.market-next{font-size:12px;color:var(--text)}
.market-mode{font-size:11px;color:var(--warn)}
.not-found{max-width:720px}
.not-found p{color:var(--text)}
textarea{font:12.5px var(--mono);color:var(--text);background:var(--bg);border:1px solid var(--line-2);border-radius:5px;padding:6px 8px;min-height:76px;resize:vertical}
textarea:focus{border-color:var(--accent);outline:none;box-shadow:0 0 0 2px rgba(56,189,248,.25)}

/* Operator controls */
.operator{display:flex;flex-wrap:wrap;align-items:end;gap:10px 14px;padding:10px 20px;border-bottom:1px solid var(--line);background:var(--panel)}
.field{display:flex;flex-direction:column;gap:3px;font-size:11px;color:var(--muted)}
.field>span{text-transform:uppercase;letter-spacing:.07em}
.field.inline{flex-direction:row;align-items:center}
.token-field input{width:230px}
.reason-field{flex:1;min-width:220px}
.op-buttons{display:flex;align-items:center;gap:8px;flex-wrap:wrap}
.op-sep{width:1px;height:24px;background:var(--line-2);margin:0 2px}
input,select{font:13px var(--sans);color:var(--text);background:var(--bg);border:1px solid var(--line-2);border-radius:5px;padding:6px 8px;height:32px}
input::placeholder{color:#5b6878}
input:focus,select:focus{border-color:var(--accent);outline:none;box-shadow:0 0 0 2px rgba(56,189,248,.25)}
.btn{font:600 12.5px var(--sans);height:32px;padding:0 12px;border-radius:5px;border:1px solid var(--line-2);background:#182230;color:var(--strong);cursor:pointer;white-space:nowrap}
.btn:hover{background:#1f2b3b;border-color:#3a4a5e}
.btn:disabled{opacity:.55;cursor:progress}
.btn-danger{background:#7f1d1d;border-color:#b91c1c;color:#fff}
.btn-danger:hover{background:#991b1b;border-color:#ef4444}
.btn-warn{background:#78350f;border-color:#b45309;color:#fff}
.btn-warn:hover{background:#92400e}
.btn-small{height:26px;font-size:12px;padding:0 10px}

/* Messages: an overlay, so they never push the page around */
.messages{position:fixed;right:16px;bottom:16px;z-index:20;display:flex;flex-direction:column;gap:8px;width:min(440px,calc(100vw - 32px));pointer-events:none}
.msg{pointer-events:auto;display:flex;gap:10px;align-items:flex-start;background:#131c27;border:1px solid var(--line-2);border-left:4px solid var(--accent);border-radius:6px;padding:10px 12px;box-shadow:0 8px 24px rgba(0,0,0,.45);animation:slide .18s ease-out}
.msg-error{border-left-color:var(--danger);background:#1d1215}
.msg-ok{border-left-color:var(--ok)}
.msg-body{flex:1;display:flex;flex-direction:column;gap:2px;min-width:0}
.msg-title{font:700 12.5px var(--mono);color:var(--strong)}
.msg-error .msg-title{color:#fca5a5}
.msg-detail{color:var(--text);overflow-wrap:anywhere}
.msg-close{background:none;border:0;color:var(--muted);font-size:18px;line-height:1;cursor:pointer;padding:0 2px}
@keyframes slide{from{transform:translateY(6px);opacity:0}}

main{padding:16px 20px 40px;max-width:1800px;margin:0 auto;outline:none}
.h1{font-size:16px;font-weight:700;color:var(--strong);margin:0}

/* Summary */
.summary{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:16px;min-height:58px}
.tiles{display:flex;gap:8px}
.tile{display:flex;flex-direction:column;justify-content:center;min-width:92px;padding:6px 12px;background:var(--panel);border:1px solid var(--line);border-radius:6px}
.tile-value{font:700 20px/1.1 var(--mono);color:var(--strong);font-variant-numeric:tabular-nums}
.tile-label{font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.06em}
.tile[class*="fam-"]{border-color:color-mix(in srgb,var(--fam) 55%,transparent)}
.tile[class*="fam-"] .tile-value{color:var(--fam)}
.tile.alert{background:color-mix(in srgb,var(--fam) 12%,var(--panel))}
.state-counts{display:flex;flex-wrap:wrap;gap:4px;align-content:center;flex:1}
.count{display:inline-flex;align-items:center;gap:6px;height:26px;padding:0 8px;border-radius:13px;border:1px solid color-mix(in srgb,var(--fam) 45%,transparent);background:color-mix(in srgb,var(--fam) 10%,transparent);color:var(--text);font:11px var(--sans);cursor:pointer}
.count-n{font:700 12px var(--mono);color:var(--fam);min-width:1ch;text-align:right}
.count-s{letter-spacing:.02em}
.count.zero{opacity:.38;border-color:var(--line);background:none}
.count[aria-pressed="true"]{box-shadow:0 0 0 2px var(--fam);opacity:1}

/* Tables */
.table-tools{display:flex;align-items:center;justify-content:space-between;gap:12px;margin:4px 0 8px}
.filter input{width:280px}
.table-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:6px;background:var(--panel)}
table.grid{width:100%;border-collapse:collapse;table-layout:fixed}
.grid th{position:sticky;top:0;background:#0f161f;text-align:left;font-weight:600;font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.06em;border-bottom:1px solid var(--line-2);padding:0}
.grid th.num{text-align:right}
.grid th .sort{all:unset;display:block;width:100%;box-sizing:border-box;padding:8px 10px;cursor:pointer;text-align:inherit}
.grid th .sort:focus-visible{outline:2px solid var(--accent);outline-offset:-2px}
.sort-mark{margin-left:4px;font-size:9px;color:var(--accent)}
.audit th{padding:8px 10px}
.grid td{padding:0 10px;height:34px;border-bottom:1px solid var(--line);white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.grid tbody tr:last-child td{border-bottom:0}
#strategies tbody tr{cursor:pointer;box-shadow:inset 3px 0 0 var(--fam,transparent)}
#strategies tbody tr:hover,#strategies tbody tr:focus-within{background:#162130}
.id-link{font-family:var(--mono);font-weight:600;color:var(--strong)}
.id-link:hover{color:var(--accent)}
.c-id{width:18%}.c-variant{width:8%}.c-state{width:15%}.c-time{width:8%}.c-pos{width:13%}.c-err{width:5%}.c-next{width:17%}.c-inst{width:8%}.c-reason{width:16%}
.single-instance .c-inst{display:none}
td.c-next{font-size:12px}
td.c-time,td.c-pos,td.c-err,td.c-variant{font-family:var(--mono);font-size:12.5px}
td.has-errors{color:#fca5a5;font-weight:700}
tr.flash td{animation:flash 1.6s ease-out}
@keyframes flash{from{background:rgba(56,189,248,.22)}}
.empty{color:var(--muted);padding:24px;text-align:center}

/* State badges */
.badge{display:inline-flex;align-items:center;gap:6px;height:22px;padding:0 8px;border-radius:4px;font:600 11.5px var(--mono);letter-spacing:.02em;color:var(--fam);background:color-mix(in srgb,var(--fam) 14%,transparent);border:1px solid color-mix(in srgb,var(--fam) 40%,transparent);max-width:100%;overflow:hidden}
.badge-dot{width:7px;height:7px;border-radius:50%;background:var(--fam);flex:none}
.badge-sub{color:var(--text);font-weight:400;opacity:.85}

/* Strategy page */
.crumbs{margin-bottom:8px}
.page-head{display:flex;align-items:center;gap:12px;margin-bottom:14px;min-height:28px}
.page-head .h1{font-size:18px}
.cards{display:grid;grid-template-columns:minmax(0,1.3fr) minmax(0,1fr) minmax(0,1fr) minmax(0,1.2fr);gap:12px;margin-bottom:12px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:12px 14px;margin-bottom:12px}
.cards .card{margin-bottom:0}
.card h2{font-size:11px;font-weight:700;color:var(--muted);text-transform:uppercase;letter-spacing:.08em;margin:0 0 10px}
.card-head{display:flex;align-items:center;justify-content:space-between;gap:10px;margin-bottom:10px}
.card-head h2{margin:0}
.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:5px 14px;margin:0}
.facts dt{color:var(--muted)}
.facts dd{margin:0;overflow-wrap:anywhere;font-family:var(--mono);font-size:12.5px}
.facts dd.c-time{text-align:left}
.override{display:flex;flex-direction:column;gap:8px}
.override .btn{align-self:flex-start;margin-top:2px}
.diagram{overflow:auto;border-radius:4px;background:#0d131b;aspect-ratio:2.35}
.diagram.loaded{aspect-ratio:auto}
.diagram svg{display:block;width:100%;height:auto}
.diagram.actual svg{width:auto;max-width:none}
.audit td{height:30px;font-size:12.5px}
.audit th:nth-child(1){width:56px}.audit th:nth-child(2){width:204px}.audit th:nth-child(3){width:190px}.audit th:nth-child(4),.audit th:nth-child(5){width:160px}.audit th:nth-child(6){width:200px}
.audit td.msg-cell{white-space:normal;overflow-wrap:anywhere;line-height:1.35;padding-top:6px;padding-bottom:6px}
.audit tr.rejected{background:rgba(239,68,68,.06)}
.audit tr.rejected td:first-child{box-shadow:inset 3px 0 0 var(--danger)}
.audit tr.accepted td:first-child{box-shadow:inset 3px 0 0 rgba(52,211,153,.6)}
.result{font:600 11.5px var(--mono);padding:2px 6px;border-radius:3px}
.result.ok{color:#6ee7b7;background:rgba(52,211,153,.12)}
.result.bad{color:#fca5a5;background:rgba(239,68,68,.14)}

/* The inlined state diagram, restyled for the dark theme */
.diagram .sl-bg{fill:#0d131b}
.diagram .sl-title{fill:#e5e7eb}
.diagram .sl-subtitle,.diagram .sl-legend text{fill:#8594a6}
.diagram .sl-name{fill:#e5e7eb}
.diagram .sl-state.current>.sl-name{fill:#0b0f14}
.diagram .sl-state.sl-compound.current>.sl-box{fill-opacity:.22}
.diagram .sl-state.sl-compound.current>.sl-name{fill:#e5e7eb}
.diagram .sl-start{fill:#cbd5e1}
.diagram .sl-edge-label rect{fill:#0d131b;fill-opacity:.9;stroke:#243041}
.diagram .sl-edge-label text{fill:#cbd5e1}
.diagram .sl-edge-label .sl-guard{fill:#c4b5fd}
.diagram .sl-note rect{fill:#1c1a0e;stroke:#a16207}
.diagram .sl-note text{fill:#fde68a}
${familyRules}

/* Kill switch dialog */
dialog{background:#131c27;color:var(--text);border:1px solid #b91c1c;border-radius:8px;padding:18px 20px;width:min(460px,calc(100vw - 32px));box-shadow:0 20px 60px rgba(0,0,0,.6)}
dialog::backdrop{background:rgba(3,6,10,.7)}
dialog h2{margin:0 0 8px;font-size:16px;color:#fca5a5}
dialog p{margin:0 0 14px;color:var(--text)}
.dialog-buttons{display:flex;justify-content:flex-end;gap:8px;margin-top:14px}

@media (max-width:1300px){.cards{grid-template-columns:minmax(0,1fr) minmax(0,1fr)}}
@media (max-width:1100px){.cards{grid-template-columns:1fr}.c-variant{width:12%}.c-reason{width:20%}}
`;
