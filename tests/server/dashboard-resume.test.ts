/**
 * The dashboard resumes its live stream: when the connection drops, the browser's EventSource
 * reconnects by itself with `Last-Event-ID`, and the page catches up from what the service sends
 * (from the store) without reading everything again; after a restart of the service too (the
 * transitions from the store, and the list read again for what only the earlier start knew). Debian's
 * chromium driven by playwright-core, as in dashboard.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './browser';
import { startService, type RunningService } from '../../server/service';
import { createSimulatedClock } from '../../services/market/clock';

const TOKEN = 'y'.repeat(32);

let service: RunningService;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let dataDir: string;
const pageErrors: string[] = [];
/** Every request of the page: its URL and the Last-Event-ID it carried. */
const requests: Array<{ url: string; headers: Promise<Record<string, string>> }> = [];
/** The Last-Event-ID the page's newest `GET /events` carried (set by the browser's network stack, so read from all headers). */
const lastStreamId = async () => (await requests.filter((r) => new URL(r.url).pathname === '/events').at(-1)!.headers)['last-event-id'];

const start = (port = 0) =>
  startService({ dataDir, port, logger: false, token: TOKEN, clock: createSimulatedClock('2026-11-23T10:00:00-05:00'), market: false });
const send = (event: Record<string, unknown>) =>
  fetch(`${service.url}/strategies/r1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(event),
  }).then((r) => r.status);
const EVENTS = '**/events*';
/**
 * Drops the page's stream: reconnections are refused (a network error, so EventSource keeps
 * trying) until the test lets them through with `page.unroute(EVENTS)`, and the open one is cut.
 */
async function cut() {
  await page.route(EVENTS, (route) => route.abort());
  service.app.server.closeAllConnections();
  await page.waitForSelector('#conn[data-conn="reconnecting"]');
}
const state = () => page.getAttribute('#rows tr[data-id="r1"]', 'data-state');

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'dashboard-resume-'));
  service = await start();
  const created = await fetch(`${service.url}/strategies`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'r1', variant: 'lt112' }),
  });
  expect(created.status).toBe(201);
  browser = await launchChromium();
  context = await browser.newContext();
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('request', (request) => requests.push({ url: request.url(), headers: request.allHeaders() }));
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await service?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('a dropped stream is resumed with Last-Event-ID: the transitions missed arrive, nothing is read again', async () => {
  await page.goto(`${service.url}/`);
  await page.waitForSelector('#conn[data-conn="live"]');
  await page.waitForSelector('#rows tr[data-id="r1"][data-state="INITIALIZING"]');
  await page.evaluate('window.__sameDocument = true');
  requests.length = 0;
  await cut();
  expect(await send({ type: 'MARKET_OPEN' })).toBe(200); // missed while cut off
  expect(await state()).toBe('INITIALIZING');
  await page.unroute(EVENTS);
  await page.waitForSelector('#rows tr[data-id="r1"][data-state="READY"]', { timeout: 15_000 });
  await page.waitForSelector('#conn[data-conn="live"]');
  expect(await lastStreamId()).toMatch(/^[0-9a-f]{8}-\d+\/\d+$/);
  // Resumed: the list was not read again.
  expect(requests.filter((r) => new URL(r.url).pathname === '/strategies')).toEqual([]);
  expect(await page.evaluate('window.__sameDocument')).toBe(true);
  expect(pageErrors).toEqual([]);
});

test('after a restart of the service the page resumes from the store and shows what happened meanwhile', async () => {
  await page.route(EVENTS, (route) => route.abort());
  const port = Number(new URL(service.url).port);
  await service.close();
  service = await start(port);
  expect(await send({ type: 'SYSTEM_ERROR', reason: 'missed across the restart' })).toBe(200);
  await page.waitForSelector('#conn[data-conn="reconnecting"]');
  requests.length = 0;
  const reread = page.waitForRequest((request) => new URL(request.url()).pathname === '/strategies');
  await page.unroute(EVENTS);
  await page.waitForSelector('#rows tr[data-id="r1"][data-state="ERROR"]', { timeout: 15_000 });
  expect(await lastStreamId()).toMatch(/^[0-9a-f]{8}-\d+\/\d+$/);
  // What only the earlier start knew (added, removed, trading state) is read again, in place.
  await reread;
  expect(await page.evaluate('window.__sameDocument')).toBe(true);
  expect(pageErrors).toEqual([]);
});
