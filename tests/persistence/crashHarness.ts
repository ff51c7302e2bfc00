/** Shared by the crash tests: the worker's stream, a crash-free reference, kill-and-check. */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import type { StrategyEvent } from '../../machines/events';
import type { TransitionRecord } from '../../machines/types';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import type { StrategyStore } from '../../services/store/types';
import { createStrategyActor } from '../../services/runtime/strategyActor';

export const worker = resolve(__dirname, 'crash-worker.cjs');
export const { streamEvent, stepOf, IDS, T0 } = require(worker) as {
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
export function runAndKill(
  args: string[],
  killAfterAcks: number,
  jitterMs: number,
): Promise<{ acked: Record<string, number>; finished: boolean }> {
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
export async function checkAgainstReference(
  store: StrategyStore,
  acked: Record<string, number>,
  reference: Record<string, TransitionRecord[]>,
): Promise<number> {
  await store.open();
  const stored = await store.loadAll({ claim: false });
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
