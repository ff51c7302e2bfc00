/**
 * Ownership with real processes on the throwaway cluster: three instances (owner-worker.cjs, the
 * built package) with a 2.5 s lease on real time (renewed every 833 ms: a shared CI machine may
 * stall a process or a commit for a second); one is killed with SIGKILL, one is stopped with
 * SIGSTOP while it holds a row lock. Waits are on real time, short and bounded.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { verifyStore } from '../../services/runtime/replay';
import { PostgresStore } from '../../services/store/postgresStore';
import { freshDatabase, sql } from './pg';

const LEASE_MS = 2500;
const variants = [zeroDte, lt112, strangle];
const workerPath = resolve(__dirname, 'owner-worker.cjs');

interface Worker {
  name: string;
  child: ChildProcessWithoutNullStreams;
  ask(command: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>>;
  stderr(): string;
}

/** Starts an instance owning `ids` (created when new) and resolves once it is serving. */
function startWorker(url: string, name: string, ids: string[]): Promise<Worker> {
  const child = spawn(process.execPath, [workerPath, url, name, String(LEASE_MS), ...ids], { stdio: ['pipe', 'pipe', 'pipe'] });
  const waiting = new Map<number, (answer: Record<string, unknown>) => void>();
  let next = 0;
  let buffer = '';
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  return new Promise((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`${name} not ready within 15 s: ${errors}`)), 15_000);
    child.on('exit', (code, signal) => fail(new Error(`${name} exited (${code ?? signal}) before it was ready: ${errors}`)));
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const answer = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>;
        buffer = buffer.slice(nl + 1);
        if (answer.ready) {
          clearTimeout(timer);
          ready(worker);
        } else waiting.get(answer.n as number)?.(answer);
      }
    });
    const worker: Worker = {
      name,
      child,
      stderr: () => errors,
      ask(command, timeoutMs = 5000) {
        const n = next++;
        return new Promise((answered, failed) => {
          const t = setTimeout(
            () => failed(new Error(`${name} did not answer ${JSON.stringify(command)} within ${timeoutMs} ms`)),
            timeoutMs,
          );
          waiting.set(n, (answer) => {
            clearTimeout(t);
            answered(answer);
          });
          child.stdin.write(`${JSON.stringify({ ...command, n })}\n`);
        });
      },
    };
  });
}

const idsOf = async (worker: Worker) => (await worker.ask({ op: 'ids' })).ids as string[];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `condition` holds; returns how long it took (real ms). */
async function within(ms: number, what: string, condition: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(100);
  }
  return Date.now() - started;
}

const three = (p: string) => [`${p}0`, `${p}1`, `${p}2`];
let running: Worker[] = [];

afterEach(() => {
  for (const w of running) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  running = [];
});

async function startThree(url: string): Promise<Worker[]> {
  // One after the other, so each claims nothing but what it creates.
  for (const name of ['a', 'b', 'c']) running.push(await startWorker(url, name, three(name)));
  for (const w of running) expect(await idsOf(w)).toEqual(three(w.name));
  return running;
}

test('SIGKILL one of three instances: the others take its strategies over within a few lease periods', async () => {
  const url = await freshDatabase('mp_kill');
  const [a, b, c] = await startThree(url);
  c.child.kill('SIGKILL');
  const took = await within(4 * LEASE_MS, "c's strategies taken over", async () => {
    const held = [...(await idsOf(a)), ...(await idsOf(b))];
    return three('c').every((id) => held.includes(id));
  });
  console.log(`failover after SIGKILL: ${took} ms (lease ${LEASE_MS} ms)`);
  const [heldA, heldB] = [await idsOf(a), await idsOf(b)];
  expect(heldA.filter((id) => heldB.includes(id))).toEqual([]); // never served twice
  expect((await a.ask({ op: 'close' })).closed).toBe('a');
  expect((await b.ask({ op: 'close' })).closed).toBe('b');
  expect((await verifyStore(new PostgresStore({ connectionString: url }), variants)).differences).toEqual([]);
}, 60_000);

test('SIGSTOP one holding a row lock: a dead instance still fails over, the others keep their leases; continued, it is fenced and writes nothing', async () => {
  const url = await freshDatabase('mp_stop');
  const [a, b, c] = await startThree(url);
  // b is paused in the middle of a write to b0: its row stays locked while b is stopped.
  expect(await b.ask({ op: 'lock', ids: ['b0'] })).toMatchObject({ locked: 1 });
  b.child.kill('SIGSTOP');
  // b's lease runs out (its locked row now matches every claim), then c dies.
  await sleep(LEASE_MS + 200);
  c.child.kill('SIGKILL');
  const took = await within(5 * LEASE_MS, "c's and b's unlocked strategies taken over by a", async () => {
    const held = await idsOf(a);
    return [...three('c'), 'b1', 'b2'].every((id) => held.includes(id));
  });
  console.log(`failover with a stopped instance holding a row lock: ${took} ms (lease ${LEASE_MS} ms)`);
  // a kept its own leases all along: never re-claimed (token 1), owned by a, lease live.
  const own = await sql<{ owner: string; fencing_token: string }>(
    url,
    "SELECT owner, fencing_token FROM strategies WHERE strategy_id LIKE 'a%' ORDER BY strategy_id",
  );
  // On failure, the instances' timed ownership changes and store errors say who took what when.
  const log = () => running.map((w) => `${w.name}:\n${w.stderr()}`).join('\n');
  expect({ own, log: own.every((r) => r.owner === 'a' && r.fencing_token === '1') ? '' : log() }).toEqual({
    own: three('a').map(() => ({ owner: 'a', fencing_token: '1' })),
    log: '',
  });
  const trails =
    'SELECT s.strategy_id, count(r.seq)::int AS n FROM strategies s LEFT JOIN audit_records r USING (strategy_id) GROUP BY s.strategy_id ORDER BY 1';
  const trailsBefore = await sql<{ strategy_id: string; n: number }>(url, trails);

  b.child.kill('SIGCONT');
  await within(4 * LEASE_MS, 'b lets go of what a took', async () => {
    const held = await idsOf(b);
    return !held.includes('b1') && !held.includes('b2');
  });
  const answer = await b.ask({ op: 'send', id: 'b1', event: { type: 'MARKET_OPEN' } });
  expect(answer).toMatchObject({
    error: 'OwnershipLostError',
    message: expect.stringMatching(/strategy "b1": instance b does not own it/),
  });
  // a still serves b1; b wrote nothing anywhere.
  expect((await a.ask({ op: 'send', id: 'b1', event: { type: 'MARKET_OPEN' } })).result).toMatchObject({ accepted: true, to: 'READY' });
  const trailsAfter = await sql<{ strategy_id: string; n: number }>(url, trails);
  expect(trailsAfter).toEqual(trailsBefore.map((r) => (r.strategy_id === 'b1' ? { ...r, n: r.n + 1 } : r)));
  // Every strategy is served by exactly one live instance (b0, unlocked, settles within a round).
  const all = [...three('a'), ...three('b'), ...three('c')].sort().join();
  await within(4 * LEASE_MS, 'every strategy served once', async () => [...(await idsOf(a)), ...(await idsOf(b))].sort().join() === all);
  expect((await a.ask({ op: 'close' })).closed).toBe('a');
  expect((await b.ask({ op: 'close' })).closed).toBe('b');
  expect((await verifyStore(new PostgresStore({ connectionString: url }), variants)).differences).toEqual([]);
}, 75_000);
