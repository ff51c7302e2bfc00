/**
 * One client opening connections without end (each idle, or a request half sent) took every file
 * descriptor of the process: /health and the API stopped answering, and the database's and
 * broker's sockets would have failed with them. The service now keeps at most `maxConnections`
 * open; more are closed as they arrive, and it answers again as soon as some close.
 */
import net from 'node:net';
import { serviceFixture } from './services';

const start = serviceFixture('sl-maxconn-', 'max-connections-token-0123');

const connect = (port: number) =>
  new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });

test('past maxConnections new connections are closed; the service answers again once some close', async () => {
  const service = await start({ maxConnections: 4 });
  const port = Number(new URL(service.url).port);
  const idle = await Promise.all([1, 2, 3, 4].map(() => connect(port)));
  await new Promise((r) => setTimeout(r, 50));
  // The fifth is closed at once, unanswered.
  const fifth = await connect(port);
  let answer = '';
  fifth.on('data', (chunk: Buffer) => (answer += chunk.toString()));
  fifth.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await new Promise((resolve) => fifth.once('close', resolve));
  expect(answer).toBe('');
  for (const socket of idle) socket.destroy();
  await new Promise((r) => setTimeout(r, 50));
  expect((await fetch(`${service.url}/health`)).status).toBe(200);
});
