/**
 * The dashboard in a real browser: Debian's chromium (`apt-get install -y chromium`) driven by
 * playwright-core, against the service started in-process on a free port. Never downloads a
 * browser; screenshots go to /tmp for a person to look at.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startService, type RunningService } from '../../server/service';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'x'.repeat(32);
const HOSTILE = '<img src=x onerror="window.__xss=1"> & "quotes"';

let service: RunningService;
let browser: Browser;
let page: Page;
let dataDir: string;
const pageErrors: string[] = [];

async function api(method: string, path: string, body?: unknown, token: string | null = TOKEN): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(service.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const send = (id: string, event: Record<string, unknown>) => api('POST', `/strategies/${id}/events`, event);
const row = (id: string) => `#rows tr[data-id="${id}"]`;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  dataDir = mkdtempSync(join(tmpdir(), 'dashboard-test-'));
  service = await startService({ dataDir, port: 0, logger: false, token: TOKEN, market: false });
  for (const [id, variant] of [['lt112-spx', 'lt112'], ['strangle-spy', 'strangle'], ['0dte-spx', 'zeroDte']]) {
    expect((await api('POST', '/strategies', { id, variant, params: { underlying: 'SPX' } })).status).toBe(201);
  }
  // One strategy already in ERROR, with a reason that is markup.
  await send('0dte-spx', { type: 'MARKET_OPEN' });
  await send('0dte-spx', { type: 'SYSTEM_ERROR', reason: HOSTILE });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
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

  it("opens a strategy's page with its diagram highlighting the current state, live, and its audit trail", async () => {
    await page.click(`${row('lt112-spx')} a`);
    await page.waitForURL(/#\/strategies\/lt112-spx$/);
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

  it('shows the UNAUTHORIZED error when Suspend all is pressed without a token', async () => {
    await page.click('a[href="#/"]');
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
    await page.goto(`${service.url}/#/strategies/strangle-spy`);
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
});
