/**
 * The reference edge table, transcribed by hand from the specification's edge table and the
 * "Refinements of the seed" of docs/lifecycle.md (and the variants of docs/variants.md).
 * It deliberately imports nothing from machines/ but public types: it is the oracle the
 * property tests hold the real machines to.
 */
import type { StrategyState, StuckState } from '../../../machines/states';
import { CalendarRangeError, marketCalendar } from '../../../services/market/marketCalendar';
import { dteAt, nyClock, nyDate } from './nyTime';

export type State = StrategyState;

/** The spec's 15 states, in its order. */
export const STATES: readonly State[] = [
  'INITIALIZING',
  'READY',
  'ANALYZING',
  'PENDING_ENTRY',
  'ENTERING',
  'POSITION_OPEN',
  'MANAGING',
  'ADJUSTING',
  'PENDING_EXIT',
  'EXITING',
  'PARTIAL_EXIT',
  'CLOSED',
  'ERROR',
  'SUSPENDED',
  'TERMINATED',
];

/** The spec's public events: the seed's triggers plus the four it needs to complete. */
export const EVENT_TYPES = [
  'MARKET_OPEN',
  'MARKET_CLOSE',
  'TIME_WINDOW_START',
  'TIME_WINDOW_END',
  'ENTRY_CONDITIONS_MET',
  'ENTRY_CONDITIONS_FAILED',
  'ORDER_FILLED',
  'ORDER_REJECTED',
  'VIX_SPIKE',
  'MARGIN_CALL',
  'RISK_LIMIT_EXCEEDED',
  'CORRELATION_LIMIT',
  'DEFENSIVE_EXIT_DTE',
  'EARNINGS_APPROACHING',
  'FOMC_MEETING',
  'MANUAL_OVERRIDE',
  'SYSTEM_ERROR',
  'EMERGENCY_EXIT',
  'RESET',
  'ORDER_SUBMITTED',
  'ORDER_PARTIALLY_FILLED',
  'RESUME',
  'TERMINATE',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const STUCK: readonly State[] = ['PENDING_ENTRY', 'ENTERING', 'PENDING_EXIT', 'EXITING', 'PARTIAL_EXIT'];
/** States a strategy holding contracts may be in (docs/lifecycle.md, "Position"). */
export const HOLDING_OK: readonly State[] = [
  'ENTERING',
  'POSITION_OPEN',
  'MANAGING',
  'ADJUSTING',
  'PENDING_EXIT',
  'EXITING',
  'PARTIAL_EXIT',
  'ERROR',
  'SUSPENDED',
];
/** States a flat strategy may be in. */
export const FLAT_OK: readonly State[] = [
  'INITIALIZING',
  'READY',
  'ANALYZING',
  'PENDING_ENTRY',
  'ENTERING',
  'CLOSED',
  'ERROR',
  'SUSPENDED',
  'TERMINATED',
];

/** A valid event as the model reads it. */
export type Ev = { type: EventType } & Record<string, unknown>;

/** What guards may look at. */
export interface View {
  quantity: number;
  expiry: string | undefined;
  sub: string | null;
}

type Guard = (m: View, ev: Ev, at: number, t: Traits) => boolean;

export interface Row {
  from: readonly State[];
  on: readonly EventType[];
  /** `TARGET`: the MANUAL_OVERRIDE's target. */
  to: State | 'TARGET';
  guard?: Guard;
  /** The row exists only in this substate (a substate edge; elsewhere the event has no edge). */
  inSub?: string;
  /** Substate entered by a substate edge. */
  toSub?: string;
  fill?: 'entry' | 'exit' | 'adjust';
  /** Leave and re-enter even when `to` is the current state. */
  reenter?: boolean;
}

/** A variant's settings as documented in docs/variants.md. */
export interface Traits {
  id: 'zeroDte' | 'lt112' | 'strangle';
  entryOk: (ev: Ev, at: number) => boolean;
  defensiveDte: number | null;
  canAdjust: boolean;
  /** Initial substate of ADJUSTING, when the variant nests substates there. */
  adjustingSub: string | null;
  stuckMs: Record<StuckState, number>;
  maxErrors: number;
  recoveryMs: number;
  maxAutoRecoveries: number;
  eventIdWindow: number;
  extraRows: Row[];
}

const MIN = 60_000;
const holds: Guard = (m) => m.quantity > 0;
const flat: Guard = (m) => m.quantity === 0;
const fillQty = (ev: Ev) => ev.quantity as number;
const legalTarget: Guard = (m, ev) => (m.quantity > 0 ? HOLDING_OK : FLAT_OK).includes(ev.target as State);
const dteRule: Guard = (m, _ev, at, t) => t.defensiveDte !== null && m.expiry !== undefined && dteAt(m.expiry, at) <= t.defensiveDte;
const everyStateBut = (...not: State[]) => STATES.filter((s) => !not.includes(s));
const SUSPENDERS: EventType[] = ['EARNINGS_APPROACHING', 'FOMC_MEETING', 'VIX_SPIKE'];
const RISK: EventType[] = ['RISK_LIMIT_EXCEEDED', 'CORRELATION_LIMIT', 'VIX_SPIKE'];

/** The spec's edge table, rows in the spec's order; for one (state, event) the first row whose guard passes wins. */
export const BASE_ROWS: Row[] = [
  { from: ['INITIALIZING'], on: ['MARKET_OPEN'], to: 'READY' },
  { from: ['READY'], on: ['TIME_WINDOW_START'], to: 'ANALYZING' },
  { from: ['ANALYZING'], on: ['ENTRY_CONDITIONS_MET'], to: 'PENDING_ENTRY', guard: (_m, ev, at, t) => t.entryOk(ev, at) },
  { from: ['ANALYZING'], on: ['ENTRY_CONDITIONS_FAILED', 'TIME_WINDOW_END', 'MARKET_CLOSE'], to: 'READY' },
  { from: ['PENDING_ENTRY'], on: ['ORDER_SUBMITTED'], to: 'ENTERING' },
  { from: ['PENDING_ENTRY'], on: ['TIME_WINDOW_END', 'MARKET_CLOSE', 'ENTRY_CONDITIONS_FAILED'], to: 'READY' },
  { from: ['ENTERING'], on: ['ORDER_FILLED'], to: 'POSITION_OPEN', fill: 'entry' },
  // Refinement: a rejected entry after partial fills keeps its contracts (POSITION_OPEN), never READY.
  { from: ['ENTERING'], on: ['ORDER_REJECTED'], to: 'POSITION_OPEN', guard: holds },
  { from: ['ENTERING'], on: ['ORDER_REJECTED'], to: 'READY' },
  // Refinement: partial fills re-enter ENTERING, restarting its stuck deadline.
  { from: ['ENTERING'], on: ['ORDER_PARTIALLY_FILLED'], to: 'ENTERING', fill: 'entry', reenter: true },
  { from: ['POSITION_OPEN'], on: ['MARKET_OPEN'], to: 'MANAGING' },
  { from: ['MANAGING'], on: ['DEFENSIVE_EXIT_DTE'], to: 'PENDING_EXIT', guard: dteRule },
  { from: ['MANAGING'], on: RISK, to: 'ADJUSTING', guard: (_m, _ev, _at, t) => t.canAdjust },
  { from: ['MANAGING'], on: RISK, to: 'PENDING_EXIT' },
  { from: ['MANAGING'], on: ['MARGIN_CALL'], to: 'PENDING_EXIT' },
  { from: ['ADJUSTING'], on: ['ORDER_FILLED', 'ORDER_REJECTED'], to: 'MANAGING', fill: 'adjust' },
  // Refinement: ANALYZING is always flat, so its seed edge to EXITING is guarded and READY is the fallback.
  { from: ['ANALYZING'], on: ['EMERGENCY_EXIT'], to: 'EXITING', guard: holds },
  { from: ['ANALYZING'], on: ['EMERGENCY_EXIT'], to: 'READY' },
  { from: ['MANAGING', 'ADJUSTING', 'POSITION_OPEN', 'PENDING_EXIT', 'PARTIAL_EXIT'], on: ['EMERGENCY_EXIT'], to: 'EXITING' },
  { from: ['SUSPENDED', 'ERROR'], on: ['EMERGENCY_EXIT'], to: 'EXITING', guard: holds },
  { from: ['PENDING_ENTRY', 'ENTERING'], on: ['EMERGENCY_EXIT'], to: 'EXITING', guard: holds },
  { from: ['PENDING_ENTRY', 'ENTERING'], on: ['EMERGENCY_EXIT'], to: 'READY' },
  { from: ['PENDING_EXIT'], on: ['ORDER_SUBMITTED'], to: 'EXITING' },
  // Refinement: exit fills are checked against what is open (larger ones have no passing guard).
  { from: ['EXITING', 'PARTIAL_EXIT'], on: ['ORDER_FILLED'], to: 'CLOSED', guard: (m, ev) => fillQty(ev) === m.quantity, fill: 'exit' },
  {
    from: ['EXITING', 'PARTIAL_EXIT'],
    on: ['ORDER_FILLED', 'ORDER_PARTIALLY_FILLED'],
    to: 'PARTIAL_EXIT',
    guard: (m, ev) => fillQty(ev) < m.quantity,
    fill: 'exit',
    reenter: true,
  },
  // Refinement: PARTIAL_EXIT's rejection retries like EXITING's.
  { from: ['EXITING', 'PARTIAL_EXIT'], on: ['ORDER_REJECTED'], to: 'PENDING_EXIT' },
  { from: ['READY', 'ANALYZING', 'PENDING_ENTRY'], on: SUSPENDERS, to: 'SUSPENDED' },
  { from: ['SUSPENDED'], on: ['RESUME'], to: 'MANAGING', guard: holds },
  { from: ['SUSPENDED'], on: ['RESUME'], to: 'READY' },
  { from: ['CLOSED'], on: ['MARKET_OPEN', 'TIME_WINDOW_START'], to: 'READY' },
  { from: ['READY', 'CLOSED'], on: ['TERMINATE'], to: 'TERMINATED' },
  { from: ['SUSPENDED'], on: ['TERMINATE'], to: 'TERMINATED', guard: flat },
  { from: everyStateBut('ERROR', 'TERMINATED'), on: ['SYSTEM_ERROR'], to: 'ERROR' },
  { from: ['ERROR'], on: ['RESET'], to: 'MANAGING', guard: holds },
  { from: ['ERROR'], on: ['RESET'], to: 'READY' },
  // Refinement: MANUAL_OVERRIDE always re-enters its target, which must be legal for the position.
  { from: everyStateBut('TERMINATED'), on: ['MANUAL_OVERRIDE'], to: 'TARGET', guard: legalTarget, reenter: true },
];

const DEFAULT_STUCK: Record<StuckState, number> = {
  PENDING_ENTRY: 5 * MIN,
  ENTERING: 5 * MIN,
  PENDING_EXIT: 10 * MIN,
  EXITING: 10 * MIN,
  PARTIAL_EXIT: 10 * MIN,
};
const LIMITS = { maxErrors: 3, recoveryMs: 30 * MIN, maxAutoRecoveries: 3, eventIdWindow: 1000 };

/**
 * The minute of the New York day 0DTE's entry window ends on the day of `at`: 14:30 on a full
 * session; on an early close (13:00) as long before the close as on a full day (11:30); none (0) on
 * a holiday or weekend. Only which days are holidays and early closes is the library's calendar
 * data (an NYSE fact, checked on its own in the calendar's tests); the rule is written here anew.
 * Outside the calendar's years, the clock time alone (14:30), as the guard does.
 */
function entryWindowEnd(at: number): number {
  let session: { earlyClose: boolean } | null;
  try {
    session = marketCalendar.session(nyDate(at));
  } catch (error) {
    if (error instanceof CalendarRangeError) return 14 * 60 + 30;
    throw error;
  }
  if (!session) return 0;
  return session.earlyClose ? 13 * 60 - 90 : 14 * 60 + 30;
}
const vixIn = (ev: Ev, min: number, max: number) => typeof ev.vix === 'number' && ev.vix >= min && ev.vix <= max;
const dteIn = (ev: Ev, at: number, min: number, max: number) => {
  if (typeof ev.expiry !== 'string') return false;
  const dte = dteAt(ev.expiry, at);
  return dte >= min && dte <= max;
};

/** The three shipped variants, as docs/variants.md describes them. */
export const TRAITS: Record<Traits['id'], Traits> = {
  zeroDte: {
    id: 'zeroDte',
    entryOk: (ev, at) => {
      const { weekday, minute } = nyClock(at);
      return minute >= 10 * 60 + 30 && minute < entryWindowEnd(at) && weekday === 'Fri' && vixIn(ev, 12, 35);
    },
    defensiveDte: null,
    canAdjust: false,
    adjustingSub: null,
    stuckMs: { ...DEFAULT_STUCK, PENDING_EXIT: 5 * MIN, EXITING: 5 * MIN, PARTIAL_EXIT: 5 * MIN },
    ...LIMITS,
    extraRows: [
      { from: ['POSITION_OPEN', 'MANAGING'], on: ['TIME_WINDOW_END', 'MARKET_CLOSE'], to: 'PENDING_EXIT' },
      { from: ['POSITION_OPEN'], on: ['TIME_WINDOW_START'], to: 'MANAGING' },
    ],
  },
  lt112: {
    id: 'lt112',
    entryOk: (ev, at) => dteIn(ev, at, 112, 120) && vixIn(ev, 12, 40),
    defensiveDte: 21,
    canAdjust: false,
    adjustingSub: null,
    stuckMs: DEFAULT_STUCK,
    ...LIMITS,
    extraRows: [],
  },
  strangle: {
    id: 'strangle',
    entryOk: (ev, at) => dteIn(ev, at, 45, 90) && vixIn(ev, 15, 45),
    defensiveDte: 21,
    canAdjust: true,
    adjustingSub: 'ROLLING',
    stuckMs: DEFAULT_STUCK,
    ...LIMITS,
    extraRows: [{ from: ['ADJUSTING'], on: ['ORDER_SUBMITTED'], to: 'ADJUSTING', inSub: 'ROLLING', toSub: 'AWAITING_FILL' }],
  },
};

const indexes = new Map<string, Map<string, Row[]>>();

/** Rows by `state|event`, the variant's rows before the base ones. */
export function indexRows(t: Traits): Map<string, Row[]> {
  const cached = indexes.get(t.id);
  if (cached) return cached;
  const index = new Map<string, Row[]>();
  indexes.set(t.id, index);
  for (const row of [...t.extraRows, ...BASE_ROWS]) {
    for (const state of row.from) {
      for (const type of row.on) {
        const key = `${state}|${type}`;
        const list = index.get(key) ?? [];
        list.push(row);
        index.set(key, list);
      }
    }
  }
  return index;
}
