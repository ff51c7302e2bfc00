/**
 * Allocation per event on the in-memory path: the events/s benchmark's mixed stream through one
 * LT112 strategy actor (`trigger`), through the bare XState machine and through the bare machine
 * with one recording `assign` (bench/fixtures/bareMachine.ts), each on a fresh actor per batch.
 *
 * Two measures, both around the warm loop only (actor creation is outside):
 * - **bytes per event, exact**: V8 heap used before and after a batch with no garbage collection
 *   in between (run with a young generation large enough for the batch; a batch a GC interrupted
 *   is reported and left out);
 * - **by source**: V8's sampling heap profiler (`HeapProfiler.startSampling` through
 *   `node:inspector`, objects later collected included) attributes sampled bytes and objects to
 *   the allocating function, mapped back to the TypeScript sources.
 *
 * Usage: `npm run bench:profile -- --alloc` (which runs this file with
 * `node --expose-gc --min-semi-space-size=128 --max-semi-space-size=128`), options `--only=ours,bare,recording`, `--batch=N` (5000), `--batches=N` (8), `--interval=bytes`
 * (sampling interval, 256), `--top=N` (30) allocating functions listed, `--broadcast` (the
 * in-memory `system.broadcast` to `--strategies=N` (2000) LT112 strategies instead).
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import type { AnyStateMachine } from 'xstate';
import { createStrategyMachine } from '../machines/createStrategyMachine.js';
import { lt112 } from '../machines/variants/index.js';
import { locate, type CallFrame } from './cpuprofileSummary.js';
import { createBareMachine, createRecordingBareMachine } from './fixtures/bareMachine.js';
import { driveBare, driveStrategy, newBareActor, newStrategy, windowBroadcaster } from './fixtures/drivers.js';
import { mixedStream } from './fixtures/mixedStream.js';

interface SamplingNode {
  id: number;
  callFrame: CallFrame;
  selfSize: number;
  children: SamplingNode[];
}
interface SamplingProfile {
  head: SamplingNode;
  samples: Array<{ size: number; nodeId: number }>;
}

function option(argv: readonly string[], name: string, fallback: number): number {
  const raw = argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`--${name} must be a positive whole number, got ${raw}`);
  return value;
}

const gc = (globalThis as { gc?: () => void }).gc;
let gcCount = 0;
new PerformanceObserver((list) => {
  gcCount += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });
// GC entries reach the observer a little later than the GC: a short timer lets them arrive.
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 20));

/** One measured subject: `setup` builds a fresh batch outside the measure, `run` is measured. */
interface Subject {
  name: string;
  unitsPerBatch: number;
  setup: () => () => void;
}

function perEventSubjects(argv: readonly string[]): Subject[] {
  const batch = option(argv, 'batch', 5000);
  const stream = mixedStream(batch);
  const machine = createStrategyMachine(lt112);
  const bareMachine = createBareMachine();
  const recordingMachine = createRecordingBareMachine();
  const bare = (name: string, m: AnyStateMachine): Subject => ({
    name,
    unitsPerBatch: batch,
    setup: () => {
      const { actor, clock } = newBareActor(m, stream);
      return () => driveBare(actor, clock, stream);
    },
  });
  const all: Subject[] = [
    {
      name: 'ours',
      unitsPerBatch: batch,
      setup: () => {
        const { strategy, clock } = newStrategy(machine, stream);
        return () => driveStrategy(strategy, clock, stream);
      },
    },
    bare('bare', bareMachine),
    bare('recording', recordingMachine),
  ];
  const only = argv
    .find((a) => a.startsWith('--only='))
    ?.split('=')[1]
    ?.split(',');
  return only ? all.filter((s) => only.includes(s.name)) : all;
}

function broadcastSubjects(argv: readonly string[]): Subject[] {
  const strategies = option(argv, 'strategies', 2000);
  const broadcastNext = windowBroadcaster(strategies);
  // Units are deliveries (strategies per broadcast); one batch is one START/END pair.
  return [
    {
      name: 'broadcast',
      unitsPerBatch: 2 * strategies,
      setup: () => () => {
        broadcastNext();
        broadcastNext();
      },
    },
  ];
}

/** Keeps a measured batch reachable through the GC that follows it (read by nothing else). */
export const alive: { batch: (() => void) | null } = { batch: null };

/** Exact bytes per unit: heap used around each batch, GC-free batches only. */
async function exactBytes(subject: Subject, batches: number): Promise<{ perUnit: number[]; interrupted: number; retained: number[] }> {
  const perUnit: number[] = [];
  const retained: number[] = [];
  let interrupted = 0;
  for (let b = 0; b < batches; b++) {
    const run = subject.setup();
    gc?.();
    await settle();
    const gcBefore = gcCount;
    const before = process.memoryUsage().heapUsed;
    run();
    const after = process.memoryUsage().heapUsed;
    await settle();
    if (gcCount !== gcBefore) interrupted++;
    else perUnit.push((after - before) / subject.unitsPerBatch);
    // What the batch left alive (the subject still referenced): the trail and the last snapshot.
    alive.batch = run; // the batch (and its actor) stays reachable through this GC
    gc?.();
    retained.push((process.memoryUsage().heapUsed - before) / subject.unitsPerBatch);
    alive.batch = null;
  }
  return { perUnit, interrupted, retained };
}

/** Sampled bytes and objects per unit, by allocating function. */
async function sampled(subject: Subject, batches: number, interval: number) {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  const bySite = new Map<string, { bytes: number; objects: number; area: string }>();
  let units = 0;
  for (let b = 0; b < batches; b++) {
    const run = subject.setup();
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: interval,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    } as never);
    run();
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: SamplingProfile };
    units += subject.unitsPerBatch;
    // A builtin (`Set`, `push`, ...) is charged to the nearest caller with a source location.
    const sites = new Map<number, { key: string; area: string }>();
    const walk = (n: SamplingNode, caller: { name: string; location: string; area: string } | null, builtin: string) => {
      const here = locate(n.callFrame);
      const name = n.callFrame.functionName || '(anonymous)';
      const own = n.callFrame.url ? { name, ...here } : caller;
      const via = n.callFrame.url ? '' : name;
      sites.set(
        n.id,
        own ? { key: `${own.name}${via ? ` > ${via}` : ''}  ${own.location}`, area: own.area } : { key: name, area: here.area },
      );
      for (const c of n.children) walk(c, own, via || builtin);
    };
    walk(profile.head, null, '');
    for (const s of profile.samples) {
      const site0 = sites.get(s.nodeId);
      if (!site0) continue;
      const { key, area } = site0;
      // A sample of size s stands for 1 / (1 - e^(-s/interval)) objects, s bytes each (V8's own scaling).
      const objects = 1 / (1 - Math.exp(-s.size / interval));
      const site = bySite.get(key) ?? { bytes: 0, objects: 0, area };
      site.bytes += s.size * objects;
      site.objects += objects;
      bySite.set(key, site);
    }
  }
  await session.post('HeapProfiler.disable');
  session.disconnect();
  return { units, bySite };
}

/**
 * Sources the README's per-event table names, matched on `function  location` (first match wins);
 * what none matches is `other`. The event-id window copy is part of `appendRecord`: compare runs
 * to split it (see bench/README.md).
 */
const SOURCES: Array<[string, RegExp]> = [
  [
    'XState: new snapshots and context copies (per assign, per microstep)',
    /^(resolveAssign|cloneMachineSnapshot|createMachineSnapshot|getAllStateNodes|getStateValue|getAdjList|assign)\b/,
  ],
  [
    'XState: invoked actors (Actor, spawn, stop)',
    /^(Actor|resolveSpawn|resolveStop|createActor|get invoke|_complete|start|stop|createSpawner|executeStop|executeSpawn)\b/,
  ],
  [
    'XState: action dispatch and emit',
    /^(resolveAndExecuteActionsWithContext|resolveActionsAndContext|resolveEmit|executeEmit|\(anonymous\) {2}xstate\/dist\/log)/,
  ],
  ['XState: transition selection and microsteps', /xstate\//],
  ['ours: audit record, statistics, event-id window', /actions\/audit\.ts/],
  ['ours: validated event copy', /machines\/validateEvent\.ts/],
  [
    'ours: pipeline objects (prepared trigger, transaction, result)',
    /services\/runtime\/(strategyHandle|handleResults|pipeline|prepareTrigger)\.ts/,
  ],
  ['ours: refusal reason and rejection event', /services\/runtime\/rejection\.ts/],
  ['ours: record timestamps', /services\/market\/time\.ts/],
  ['ours: machine actions (deadlines, fills, announcement)', /(machines|actions|guards)\//],
  ['ours: trail, listeners, delays', /services\//],
  ['bench harness', /bench\//],
];
const sourceOf = (key: string) => SOURCES.find(([, re]) => re.test(key))?.[0] ?? 'other';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
};

async function main(argv: readonly string[]): Promise<void> {
  if (!gc) throw new Error('run with node --expose-gc');
  const batches = option(argv, 'batches', 8);
  const interval = option(argv, 'interval', 256);
  const top = option(argv, 'top', 30);
  const subjects = argv.includes('--broadcast') ? broadcastSubjects(argv) : perEventSubjects(argv);
  const unit = argv.includes('--broadcast') ? 'delivery' : 'event';
  for (const subject of subjects) {
    for (let w = 0; w < 3; w++) subject.setup()(); // warm-up
    const exact = await exactBytes(subject, batches);
    const { units, bySite } = await sampled(subject, batches, interval);
    let bytes = 0;
    let objects = 0;
    const areas = new Map<string, { bytes: number; objects: number }>();
    for (const site of bySite.values()) {
      bytes += site.bytes;
      objects += site.objects;
      const a = areas.get(site.area) ?? { bytes: 0, objects: 0 };
      a.bytes += site.bytes;
      a.objects += site.objects;
      areas.set(site.area, a);
    }
    const sources = new Map<string, number>();
    for (const [key, site] of bySite) sources.set(sourceOf(key), (sources.get(sourceOf(key)) ?? 0) + site.bytes);
    const range = exact.perUnit.length ? `${Math.min(...exact.perUnit).toFixed(0)}-${Math.max(...exact.perUnit).toFixed(0)}` : 'n/a';
    const out = [
      `== ${subject.name}: exact ${median(exact.perUnit).toFixed(0)} B/${unit} (median of ${exact.perUnit.length} GC-free batches, range ${range}, ${exact.interrupted} interrupted)`,
      `   retained after a full GC (actor alive): ${median(exact.retained).toFixed(0)} B/${unit}`,
      `   sampled ${(bytes / units).toFixed(0)} B and ${(objects / units).toFixed(1)} objects per ${unit}`,
      '   by area (B/unit, objects/unit):',
    ];
    for (const [area, a] of [...areas].sort((x, y) => y[1].bytes - x[1].bytes).slice(0, 12))
      out.push(`   ${(a.bytes / units).toFixed(0).padStart(7)} ${(a.objects / units).toFixed(2).padStart(7)}  ${area}`);
    // Sampled bytes overstate the exact figure by a steady factor: each source's share of the sample, times the exact total.
    const scale = median(exact.perUnit) / (bytes / units);
    out.push('   by source (exact B/unit from the sampled share, share):');
    for (const [source, b] of [...sources].sort((x, y) => y[1] - x[1]))
      out.push(`   ${((b / units) * scale).toFixed(0).padStart(7)} ${((100 * b) / bytes).toFixed(1).padStart(6)}%  ${source}`);
    out.push(`   top ${top} allocating functions:`);
    for (const [key, s] of [...bySite].sort((x, y) => y[1].bytes - x[1].bytes).slice(0, top))
      out.push(`   ${(s.bytes / units).toFixed(0).padStart(7)} ${(s.objects / units).toFixed(2).padStart(7)}  ${key}`);
    process.stdout.write(`${out.join('\n')}\n`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`allocation failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
