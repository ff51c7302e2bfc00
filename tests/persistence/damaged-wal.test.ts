/**
 * A write-ahead log cut short (a copy taken while the store was writing, a bad restore) is a
 * damaged log, refused as StoreCorruptError naming the log: not a "replaced" database whose advice
 * (delete the marker) starts an empty store. The refusal changes no file, and its advice keeps
 * them. A log that only ends partway through a frame is what a crash mid-commit leaves: it opens
 * (a log cut on a frame inside a transaction after a checkpoint cannot be told from that).
 */
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoreCorruptError } from '../../machines/errors';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { holdZeroDte } from '../support/restartHarness';
import { copyStore, tempDir } from './helpers';

const variants = [zeroDte, lt112, strangle];
const FRAME = 24 + 4096;
let dir: string;
let cleanup: () => void;
let file: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('sl-damaged-wal-'));
  file = join(dir, 'strategies.db');
});
afterEach(() => cleanup());

const open = (path = file) =>
  openStrategySystem({ store: new SqliteStore(path, { checkEveryMs: 0 }), variants, clock: createSimulatedClock(FRIDAY_11AM) });

const readFiles = (suffixes = ['', '-wal', '-shm', '.id']) => suffixes.map((suffix) => readFileSync(file + suffix));

/**
 * Opens, expecting the damaged-log refusal, and checks the files are as they were. `readFirst`: the
 * refusal comes from what a read-only connection found, which rebuilds SQLite's shared-memory
 * index (`-shm`, no data, remade by every first connection): the data files are compared.
 */
async function refusedLeavingFiles(readFirst = false): Promise<StoreCorruptError> {
  const files = () => readFiles(readFirst ? ['', '-wal', '.id'] : undefined);
  const before = files();
  const error = await open().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(StoreCorruptError);
  const corrupt = error as StoreCorruptError;
  expect(corrupt.path).toBe(file);
  expect(corrupt.detail).toContain(`write-ahead log ${file}-wal is damaged`);
  // The advice keeps the data: never an empty store, never the log or the marker deleted.
  expect(corrupt.message).toContain('Do not start with --init and do not delete the log or the marker');
  expect(corrupt.message).not.toMatch(/start with --init for an empty store|delete the marker and/);
  files().forEach((bytes, i) => expect(bytes.equals(before[i])).toBe(true));
  return corrupt;
}

test('every commit still in a log cut to 10 bytes: refused as a damaged log, not a replaced database', async () => {
  const crashed = join(dir, 'crashed.db');
  const running = await open(crashed);
  await holdZeroDte(running, 'z', { expiry: '2026-01-02', quantity: 2 });
  copyStore(crashed, file);
  await running.close();
  truncateSync(`${file}-wal`, 10);

  expect((await refusedLeavingFiles()).detail).toContain('it is 10 bytes, shorter than its 32-byte header');
});

test('every commit still in a log cut inside a frame (the store id not yet in the file): refused as a damaged log', async () => {
  const crashed = join(dir, 'crashed.db');
  const running = await open(crashed);
  await holdZeroDte(running, 'z', { expiry: '2026-01-02', quantity: 2 });
  copyStore(crashed, file);
  await running.close();
  truncateSync(`${file}-wal`, 32 + FRAME + 100);

  expect((await refusedLeavingFiles(true)).detail).toMatch(/1 whole frames of 4120 bytes and part of one more: it was cut short/);
});

test('a log ending partway through a frame, as a crash in the middle of a commit leaves it: opened with every whole transaction', async () => {
  // kill -9 between a frame's header and its page (two writes), or a power loss mid-commit: the
  // unfinished transaction was never acknowledged, and SQLite keeps every one before it. Refusing
  // this (as a damaged log) would stop a service that restarts by itself after a crash.
  const crashed = join(dir, 'crashed.db');
  const first = await open(crashed);
  await holdZeroDte(first, 'z', { expiry: '2026-01-02', quantity: 2 });
  await first.close(); // everything in the database file; the log is gone
  const running = await open(crashed);
  await running.send('z', { type: 'EMERGENCY_EXIT' });
  copyStore(crashed, file);
  await running.close();
  const log = readFileSync(`${file}-wal`);
  expect((log.length - 32) % FRAME).toBe(0);
  writeFileSync(`${file}-wal`, Buffer.concat([log, Buffer.alloc(24 + 700, 7)])); // the next commit's first frame, cut

  const system = await open();
  expect(system.peek('z').snapshot).toMatchObject({ value: 'EXITING', context: { position: { quantity: 2 } } });
  await system.close();
});

test('a whole log left by a crash is no damage: the store opens with what it holds', async () => {
  const crashed = join(dir, 'crashed.db');
  const running = await open(crashed);
  await holdZeroDte(running, 'z', { expiry: '2026-01-02', quantity: 2 });
  copyStore(crashed, file);
  await running.close();

  const system = await open();
  expect(system.peek('z').snapshot).toMatchObject({ value: 'MANAGING', context: { position: { quantity: 2 } } });
  await system.close();
});

test('a log whose header is overwritten is refused naming the header', async () => {
  const crashed = join(dir, 'crashed.db');
  const running = await open(crashed);
  await holdZeroDte(running, 'z', { expiry: '2026-01-02' });
  copyStore(crashed, file);
  await running.close();
  const log = readFileSync(`${file}-wal`);
  log.fill(0, 0, 32);
  writeFileSync(`${file}-wal`, log);

  expect((await refusedLeavingFiles()).detail).toContain('its header is not a write-ahead log header');
});
