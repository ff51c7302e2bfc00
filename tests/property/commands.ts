/**
 * Commands for the property tests and how each becomes a concrete step. A command is a few
 * small numbers (cheap to generate, easy to shrink); it is turned into a concrete event, clock
 * advance or restore against the reference model's current state, so a random walk keeps
 * reaching deep states (fills, exits, stuck deadlines, ERROR, the circuit breaker) instead of
 * bouncing off INITIALIZING.
 */
import fc from 'fast-check';
import type { Generated, ReferenceModel } from './model/referenceModel';
import { addDays, nextNyMidnight, nyDate } from './model/nyTime';
import { EVENT_TYPES, FLAT_OK, HOLDING_OK, STATES, type Ev, type EventType, type Traits } from './model/table';

export type EventCommand = { k: 'ev'; mode: number; a: number; b: number; id: number; hook: number };
export type AdvanceCommand = { k: 'adv'; how: number; a: number; hook: number };
export type Command = EventCommand | AdvanceCommand | { k: 'restore' };

export interface Scenario {
  variant: Traits['id'];
  start: number;
  withHooks: boolean;
  commands: Command[];
}

/** Start times: New York Friday mornings (every entry window open), near midnight, around both DST changes. */
export const STARTS: readonly number[] = [
  Date.parse('2026-12-04T11:00:00-05:00'),
  Date.parse('2026-12-04T11:00:00-05:00'),
  Date.parse('2026-12-04T10:29:59.999-05:00'),
  Date.parse('2026-12-04T23:10:00-05:00'),
  Date.parse('2026-03-06T13:00:00-05:00'),
  Date.parse('2026-10-30T13:00:00-04:00'),
];

const MIN = 60_000;
const eventCommand: fc.Arbitrary<Command> = fc.record({
  k: fc.constant('ev' as const),
  mode: fc.nat(99),
  a: fc.nat(4095),
  b: fc.nat(4095),
  id: fc.nat(99),
  hook: fc.nat(99),
});
const advanceCommand: fc.Arbitrary<Command> = fc.record({
  k: fc.constant('adv' as const),
  how: fc.nat(99),
  a: fc.nat(4095),
  hook: fc.nat(99),
});

/** A whole scenario: variant, start time, whether hooks are installed, and the commands. */
export function scenarioArb(options: { maxCommands: number; restoreWeight: number }): fc.Arbitrary<Scenario> {
  const command = fc.oneof(
    { arbitrary: eventCommand, weight: 80 },
    { arbitrary: advanceCommand, weight: 17 },
    { arbitrary: fc.constant<Command>({ k: 'restore' }), weight: options.restoreWeight },
  );
  return fc.record({
    variant: fc.constantFrom<Traits['id']>('zeroDte', 'lt112', 'strangle'),
    start: fc.constantFrom(...STARTS),
    withHooks: fc.boolean(),
    commands: fc.array(command, { maxLength: options.maxCommands, size: 'max' }),
  });
}

/** Whether a command's hooks throw (about 6% of steps). */
export const hookThrows = (c: { hook: number }) => c.hook >= 94;

const pick = <T>(list: readonly T[], n: number): T => list[n % list.length];

/** Per run: ids handed out and events sent so far (for redeliveries). */
export interface GenState {
  nextId: number;
  sent: Generated[];
}

const VIX = [undefined, 0, 11.5, 12, 15, 18, 24.5, 35, 35.5, 40, 44, 45, 46, 1000];
const DTES = [0, 1, 7, 14, 20, 21, 22, 30, 44, 45, 60, 90, 91, 111, 112, 115, 120, 121, 400];
const GOOD_ENTRY: Record<Traits['id'], { vix: number[]; dte: number[] }> = {
  zeroDte: { vix: [12, 18, 35], dte: [0] },
  lt112: { vix: [12, 20, 40], dte: [112, 116, 120] },
  strangle: { vix: [15, 30, 45], dte: [45, 60, 90] },
};
/** The largest fill the event table allows. */
const MAX_QTY = 1_000_000;
const LEG = { right: 'P', strike: 5800, expiry: '2027-01-15', quantity: -1 };

function fillPayload(m: ReferenceModel, a: number, b: number, guided: boolean): Record<string, unknown> {
  const open = m.quantity;
  let quantity: number;
  if (guided && (m.state === 'EXITING' || m.state === 'PARTIAL_EXIT') && open > 0) {
    quantity = pick(
      [open, open, open - 1, 1, open + 1, Math.ceil(open / 2)].filter((q) => q >= 1 && q <= MAX_QTY),
      a,
    );
  } else {
    quantity = pick([1, 2, 3, 5, 10, MAX_QTY, Math.min(Math.max(open, 1), MAX_QTY)], a);
  }
  const payload: Record<string, unknown> = { quantity };
  const dte = pick([undefined, 0, 7, 14, 21, 22, 30, 60, 115], b);
  if (dte !== undefined) payload.expiry = addDays(nyDate(m.now), dte);
  if ((a >> 4) % 3 === 0) payload.price = ((a % 97) + 1) / 4;
  if ((b >> 4) % 5 === 0) payload.legs = [LEG];
  if ((b >> 6) % 4 === 0) payload.orderId = `ord-${b}`;
  return payload;
}

/** A valid payload for `type`; `guided` leans towards payloads whose guards pass. */
function payloadFor(type: EventType, m: ReferenceModel, a: number, b: number, guided: boolean): Record<string, unknown> {
  const why = (n: number) => ((n >> 3) % 3 === 0 ? { reason: pick(['', 'feed down', 'risk desk'], n) } : {});
  switch (type) {
    case 'ENTRY_CONDITIONS_MET': {
      const good = GOOD_ENTRY[m.traits.id];
      const useGood = guided && a % 4 !== 0;
      const vix = useGood ? pick(good.vix, b) : pick(VIX, b);
      const dte = useGood ? pick(good.dte, a >> 2) : pick([undefined, ...DTES], a >> 2);
      const p: Record<string, unknown> = {};
      if (vix !== undefined) p.vix = vix;
      if (dte !== undefined) p.expiry = addDays(nyDate(m.now), dte);
      if (b % 5 === 0) p.underlying = 'SPX';
      return p;
    }
    case 'ORDER_FILLED':
    case 'ORDER_PARTIALLY_FILLED':
      return fillPayload(m, a, b, guided);
    case 'VIX_SPIKE':
      return b % 2 ? { vix: pick(VIX.slice(1), a) } : {};
    case 'DEFENSIVE_EXIT_DTE':
      return b % 2 ? { dte: a % 200 } : {};
    case 'MANUAL_OVERRIDE': {
      const legal = m.quantity > 0 ? HOLDING_OK : FLAT_OK;
      return {
        target: guided || b % 2 ? pick(legal, a) : pick(STATES, a),
        reason: 'property test',
        operator: pick(['ops', 'risk-desk'], b),
      };
    }
    case 'TIME_WINDOW_START':
    case 'TIME_WINDOW_END':
      return b % 3 === 0 ? { window: 'entry' } : {};
    case 'ORDER_SUBMITTED':
      return b % 2 ? { orderId: `ord-${a}` } : {};
    case 'ORDER_REJECTED':
      return b % 2 ? { reason: 'no liquidity', orderId: `ord-${a}` } : {};
    case 'EARNINGS_APPROACHING':
      return b % 2 ? { symbol: 'AAPL', date: addDays(nyDate(m.now), 3) } : {};
    case 'FOMC_MEETING':
      return b % 2 ? { date: addDays(nyDate(m.now), 1) } : {};
    case 'MARKET_OPEN':
    case 'MARKET_CLOSE':
    case 'RESUME':
      return {};
    default:
      return why(b);
  }
}

/** Malformed inputs, each invalid by construction per the event table of docs/lifecycle.md. */
const MALFORMED: Array<(n: number, now: number) => unknown> = [
  () => ({ type: 'NOT_AN_EVENT' }),
  (_n, now) => ({ type: 'lifecycle.deadline', kind: 'STUCK', dueAt: now }),
  () => ({ type: 'lifecycle.hookFailed', hook: 'onTransition', trigger: 'MARKET_OPEN', message: 'x' }),
  () => ({ type: 'market_open' }),
  () => null,
  () => 'MARKET_OPEN',
  () => [{ type: 'MARKET_OPEN' }],
  () => ({}),
  () => ({ type: 42 }),
  (n) => ({ type: 'ORDER_FILLED', quantity: pick([0, -1, 2.5, '3', 1_000_001, Number.NaN, null, undefined], n) }),
  (n) => ({ type: 'ORDER_PARTIALLY_FILLED', quantity: 1, expiry: pick(['2026-02-30', '2026/12/18', 20261218, ''], n) }),
  (n) =>
    pick<unknown>(
      [
        { type: 'MANUAL_OVERRIDE', target: 'READY', reason: 'x' },
        { type: 'MANUAL_OVERRIDE', target: 'NOPE', reason: 'x', operator: 'ops' },
        { type: 'MANUAL_OVERRIDE', reason: 'x', operator: 'ops' },
        { type: 'MANUAL_OVERRIDE', target: 'READY', operator: 'ops' },
      ],
      n,
    ),
  (n) => ({ type: 'ENTRY_CONDITIONS_MET', vix: pick([-1, 1000.5, '18', Number.POSITIVE_INFINITY], n) }),
  () => ({ type: 'VIX_SPIKE', vix: -0.5 }),
  (n) => ({
    type: pick(
      EVENT_TYPES.filter((t) => t !== 'MANUAL_OVERRIDE' && t !== 'ORDER_FILLED' && t !== 'ORDER_PARTIALLY_FILLED'),
      n,
    ),
    bogus: 1,
  }),
  (n) => ({ type: 'MARKET_OPEN', eventId: pick(['', 'x'.repeat(201), 42], n) }),
  (n) => ({ type: 'TIME_WINDOW_START', at: pick(['now', Number.NaN], n) }),
  () => ({ type: 'DEFENSIVE_EXIT_DTE', dte: 'ten' }),
  () => ({ type: 'ORDER_FILLED', quantity: 1, legs: 'legs' }),
  () => ({ type: 'FOMC_MEETING', date: '2026-13-01' }),
];

/** What the audit names as the trigger of a malformed input: its `type` when that is a string, else unspecified. */
function sentTypeOf(input: unknown): string {
  const type = input !== null && typeof input === 'object' && !Array.isArray(input) ? (input as { type?: unknown }).type : undefined;
  return typeof type === 'string' && type.length > 0 ? type : '';
}

/** The eventId a command asks for: none, a fresh one, a pooled one (collisions), or a 200-character one. */
function eventIdFor(c: EventCommand, gen: GenState): string | undefined {
  if (c.id < 50) return undefined;
  if (c.id < 85) return `ev-${gen.nextId++}`;
  if (c.id < 98) return `pool-${c.id % 5}`;
  return `${'k'.repeat(196)}${String(gen.nextId++ % 10_000).padStart(4, '0')}`;
}

/** Types the guided mode chooses from: those with an edge here, minus the rare, disruptive ones. */
const RARE = ['SYSTEM_ERROR', 'MANUAL_OVERRIDE', 'TERMINATE'];

/** Turns an event command into a concrete input for the current model state. */
export function materializeEvent(c: EventCommand, m: ReferenceModel, gen: GenState): Generated {
  const { mode, a, b } = c;
  if (mode >= 92 && gen.sent.length > 0) return pick(gen.sent, a); // redelivery: the very same input again
  if (mode >= 80) {
    const input = pick(MALFORMED, a)(b, m.now);
    return { input, sentType: sentTypeOf(input) };
  }
  let type: EventType;
  let guided = false;
  if (mode < 55) {
    const options = m.typesWithEdges().filter((t) => !RARE.includes(t)) as EventType[];
    // In ERROR the only such type is RESET: mostly let ERROR wait for its deadline (and the circuit breaker).
    guided = options.length > 0 && (m.state !== 'ERROR' || b % 5 === 0);
    type = guided
      ? pick(options, a + b)
      : pick(
          EVENT_TYPES.filter((t) => t !== 'TERMINATE'),
          a,
        );
  } else if (mode < 70)
    type = pick(
      EVENT_TYPES.filter((t) => t !== 'TERMINATE'),
      a,
    );
  else if (mode < 75) type = 'SYSTEM_ERROR';
  else if (mode < 79) type = 'MANUAL_OVERRIDE';
  else type = 'TERMINATE';
  const ev = { type, ...payloadFor(type, m, a, b, guided) } as Ev;
  const eventId = eventIdFor(c, gen);
  if (eventId !== undefined) ev.eventId = eventId;
  if (b % 23 === 0) ev.at = 0; // callers may send `at`; the actor replaces it with its clock's time
  return { input: ev, ev, sentType: type };
}

/** The absolute time an advance command moves the clock to. */
export function advanceTarget(c: AdvanceCommand, m: ReferenceModel): number {
  const { how, a } = c;
  const now = m.now;
  const toDeadline = m.state === 'ERROR' ? how < 60 : how < 30;
  if (toDeadline && m.deadline) return m.deadline.at + pick([-1, 0, 0, 1], a); // exactly at, just before, just after
  if (how < 50) return now + 1000 + ((a * 59) % (4 * MIN));
  if (how < 58) return now + 1 + (a % 999);
  if (how < 74) return now + pick([1, 5, 10, 30], a) * MIN;
  if (how < 84) return now + (1 + (a % 8)) * 60 * MIN;
  if (how < 94) return nextNyMidnight(now) + pick([-1, 0, 1, MIN], a);
  return now + (24 + (a % 48)) * 60 * MIN;
}
