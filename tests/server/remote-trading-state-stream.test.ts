/**
 * The live stream of every instance shows every trading state change: one made on another
 * PostgreSQL instance, learnt through NOTIFY, is sent as the same `system` event as a local one.
 */
import type { AddressInfo } from 'node:net';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { PostgresStore } from '../../services/store/postgresStore';
import { buildApp } from '../../server/app';
import { freshDatabase } from '../persistence/pg';
import { FRIDAY_11AM } from '../support/fixtures';

const variants = [zeroDte, lt112, strangle];
const TOKEN = 't'.repeat(40);

test("a halt made on instance A reaches B's /events as a system event, and B's own change too", async () => {
  const url = await freshDatabase('remote_stream');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const a = await openStrategySystem({ store: new PostgresStore({ connectionString: url, instanceId: 'a' }), variants, clock });
  const b = await openStrategySystem({ store: new PostgresStore({ connectionString: url, instanceId: 'b' }), variants, clock });
  const app = buildApp({ system: b, variants, token: TOKEN, logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  const controller = new AbortController();
  const response = await fetch(`${base}/events`, { signal: controller.signal });
  const frames: Array<{ event: string; data: { type: string; change?: { to: string; operator: string } } }> = [];
  const reading = (async () => {
    let buffer = '';
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk);
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) frames.push({ event, data: JSON.parse(data) });
        }
      }
    } catch {
      // aborted at the end of the test
    }
  })();
  const systemEvents = () =>
    frames.filter((f) => f.event === 'system').map((f) => [f.data.type, f.data.change?.to, f.data.change?.operator]);
  const waitFor = async (n: number) => {
    const until = Date.now() + 5000;
    while (systemEvents().length < n) {
      if (Date.now() > until) throw new Error(`expected ${n} system events, got ${JSON.stringify(systemEvents())}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  await a.setTradingState('HALTED', 'exchange incident', 'ops-on-a');
  await waitFor(1);
  expect(systemEvents()).toEqual([['tradingState', 'HALTED', 'ops-on-a']]);
  const health = await (await fetch(`${base}/health`)).json();
  expect(health).toMatchObject({ tradingState: 'HALTED', trading: { operator: 'ops-on-a' } });

  const local = await fetch(`${base}/system/trading-state`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ state: 'ACTIVE', reason: 'incident over', operator: 'ops-on-b' }),
  });
  expect(local.status).toBe(200);
  await waitFor(2);
  await new Promise((r) => setTimeout(r, 100)); // B's own change, echoed back by NOTIFY, is not sent twice
  expect(systemEvents()).toEqual([
    ['tradingState', 'HALTED', 'ops-on-a'],
    ['tradingState', 'ACTIVE', 'ops-on-b'],
  ]);

  controller.abort();
  await reading;
  await app.close();
  await a.close();
  await b.close();
});
