/**
 * `serve` and the store's identity, as real processes: a first start makes the database and its
 * marker (owner-only whatever the umask) and says so; a deleted or replaced database is refused
 * with what happened and `--init`; `serve --init` makes an empty store and says so.
 */
import { existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { run, type Running, serveFixture } from './cli';

const fixture = serveFixture();

async function serve(dataDir: string, ...args: string[]): Promise<{ server: Running; url: string }> {
  return fixture.serve(['--data-dir', dataDir, '--port', '0', '--log-level', 'warn', ...args]);
}

async function stop(server: Running): Promise<void> {
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
}

async function addStrategy(url: string, dataDir: string, id: string): Promise<void> {
  const token = readFileSync(join(dataDir, 'token'), 'utf8').trim();
  const response = await fetch(`${url}/strategies`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ id, variant: 'lt112' }),
  });
  expect(response.status).toBe(201);
}

const mode = (path: string) => statSync(path).mode & 0o777;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

test('a first start makes the database and its marker, owner-only under umask 0, and says so', async () => {
  const dataDir = join(fixture.dir, 'data');
  const db = join(dataDir, 'strategy-lifecycle.db');
  const previous = process.umask(0); // the child inherits it
  let first: Awaited<ReturnType<typeof serve>>;
  try {
    first = await serve(dataDir);
  } finally {
    process.umask(previous);
  }
  expect(first.server.stdout()).toMatch(new RegExp(`^database: created \\(first start, store ${UUID.source}\\)$`, 'm'));
  await addStrategy(first.url, dataDir, 'lt-1');
  expect(mode(dataDir)).toBe(0o700);
  for (const f of [db, `${db}-wal`, `${db}-shm`, `${db}.id`, join(dataDir, 'token')]) expect([f, mode(f)]).toEqual([f, 0o600]);
  await stop(first.server);

  const second = await serve(dataDir);
  expect(second.server.stdout()).not.toMatch(/^database:/m);
  expect(await (await fetch(`${second.url}/health`)).json()).toMatchObject({ strategies: 1 });
  await stop(second.server);
});

test('a deleted database is refused with what happened and --init; serve --init makes an empty one and says so', async () => {
  const dataDir = join(fixture.dir, 'data');
  const db = join(dataDir, 'strategy-lifecycle.db');
  const first = await serve(dataDir);
  await addStrategy(first.url, dataDir, 'lt-1');
  await stop(first.server);
  const marker = JSON.parse(readFileSync(`${db}.id`, 'utf8')) as { storeId: string; createdAt: number };
  rmSync(db);

  const refused = run(['serve', '--data-dir', dataDir, '--port', '0']);
  expect(refused).toEqual({
    code: 1,
    stdout: '',
    stderr:
      `strategy-lifecycle: serve: store sqlite:${db}: database file ${db} is missing, but its marker ${db}.id says store ${marker.storeId} ` +
      `(made ${new Date(marker.createdAt).toISOString()}) was here: the file was deleted or moved. Nothing was created. ` +
      'Put the file back, or start with --init (create: true) for an empty store.\n',
  });
  expect(existsSync(db)).toBe(false);
  // The read-only commands create nothing either.
  expect(run(['status', '--data-dir', dataDir])).toMatchObject({ code: 1, stderr: `strategy-lifecycle: status: no database at ${db}\n` });
  expect(existsSync(db)).toBe(false);

  const init = await serve(dataDir, '--init');
  expect(init.server.stdout()).toMatch(/^database: --init created an empty database \(store [0-9a-f-]{36}\) in place of the missing one$/m);
  expect(await (await fetch(`${init.url}/health`)).json()).toMatchObject({ strategies: 0 });
  expect(JSON.parse(readFileSync(`${db}.id`, 'utf8')).storeId).not.toBe(marker.storeId);
  expect(mode(db)).toBe(0o600);
  await stop(init.server);

  const again = await serve(dataDir, '--init');
  expect(again.server.stdout()).toMatch(/^database: --init: the database exists \(store [0-9a-f-]{36}\); nothing was created$/m);
  await stop(again.server);
});

test("another store's database in its place: serve and status refuse it, naming the marker", async () => {
  const dataDir = join(fixture.dir, 'data');
  const otherDir = join(fixture.dir, 'other');
  const db = join(dataDir, 'strategy-lifecycle.db');
  await stop((await serve(dataDir)).server);
  await stop((await serve(otherDir)).server);
  renameSync(join(otherDir, 'strategy-lifecycle.db'), db);

  for (const [command, args] of [
    ['serve', ['--port', '0', '--init']],
    ['status', []],
  ] as const) {
    const result = run([command, '--data-dir', dataDir, ...args]);
    expect([command, result.code]).toEqual([command, 1]);
    expect(result.stderr).toContain(`but its marker ${db}.id says store`);
    expect(result.stderr).toContain('the file was replaced');
  }
});
