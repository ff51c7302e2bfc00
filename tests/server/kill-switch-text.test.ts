/**
 * `POST /system/kill-switch` engages whatever its reason and operator say, as the programmatic
 * kill switch does: any string is taken and recorded made storable (`killSwitchText`: NUL
 * characters and halves of surrogate pairs become U+FFFD, a reason is cut to 500 characters
 * ending with an ellipsis, an operator to 64, an empty reason is "no reason given"). A body that
 * is not a kill switch's is still 400: no reason, a reason that is not a string, an unknown key,
 * a body that is not JSON. The OpenAPI document says so.
 *
 * Before, the route's schema refused a reason holding a NUL or longer than 500 characters with
 * 400, so an emergency script passing an error's long message could not engage the kill switch.
 */
import { killSwitchText, MAX_OPERATOR, MAX_REASON } from '../../services/runtime/operatorText';
import type { RunningService } from '../../server/service';
import { serviceFixture } from './services';

const TOKEN = 'k'.repeat(40);
const start = serviceFixture('sl-kill-switch-text-', TOKEN);

const killSwitch = (service: RunningService, payload: string) =>
  service.app.inject({
    method: 'POST',
    url: '/system/kill-switch',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    payload,
  });

/** A 2,000-character reason with a NUL in it, as an error's long message might be. */
const LONG_REASON = `broker rejected\u0000 ${'x'.repeat(2000)}`.slice(0, 2000);

test('a 2,000-character reason with a NUL engages the kill switch (202) and is recorded made storable', async () => {
  const service = await start();
  const operator = `ops\u0000${'o'.repeat(100)}`;
  const response = await killSwitch(service, JSON.stringify({ reason: LONG_REASON, operator }));
  expect(response.statusCode).toBe(202);
  expect(response.json()).toEqual({ status: 'flattening', tradingState: 'HALTED' });

  const normalized = killSwitchText(LONG_REASON, operator);
  expect(normalized.reason).toHaveLength(MAX_REASON);
  expect(normalized.reason.startsWith('broker rejected\uFFFD xxx')).toBe(true);
  expect(normalized.reason.endsWith('x\u2026')).toBe(true);
  expect(normalized.operator).toHaveLength(MAX_OPERATOR);
  expect(normalized.operator.startsWith('ops\uFFFDooo')).toBe(true);

  expect(service.system.tradingState).toBe('HALTED');
  const history = service.system.tradingStateHistory();
  expect(history).toHaveLength(1);
  expect(history[0]).toMatchObject({
    from: 'ACTIVE',
    to: 'HALTED',
    reason: `kill switch: ${normalized.reason}`,
    operator: normalized.operator,
  });
  expect(history[0].reason).not.toContain('\u0000');
  const health = (await service.app.inject({ method: 'GET', url: '/health' })).json<{ trading: unknown }>();
  expect(health.trading).toMatchObject({ state: 'HALTED', reason: `kill switch: ${normalized.reason}`, operator: normalized.operator });
});

test('half of a surrogate pair and an empty reason engage it too, recorded as the programmatic kill switch records them', async () => {
  const service = await start();
  // JSON.stringify keeps a lone surrogate as an escape (\ud800), which the body's parser reads back.
  expect((await killSwitch(service, JSON.stringify({ reason: 'risk \uD800' }))).statusCode).toBe(202);
  expect(service.system.tradingStateHistory()[0]).toMatchObject({ reason: 'kill switch: risk \uFFFD', operator: 'api' });

  const other = await start();
  expect((await killSwitch(other, JSON.stringify({ reason: '', operator: '' }))).statusCode).toBe(202);
  const { reason, operator } = killSwitchText('', '');
  expect([reason, operator]).toEqual(['no reason given', 'kill-switch']);
  expect(other.system.tradingStateHistory()[0]).toMatchObject({ to: 'HALTED', reason: `kill switch: ${reason}`, operator });
});

test.each<[string, string, string, string | undefined]>([
  ['no reason', JSON.stringify({ operator: 'ops' }), 'INVALID_REQUEST', 'reason'],
  ['a reason that is a number', JSON.stringify({ reason: 5 }), 'INVALID_REQUEST', 'reason'],
  ['a reason that is an object', JSON.stringify({ reason: { message: 'boom' } }), 'INVALID_REQUEST', 'reason'],
  ['an operator that is not a string', JSON.stringify({ reason: 'risk', operator: ['ops'] }), 'INVALID_REQUEST', 'operator'],
  ['an unknown key', JSON.stringify({ reason: 'risk', urgent: true }), 'INVALID_REQUEST', undefined],
  ['a body that is not JSON', '{"reason": "risk"', 'INVALID_JSON', undefined],
])('%s: still 400, the kill switch not engaged', async (_name, payload, code, field) => {
  const service = await start();
  const response = await killSwitch(service, payload);
  expect(response.statusCode).toBe(400);
  const body = response.json<{ error: { code: string; message: string; field?: string } }>();
  expect(body.error.code).toBe(code);
  if (field !== undefined) expect(body.error.field).toBe(field);
  if (payload.includes('urgent')) expect(body.error.message).toContain('urgent');
  expect(service.system.tradingState).toBe('ACTIVE');
  expect(service.system.tradingStateHistory()).toHaveLength(0);
});

test('the other system routes keep their strict text rules', async () => {
  const service = await start();
  const post = (url: string, payload: unknown) =>
    service.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${TOKEN}` }, payload: payload as object });
  const long = await post('/system/trading-state', { state: 'HALTED', reason: 'x'.repeat(MAX_REASON + 1) });
  expect(long.statusCode).toBe(400);
  expect(long.json()).toMatchObject({ error: { code: 'INVALID_REQUEST', field: 'reason' } });
  const blank = await post('/system/suspend', { reason: '   ' });
  expect(blank.statusCode).toBe(400);
  expect(service.system.tradingStateHistory()).toHaveLength(0);
});

test("the OpenAPI document describes the kill switch's body as any string, and keeps the other routes' bounds", async () => {
  const service = await start();
  type Body = { properties: Record<string, Record<string, unknown>>; required?: string[]; additionalProperties?: boolean };
  type Doc = { paths: Record<string, { post: { requestBody: { content: { 'application/json': { schema: Body } } } } }> };
  const doc = (await service.app.inject({ method: 'GET', url: '/openapi.json' })).json<Doc>();
  const bodyOf = (path: string) => doc.paths[path].post.requestBody.content['application/json'].schema;

  const kill = bodyOf('/system/kill-switch');
  expect(kill.required).toEqual(['reason']);
  expect(kill.additionalProperties).toBe(false);
  for (const field of ['reason', 'operator']) {
    expect(kill.properties[field].type).toBe('string');
    expect(kill.properties[field]).not.toHaveProperty('minLength');
    expect(kill.properties[field]).not.toHaveProperty('maxLength');
    expect(kill.properties[field].description).toEqual(expect.stringContaining('U+FFFD'));
  }
  expect(kill.properties.reason.description).toEqual(expect.stringContaining(`${MAX_REASON} characters`));

  expect(bodyOf('/system/trading-state').properties.reason).toMatchObject({ type: 'string', minLength: 1, maxLength: MAX_REASON });
  expect(bodyOf('/system/suspend').properties.reason).toMatchObject({ type: 'string', minLength: 1, maxLength: MAX_REASON });
});
