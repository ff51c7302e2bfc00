/**
 * `serve` as a real process: a halt posted over HTTP (and a kill switch) survives SIGTERM and a
 * new start; /health says HALTED with its reason, who and since when.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Running, serveFixture } from './cli';

const fixture = serveFixture();

async function serve(dataDir: string): Promise<{ server: Running; url: string }> {
  return fixture.serve(['--data-dir', dataDir, '--port', '0', '--log-level', 'silent']);
}

async function stop(server: Running): Promise<void> {
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
}

const post = (url: string, token: string, body: unknown) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });

test('POST HALTED, SIGTERM, start again: /health says HALTED with its reason, operator and time; so does a kill switch', async () => {
  const dataDir = join(fixture.dir, 'data');
  const first = await serve(dataDir);
  const token = readFileSync(join(dataDir, 'token'), 'utf8').trim();
  const halted = await post(`${first.url}/system/trading-state`, token, {
    state: 'HALTED',
    reason: 'exchange incident',
    operator: 'ops-anna',
  });
  expect(halted.status).toBe(200);
  expect(await halted.json()).toMatchObject({
    change: { from: 'ACTIVE', to: 'HALTED', reason: 'exchange incident', operator: 'ops-anna' },
  });
  await stop(first.server);

  const second = await serve(dataDir);
  const health = (await (await fetch(`${second.url}/health`)).json()) as {
    tradingState: string;
    trading: { state: string; reason: string; operator: string; since: string };
  };
  expect(health.tradingState).toBe('HALTED');
  expect(health.trading).toMatchObject({ state: 'HALTED', reason: 'exchange incident', operator: 'ops-anna' });
  expect(Date.parse(health.trading.since)).not.toBeNaN();

  // ACTIVE again (operator defaults to "api"), then the kill switch: 202 once HALTED is stored.
  await post(`${second.url}/system/trading-state`, token, { state: 'ACTIVE', reason: 'incident over' });
  const kill = await post(`${second.url}/system/kill-switch`, token, { reason: 'end of day' });
  expect(kill.status).toBe(202);
  expect(await kill.json()).toMatchObject({ tradingState: 'HALTED' });
  await stop(second.server);

  const third = await serve(dataDir);
  const after = (await (await fetch(`${third.url}/health`)).json()) as { trading: { state: string; reason: string; operator: string } };
  expect(after.trading).toMatchObject({ state: 'HALTED', reason: 'kill switch: end of day', operator: 'api' });
  await stop(third.server);
});
