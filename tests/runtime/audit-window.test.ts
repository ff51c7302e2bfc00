/**
 * The compact in-memory audit window (issue 15): the newest `limit` records, oldest first, kept
 * as deflated chunks plus the newest unpacked ones; reads decode what they need.
 */
import type { TransitionRecord } from '../../machines/types';
import { toMarketIso } from '../../services/market/time';
import { deflatedChunks } from '../../services/runtime/auditChunks';
import { AuditWindow, DEFAULT_AUDIT_CHUNK } from '../../services/runtime/auditWindow';

/** A record like the audit's, with a payload and the optional fields on some. */
function record(seq: number): TransitionRecord {
  return {
    seq,
    timestamp: `2026-03-02T09:${String(seq % 60).padStart(2, '0')}:00.000-05:00`,
    at: 1_772_460_000_000 + seq * 60_000,
    previousState: 'READY',
    currentState: seq % 3 === 0 ? 'READY' : 'ANALYZING',
    trigger: seq % 3 === 0 ? 'MARKET_OPEN' : 'TIME_WINDOW_START',
    data: seq % 2 === 0 ? { window: 'entry', legs: [{ strike: 5000 + seq, right: 'P' }] } : {},
    message: `message ${seq} é`,
    accepted: seq % 3 !== 0,
    ...(seq % 3 === 0 ? { reason: 'READY has no edge for MARKET_OPEN', code: 'NO_EDGE' as const } : {}),
    ...(seq % 5 === 0 ? { eventId: `e-${seq}`, reentered: true as const } : {}),
  };
}
const records = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => record(from + i));
/** A compact window, as a persistent system's strategies hold (deflated chunks). */
const compactWindow = (limit: number, initial: readonly TransitionRecord[] = [], chunk = DEFAULT_AUDIT_CHUNK) =>
  new AuditWindow(limit, initial, chunk, deflatedChunks);
const seqs = (list: readonly TransitionRecord[]) => list.map((r) => r.seq);
/** One trigger writing one record, as the strategy handle does: seal, then push. */
function trigger(window: AuditWindow, ...written: TransitionRecord[]): void {
  window.seal();
  for (const r of written) window.push(r);
}

describe('AuditWindow', () => {
  test.each([
    [200, 16, 1000],
    [20, 16, 37],
    [16, 16, 48],
    [5, 16, 40],
    [1, 4, 9],
    [100, 7, 100],
  ])('limit %i, chunks of %i, %i pushes: holds the newest records, oldest first, equal to what was pushed', (limit, chunk, pushes) => {
    const window = compactWindow(limit, [], chunk);
    const all = records(1, pushes);
    for (const r of all) trigger(window, r);
    const expected = all.slice(-limit);
    expect(window.length).toBe(expected.length);
    expect(window.toArray()).toEqual(expected);
    expect(window.oldestSeq).toBe(expected[0].seq);
  });

  test('every length around the chunk boundaries reads back whole', () => {
    const chunk = 8;
    const window = compactWindow(3 * chunk + 3, [], chunk);
    for (let seq = 1; seq <= 6 * chunk; seq++) {
      trigger(window, record(seq));
      const expected = records(Math.max(1, seq - (3 * chunk + 3) + 1), seq);
      expect(seqs(window.toArray())).toEqual(seqs(expected));
      expect(window.length).toBe(expected.length);
    }
  });

  test('before(seq, limit) pages from the newest down, across chunks, and never past what it holds', () => {
    const window = compactWindow(50, [], 16);
    for (const r of records(1, 130)) trigger(window, r);
    // Held: 81..130.
    expect(seqs(window.before(Number.MAX_SAFE_INTEGER, 5))).toEqual([126, 127, 128, 129, 130]);
    expect(seqs(window.before(120, 10))).toEqual(records(110, 119).map((r) => r.seq));
    expect(seqs(window.before(90, 100))).toEqual(records(81, 89).map((r) => r.seq));
    expect(window.before(81, 10)).toEqual([]);
    expect(window.before(85, 2)).toEqual([record(83), record(84)]);
    // Pages put back in order give the window exactly once.
    const paged: TransitionRecord[] = [];
    for (let before = Number.MAX_SAFE_INTEGER; ;) {
      const page = window.before(before, 7);
      if (page.length === 0) break;
      paged.unshift(...page);
      before = page[0].seq;
    }
    expect(paged).toEqual(window.toArray());
  });

  test('a restored trail longer than the window keeps its newest records and goes on sliding', () => {
    const window = compactWindow(30, records(1, 100), 16);
    expect(seqs(window.toArray())).toEqual(seqs(records(71, 100)));
    expect(seqs(window.before(75, 10))).toEqual([71, 72, 73, 74]);
    trigger(window, record(101));
    expect(window.toArray()).toEqual(records(72, 101));
    for (const r of records(102, 140)) trigger(window, r);
    expect(window.toArray()).toEqual(records(111, 140));
  });

  test('toArray returns a new array; the newest record is the object pushed, packed ones equal copies', () => {
    const window = compactWindow(10, [], 4);
    const pushed = records(1, 6);
    for (const r of pushed) trigger(window, r);
    const copy = window.toArray();
    copy.pop();
    copy.shift();
    expect(window.toArray()).toEqual(records(1, 6));
    expect(window.toArray().at(-1)).toBe(pushed[5]);
    expect(window.toArray()[0]).not.toBe(pushed[0]);
    // After a chunk fills, the newest is still the object pushed.
    for (const r of records(7, 9)) trigger(window, r);
    const newest = record(10);
    trigger(window, newest);
    expect(window.toArray().at(-1)).toBe(newest);
    expect(window.toArray()).toEqual(records(1, 10));
  });

  test("a trigger's records stay the objects pushed until the next trigger; without seals at most a few do", () => {
    const window = compactWindow(100, [], 4);
    trigger(window, ...records(1, 5));
    const written = records(6, 8);
    trigger(window, ...written);
    const held = window.toArray();
    expect(held).toEqual(records(1, 8));
    // All three records of the latest trigger are the objects it wrote (its result holds the first).
    written.forEach((r, i) => expect(held[5 + i]).toBe(r));
    expect(held[4]).not.toBe(records(1, 5)[4]);
    trigger(window, record(9));
    expect(window.toArray()[5]).not.toBe(written[0]);
    expect(window.toArray().at(-1)).toEqual(record(9));

    // A caller that never seals still gets a compact window: only the newest few stay objects.
    const unsealed = compactWindow(100, [], 4);
    const pushed = records(1, 40);
    for (const r of pushed) unsealed.push(r);
    const back = unsealed.toArray();
    expect(back).toEqual(pushed);
    expect(back.filter((r, i) => r === pushed[i]).length).toBeLessThanOrEqual(8);
    expect(back.at(-1)).toBe(pushed.at(-1));
  });

  test('an empty window and a limit below 1', () => {
    expect(compactWindow(10).toArray()).toEqual([]);
    expect(compactWindow(10).oldestSeq).toBeUndefined();
    const one = compactWindow(0);
    trigger(one, record(1));
    trigger(one, record(2));
    expect(one.toArray()).toEqual([record(2)]);
  });

  test('packed, a record takes a small fraction of its JSON text', () => {
    const window = compactWindow(10_000);
    // Packed one record late: the 161st push packs the tenth chunk.
    for (const r of records(1, 10 * DEFAULT_AUDIT_CHUNK + 1)) trigger(window, r);
    // The chunks are private: read here only to weigh them.
    const packed = (window as unknown as { chunks: string[] }).chunks;
    expect(packed.length).toBe(10);
    const text = JSON.stringify(records(1, 10 * DEFAULT_AUDIT_CHUNK)).length;
    expect(packed.reduce((sum, c) => sum + c.length, 0)).toBeLessThan(text / 4);
  });

  test('records read back equal, with their keys in the audit order: market timestamps, optional fields, extra keys', () => {
    const audited = records(1, 40).map((r) => ({ ...r, timestamp: toMarketIso(r.at) }));
    const odd = { ...record(41), note: 'a key of its own' } as TransitionRecord;
    const window = compactWindow(100, [], 8);
    for (const r of [...audited, odd, record(42)]) trigger(window, r);
    const back = window.toArray();
    expect(back).toEqual([...audited, odd, record(42)]);
    expect(back.map((r) => JSON.stringify(r))).toEqual([...audited, odd, record(42)].map((r) => JSON.stringify(r)));
  });
});

test('a chunk whose packed form is longer than one output buffer (1 KB) reads back equal', () => {
  // Text deflate cannot shrink much: its packed form takes several passes of the output buffer.
  let seed = 7;
  const noise = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed.toString(36);
  };
  const json = JSON.stringify(Array.from({ length: 16 }, (_, i) => [i, Array.from({ length: 60 }, noise).join('')]));
  const packed = deflatedChunks.pack(json);
  expect(packed.length).toBeGreaterThan(2048);
  expect(deflatedChunks.unpack(packed)).toBe(json);
  const window = compactWindow(40, [], 4);
  const big = records(1, 12).map((r) => ({ ...r, data: { blob: Array.from({ length: 30 }, noise).join('') } }));
  for (const r of big) trigger(window, r);
  expect(window.toArray()).toEqual(big);
});

test('not compact (a strategy without a store): every record is the object pushed, the view is the live list, the limit holds', () => {
  const window = new AuditWindow(3, records(1, 5), 2);
  expect(seqs(window.view())).toEqual([3, 4, 5]);
  const pushed = records(6, 10);
  for (const r of pushed) trigger(window, r);
  const view = window.view();
  expect(view).toBe(window.view());
  expect(seqs(view)).toEqual([8, 9, 10]);
  view.forEach((r, i) => expect(r).toBe(pushed[2 + i]));
  expect(window.length).toBe(3);
  expect(window.oldestSeq).toBe(8);
  expect(seqs(window.before(10, 5))).toEqual([8, 9]);
});
