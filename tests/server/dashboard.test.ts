/**
 * The dashboard in a real browser: Debian's chromium (`apt-get install -y chromium`) driven by
 * playwright-core, against the service started in-process on a free port. Never downloads a
 * browser; screenshots go to /tmp for a person to look at.
 *
 * The service runs the market driver on a simulated clock that stands still at Monday
 * 2026-11-23 10:00 ET: the header's phase and next bell and the DTE monitor's exit are the real
 * driver's, and nothing moves unless the test sends it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './browser';
import { startService, type RunningService } from '../../server/service';
import { createSimulatedClock } from '../../services/market/clock';
import { STRATEGY_EVENT_TYPES } from '../../machines/events';
import { dashboardBuildDir, DashboardNotBuiltError, readDashboardFile } from '../../server/dashboard/assets';

const TOKEN = 'x'.repeat(32);
const HOSTILE = '<img src=x onerror="window.__xss=1"> & "quotes"';

let service: RunningService;
let browser: Browser;
let page: Page;
let dataDir: string;
const pageErrors: string[] = [];
const requested: string[] = [];

/** A JSON answer, read by property path; the expectations on it are the check. */
interface Json {
  readonly [key: string]: Json;
}

async function api(method: string, path: string, body?: unknown, token: string | null = TOKEN): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(service.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as Json };
}

const send = (id: string, event: Record<string, unknown>) => api('POST', `/strategies/${id}/events`, event);
const row = (id: string) => `#rows tr[data-id="${id}"]`;

/** The part of a canvas element the pixel count reads (the tests compile without the DOM lib). */
type CanvasLike = {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
};

/** Pixels of a canvas that are drawn (alpha > 0), or exactly of one colour (`[r, g, b]`, opaque). */
const pixels = (selector: string, rgb?: [number, number, number]) =>
  page.$eval(
    selector,
    (canvas, colour) => {
      const c = canvas as unknown as CanvasLike;
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (
          colour ? data[i] === colour[0] && data[i + 1] === colour[1] && data[i + 2] === colour[2] && data[i + 3] === 255 : data[i + 3] > 0
        )
          n++;
      }
      return n;
    },
    rgb ?? null,
  );
const CYAN: [number, number, number] = [0x22, 0xd3, 0xee]; // the idle family (INITIALIZING, READY)
const BLUE: [number, number, number] = [0x60, 0xa5, 0xfa]; // the entry family (ANALYZING)
const RED: [number, number, number] = [0xef, 0x44, 0x44]; // a rejected trigger's mark

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'dashboard-test-'));
  service = await startService({
    dataDir,
    port: 0,
    logger: false,
    token: TOKEN,
    clock: createSimulatedClock('2026-11-23T10:00:00-05:00'),
    market: {},
  });
  for (const [id, variant] of [
    ['lt112-spx', 'lt112'],
    ['strangle-spy', 'strangle'],
    ['0dte-spx', 'zeroDte'],
  ]) {
    expect((await api('POST', '/strategies', { id, variant, params: { underlying: 'SPX' } })).status).toBe(201);
  }
  // One strategy already in ERROR, with a reason that is markup.
  await send('0dte-spx', { type: 'MARKET_OPEN' });
  await send('0dte-spx', { type: 'SYSTEM_ERROR', reason: HOSTILE });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('request', (request) => requested.push(request.url()));
}, 30_000);

afterEach(() => {
  expect(pageErrors).toEqual([]); // no script error in the page, ever
});

afterAll(async () => {
  await browser?.close();
  await service?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('dashboard', () => {
  it('lists every strategy with its state, and shows API strings as text', async () => {
    await page.goto(`${service.url}/`);
    await page.waitForSelector('#conn[data-conn="live"]');
    await page.waitForSelector(row('0dte-spx'));
    for (const id of ['lt112-spx', 'strangle-spy', '0dte-spx']) expect(await page.textContent(row(id))).toContain(id);
    expect(await page.textContent(`${row('lt112-spx')} .c-state`)).toBe('INITIALIZING');
    expect(await page.textContent(`${row('0dte-spx')} .c-state`)).toBe('ERROR');
    // The reason is shown as it was sent, and never parsed as markup.
    expect(await page.textContent(`${row('0dte-spx')} .c-reason`)).toBe(HOSTILE);
    expect(await page.$('#rows img')).toBeNull();
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    expect(await page.textContent('#tile-error .tile-value')).toBe('1');
    expect(await page.textContent('#trading-state-badge')).toBe('ACTIVE');
    await page.screenshot({ path: '/tmp/dashboard-main.png' });
  });

  it('moves a strategy live when an event is posted through the API, without a reload', async () => {
    await page.evaluate('window.__sameDocument = true');
    expect((await send('lt112-spx', { type: 'MARKET_OPEN' })).status).toBe(200);
    await page.waitForSelector(`${row('lt112-spx')}[data-state="READY"]`);
    expect(await page.textContent(`${row('lt112-spx')} .c-state`)).toBe('READY');
    expect(await page.textContent('.count[data-state="READY"] .count-n')).toBe('1');
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
  });

  it('shows a strategy created through the API while the page is open, and drops it once removed, without a reload', async () => {
    await page.evaluate('window.__sameDocument = true');
    expect((await api('POST', '/strategies', { id: 'late-arrival', variant: 'lt112', params: { underlying: 'SPX' } })).status).toBe(201);
    await page.waitForSelector(`${row('late-arrival')}[data-state="INITIALIZING"]`, { timeout: 5000 });
    expect(await page.textContent('#tile-total .tile-value')).toBe('4');
    expect((await api('DELETE', '/strategies/late-arrival')).status).toBe(204);
    await page.waitForSelector(row('late-arrival'), { state: 'detached', timeout: 5000 });
    expect(await page.textContent('#tile-total .tile-value')).toBe('3');
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
  });

  it('draws time in state per strategy and the count per state over time, and moves them live', async () => {
    await page.waitForSelector('#chart-counts[aria-label="Strategies per state over time; now INITIALIZING 1, READY 1, ERROR 1"]');
    await page.waitForSelector(
      '#chart-time[aria-label="Time in state per strategy: 0dte-spx ERROR; lt112-spx READY; strangle-spy INITIALIZING"]',
    );
    expect(await pixels('#chart-counts')).toBeGreaterThan(2000);
    expect(await pixels('#chart-counts', CYAN)).toBeGreaterThan(20); // READY's and INITIALIZING's lines
    expect(await pixels('#chart-time', CYAN)).toBeGreaterThan(200); // their bars
    expect((await api('POST', '/strategies', { id: 'chart-probe', variant: 'lt112' })).status).toBe(201);
    await page.waitForSelector('#chart-counts[aria-label="Strategies per state over time; now INITIALIZING 2, READY 1, ERROR 1"]');
    await page.waitForSelector(
      '#chart-time[aria-label="Time in state per strategy: 0dte-spx ERROR; chart-probe INITIALIZING; lt112-spx READY; strangle-spy INITIALIZING"]',
    );
    await page.screenshot({ path: '/tmp/dashboard-charts-main.png' });
    expect((await api('DELETE', '/strategies/chart-probe')).status).toBe(204);
    await page.waitForSelector('#chart-counts[aria-label="Strategies per state over time; now INITIALIZING 1, READY 1, ERROR 1"]');
    await page.waitForSelector(
      '#chart-time[aria-label="Time in state per strategy: 0dte-spx ERROR; lt112-spx READY; strangle-spy INITIALIZING"]',
    );
  });

  it("opens a strategy's page with its diagram highlighting the current state, live, and its audit trail", async () => {
    await page.click(`${row('lt112-spx')} a`);
    await page.waitForURL(/\/ui\/strategies\/lt112-spx$/);
    await page.waitForSelector('#diagram svg g[data-state="READY"].current');
    expect(await page.$$eval('#diagram svg g.current', (nodes) => nodes.map((n) => n.getAttribute('data-state')))).toEqual(['READY']);
    await page.waitForSelector('#audit-rows tr.accepted');

    expect((await send('lt112-spx', { type: 'TIME_WINDOW_START' })).status).toBe(200);
    await page.waitForSelector('#diagram svg g[data-state="ANALYZING"].current');
    expect(await page.$$eval('#diagram svg g.current', (nodes) => nodes.map((n) => n.getAttribute('data-state')))).toEqual(['ANALYZING']);
    // A rejected trigger lands in the trail as rejected, newest first.
    expect((await send('lt112-spx', { type: 'ORDER_FILLED', quantity: 1 })).status).toBe(409);
    await page.waitForSelector('#audit-rows tr.rejected');
    const first = await page.$eval('#audit-rows tr', (tr) => ({ cls: tr.className, text: tr.textContent }));
    expect(first.cls).toBe('rejected');
    expect(first.text).toContain('NO_EDGE');
    expect(await page.$$eval('#audit-rows tr', (rows) => rows.map((r) => Number(r.getAttribute('data-seq'))))).toEqual([3, 2, 1]);
    await page.screenshot({ path: '/tmp/dashboard-strategy.png', fullPage: true });
  });

  it("draws the strategy's states over the day as a timeline from its audit trail, rejected triggers as marks", async () => {
    // lt112-spx's trail: MARKET_OPEN (to READY), TIME_WINDOW_START (to ANALYZING), ORDER_FILLED refused in ANALYZING.
    await page.waitForSelector('#chart-timeline[data-rejected="1"]');
    expect(await page.getAttribute('#chart-timeline', 'aria-label')).toBe(
      'State timeline of the day: INITIALIZING, READY, ANALYZING; 1 rejected trigger',
    );
    expect(await page.getAttribute('#chart-timeline', 'data-strips')).toBe('3');
    expect(await pixels('#chart-timeline', CYAN)).toBeGreaterThan(20);
    expect(await pixels('#chart-timeline', BLUE)).toBeGreaterThan(20);
    expect(await pixels('#chart-timeline', RED)).toBeGreaterThan(3);
    // Another refusal lands on the timeline live.
    expect((await send('lt112-spx', { type: 'ORDER_FILLED', quantity: 1 })).status).toBe(409);
    await page.waitForSelector('#chart-timeline[data-rejected="2"]');
    expect(await page.getAttribute('#chart-timeline', 'aria-label')).toBe(
      'State timeline of the day: INITIALIZING, READY, ANALYZING; 2 rejected triggers',
    );
    await page.screenshot({ path: '/tmp/dashboard-charts-strategy.png', fullPage: true });
  });

  it('shows the UNAUTHORIZED error when Suspend all is pressed without a token', async () => {
    await page.click('.crumbs a[href="/"]');
    await page.waitForSelector(row('lt112-spx'));
    await page.fill('#token', '');
    await page.fill('#op-reason', 'FOMC at 14:00');
    await page.click('#btn-suspend');
    const error = await page.waitForSelector('.msg-error');
    expect(await error.textContent()).toContain('UNAUTHORIZED');
    expect(await error.textContent()).toContain('Authorization: Bearer');
    expect((await api('GET', '/summary')).body.suspended).toBe(0);
    await page.click('.msg-error .msg-close');
  });

  it('suspends every strategy that can be when Suspend all is pressed with the token and a reason', async () => {
    expect((await send('strangle-spy', { type: 'MARKET_OPEN' })).status).toBe(200);
    await page.waitForSelector(`${row('strangle-spy')}[data-state="READY"]`);
    await page.fill('#token', TOKEN);
    await page.fill('#op-reason', 'FOMC at 14:00');
    await page.click('#btn-suspend');
    await page.waitForSelector('.msg-ok');
    const summary = (await api('GET', '/summary')).body;
    expect(summary.suspended).toBe(2); // lt112-spx (ANALYZING) and strangle-spy (READY); 0dte-spx is in ERROR
    expect(summary.countByState.SUSPENDED).toBe(2);
    await page.waitForSelector(`${row('strangle-spy')}[data-state="SUSPENDED"]`);
    await page.waitForSelector(`${row('lt112-spx')}[data-state="SUSPENDED"]`);
    expect(await page.textContent('#tile-suspended .tile-value')).toBe('2');
    expect(await page.evaluate("sessionStorage.getItem('strategy-lifecycle.token')")).toBe(TOKEN);
  });

  it('asks before the kill switch, and sets the trading state from the selector', async () => {
    await page.click('#btn-kill');
    await page.waitForSelector('#kill-dialog[open]');
    await page.click('#kill-cancel');
    await page.waitForSelector('#kill-dialog', { state: 'hidden' });
    expect((await api('GET', '/health')).body.tradingState).toBe('ACTIVE');

    await page.selectOption('#trading-select', 'REDUCING');
    await page.click('#btn-trading');
    await page.waitForSelector('#trading-state-badge[data-trading="REDUCING"]');
    expect((await api('GET', '/health')).body.tradingState).toBe('REDUCING');
  });

  it('sends a manual override from the strategy page and shows a rejection with its code', async () => {
    await page.goto(`${service.url}/ui/strategies/strangle-spy`);
    await page.waitForSelector('#diagram svg g[data-state="SUSPENDED"].current');
    // Empty reason and operator: the API says which field is wrong.
    await page.selectOption('#override-target', 'READY');
    await page.click('#override-send');
    expect(await (await page.waitForSelector('.msg-error')).textContent()).toContain('INVALID_EVENT');
    await page.fill('#override-reason', 'FOMC passed');
    await page.fill('#override-operator', 'alice');
    await page.click('#override-send');
    await page.waitForSelector('#diagram svg g[data-state="READY"].current');
    expect((await api('GET', '/strategies/strangle-spy')).body.strategy.state).toBe('READY');
    expect(await page.textContent('#audit-rows tr:first-child')).toContain('MANUAL_OVERRIDE');
  });

  it('shows the market phase and the next bell in the header, in ET, as GET /market gives them', async () => {
    const market = (await api('GET', '/market')).body;
    expect(market).toMatchObject({
      driver: true,
      simulated: false,
      phase: 'open',
      nextBell: { type: 'MARKET_CLOSE', at: '2026-11-23T16:00:00.000-05:00' },
      instance: null,
    });
    await page.goto(`${service.url}/`);
    await page.waitForSelector('#market-phase[data-phase="open"]');
    expect(await page.textContent('#market-phase')).toBe('OPEN');
    expect(await page.textContent('#market-next')).toBe('closes Mon 2026-11-23 16:00 ET');
  });

  it("shows each strategy's next scheduled event: the ERROR recovery time, and the DTE monitor's exit date", async () => {
    // 0dte-spx went to ERROR at 10:00 ET: recovery 30 minutes later.
    expect((await api('GET', '/strategies/0dte-spx')).body.strategy.schedule).toEqual([
      { kind: 'ERROR_RECOVERY', label: 'error recovery', at: '2026-11-23T10:30:00.000-05:00' },
    ]);
    await page.goto(`${service.url}/`);
    await page.waitForSelector(row('0dte-spx'));
    expect(await page.textContent(`${row('0dte-spx')} .c-next`)).toBe('error recovery Mon 2026-11-23 10:30 ET');
    // Entries are refused while REDUCING (set above).
    expect((await api('POST', '/system/trading-state', { state: 'ACTIVE', reason: 'back to normal' })).status).toBe(200);
    // A strangle filled on a 2027-01-15 expiry: 21 DTE is Christmas Day, so the exit is the next open.
    expect((await api('POST', '/strategies', { id: 'strangle-dte', variant: 'strangle' })).status).toBe(201);
    for (const event of [
      { type: 'MARKET_OPEN' },
      { type: 'TIME_WINDOW_START' },
      { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-01-15' },
      { type: 'ORDER_SUBMITTED' },
      { type: 'ORDER_FILLED', quantity: 1, expiry: '2027-01-15' },
    ]) {
      const answer = await send('strangle-dte', event);
      expect([answer.status, answer.body.result?.reason]).toEqual([200, undefined]);
    }
    // The driver picks strategies created through the API up within half a second.
    let schedule: unknown[] = [];
    for (const until = Date.now() + 5000; Date.now() < until && schedule.length === 0; await new Promise((r) => setTimeout(r, 100))) {
      const answer: unknown = (await api('GET', '/strategies/strangle-dte')).body.strategy.schedule;
      schedule = Array.isArray(answer) ? answer : [];
    }
    expect(schedule).toEqual([{ kind: 'DEFENSIVE_EXIT_DTE', label: '21-DTE exit', at: '2026-12-28T09:30:00.000-05:00' }]);
    await page.reload();
    await page.waitForSelector(row('strangle-dte'));
    expect(await page.textContent(`${row('strangle-dte')} .c-next`)).toBe('21-DTE exit Mon 2026-12-28 09:30 ET');
    await page.click(`${row('strangle-dte')} a`);
    await page.waitForSelector('#facts dd');
    expect(await page.textContent('#facts')).toContain('21-DTE exit 2026-12-28 09:30:00 ET');
  });

  it('labels every time it shows ET (header, table, facts, audit trail)', async () => {
    await page.waitForSelector('#audit-rows tr');
    const times = await page.$$eval('#audit-rows td:nth-child(2), #market-next, #facts dd', (cells) =>
      cells.map((c) => c.textContent ?? ''),
    );
    const clockTimes = times.filter((t) => /\d\d:\d\d/.test(t));
    expect(clockTimes.length).toBeGreaterThan(3);
    for (const t of clockTimes) expect(t).toMatch(/\d\d:\d\d(:\d\d)? ET($|;|\))/);
  });

  it('sends any event of the union with a JSON payload, and shows the API error when it is refused', async () => {
    await page.goto(`${service.url}/ui/strategies/strangle-spy`);
    await page.waitForSelector('#diagram svg g[data-state="READY"].current');
    const types = await page.$$eval('#event-type option', (options) => options.map((o) => o.getAttribute('value')));
    expect(types).toEqual([...STRATEGY_EVENT_TYPES]);
    // Choosing a type fills in an example payload of that type.
    await page.selectOption('#event-type', 'ORDER_FILLED');
    expect(JSON.parse(await page.inputValue('#event-payload'))).toMatchObject({ quantity: 1 });
    await page.fill('#event-payload', '{ "quantity": 2 }');
    await page.click('#event-send');
    const refused = await (await page.waitForSelector('.msg-error')).textContent();
    expect(refused).toContain('NO_EDGE (409)');
    expect(refused).toContain('READY has no edge for ORDER_FILLED');
    await page.click('.msg-error .msg-close');
    // Not JSON: said before anything is sent.
    await page.fill('#event-payload', '{ quantity: ');
    await page.click('#event-send');
    expect(await (await page.waitForSelector('.msg-error')).textContent()).toContain('INVALID_JSON');
    await page.click('.msg-error .msg-close');
    // A field the type does not have: the API names it.
    await page.selectOption('#event-type', 'TIME_WINDOW_START');
    await page.fill('#event-payload', '{ "vix": 20 }');
    await page.click('#event-send');
    expect(await (await page.waitForSelector('.msg-error')).textContent()).toContain('INVALID_EVENT (400)');
    await page.click('.msg-error .msg-close');
    await page.fill('#event-payload', '{}');
    await page.click('#event-send');
    await page.waitForSelector('#diagram svg g[data-state="ANALYZING"].current');
    expect((await api('GET', '/strategies/strangle-spy')).body.strategy.state).toBe('ANALYZING');
    expect(await page.textContent('#audit-rows tr:first-child')).toContain('TIME_WINDOW_START');
    await page.screenshot({ path: '/tmp/dashboard-send-event.png', fullPage: true });
  });

  it('answers an unknown strategy id with a not-found page (HTML, 404), the id shown as text', async () => {
    const response = await page.goto(`${service.url}/ui/strategies/${encodeURIComponent('no-such<b>x</b>')}`);
    expect(response!.status()).toBe(404);
    expect(response!.headers()['content-type']).toMatch(/^text\/html/);
    expect(await page.textContent('h1')).toBe('Strategy not found');
    expect(await page.textContent('main code')).toBe('no-such<b>x</b>');
    expect(await page.$('main b')).toBeNull();
    await page.click('a[href="/"] >> text=All strategies');
    await page.waitForSelector(row('lt112-spx'));
    // A known id is the dashboard itself, at its own address.
    expect((await page.goto(`${service.url}/ui/strategies/lt112-spx`))!.status()).toBe(200);
    await page.waitForSelector('#diagram svg g.current');
  });

  it('loads every file from the service itself (no CDN): the script bundles chart.js', async () => {
    expect(requested.length).toBeGreaterThan(10);
    expect(requested.filter((url) => !url.startsWith(`${service.url}/`) && !url.startsWith('data:'))).toEqual([]);
    const script = await fetch(`${service.url}/app.js`);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    const body = await script.text();
    expect(body).toContain('Chart.js v4'); // chart.js's licence banner, kept by esbuild
    expect(body).not.toMatch(/https?:\/\/(cdn|unpkg|esm\.sh)/);
    expect((await fetch(`${service.url}/style.css`)).headers.get('content-type')).toMatch(/^text\/css/);
  });
});

describe('the dashboard build', () => {
  it('is found in dist/dashboard from the sources, from dist/esm and from dist/cjs', () => {
    const dir = dashboardBuildDir();
    expect(dir).toBe(join(__dirname, '..', '..', 'dist', 'dashboard'));
    expect(readDashboardFile(dir, 'app.js').length).toBeGreaterThan(10_000);
    const root = join(__dirname, '..', '..');
    const esm = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { dashboardBuildDir } from './dist/esm/server/dashboard/assets.js'; console.log(dashboardBuildDir());",
      ],
      { cwd: root, encoding: 'utf8' },
    );
    const cjs = execFileSync(
      process.execPath,
      ['-e', "console.log(require('./dist/cjs/server/dashboard/assets.js').dashboardBuildDir());"],
      { cwd: root, encoding: 'utf8' },
    );
    expect([esm.trim(), cjs.trim()]).toEqual([dir, dir]);
  });

  it('says the dashboard is not built when a file is missing', () => {
    const empty = mkdtempSync(join(tmpdir(), 'dashboard-empty-'));
    try {
      expect(() => readDashboardFile(empty, 'app.js')).toThrow(DashboardNotBuiltError);
      expect(() => readDashboardFile(empty, 'app.js')).toThrow('run npm run build');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
