/**
 * Stopping the service the way systemd and container runtimes do: one SIGTERM to the process they
 * started. `npm start` execs the server (npm forwards the signal to its child, and `exec` makes that
 * child the server rather than a shell that would die and orphan it), so the whole process tree
 * exits 0 and the port is free. The bin itself, as examples/strategy-lifecycle.service and
 * examples/Dockerfile run it, does the same.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { CLI, startProcess, tempDir, type Running } from './cli';

const root = resolve(__dirname, '../..');
let dir: string;
let cleanup: () => void;
let running: Running | undefined;

beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(async () => {
  // The whole group, not just the started process: a failing run may leave an orphaned server.
  if (running && groupAlive(running.child.pid!)) process.kill(-running.child.pid!, 'SIGKILL');
  if (running) await running.exited;
  running = undefined;
  cleanup();
});

/** True when nothing listens on `port` any more: binding it succeeds. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => done(true)));
  });
}

/** True while any process of the group `pgid` is alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** Starts it in its own process group, waits for the printed URL, SIGTERMs the started process. */
async function serveThenTerminate(command: string, args: string[]): Promise<{ code: number | string | null; port: number; pgid: number }> {
  running = startProcess(command, args, { cwd: root, detached: true });
  const [, url, port] = await running.waitFor(/serving (http:\/\/127\.0\.0\.1:(\d+)) \(store /m, 60_000);
  expect((await fetch(`${url}/health`)).status).toBe(200);
  expect(await portIsFree(Number(port))).toBe(false);
  running.child.kill('SIGTERM');
  return { code: await running.exited, port: Number(port), pgid: running.child.pid! };
}

test('npm start -- <flags>: SIGTERM to npm reaches the server; the tree exits 0 and frees the port', async () => {
  const { code, port, pgid } = await serveThenTerminate('npm', [
    'start',
    '--',
    '--data-dir',
    join(dir, 'data'),
    '--port',
    '0',
    '--no-market',
  ]);
  expect(code).toBe(0);
  expect(groupAlive(pgid)).toBe(false);
  expect(await portIsFree(port)).toBe(true);
}, 90_000);

test('the bin, as the systemd unit and the Dockerfile run it: SIGTERM exits 0 and frees the port', async () => {
  const { code, port, pgid } = await serveThenTerminate(process.execPath, [
    CLI,
    'serve',
    '--data-dir',
    join(dir, 'data'),
    '--port',
    '0',
    '--no-market',
  ]);
  expect(code).toBe(0);
  expect(groupAlive(pgid)).toBe(false);
  expect(await portIsFree(port)).toBe(true);
}, 90_000);

test('the start script execs the server, and the shipped unit and Dockerfile start the bin itself, not npm', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  expect(pkg.scripts.start).toMatch(/^exec node dist\/cjs\/bin\/strategy-lifecycle\.js serve\b/);
  const unit = readFileSync(join(root, 'examples/strategy-lifecycle.service'), 'utf8');
  expect(unit).toMatch(/^ExecStart=\S*node \S*dist\/cjs\/bin\/strategy-lifecycle\.js serve /m);
  expect(unit).toMatch(/^KillSignal=SIGTERM$/m);
  // Exec form: node is PID 1 and gets the runtime's SIGTERM (a shell-form CMD would swallow it).
  const dockerfile = readFileSync(join(root, 'examples/Dockerfile'), 'utf8');
  expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "dist\/cjs\/bin\/strategy-lifecycle\.js", "serve"/m);
  expect(dockerfile).not.toMatch(/^(CMD|ENTRYPOINT) .*npm/m);
});
