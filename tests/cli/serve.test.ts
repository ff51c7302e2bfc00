/**
 * `serve` as a real process: the printed URL on port 0, /health, the token file (0600, printed
 * once across two starts), writes with the token, and SIGTERM while a request is in flight: the
 * request completes, its transition is committed, the process exits 0.
 */
import Database from 'better-sqlite3';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { run, start, type Running, serveFixture } from './cli';

const fixture = serveFixture();

async function serve(dataDir: string, ...args: string[]): Promise<{ server: Running; url: string }> {
  return fixture.serve(['--data-dir', dataDir, '--port', '0', '--no-market', ...args]);
}

/** Reads from `socket` until `pattern` matches what arrived. */
function readUntil(socket: Socket, pattern: RegExp): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (pattern.test(text)) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`connection closed; got:\n${text}`)));
  });
}

test('listens on the printed port, keeps its token in <data-dir>/token (0600) and prints it only once', async () => {
  const dataDir = join(fixture.dir, 'data');
  const first = await serve(dataDir);
  expect(first.url).not.toMatch(/:0$/);
  const health = await fetch(`${first.url}/health`);
  expect(health.status).toBe(200);
  expect(await health.json()).toMatchObject({ status: 'ok', strategies: 0, store: `sqlite:${join(dataDir, 'strategy-lifecycle.db')}` });

  const tokenFile = join(dataDir, 'token');
  expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
  const token = readFileSync(tokenFile, 'utf8').trim();
  expect(token.length).toBeGreaterThanOrEqual(32);
  expect(first.server.stdout()).toContain(
    `token: ${token}\n  generated now and saved in ${tokenFile} (mode 0600); it is not printed again\n`,
  );

  const body = JSON.stringify({ id: 'lt112-spx', variant: 'lt112', params: { underlying: 'SPX' } });
  const anonymous = await fetch(`${first.url}/strategies`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  expect(anonymous.status).toBe(401);
  const created = await fetch(`${first.url}/strategies`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
  });
  expect(created.status).toBe(201);
  first.server.child.kill('SIGTERM');
  expect(await first.server.exited).toBe(0);

  const second = await serve(dataDir);
  expect(await (await fetch(`${second.url}/health`)).json()).toMatchObject({ strategies: 1 });
  expect(second.server.stdout()).toContain(`token: in ${tokenFile}\n`);
  second.server.child.kill('SIGINT');
  expect(await second.server.exited).toBe(0);
  const printed = (first.server.stdout() + second.server.stdout()).split(token).length - 1;
  expect(printed).toBe(1);
  expect(first.server.stderr() + second.server.stderr()).toBe('');
  // pino JSON logs on stdout, the shutdown among them.
  expect(second.server.stdout()).toMatch(
    /^\{"level":30,.*"signal":"SIGINT","msg":"shutting down: finishing requests in flight, then closing the store"\}$/m,
  );
});

test('SIGTERM while a request is in flight: the request completes and commits, then exit 0', async () => {
  const dataDir = join(fixture.dir, 'data');
  const { server, url } = await serve(dataDir);
  const token = readFileSync(join(dataDir, 'token'), 'utf8').trim();
  const add = await fetch(`${url}/strategies`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ id: 'zero-1', variant: 'zeroDte' }),
  });
  expect(add.status).toBe(201);

  // The request's headers go first; its body only after the signal has been handled.
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  const body = JSON.stringify({ type: 'MARKET_OPEN', eventId: 'open-1' });
  socket.write(
    `POST /strategies/zero-1/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
  );
  await readUntil(socket, /^HTTP\/1\.1 100 Continue\r\n\r\n/); // the server has taken the request
  server.child.kill('SIGTERM');
  await server.waitFor(/"msg":"shutting down: finishing requests in flight/);
  const exitedEarly = await Promise.race([server.exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 300))]);
  expect(exitedEarly).toBe(false); // it waits for the request
  const responding = readUntil(socket, /\r\n\r\n[\s\S]*"result"[\s\S]*\}$/);
  socket.write(body);
  const response = await responding;
  socket.destroy();
  expect(response).toMatch(/HTTP\/1\.1 200 OK\r\n/);
  expect(JSON.parse(response.slice(response.lastIndexOf('\r\n\r\n') + 4)).result).toMatchObject({
    accepted: true,
    from: 'INITIALIZING',
    to: 'READY',
  });
  expect(await server.exited).toBe(0);

  const db = new Database(join(dataDir, 'strategy-lifecycle.db'), { readonly: true });
  try {
    const records = (
      db.prepare("SELECT record FROM audit_records WHERE strategy_id = 'zero-1' ORDER BY seq").all() as Array<{ record: string }>
    ).map((r) => JSON.parse(r.record));
    expect(records).toEqual([
      expect.objectContaining({
        seq: 1,
        trigger: 'MARKET_OPEN',
        eventId: 'open-1',
        previousState: 'INITIALIZING',
        currentState: 'READY',
        accepted: true,
      }),
    ]);
    expect(db.prepare("SELECT state FROM strategies WHERE strategy_id = 'zero-1'").get()).toEqual({ state: 'READY' });
  } finally {
    db.close();
  }
  expect(run(['status', '--data-dir', dataDir]).stdout).toMatch(/^READY +1 +1$/m);
});

test('a token from STRATEGY_LIFECYCLE_TOKEN is used, never printed, and no token file is made', async () => {
  const dataDir = join(fixture.dir, 'data');
  const token = 'a-token-from-the-environment-0123456789';
  const server = start(['serve', '--data-dir', dataDir, '--port', '0', '--no-market', '--log-level', 'warn'], {
    env: { STRATEGY_LIFECYCLE_TOKEN: token },
  });
  fixture.track(server);
  const [, url] = await server.waitFor(/serving (http:\/\/\S+)/);
  await server.waitFor(/^token: from the environment variable STRATEGY_LIFECYCLE_TOKEN$/m);
  const created = await fetch(`${url}/strategies`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ id: 's-1', variant: 'strangle' }),
  });
  expect(created.status).toBe(201);
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
  expect(server.stdout()).not.toContain(token);
  expect(existsSync(join(dataDir, 'token'))).toBe(false);
  // Too short a token is a setting at fault (exit 2), said in one line before anything opens.
  expect(run(['serve', '--data-dir', dataDir, '--port', '0'], { env: { STRATEGY_LIFECYCLE_TOKEN: 'short' } })).toEqual({
    code: 2,
    stdout: '',
    stderr: 'strategy-lifecycle: serve: STRATEGY_LIFECYCLE_TOKEN must be at least 16 characters\n',
  });
  // So is a token file others can read, or too short (a 1-character token authorised the kill switch).
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dataDir, 'token'), 'a-long-enough-token-0123456789\n', { mode: 0o644 });
  chmodSync(join(dataDir, 'token'), 0o644);
  expect(run(['serve', '--data-dir', dataDir, '--port', '0'], { env: {} })).toMatchObject({
    code: 2,
    stderr: expect.stringContaining('can be read by other users (mode 0644)'),
  });
  chmodSync(join(dataDir, 'token'), 0o600);
  writeFileSync(join(dataDir, 'token'), 'a\n');
  expect(run(['serve', '--data-dir', dataDir, '--port', '0'], { env: {} })).toMatchObject({
    code: 2,
    stderr: expect.stringContaining('holds a token of 1 characters: it must be at least 16'),
  });
});

test('--auth-reads keeps reads private (the stream takes ?token=), --request-timeout and --max-streams apply', async () => {
  const dataDir = join(fixture.dir, 'data');
  const token = 'a-token-for-private-reads-0123456789';
  const server = start(
    ['serve', '--data-dir', dataDir, '--port', '0', '--log-level', 'warn', '--auth-reads', '--request-timeout', '1', '--max-streams', '1'],
    { env: { STRATEGY_LIFECYCLE_TOKEN: token } },
  );
  fixture.track(server);
  const [, url] = await server.waitFor(/serving (http:\/\/\S+)/);
  // The startup line names every read left open, as the open reads answer without the token.
  const [line] = await server.waitFor(/^reads: private.*$/m);
  expect(line).toBe('reads: private (every GET but /health, /ready, /openapi.json, /docs and the dashboard files needs the token)');
  for (const open of ['/health', '/ready', '/openapi.json']) expect((await fetch(`${url}${open}`)).status).toBe(200);
  expect((await fetch(`${url}/strategies`)).status).toBe(401);
  expect((await fetch(`${url}/strategies`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  const controller = new AbortController();
  expect((await fetch(`${url}/events?token=${token}`, { signal: controller.signal })).status).toBe(200);
  expect((await fetch(`${url}/events?token=${token}`)).status).toBe(503);
  controller.abort();
  // A request that never finishes is answered 408 about a second later (with the token: without it,
  // a write is answered 401 before its body is read).
  const socket = connect(Number(new URL(url).port), '127.0.0.1');
  socket.write(
    `POST /strategies HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{`,
  );
  const started = Date.now();
  expect(await readUntil(socket, /\r\n\r\n\{.*\}$/s)).toMatch(/^HTTP\/1\.1 408 [^]*"code":"REQUEST_TIMEOUT"/);
  expect(Date.now() - started).toBeLessThan(3000);
  socket.destroy();
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
  expect(server.stdout()).not.toContain(token);
  expect(run(['serve', '--request-timeout', '0'])).toMatchObject({
    code: 2,
    stderr: expect.stringContaining('--request-timeout must be a number of seconds (1-3600), got "0"'),
  });
});
