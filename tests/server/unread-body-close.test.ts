/**
 * A request answered before its body was read (401 without the token, 421 for a Host the service
 * does not answer to, 415 not JSON, 413 too large) is answered with `Connection: close`, and the
 * service closes the connection once the answer is out: it does not read the rest of the body.
 * Requests whose body was read keep their connection (keep-alive).
 *
 * Before, such an answer kept the connection alive, so Node went on reading and discarding the
 * whole announced body: an unauthenticated client sending a 200 MB body had all 200 MB read (the
 * bandwidth and time spent on it) before the connection could serve anything else. (413 was
 * already closed by fastify's body parser; it stays in the table so it stays so.)
 */
import { connect, type Socket } from 'node:net';
import { useService } from './services';

const TOKEN = 'u'.repeat(40);
/** The body announced: far more than is ever sent. */
const ANNOUNCED = 200 * 1024 * 1024;
/** What the client sends of it before the answer, and again after. */
const SENT = 256 * 1024;
/** How long the client waits for the answer, or for the service to close (the fixed service takes milliseconds). */
const DEADLINE_MS = 3000;

const running = useService('sl-unread-body-', { token: TOKEN, market: false });

/** The service's side of each connection, to count the bytes it read. */
const accepted: Socket[] = [];
beforeAll(() => running.service.app.server.on('connection', (socket: Socket) => accepted.push(socket)));
/** The client's connections, closed after each test whatever its outcome (an open one would hold the service's close). */
const clients: Socket[] = [];
afterEach(() => clients.splice(0).forEach((socket) => socket.destroy()));

/** A raw connection that gathers what it receives and notes when the service ends it. */
function open(): Promise<{ socket: Socket; received: () => string; ended: Promise<boolean>; closed: Promise<void>; serverSide: Socket }> {
  const { port } = new URL(running.service.url);
  const before = accepted.length;
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    clients.push(socket);
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((done) => socket.on('close', () => done()));
    const ended = new Promise<boolean>((done) => {
      const deadline = setTimeout(() => done(false), DEADLINE_MS);
      const end = () => {
        clearTimeout(deadline);
        done(true);
      };
      socket.on('end', end);
      socket.on('close', end);
    });
    socket.on('connect', () => {
      // The service's 'connection' event comes on its own turn: wait for it.
      const wait = () =>
        accepted.length > before
          ? resolve({ socket, received: () => text, ended, closed, serverSide: accepted[before] })
          : setImmediate(wait);
      wait();
    });
  });
}

/** Resolves with the first whole response on `received` (status, headers, body), or what came by the deadline. */
async function response(received: () => string): Promise<{ status: number; headers: string; body: string }> {
  const started = performance.now();
  for (;;) {
    const text = received();
    const end = text.indexOf('\r\n\r\n');
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text)?.[1] ?? NaN);
    if ((end >= 0 && text.length >= end + 4 + length) || performance.now() - started > DEADLINE_MS) {
      const headers = end >= 0 ? text.slice(0, end + 2) : text;
      return {
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]),
        headers,
        body: end >= 0 ? text.slice(end + 4, end + 4 + length) : '',
      };
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const head = (lines: string[]) => `POST /system/kill-switch HTTP/1.1\r\n${lines.join('\r\n')}\r\nContent-Length: ${ANNOUNCED}\r\n\r\n`;

test.each([
  ['401 without the token', 401, 'UNAUTHORIZED', ['Host: 127.0.0.1', 'Content-Type: application/json']],
  ['401 with a wrong token', 401, 'UNAUTHORIZED', ['Host: 127.0.0.1', 'Content-Type: application/json', 'Authorization: Bearer wrong']],
  [
    '421 for a host it does not answer to',
    421,
    'UNKNOWN_HOST',
    ['Host: evil.example', 'Content-Type: application/json', `Authorization: Bearer ${TOKEN}`],
  ],
  [
    '415 for a body that is not JSON',
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    ['Host: 127.0.0.1', 'Content-Type: text/plain', `Authorization: Bearer ${TOKEN}`],
  ],
  [
    '413 for a body over the limit',
    413,
    'BODY_TOO_LARGE',
    ['Host: 127.0.0.1', 'Content-Type: application/json', `Authorization: Bearer ${TOKEN}`],
  ],
])('%s: answered whole with Connection: close, and the rest of the body is not read', async (_what, status, code, lines) => {
  const { socket, received, ended, closed, serverSide } = await open();
  socket.write(head(lines));
  socket.write(Buffer.alloc(SENT, 0x20));
  const answer = await response(received);
  expect(answer.status).toBe(status);
  expect(JSON.parse(answer.body)).toMatchObject({ error: { code } });
  expect(answer.headers).toMatch(/\r\nconnection: close\r\n/i);
  // The service ends the connection by itself, while the client still has ~200 MB to send.
  expect(await ended).toBe(true);
  // What the client sends now is not read: the service read the head and at most what came before the answer.
  socket.write(Buffer.alloc(SENT, 0x20));
  socket.end();
  await closed;
  expect(serverSide.destroyed).toBe(true);
  expect(serverSide.bytesRead).toBeLessThanOrEqual(head(lines).length + SENT);
});

test('a write with the token whose body was read keeps its connection for the next request', async () => {
  const { socket, received, ended } = await open();
  const body = '{}';
  const resume = `POST /system/resume HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  socket.write(resume);
  const first = await response(received);
  expect(first.status).toBe(200);
  expect(first.headers).toMatch(/\r\nconnection: keep-alive\r\n/i);
  const length = received().length;
  socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  const second = await response(() => received().slice(length));
  expect(second.status).toBe(200);
  expect(second.headers).toMatch(/\r\nconnection: keep-alive\r\n/i);
  socket.destroy();
  await ended;
});

test('a read without a body keeps its connection', async () => {
  const { socket, received, ended } = await open();
  socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  const answer = await response(received);
  expect(answer.status).toBe(200);
  expect(answer.headers).toMatch(/\r\nconnection: keep-alive\r\n/i);
  socket.destroy();
  await ended;
});
