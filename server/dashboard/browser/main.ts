/**
 * The dashboard's browser script (built by esbuild into dist/dashboard/app.js, served as
 * `/app.js`): wires the header, opens the live stream and shows the page the address names.
 */
import { drawListCharts } from './listPage.js';
import { wireOperator } from './operator.js';
import { route, wireLinks } from './router.js';
import { connect, loadAll, loadMarket } from './stream.js';
import { duration } from './util.js';

setInterval(loadMarket, 15000);
// Time in state grows while nothing happens: the list page's charts are redrawn every few seconds.
setInterval(drawListCharts, 5000);

// Time in state ticks in place: only the text of those cells changes.
setInterval(() => {
  const now = Date.now();
  document.querySelectorAll<HTMLElement>('.c-time[data-since]').forEach((cell) => {
    cell.textContent = duration(Number(cell.dataset.base) + (now - Number(cell.dataset.since)));
  });
}, 1000);

wireLinks();
wireOperator();
connect();
route();
void loadAll(); // also without the stream (it opens a moment later and reads again)
