/**
 * Crash tests with real processes: a child runs a stream against the store and is killed with
 * SIGKILL at random points; after each kill, what the store holds equals a reference replay of
 * the same stream: no acknowledged transition lost, none applied twice.
 */
import { spawn, execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import type { StrategyEvent } from '../../machines/events';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/clock';
import { SqliteStore } from '../../services/store/sqliteStore';
import type { StrategyStore } from '../../services/store/types';
import { createStrategyActor } from '../../services/strategyActor';
import type { TransitionRecord } from '../../machines/types';
import { tempDir } from './helpers';

const worker = resolve(__dirname, 'crash-worker.cjs');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { streamEvent, stepOf, IDS, T0 } = require(worker) as {
  streamEvent: (s: number, i: number) => StrategyEvent;
  stepOf: (g: number) => { s: number; i: number; at: number };
  IDS: string[];
  T0: number;
};
const DEFS = [zeroDte, lt112, strangle];

/** The trails the stream produces with no crash, per strategy, from a plain in-memory run. */
export function referenceTrails(total: number): Record<string, TransitionRecord[]> {
  const clock = createSimulatedClock(T0);
  const actors = DEFS.map((def, s) => createStrategyActor(createStrategyMachine(def), { id: IDS[s], clock, params: {} }));
  for (let g = 0; g < total; g++) {
    const { s, i, at } = stepOf(g);
    clock.set(at);
    actors[s].trigger(streamEvent(s, i));
  }
  return Object.fromEntries(actors.map((a) => [a.id, a.getAuditTrail().slice()]));
}

/** Runs the worker until it has printed `killAfterAcks` ACKs (plus a random few ms), then SIGKILLs it. */
export function runAndKill(args: string[], killAfterAcks: number, jitterMs: number): Promise<{ acked: Record<string, number>; finished: boolean }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [worker, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: Record<string, number> = {};
    let acks = 0;
    let finished = false;
    let buffer = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const [word, id, seq] = line.split(' ');
        if (word === 'ACK') {
          acked[id] = Number(seq);
          if (++acks === killAfterAcks) setTimeout(() => child.kill('SIGKILL'), jitterMs);
        }
        if (word === 'DONE') finished = true;
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code, signal) => {
      if (code !== 0 && signal !== 'SIGKILL') fail(new Error(`worker exited ${code}: ${stderr}`));
      else done({ acked, finished });
    });
  });
}

/** Checks the store against the reference after a kill; returns how many records it holds. */
export async function checkAgainstReference(store: StrategyStore, acked: Record<string, number>, reference: Record<string, TransitionRecord[]>): Promise<number> {
  await store.open();
  const stored = await store.loadAll();
  await store.close();
  let total = 0;
  for (const id of IDS) {
    const trail = stored.find((s) => s.strategyId === id)?.auditTrail ?? [];
    total += trail.length;
    // Nothing acknowledged is lost; at most the one send in flight at the kill was committed too.
    expect(trail.length).toBeGreaterThanOrEqual(acked[id] ?? 0);
    expect(trail.length).toBeLessThanOrEqual((acked[id] ?? 0) + 1);
    // Exactly the reference prefix: every record once, in order, equal to a crash-free run.
    expect(trail).toEqual(reference[id].slice(0, trail.length));
    const snapshot = stored.find((s) => s.strategyId === id)?.snapshot as { context: { lastRecord: TransitionRecord | null } } | undefined;
    expect(snapshot?.context.lastRecord ?? null).toEqual(trail.at(-1) ?? null);
  }
  return total;
}

describe('SQLite: SIGKILL at random points', () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => ({ dir, cleanup } = tempDir('sl-crash-')));
  afterAll(() => cleanup());

  test('24 kills: the store always equals a crash-free replay of what was committed', async () => {
    const file = join(dir, 'crash.db');
    const TOTAL = 900;
    const reference = referenceTrails(TOTAL);
    let seed = 20261204;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let kills = 0;
    let progress = 0;
    for (let run = 0; run < 40 && kills < 24; run++) {
      const { acked, finished } = await runAndKill(['stream', 'sqlite', file, String(TOTAL)], 5 + Math.floor(random() * 30), Math.floor(random() * 4));
      if (!finished) kills++;
      const held = await checkAgainstReference(new SqliteStore(file), acked, reference);
      expect(held).toBeGreaterThanOrEqual(progress);
      progress = held;
      if (finished) break;
    }
    expect(kills).toBeGreaterThanOrEqual(20);
  }, 180_000);

  test('durable deadline across a real restart: ERROR at T0, new process at +10 min recovers at exactly +30 min', async () => {
    const file = join(dir, 'deadline.db');
    execFileSync(process.execPath, [worker, 'deadline', 'sqlite', file, 'enter']);
    const out = JSON.parse(execFileSync(process.execPath, [worker, 'deadline', 'sqlite', file, 'recover']).toString().trim());
    expect(out).toEqual({ states: ['ERROR', 'ERROR', 'READY'], recoveredAt: T0 + 30 * 60_000, trigger: 'lifecycle.deadline' });
  }, 60_000);
});
