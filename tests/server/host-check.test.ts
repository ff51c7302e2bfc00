/**
 * DNS rebinding: a web page whose name the attacker re-points at 127.0.0.1 is same-origin with the
 * service, and reads are open by default: it could read every strategy, trail and the live stream.
 * The service now answers only the host names it is known by (127.0.0.1, localhost, [::1], its
 * `host`, `allowedHosts`); any other Host header gets 421 UNKNOWN_HOST.
 */
import http from 'node:http';
import { serviceFixture } from './services';

const TOKEN = 'host-check-token-0123456789';
const start = serviceFixture('sl-host-', TOKEN);

/** Status and body of a GET naming `host` in its Host header. */
function get(url: string, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${url}${path}`, { headers: { host } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
        if (path === '/events') response.destroy(); // the stream's first bytes are enough
      });
      response.on('close', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
}

test.each(['/summary', '/strategies', '/events', '/metrics', '/'])('%s: a rebound host name gets 421 UNKNOWN_HOST', async (path) => {
  const service = await start();
  const port = new URL(service.url).port;
  const answer = await get(service.url, path, `attacker-rebind.example:${port}`);
  expect(answer.status).toBe(421);
  expect(JSON.parse(answer.body)).toEqual({ error: { code: 'UNKNOWN_HOST', message: expect.stringContaining('attacker-rebind.example') } });
});

test('the loopback names are answered, and the names given in allowedHosts', async () => {
  const service = await start({ allowedHosts: ['trading.internal'] });
  const port = new URL(service.url).port;
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, 'trading.internal', `trading.internal:${port}`]) {
    expect((await get(service.url, '/summary', host)).status).toBe(200);
  }
  expect((await get(service.url, '/summary', 'other.internal')).status).toBe(421);
});
