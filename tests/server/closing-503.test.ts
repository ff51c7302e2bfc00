/**
 * A request that reaches the service while it shuts down (on a connection that was busy when the
 * close began, so it was not reaped as idle) is answered with the API's own error format:
 * 503 `{ error: { code: 'SHUTTING_DOWN', message } }` with Retry-After. Before, fastify answered
 * with its default body, which has no `error.code` for a client to switch on.
 */
import { connect, type Socket } from 'node:net';
import { serviceFixture } from './services';

const startService = serviceFixture('sl-closing-', 'closing-token-0123456789abcdef');

/** Everything the server sends on `socket` until it closes the connection. */
function responseOf(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

test('a request completed after the close began gets 503 SHUTTING_DOWN in the API format, with Retry-After', async () => {
  const service = await startService();
  const { port } = new URL(service.url);
  const socket = connect(Number(port), '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const response = responseOf(socket);
  // Half a request: the connection is busy, so the close does not reap it as idle.
  socket.write('GET /summary HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  await new Promise((resolve) => setTimeout(resolve, 50));
  const closed = service.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  socket.write('\r\n');
  const text = await response;
  await closed;
  const [head, body] = text.split('\r\n\r\n');
  expect(head).toMatch(/^HTTP\/1\.1 503 /);
  expect(head).toMatch(/\r\nretry-after: 5\r\n/i);
  expect(JSON.parse(body)).toEqual({ error: { code: 'SHUTTING_DOWN', message: expect.stringMatching(/shutting down/) } });
});
