import { mustExist } from '../../machines/errors.js';
import type { TransitionRecord } from '../../machines/types.js';
import { toMarketIso } from '../market/time.js';

/** Records packed together into one compressed chunk of an {@link AuditWindow} by default. */
export const DEFAULT_AUDIT_CHUNK = 16;

/**
 * How an {@link AuditWindow} compresses a chunk: the JSON text of its records in, a string out,
 * and back. The package's codec is `deflatedChunks` (services/runtime/auditChunks.ts, Node's zlib);
 * the window itself imports no Node built-in, so an in-memory strategy runs anywhere.
 */
export interface ChunkCodec {
  pack(json: string): string;
  unpack(chunk: string): string;
}

/** A record as packed: its values in key order, or the record itself when it has other keys. */
type Encoded = [number, string | 0, ...unknown[]] | TransitionRecord;

/**
 * A record's values without their keys, in the order the audit writes them; the timestamp is
 * left out (0) when it is the one `toMarketIso(at)` gives, as the audit's always is. About 200
 * bytes of JSON instead of 300. A record with keys of its own is kept whole.
 */
function encode(r: TransitionRecord): string {
  const optional =
    (r.reason !== undefined ? 1 : 0) +
    (r.code !== undefined ? 1 : 0) +
    (r.eventId !== undefined ? 1 : 0) +
    (r.reentered !== undefined ? 1 : 0);
  if (ownKeyCount(r) !== 9 + optional) return JSON.stringify(r);
  const values: unknown[] = [
    r.seq,
    r.timestamp === toMarketIso(r.at) ? 0 : r.timestamp,
    r.at,
    r.previousState,
    r.currentState,
    r.trigger,
    r.data,
    r.message,
    r.accepted ? 1 : 0,
  ];
  if (optional > 0) values.push(r.reason ?? null, r.code ?? null, r.eventId ?? null, r.reentered === undefined ? null : r.reentered);
  return JSON.stringify(values);
}

/** How many keys a record has, counted without the array `Object.keys` makes (once per record packed). */
function ownKeyCount(r: TransitionRecord): number {
  let count = 0;
  for (const key in r) if (Object.hasOwn(r, key)) count++;
  return count;
}

/** The record {@link encode} wrote, with its keys in the audit's order. */
function decode(encoded: Encoded): TransitionRecord {
  if (!Array.isArray(encoded)) return encoded;
  const [seq, timestamp, at, previousState, currentState, trigger, data, message, accepted, reason, code, eventId, reentered] = encoded as [
    number,
    string | 0,
    number,
    TransitionRecord['previousState'],
    TransitionRecord['currentState'],
    string,
    Record<string, unknown>,
    string,
    0 | 1,
    string | null | undefined,
    TransitionRecord['code'] | null | undefined,
    string | null | undefined,
    true | null | undefined,
  ];
  const record: TransitionRecord = {
    seq,
    timestamp: timestamp === 0 ? toMarketIso(at) : timestamp,
    at,
    previousState,
    currentState,
    trigger,
    data,
    message,
    accepted: accepted === 1,
  };
  if (reason != null) record.reason = reason;
  if (code != null) record.code = code;
  if (eventId != null) record.eventId = eventId;
  if (reentered != null) record.reentered = reentered;
  return record;
}

const parse = (text: string): TransitionRecord => decode(JSON.parse(text) as Encoded);

/**
 * The audit records a strategy holds in memory: the newest `limit`, oldest first, the oldest
 * dropped first. Compact: the records of the latest trigger (those pushed since the last
 * {@link AuditWindow.seal}; usually one, which the strategy's context holds anyway) are kept as the
 * objects pushed, so a trigger's result and its trail share them; older ones as JSON text until
 * `chunkSize` of them are packed, deflated together with a preset dictionary into one chunk (a
 * one-byte string, counted in the V8 heap), decoded only when they are read. They read back as
 * equal copies. A record costs a few tens of bytes this way against about 590 as an
 * object (see the `trail-window` bench). Records given at construction (a restore) stay as given until
 * the first {@link AuditWindow.push}, so a restore does no packing.
 *
 * @example
 * ```ts
 * const window = new AuditWindow(200, [], DEFAULT_AUDIT_CHUNK, deflatedChunks); // auditChunks.ts
 * window.push(record);
 * window.toArray();            // the newest 200 records, decoded
 * window.before(50, 10);       // the newest 10 records older than seq 50 it holds
 * ```
 */
/** Records kept as objects when {@link AuditWindow.seal} is never called. */
const MAX_UNSEALED = 8;

export class AuditWindow {
  /** Deflated chunks, oldest first, `chunkSize` records each. */
  private chunks: string[] = [];
  /** Seq of the first record of each chunk. */
  private chunkSeqs: number[] = [];
  /** Records at the start of the first chunk that were dropped (still in it, never returned). */
  private skip = 0;
  /** JSON text of the records after the chunks and before the newest (fewer than `chunkSize`). */
  private pending: string[] = [];
  private pendingSeqs: number[] = [];
  /**
   * The records pushed since the last {@link AuditWindow.seal} (the latest trigger's), as pushed:
   * the same objects the strategy's context (`lastRecord`) and the trigger's result hold.
   */
  private newest: TransitionRecord[] = [];
  /** Seq of the newest record pushed (a strategy's seqs are consecutive: the oldest held follows from it and the length). */
  private newestSeq = 0;
  /** Restored records, kept as given until the first push. */
  private loose: readonly TransitionRecord[] | null;

  /**
   * @param limit most records held (at least 1).
   * @param initial records to start with, oldest first (the newest `limit` are kept).
   * @param chunkSize records per compressed chunk (at least 1; default {@link DEFAULT_AUDIT_CHUNK}).
   */
  constructor(
    readonly limit: number,
    initial: readonly TransitionRecord[] = [],
    private readonly chunkSize = DEFAULT_AUDIT_CHUNK,
    /** How chunks are packed; none: every record is kept as the object pushed (no packing; {@link AuditWindow.view} is the live list). */
    private readonly codec?: ChunkCodec,
    /**
     * Seq of the newest record the store holds (a persistent system): a record after it is never
     * dropped, whatever the limit, since the store cannot give it back yet (it is written later
     * from this window). None: the limit alone decides.
     */
    private readonly storedThrough?: () => number,
  ) {
    this.limit = Math.max(1, Math.floor(limit));
    this.chunkSize = Math.max(1, Math.floor(chunkSize));
    const kept = this.keptOf(initial);
    this.newestSeq = kept.at(-1)?.seq ?? 0;
    if (codec) this.loose = kept.length > 0 ? kept : null;
    else {
      this.loose = null;
      this.newest = kept;
    }
  }

  /** Whether records are packed (a codec was given). */
  get compact(): boolean {
    return this.codec !== undefined;
  }

  /** Records held. */
  get length(): number {
    if (this.loose) return this.loose.length;
    return this.chunks.length * this.chunkSize - this.skip + this.pending.length + this.newest.length;
  }

  /** Seq of the oldest record held, or undefined when none is. */
  get oldestSeq(): number | undefined {
    if (this.loose) return this.loose[0]?.seq;
    if (this.chunks.length > 0) return this.skip === 0 ? this.chunkSeqs[0] : this.unpack(this.chunks[0])[this.skip].seq;
    return this.pendingSeqs[0] ?? this.newest[0]?.seq;
  }

  /** Appends the newest record; the oldest is dropped beyond the limit (never one the store does not hold yet). */
  push(record: TransitionRecord): void {
    this.newestSeq = record.seq;
    if (this.loose) {
      this.newest = this.loose.slice();
      this.loose = null;
      this.retire(this.newest.length);
    }
    this.newest.push(record);
    if (!this.compact) {
      if (this.newest.length > this.limit && this.droppable(1) > 0) this.newest.shift();
      return;
    }
    // Never sealed (a caller that does not mark its triggers): the objects kept stay few.
    if (this.newest.length > MAX_UNSEALED) this.retire(1);
    this.evict();
  }

  /** Marks the start of a new trigger: the records pushed before it are kept compactly from now on. */
  seal(): void {
    if (this.compact && this.newest.length > 0) this.retire(this.newest.length);
  }

  /**
   * Every record held, oldest first, for reading: not compact, the live list itself (no copy);
   * compact, a newly decoded array ({@link AuditWindow.toArray}).
   */
  view(): readonly TransitionRecord[] {
    return this.compact ? this.toArray() : this.newest;
  }

  /** Every record held, oldest first, decoded (a new array each call). */
  toArray(): TransitionRecord[] {
    if (this.loose) return this.loose.slice();
    const records: TransitionRecord[] = [];
    this.chunks.forEach((chunk, i) => {
      const decoded = this.unpack(chunk);
      for (let j = i === 0 ? this.skip : 0; j < decoded.length; j++) records.push(decoded[j]);
    });
    for (const text of this.pending) records.push(parse(text));
    for (const record of this.newest) records.push(record);
    return records;
  }

  /**
   * The newest `limit` records held whose seq is below `before`, oldest first; decodes only the
   * chunks it needs.
   */
  before(before: number, limit: number): TransitionRecord[] {
    if (this.loose) return this.loose.filter((r) => r.seq < before).slice(-limit);
    const out: TransitionRecord[] = [];
    for (let i = this.newest.length - 1; i >= 0 && out.length < limit; i--) if (this.newest[i].seq < before) out.push(this.newest[i]);
    for (let i = this.pending.length - 1; i >= 0 && out.length < limit; i--)
      if (this.pendingSeqs[i] < before) out.push(parse(this.pending[i]));
    for (let c = this.chunks.length - 1; c >= 0 && out.length < limit; c--) {
      if (this.chunkSeqs[c] >= before) continue;
      const decoded = this.unpack(this.chunks[c]);
      for (let j = decoded.length - 1; j >= (c === 0 ? this.skip : 0) && out.length < limit; j--)
        if (decoded[j].seq < before) out.push(decoded[j]);
    }
    return out.reverse();
  }

  private pack(texts: readonly string[]): string {
    return mustExist(this.codec, 'the codec of a compact window').pack(`[${texts.join(',')}]`);
  }

  private unpack(chunk: string): TransitionRecord[] {
    return (JSON.parse(mustExist(this.codec, 'the codec of a compact window').unpack(chunk)) as Encoded[]).map(decode);
  }

  /** The newest `limit` of `initial`, and any older one the store does not hold yet (a snapshot added with its trail). */
  private keptOf(initial: readonly TransitionRecord[]): TransitionRecord[] {
    let from = Math.max(0, initial.length - this.limit);
    if (from > 0 && this.storedThrough) {
      const stored = this.storedThrough();
      while (from > 0 && initial[from - 1].seq > stored) from--;
    }
    return initial.slice(from);
  }

  /** How many of the oldest `excess` records may go: those the store holds already. */
  private droppable(excess: number): number {
    if (excess <= 0 || !this.storedThrough) return excess;
    const oldest = this.newestSeq - this.length + 1;
    return Math.min(excess, Math.max(0, this.storedThrough() - oldest + 1));
  }

  /** Moves the oldest `count` records kept as objects to the compact form. */
  private retire(count: number): void {
    for (const record of this.newest.splice(0, count)) {
      this.pending.push(encode(record));
      this.pendingSeqs.push(record.seq);
      if (this.pending.length >= this.chunkSize) {
        this.chunks.push(this.pack(this.pending));
        this.chunkSeqs.push(this.pendingSeqs[0]);
        this.pending = [];
        this.pendingSeqs = [];
      }
    }
  }

  /** Drops the oldest records beyond the limit: whole chunks when they are all dropped. */
  private evict(): void {
    let excess = this.droppable(this.length - this.limit);
    if (excess <= 0) return;
    while (excess > 0 && this.chunks.length > 0) {
      const take = Math.min(excess, this.chunkSize - this.skip);
      this.skip += take;
      excess -= take;
      if (this.skip === this.chunkSize) {
        this.chunks.shift();
        this.chunkSeqs.shift();
        this.skip = 0;
      }
    }
    if (excess > 0) {
      // Only when the limit is below a chunk.
      const fromPending = Math.min(excess, this.pending.length);
      this.pending.splice(0, fromPending);
      this.pendingSeqs.splice(0, fromPending);
      excess -= fromPending;
    }
    // Only when the limit is below one trigger's records: the newest is never dropped (limit >= 1).
    if (excess > 0) this.newest.splice(0, excess);
  }
}
