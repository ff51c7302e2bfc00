/**
 * Group commit: a persisted broadcast (`openStrategySystem` on SQLite, WAL, synchronous=FULL) to
 * 10k and 1k strategies against one raw transaction writing the same rows with our two statements,
 * the longest event-loop pause (`setTimeout(0)` lag) during the 10k broadcast, and 100 strategies
 * sending at once against our two statements batched 100 per transaction, on SQLite and on
 * PostgreSQL (PG_TEST_URL, or a throwaway cluster from bin/pg-test-cluster.sh).
 */
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { StrategyEvent } from '../../machines/events.js';
import { lt112, strangle, zeroDte } from '../../machines/variants/index.js';
import { createSimulatedClock } from '../../services/market/clock.js';
import { createStrategySystem } from '../../services/runtime/strategySystem.js';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem.js';
import { PostgresStore } from '../../services/store/postgresStore.js';
import { SqliteStore } from '../../services/store/sqliteStore.js';
import type { BatchReport } from '../../services/store/groupCommit.js';
import type { StrategyStore } from '../../services/store/types.js';
import { defineBench, duration, medianOf, repoRoot, si, type BenchContext, type BenchRow } from '../harness.js';

interface Sizes {
  strategies: number;
  small: number;
  rounds: number;
  senders: number;
  /** Sends per sender per round. */
  perSender: number;
}

const VARIANTS = [zeroDte, lt112, strangle];
const FLIP: StrategyEvent[] = [
  { type: 'TIME_WINDOW_START', window: 'entry' },
  { type: 'TIME_WINDOW_END', window: 'entry' },
];
const median = (values: number[]) => medianOf(values, (v) => v);
const range = (values: number[], show: (v: number) => string) => `${show(Math.min(...values))}-${show(Math.max(...values))}`;

/** Runs `work` and returns its elapsed time and this process's CPU time (ms): a loaded machine inflates the first only. */
async function timed(ctx: BenchContext, work: () => unknown): Promise<{ ms: number; cpuMs: number }> {
  const start = ctx.now();
  const cpu = process.cpuUsage();
  await work();
  const used = process.cpuUsage(cpu);
  return { ms: ctx.now() - start, cpuMs: (used.user + used.system) / 1000 };
}

/** Batch sizes formed, as `count x size` groups in order of size (e.g. `19 x 512, 1 x 272`). */
function batchSizes(batches: readonly BatchReport[]): string {
  const counts = new Map<number, number>();
  for (const b of batches) counts.set(b.writes, (counts.get(b.writes) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[0] - a[0])
    .map(([size, n]) => `${n} x ${size}`)
    .join(', ');
}

/** The same broadcast through an in-memory system of `count` strategies: the per-strategy transition alone, no store. */
function inMemoryBroadcast(count: number) {
  const system = createStrategySystem({ clock: createSimulatedClock('2026-01-05T09:00:00-05:00') });
  for (let i = 0; i < count; i++) system.add(lt112, { id: `s${i}` });
  system.broadcast({ type: 'MARKET_OPEN' });
  return { broadcast: (event: StrategyEvent) => system.broadcast(event), stop: () => system.stop() };
}

/** The longest gap between two `setTimeout(0)` callbacks while it runs (real time, ms). */
function lagMonitor(): { stop(): number } {
  let max = 0;
  let last = performance.now();
  let running = true;
  const tick = () => {
    const now = performance.now();
    max = Math.max(max, now - last);
    last = now;
    if (running) setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  return { stop: () => ((running = false), max) };
}

/** A system of `count` strategies at READY; each strategy's next event flips it READY <-> ANALYZING. */
async function systemOf(store: StrategyStore, count: number) {
  const system = await openStrategySystem({ store, variants: VARIANTS, clock: createSimulatedClock('2026-01-05T09:00:00-05:00') });
  for (let i = 0; i < count; i++) await system.add(lt112, { id: `s${i}` });
  await system.broadcast({ type: 'MARKET_OPEN' });
  const sent = new Map<string, number>();
  const next = (id: string): StrategyEvent => {
    const n = sent.get(id) ?? 0;
    sent.set(id, n + 1);
    return FLIP[n % 2];
  };
  return { system, next };
}

/**
 * The rows a write of one strategy makes, serialised as the store serialises them: the snapshot
 * after the broadcast just made (READY and ANALYZING snapshots differ in size) and its record.
 */
function sampleRows(system: PersistentStrategySystem) {
  const strategy = system.get(system.ids()[0]);
  return { snapshot: JSON.stringify(strategy.actorRef.getPersistedSnapshot()), record: JSON.stringify(strategy.getAuditTrail().at(-1)) };
}

/** Our two statements on a raw connection: `write(ids)` updates each strategy's row and inserts one record, in one transaction. */
function rawSqlite(file: string, count: number, rows: { snapshot: string; record: string }) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const add = db.prepare(
    "INSERT INTO strategies (strategy_id, variant, params, snapshot, seq, state, created_at, updated_at) VALUES (?, 'lt112', '{}', ?, 0, 'READY', 0, 0)",
  );
  db.transaction(() => {
    for (let i = 0; i < count; i++) add.run(`s${i}`, rows.snapshot);
  })();
  const update = db.prepare(
    "UPDATE strategies SET snapshot = ?, seq = ?, state = 'READY', updated_at = ? WHERE strategy_id = ? AND seq = ?",
  );
  const insert = db.prepare('INSERT INTO audit_records (strategy_id, seq, at, record) VALUES (?, ?, ?, ?)');
  let seq = 0;
  // `written`: the rows of the same transition (snapshot and record) as our broadcast just wrote.
  const write = db.transaction((ids: number, written: { snapshot: string; record: string } = rows) => {
    for (let i = 0; i < ids; i++) {
      update.run(written.snapshot, seq + 1, seq, `s${i}`, seq);
      insert.run(`s${i}`, seq + 1, seq, written.record);
    }
    seq++;
  });
  return { write, close: () => db.close() };
}

/** `senders` strategies each sending `perSender` events one after the other, all at once; transitions/s. */
async function concurrentRate(
  ctx: BenchContext,
  system: PersistentStrategySystem,
  next: (id: string) => StrategyEvent,
  senders: number,
  perSender: number,
): Promise<number> {
  const ids = system.ids().slice(0, senders);
  const start = ctx.now();
  await Promise.all(
    ids.map(async (id) => {
      for (let i = 0; i < perSender; i++) await system.send(id, next(id));
    }),
  );
  return ((senders * perSender) / (ctx.now() - start)) * 1000;
}

async function freshPgDatabase(admin: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  const db = `bench_${name}_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  await client.query(`CREATE DATABASE ${db}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${db}`;
  return url.toString();
}

/** PG_TEST_URL, or a throwaway cluster (stopped by `stop`). */
function postgresCluster(): { url: string; stop(): void } | { error: string } {
  if (process.env.PG_TEST_URL) return { url: process.env.PG_TEST_URL, stop: () => undefined };
  try {
    const out = execFileSync(join(repoRoot(), 'bin/pg-test-cluster.sh'), ['start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .trim()
      .split('\n');
    const dir = out[out.length - 2];
    return { url: out[out.length - 1], stop: () => execFileSync(join(repoRoot(), 'bin/pg-test-cluster.sh'), ['stop', dir]) };
  } catch (error) {
    return { error: ((error as { stderr?: string }).stderr || (error as Error).message).trim() };
  }
}

export const groupCommit = defineBench<Sizes>({
  id: 'group-commit',
  title: 'group commit: persisted broadcast, event-loop lag, concurrent senders',
  full: { strategies: 10_000, small: 1000, rounds: 3, senders: 100, perSender: 20 },
  smoke: { strategies: 30, small: 10, rounds: 1, senders: 5, perSender: 2 },
  async run(ctx, sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'sl-bench-gc-'));
    const rows: BenchRow[] = [];
    try {
      for (const count of [sizes.strategies, sizes.small]) {
        ctx.log(`group-commit: ${count} strategies on SQLite`);
        const file = join(dir, `ours-${count}.db`);
        const batches: BatchReport[] = [];
        const { system } = await systemOf(new SqliteStore(file, { checkEveryMs: 0, onBatch: (b) => batches.push(b) }), count);
        const floorFile = join(dir, `floor-${count}.db`);
        const schema = new SqliteStore(floorFile);
        await schema.open();
        await schema.close();
        const raw = rawSqlite(floorFile, count, sampleRows(system));
        const ours: Array<{ ms: number; cpuMs: number }> = [];
        const floor: Array<{ ms: number; cpuMs: number }> = [];
        const alone: Array<{ ms: number; cpuMs: number }> = [];
        const lags: number[] = [];
        let formed = '';
        let event = 0;
        for (let round = 0; round < sizes.rounds; round++) {
          const sent = FLIP[event++ % 2];
          const lag = lagMonitor();
          batches.length = 0;
          let results: Awaited<ReturnType<PersistentStrategySystem['broadcast']>> = {};
          ours.push(await timed(ctx, async () => (results = await system.broadcast(sent))));
          lags.push(lag.stop());
          formed = batchSizes(batches);
          const refused = Object.values(results).filter((r) => r instanceof Error || !r.accepted).length;
          if (refused) throw new Error(`group-commit: ${refused} deliveries of the broadcast were not accepted transitions`);
          // The same rows as the broadcast just wrote: its snapshot JSON and record, for every strategy.
          const rows = sampleRows(system);
          floor.push(await timed(ctx, () => raw.write(count, rows)));
        }
        await system.close();
        raw.close();
        // The same rounds in memory, once the persisted system is gone (its heap would slow ours).
        const memory = inMemoryBroadcast(count);
        for (let round = 0; round < sizes.rounds; round++) alone.push(await timed(ctx, () => memory.broadcast(FLIP[round % 2])));
        memory.stop();
        const n = count >= 1000 ? `${count / 1000}k` : String(count);
        const big = count === sizes.strategies;
        const wall = (xs: typeof ours) => xs.map((x) => x.ms);
        const cpu = (xs: typeof ours) => xs.map((x) => x.cpuMs);
        const list = (xs: number[]) => xs.map(duration).join(', ');
        rows.push({
          measure: `persisted broadcast to ${n} strategies on SQLite (group commit, synchronous=FULL)`,
          ours: { text: duration(median(wall(ours))), value: median(wall(ours)), unit: 'ms' },
          referenceName: `one raw transaction writing the same ${n} rows (our two statements each)`,
          reference: { text: duration(median(wall(floor))), value: median(wall(floor)), unit: 'ms' },
          ratio: median(wall(ours)) / median(wall(floor)),
          target: big ? '≤ 2.5x the raw transaction' : '< 100 ms',
          met: big ? median(wall(ours)) <= 2.5 * median(wall(floor)) : median(wall(ours)) < 100,
          notes: [
            `${n} broadcast: median of ${sizes.rounds} alternating rounds; ours ${list(wall(ours))}, raw ${list(wall(floor))}; ratios ${ours.map((o, i) => (o.ms / floor[i].ms).toFixed(2)).join(', ')}`,
            `${n} broadcast, CPU time of this process: ours ${list(cpu(ours))}, raw ${list(cpu(floor))}; the same broadcast in memory (the transitions alone, no store) ${list(wall(alone))} elapsed, ${list(cpu(alone))} CPU; batches formed (last round): ${formed}`,
          ],
        });
        if (big) {
          rows.push({
            measure: `longest event-loop pause during the ${n} broadcast (setTimeout(0) lag)`,
            ours: { text: duration(Math.max(...lags)), value: Math.max(...lags), unit: 'ms' },
            referenceName: 'none',
            reference: null,
            ratio: null,
            target: '< 50 ms',
            met: Math.max(...lags) < 50,
            notes: [`longest gap between setTimeout(0) callbacks per round: ${lags.map(duration).join(', ')}`],
          });
        }
      }

      ctx.log(`group-commit: ${sizes.senders} concurrent senders on SQLite`);
      const batches: BatchReport[] = [];
      const { system, next } = await systemOf(
        new SqliteStore(join(dir, 'senders.db'), { checkEveryMs: 0, onBatch: (b) => batches.push(b) }),
        sizes.senders,
      );
      const floorFile = join(dir, 'senders-floor.db');
      const schema = new SqliteStore(floorFile);
      await schema.open();
      await schema.close();
      const raw = rawSqlite(floorFile, sizes.senders, sampleRows(system));
      const ours: number[] = [];
      const floor: number[] = [];
      for (let round = 0; round < sizes.rounds; round++) {
        batches.length = 0;
        ours.push(await concurrentRate(ctx, system, next, sizes.senders, sizes.perSender));
        const start = ctx.now();
        for (let i = 0; i < sizes.perSender; i++) raw.write(sizes.senders);
        floor.push(((sizes.senders * sizes.perSender) / (ctx.now() - start)) * 1000);
      }
      await system.close();
      raw.close();
      const row = sendersRow('SQLite', sizes, ours, floor, `our two statements, ${sizes.senders} per transaction`);
      row.notes = [...(row.notes ?? []), `SQLite senders: batches formed (last round): ${batchSizes(batches)}`];
      rows.push(row);
      rows.push(await postgresSenders(ctx, sizes));
      return rows;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
});

function sendersRow(where: string, sizes: Sizes, ours: number[], floor: number[], floorName: string): BenchRow {
  return {
    measure: `${sizes.senders} strategies sending at once on ${where} (each awaits its send, group commit)`,
    ours: { text: `${si(median(ours))} transitions/s`, value: median(ours), unit: '/s' },
    referenceName: floorName,
    reference: { text: `${si(median(floor))} writes/s`, value: median(floor), unit: '/s' },
    ratio: median(floor) / median(ours),
    target: 'at least 50% of the batched floor',
    met: median(ours) >= 0.5 * median(floor),
    notes: [
      `${where} senders: median of ${sizes.rounds} alternating rounds of ${sizes.senders} x ${sizes.perSender} sends; ours ${range(ours, si)}/s, floor ${range(floor, si)}/s`,
    ],
  };
}

/** The same concurrent senders on PostgreSQL, against multi-row UPDATE + INSERT of 100 writes per transaction. */
async function postgresSenders(ctx: BenchContext, sizes: Sizes): Promise<BenchRow> {
  const cluster = postgresCluster();
  if ('error' in cluster) {
    return {
      measure: `${sizes.senders} strategies sending at once on PostgreSQL`,
      ours: { text: 'not measured', value: NaN, unit: '/s' },
      referenceName: 'none',
      reference: null,
      ratio: null,
      target: 'at least 50% of the batched floor',
      met: null,
      notes: [`PostgreSQL: no cluster (${cluster.error})`],
    };
  }
  try {
    ctx.log(`group-commit: ${sizes.senders} concurrent senders on PostgreSQL`);
    const url = await freshPgDatabase(cluster.url, 'ours');
    const { system, next } = await systemOf(new PostgresStore({ connectionString: url, instanceId: 'bench' }), sizes.senders);
    const rows = sampleRows(system);
    const floorUrl = await freshPgDatabase(cluster.url, 'floor');
    const schema = new PostgresStore({ connectionString: floorUrl });
    await schema.open();
    await schema.close();
    const raw = new pg.Client({ connectionString: floorUrl });
    await raw.connect();
    const ids = Array.from({ length: sizes.senders }, (_, i) => `s${i}`);
    await raw.query(
      "INSERT INTO strategies (strategy_id, variant, params, snapshot, seq, state, created_at, updated_at) SELECT id, 'lt112', '{}', $2::jsonb, 0, 'READY', 0, 0 FROM unnest($1::text[]) AS id",
      [ids, rows.snapshot],
    );
    let seq = 0;
    const snapshots = ids.map(() => rows.snapshot);
    const records = ids.map(() => rows.record);
    const writeAll = async () => {
      await raw.query('BEGIN');
      await raw.query(
        "UPDATE strategies s SET snapshot = i.snapshot, seq = $2::bigint, state = 'READY', updated_at = $2::bigint FROM unnest($1::text[], $3::jsonb[]) AS i(id, snapshot) WHERE s.strategy_id = i.id AND s.seq = $2::bigint - 1",
        [ids, seq + 1, snapshots],
      );
      await raw.query(
        'INSERT INTO audit_records (strategy_id, seq, at, record) SELECT id, $2::bigint, $2::bigint, r FROM unnest($1::text[], $3::jsonb[]) AS x(id, r)',
        [ids, seq + 1, records],
      );
      await raw.query('COMMIT');
      seq++;
    };
    const ours: number[] = [];
    const floor: number[] = [];
    for (let round = 0; round < sizes.rounds; round++) {
      ours.push(await concurrentRate(ctx, system, next, sizes.senders, sizes.perSender));
      const start = ctx.now();
      for (let i = 0; i < sizes.perSender; i++) await writeAll();
      floor.push(((sizes.senders * sizes.perSender) / (ctx.now() - start)) * 1000);
    }
    await raw.end();
    await system.close();
    return sendersRow(
      'PostgreSQL',
      sizes,
      ours,
      floor,
      `multi-row UPDATE + INSERT (unnest), ${sizes.senders} writes per transaction, one connection`,
    );
  } finally {
    cluster.stop();
  }
}
