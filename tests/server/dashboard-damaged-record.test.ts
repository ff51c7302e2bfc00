/**
 * The dashboard and a damaged audit record: when the live stream sends `damaged` in place of a
 * transition the store cannot read, the page tells the operator (an error naming the strategy and
 * the record) and reads that strategy again, so its row, and its page when it is open, show the
 * state it is in instead of the one before the record. The record is damaged in the very commit
 * that writes it (a SQLite trigger, through a connection of its own), as in
 * stream-damaged-record.test.ts; Debian's chromium driven by playwright-core.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startService, type RunningService } from '../../server/service';
import { createSimulatedClock } from '../../services/market/clock';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM } from '../support/fixtures';
import { launchChromium } from './browser';

const TOKEN = 'm'.repeat(32);
/** Short enough that a page that never reads again fails in seconds, long enough for a loaded machine. */
const WAIT = { timeout: 10_000 };

let service: RunningService;
let cleanup: () => void = () => undefined;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

const post = (path: string, body: unknown) =>
  fetch(service.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).then((r) => r.status);
const row = (id: string) => `#rows tr[data-id="${id}"]`;

beforeAll(async () => {
  const tmp = tempDir('sl-dashboard-damaged-');
  cleanup = tmp.cleanup;
  service = await startService({
    dataDir: tmp.dir,
    port: 0,
    logger: false,
    token: TOKEN,
    clock: createSimulatedClock(FRIDAY_11AM),
    market: false,
  });
  // Every record of b is damaged as it is written; a's are not.
  const db = new Database(join(tmp.dir, 'strategy-lifecycle.db'));
  db.exec(`CREATE TRIGGER damage AFTER INSERT ON audit_records WHEN NEW.strategy_id = 'b'
           BEGIN UPDATE audit_records SET record = '{bad' WHERE feed_id = NEW.feed_id; END`);
  db.close();
  expect(await post('/strategies', { id: 'a', variant: 'lt112' })).toBe(201);
  expect(await post('/strategies', { id: 'b', variant: 'lt112' })).toBe(201);
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
}, 30_000);

afterEach(() => {
  expect(pageErrors).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await service?.close();
  cleanup();
});

test('the list page reports the damaged record and shows the strategy as it is now', async () => {
  await page.goto(`${service.url}/`);
  await page.waitForSelector('#conn[data-conn="live"]');
  await page.waitForSelector(`${row('b')}[data-state="INITIALIZING"]`);
  expect(await post('/strategies/b/events', { type: 'MARKET_OPEN' })).toBe(200); // b#1, damaged as it is written

  const message = await page.waitForSelector('.msg-error', WAIT);
  const text = await message.textContent();
  expect(text).toContain('b');
  expect(text).toContain('#1');
  expect(text).toContain('STORE_CORRUPT');
  expect(text).toMatch(/its record column is not JSON/);
  await page.waitForSelector(`${row('b')}[data-state="READY"]`, WAIT);
  // The stream reads on past it: a's transitions still arrive live.
  expect(await post('/strategies/a/events', { type: 'MARKET_OPEN' })).toBe(200);
  await page.waitForSelector(`${row('a')}[data-state="READY"]`, WAIT);
  expect(await page.getAttribute('#conn', 'data-conn')).toBe('live');
  await page.click('.msg-error .msg-close');
});

test("the strategy's own page reports it and reads the strategy again: state, facts and trail", async () => {
  await page.goto(`${service.url}/ui/strategies/b`);
  await page.waitForSelector('#conn[data-conn="live"]');
  await page.waitForSelector('#strategy-badge [data-state="READY"]');
  await page.waitForSelector('#audit-rows tr[data-seq="1"]');
  expect(await post('/strategies/b/events', { type: 'SYSTEM_ERROR', reason: 'feed lost' })).toBe(200); // b#2, damaged

  const message = await page.waitForSelector('.msg-error', WAIT);
  const text = await message.textContent();
  expect(text).toContain('b');
  expect(text).toContain('#2');
  expect(text).toContain('STORE_CORRUPT');
  await page.waitForSelector('#strategy-badge [data-state="ERROR"]', WAIT);
  // The trail comes from the service's own copy of b's records, which is whole.
  await page.waitForSelector('#audit-rows tr[data-seq="2"]', WAIT);
  expect(await page.textContent('#facts')).toContain('feed lost');
  expect(await page.$$('.msg-error')).toHaveLength(1);
});
