/**
 * The reference model: what one strategy must do, step by step, per the spec's table
 * (./table.ts) and the rules of "Errors and recovery", "Stuck-state deadlines", the audit trail
 * and duplicate event ids. It tracks the state, the position (quantity, expiry), errorCount,
 * the durable deadline (absolute time), auto-recoveries per New York day, the applied event
 * ids, time per state, and the audit records each step must append.
 */
import type { StuckState } from '../../../machines/states';
import { nyDate } from './nyTime';
import { STATES, STUCK, indexRows, type Ev, type Row, type State, type Traits } from './table';

export interface ModelDeadline {
  kind: 'STUCK' | 'ERROR_RECOVERY';
  state: State;
  at: number;
}

/** The fields of an audit record the model predicts. */
export interface ExpectedRecord {
  at: number;
  trigger: string;
  previousState: State;
  currentState: State;
  accepted: boolean;
  code?: string;
  eventId?: string;
  reentered?: true;
  /** The record's payload, where the docs say what it is (events, deadlines; not hook failures). */
  data?: Record<string, unknown>;
}

/** The payload an audit record keeps: every field but `type`, `at` and `eventId`. */
function payloadOf(ev: Ev): Record<string, unknown> {
  const { type: _t, at: _a, eventId: _e, ...data } = ev;
  return data;
}

/** One generated input: valid by construction (then `ev` is set) or malformed on purpose. */
export interface Generated {
  input: unknown;
  /** The event when it is valid by construction. */
  ev?: Ev;
  /** What the audit must show as the trigger (for malformed input: what was sent as its type). */
  sentType: string;
}

/** Triggers whose hooks run after the transition, which a failing hook cannot undo. */
const SAFETY = ['SYSTEM_ERROR', 'EMERGENCY_EXIT'];

type Decision = { row: Row; to: State } | { code: 'NO_EDGE' | 'GUARD_FAILED' };

export class ReferenceModel {
  state: State = 'INITIALIZING';
  /** Substate of ADJUSTING for variants that nest one. */
  sub: string | null = null;
  quantity = 0;
  expiry: string | undefined = undefined;
  errorCount = 0;
  deadline: ModelDeadline | null = null;
  recoveries = { day: '', count: 0 };
  applied: string[] = [];
  now: number;
  readonly createdAt: number;
  enteredAt: number;
  timeInState: Record<State, number>;
  acceptedRecords = 0;
  rejectedRecords = 0;
  /** Set when the last ERROR entry found the circuit breaker open. */
  breakerOpen = false;
  private readonly rows: Map<string, Row[]>;

  constructor(
    readonly traits: Traits,
    start: number,
    readonly withHooks: boolean,
  ) {
    this.now = start;
    this.createdAt = start;
    this.enteredAt = start;
    this.timeInState = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<State, number>;
    this.rows = indexRows(traits);
  }

  /** Event types with at least one edge from the current state (guards not evaluated). */
  typesWithEdges(): readonly string[] {
    const key = `${this.state}|${this.sub ?? ''}`;
    let types = this.edgeTypes.get(key);
    if (!types) {
      types = [];
      for (const [rowKey, rows] of this.rows) {
        const [state, type] = rowKey.split('|');
        if (state === this.state && rows.some((r) => r.inSub === undefined || r.inSub === this.sub)) types.push(type);
      }
      this.edgeTypes.set(key, types);
    }
    return types;
  }
  private readonly edgeTypes = new Map<string, string[]>();

  /** The records `trigger(input)` must append, applying the step to the model. */
  trigger(g: Generated, hookThrows: boolean): ExpectedRecord[] {
    const at = this.now;
    const here = this.state;
    if (!g.ev) return [this.record({ at, trigger: g.sentType, from: here, to: here, accepted: false, code: 'INVALID_EVENT' })];
    const ev = g.ev;
    const eventId = typeof ev.eventId === 'string' ? ev.eventId : undefined;
    if (eventId !== undefined && this.applied.includes(eventId)) {
      return [
        this.record({ at, trigger: ev.type, from: here, to: here, accepted: false, code: 'DUPLICATE_EVENT', eventId, data: payloadOf(ev) }),
      ];
    }
    const data = payloadOf(ev);
    const decision = this.decide(ev, at);
    if ('code' in decision)
      return [this.record({ at, trigger: ev.type, from: here, to: here, accepted: false, code: decision.code, eventId, data })];
    const throws = hookThrows && this.withHooks;
    if (throws && !SAFETY.includes(ev.type)) return [this.hookFailure(at)]; // aborted before the commit: not applied
    const records: ExpectedRecord[] = [{ ...this.commit(decision.row, decision.to, ev, at, eventId), data }];
    if (throws) records.push(this.hookFailure(at)); // safety trigger: the move stands, the failure is counted after it
    return records;
  }

  /** Moves the clock to `target`, firing every deadline that falls due on the way, each at its instant. */
  advanceTo(target: number, hookThrows: boolean): ExpectedRecord[] {
    const records: ExpectedRecord[] = [];
    while (this.deadline && this.deadline.at <= target) {
      const { at, kind } = this.deadline;
      this.now = at;
      if (this.state === 'ERROR') {
        const day = nyDate(at);
        this.recoveries = { day, count: this.recoveries.day === day ? this.recoveries.count + 1 : 1 };
        records.push({ ...this.moveRecord(this.quantity > 0 ? 'MANAGING' : 'READY', at, 'lifecycle.deadline'), data: { kind, dueAt: at } });
      } else {
        records.push({ ...this.moveRecord('ERROR', at, 'lifecycle.deadline'), data: { kind, dueAt: at } });
      }
      // Deadline-driven transitions run their hooks after the fact.
      if (hookThrows && this.withHooks) records.push(this.hookFailure(at));
    }
    this.now = Math.max(this.now, target);
    return records;
  }

  private decide(ev: Ev, at: number): Decision {
    const candidates = (this.rows.get(`${this.state}|${ev.type}`) ?? []).filter((r) => r.inSub === undefined || r.inSub === this.sub);
    if (candidates.length === 0) return { code: 'NO_EDGE' };
    for (const row of candidates) {
      if (!row.guard || row.guard(this, ev, at, this.traits)) return { row, to: row.to === 'TARGET' ? (ev.target as State) : row.to };
    }
    return { code: 'GUARD_FAILED' };
  }

  private commit(row: Row, to: State, ev: Ev, at: number, eventId: string | undefined): ExpectedRecord {
    const qty = typeof ev.quantity === 'number' ? ev.quantity : 0;
    const expiry = typeof ev.expiry === 'string' ? ev.expiry : undefined;
    if (row.fill === 'entry') {
      this.quantity += qty;
      // Fills of several expiries: the position expires with its nearest contracts.
      if (expiry !== undefined && (this.expiry === undefined || expiry < this.expiry)) this.expiry = expiry;
    } else if (row.fill === 'exit') {
      this.quantity -= qty;
      if (this.quantity === 0) this.expiry = undefined;
    } else if (row.fill === 'adjust' && ev.type === 'ORDER_FILLED') {
      this.expiry = expiry ?? this.expiry; // a roll replaces the expiry; the quantity stays
    }
    if (eventId !== undefined) {
      this.applied.push(eventId);
      if (this.applied.length > this.traits.eventIdWindow) this.applied.shift();
    }
    const from = this.state;
    if (row.toSub !== undefined) {
      this.sub = row.toSub; // a substate move: no exit, no entry, no deadline change
      return this.record({ at, trigger: ev.type, from, to, accepted: true, eventId });
    }
    const reenter = to === from && row.reenter === true;
    if (to !== from || reenter) this.enter(to, at);
    return this.record({ at, trigger: ev.type, from, to, accepted: true, eventId, reentered: reenter || undefined });
  }

  /** A failed hook: counted, and at `maxErrors` it forces ERROR (from any state but ERROR and TERMINATED). */
  private hookFailure(at: number): ExpectedRecord {
    const from = this.state;
    const forced = from !== 'ERROR' && from !== 'TERMINATED' && this.errorCount + 1 >= this.traits.maxErrors;
    this.errorCount = Math.min(this.errorCount + 1, this.traits.maxErrors);
    if (forced) this.enter('ERROR', at);
    return this.record({ at, trigger: 'lifecycle.hookFailed', from, to: this.state, accepted: false, code: 'HOOK_FAILED' });
  }

  private moveRecord(to: State, at: number, trigger: string): ExpectedRecord {
    const from = this.state;
    this.enter(to, at);
    return this.record({ at, trigger, from, to, accepted: true });
  }

  /** Leaves the current state and enters `to` (or re-enters it): time, errorCount, deadline, substate. */
  private enter(to: State, at: number): void {
    this.timeInState[this.state] += Math.max(0, at - this.enteredAt);
    this.enteredAt = Math.max(at, this.enteredAt);
    if (this.state === 'ERROR') this.errorCount = 0; // leaving ERROR by any route resets the count
    this.deadline = null;
    this.breakerOpen = false;
    if ((STUCK as readonly string[]).includes(to)) {
      this.deadline = { kind: 'STUCK', state: to, at: at + this.traits.stuckMs[to as StuckState] };
    } else if (to === 'ERROR') {
      const day = nyDate(at);
      const used = this.recoveries.day === day ? this.recoveries.count : 0;
      this.breakerOpen = used >= this.traits.maxAutoRecoveries;
      if (!this.breakerOpen) this.deadline = { kind: 'ERROR_RECOVERY', state: 'ERROR', at: at + this.traits.recoveryMs };
    }
    this.sub = to === 'ADJUSTING' ? this.traits.adjustingSub : null;
    this.state = to;
  }

  private record(r: {
    at: number;
    trigger: string;
    from: State;
    to: State;
    accepted: boolean;
    code?: string;
    eventId?: string;
    reentered?: true;
    data?: Record<string, unknown>;
  }): ExpectedRecord {
    const out: ExpectedRecord = { at: r.at, trigger: r.trigger, previousState: r.from, currentState: r.to, accepted: r.accepted };
    if (r.code !== undefined) out.code = r.code;
    if (r.eventId !== undefined) out.eventId = r.eventId;
    if (r.reentered) out.reentered = true;
    if (r.data) out.data = r.data;
    if (r.accepted) this.acceptedRecords++;
    else this.rejectedRecords++;
    return out;
  }
}
