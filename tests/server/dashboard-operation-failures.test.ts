/**
 * Suspend all and Resume all in the dashboard tell the operator which strategies they tried and
 * could not move. The API lists those among `skipped` with why (a refused transition, a write
 * that failed); before, the dashboard counted them in a green "N skipped (not READY, ANALYZING or
 * PENDING_ENTRY)" and a green "N could not resume": a READY strategy left running through an FOMC
 * read as one that was never meant to be suspended.
 */
import type { Browser, Page } from 'playwright-core';
import { lt112, strangle } from '../../machines/variants/index';
import type { StrategyDefinition } from '../../machines/definition';
import { launchChromium } from './browser';
import { serviceFixture } from './services';

const TOKEN = 'op-failures-token-0123456789';
const start = serviceFixture('sl-op-failures-', TOKEN);

/** Variants whose hook refuses one move, as a user hook that throws does (audited HOOK_FAILED). */
const refusesSuspension: StrategyDefinition = {
  ...strangle,
  id: 'noSuspend',
  name: 'refuses suspension',
  hooks: {
    onEnter: {
      SUSPENDED: () => {
        throw new Error('risk system unreachable');
      },
    },
  },
};
const refusesResumption: StrategyDefinition = {
  ...strangle,
  id: 'noResume',
  name: 'refuses resumption',
  hooks: {
    onExit: {
      SUSPENDED: () => {
        throw new Error('broker session closed');
      },
    },
  },
};

let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
beforeAll(async () => {
  browser = await launchChromium();
}, 30_000);
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await page?.close();
  expect(pageErrors).toEqual([]);
});

test('Suspend all and Resume all show the strategies they could not move as a failure, each with why', async () => {
  const service = await start({ variants: [lt112, refusesSuspension, refusesResumption] });
  const call = (path: string, body: unknown) =>
    fetch(service.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then((r) => r.status);
  for (const [id, variant] of [
    ['plain', 'lt112'],
    ['stubborn', 'noSuspend'],
    ['sticky', 'noResume'],
    ['fresh', 'lt112'],
  ]) {
    expect(await call('/strategies', { id, variant, params: { underlying: 'SPX' } })).toBe(201);
    // `fresh` stays INITIALIZING: Suspend all leaves it alone, untried.
    if (id !== 'fresh') expect(await call(`/strategies/${id}/events`, { type: 'MARKET_OPEN' })).toBe(200);
  }
  page = await browser.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${service.url}/`);
  await page.waitForSelector('#rows tr[data-id="sticky"]');
  await page.fill('#token', TOKEN);
  await page.fill('#op-reason', 'FOMC at 14:00');

  await page.click('#btn-suspend');
  const suspendError = await page.waitForSelector('.msg-error, .msg-ok');
  expect(await suspendError.getAttribute('class')).toContain('msg-error');
  const suspendText = await suspendError.textContent();
  expect(suspendText).toContain('Suspended 2, 1 failed');
  expect(suspendText).toContain('stubborn (READY)');
  expect(suspendText).toContain('risk system unreachable');
  expect(suspendText).toContain('1 skipped (not READY, ANALYZING or PENDING_ENTRY)');
  expect(await page.$$('.msg-ok')).toHaveLength(0);
  await page.click('.msg-error .msg-close');
  await page.waitForSelector('.msg-error', { state: 'detached' });

  await page.click('#btn-resume');
  const resumeError = await page.waitForSelector('.msg-error, .msg-ok');
  expect(await resumeError.getAttribute('class')).toContain('msg-error');
  const resumeText = await resumeError.textContent();
  expect(resumeText).toContain('Resumed 1, 1 failed');
  expect(resumeText).toContain('sticky (SUSPENDED)');
  expect(resumeText).toContain('broker session closed');
  expect(await page.$$('.msg-ok')).toHaveLength(0);

  // The API said the same: the dashboard reports it, it does not make it up.
  const summary = (await fetch(`${service.url}/summary`).then((r) => r.json())) as { countByState: Record<string, number> };
  expect(summary.countByState).toMatchObject({ READY: 2, SUSPENDED: 1, INITIALIZING: 1 });
}, 30_000);
