/**
 * The trading state and suspend routes refuse a reason or operator the store cannot keep (a NUL
 * character, half of a surrogate pair) with 400 INVALID_REQUEST naming the field, and change
 * nothing. Before, the schema took any string of 1-500 characters: on PostgreSQL a NUL was a 503
 * (the write failed), on SQLite it was stored as it came. The kill switch takes any text and makes
 * it storable instead (kill-switch-text.test.ts).
 */
import { serviceFixture } from './services';

const TOKEN = 'r'.repeat(40);
const start = serviceFixture('sl-reason-text-', TOKEN);

const CASES: Array<[string, string, Record<string, unknown>, string]> = [
  ['trading state, NUL in the reason', '/system/trading-state', { state: 'HALTED', reason: 'fat finger\u0000' }, 'reason'],
  ['trading state, NUL in the operator', '/system/trading-state', { state: 'HALTED', reason: 'risk', operator: 'o\u0000ps' }, 'operator'],
  ['suspend, NUL in the reason', '/system/suspend', { reason: 'FOMC\u0000' }, 'reason'],
  // Suspend all takes only a reason (its records name the operator `system`), as docs/http.md says.
  ['suspend, with an operator', '/system/suspend', { reason: 'FOMC', operator: 'alice' }, 'operator'],
  // The kill switch's own mark: a restart would take this halt for an interrupted kill switch and flatten everything.
  ['trading state, HALTED marked as a kill switch', '/system/trading-state', { state: 'HALTED', reason: 'kill switch: by hand' }, 'reason'],
];

test.each(CASES)('%s: 400 naming the field, nothing changed', async (_name, url, body, field) => {
  const { app, system } = await start();
  await app.inject({
    method: 'POST',
    url: '/strategies',
    headers: { authorization: `Bearer ${TOKEN}` },
    payload: { id: 'lt-1', variant: 'lt112', params: { underlying: 'SPX' } },
  });
  await system.send('lt-1', { type: 'MARKET_OPEN' });
  const response = await app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${TOKEN}` }, payload: body });
  expect(response.statusCode).toBe(400);
  expect(response.json()).toMatchObject({ error: { code: 'INVALID_REQUEST', field } });
  expect(system.tradingState).toBe('ACTIVE');
  expect(system.tradingStateHistory()).toHaveLength(0);
  expect(system.get('lt-1').state).toBe('READY');
});

test('a good reason still goes through', async () => {
  const { app, system } = await start();
  const response = await app.inject({
    method: 'POST',
    url: '/system/trading-state',
    headers: { authorization: `Bearer ${TOKEN}` },
    payload: { state: 'REDUCING', reason: 'drawdown', operator: 'alice' },
  });
  expect(response.statusCode).toBe(200);
  expect(system.tradingState).toBe('REDUCING');
});
