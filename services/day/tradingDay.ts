import { DateTime } from 'luxon';
import { definitionOf } from '../../machines/createStrategyMachine.js';
import { ExpiredPositionError, StoreUnavailableError } from '../../machines/errors.js';
import type { StrategyEvent } from '../../machines/events.js';
import type { StrategyState } from '../../machines/states.js';
import type { TransitionRecord } from '../../machines/types.js';
import type { AuditPageQuery, AuditTrailPage } from '../runtime/auditPages.js';
import type { BrokerAdapter } from '../broker/broker.js';
import { startBrokerRouting, type BrokerRouting } from '../runtime/routing/brokerRouting.js';
import { needsExitOrder, wantsOrder } from '../runtime/routing/orderIntent.js';
import type { OrderTarget } from '../runtime/routing/routingTarget.js';
import { catchUpEvent, lateExitReason, marketPresent, type CatchUpCause } from './catchUp.js';
import type { Clock } from '../market/clock.js';
import { startDteMonitor } from '../market/dteMonitor.js';
import type { DteMonitorHandle } from '../market/dteMonitorOptions.js';
import {
  calendarNotices,
  noticedSince,
  startEventCalendar,
  underlyingOf,
  type CalendarStrategyEvent,
  type EventCalendar,
  type NoticeOptions,
} from '../market/eventCalendar.js';
import {
  createSessionCache,
  scheduleAt,
  startMarketClock,
  type BellSchedule,
  type MarketBell,
  type SessionSource,
} from '../market/marketClock.js';
import { settle } from '../runtime/settle.js';
import { SIMULATION_DTE_BANDS, type DteBand, type EntryConditionSource } from '../simulation/simulatedMarket.js';
import type { StrategyActor, TransitionListener, TriggerResult } from '../runtime/strategyActor.js';
import { MARKET_ZONE, marketDate } from '../market/time.js';
import {
  TIME_WINDOWS,
  isWindowEventFor,
  startTimeWindows,
  validateWindows,
  windowInstants,
  type TimeWindow,
  type WindowBell,
  type WindowInstant,
} from '../market/timeWindows.js';

const MINUTE = 60_000;
/** Exit orders refused in a row before the driver stops re-sending (the stuck deadline takes over). */
const MAX_EXIT_RETRIES = 3;
/** First wait before a send the store refused is worked out again; it doubles with each failure in a row. */
const STORE_RETRY_MS = 1000;
/** Longest wait between those tries. */
const STORE_RETRY_MAX_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE;

/**
 * The strategies a driver runs, as the persistent system (`openStrategySystem`) and the in-memory
 * one (`createStrategySystem`) both offer them. Nothing else of a system is needed.
 */
export interface TradingTarget extends OrderTarget {
  ids(): readonly string[];
  has(id: string): boolean;
  get(id: string): StrategyActor;
  subscribe(listener: TransitionListener): () => void;
  /**
   * Each strategy id `remove` removed, told as it is removed (both systems offer it): the broker
   * routing then delivers no late fill of its orders to any strategy, not even one added again
   * under the id before the next look (an `UntrackedFillError` to `onError` instead).
   */
  subscribeRemovals?(listener: (strategyId: string) => void): () => void;
  /** Older audit pages (a persistent system's): the record that suspended a strategy may be older than its in-memory trail. */
  readAuditTrail?(id: string, query: AuditPageQuery): Promise<AuditTrailPage>;
}

/** The window whose end is the same-day exit, as the DTE monitor looks it up by default. */
const SAME_DAY_EXIT_WINDOW = 'manage';

/** Options of {@link startTradingDay}. */
export interface TradingDayOptions {
  target: TradingTarget;
  /** The strategies' clock: real in production, simulated in tests, backtests and `serve --simulate`. */
  clock: Clock;
  /** Where orders go; without one the driver sends no order and expects fills from elsewhere. */
  broker?: BrokerAdapter;
  /** Where entry conditions come from; without one ANALYZING waits for them from elsewhere. */
  market?: EntryConditionSource;
  /** Windows per variant id; default {@link TIME_WINDOWS}. A variant without any is not driven (reported). */
  windows?: Readonly<Record<string, readonly TimeWindow[]>>;
  /** The DTE band of a strategy's entries; default {@link SIMULATION_DTE_BANDS} of its variant. */
  dteBandOf?: (strategy: StrategyActor) => DteBand | undefined;
  eventCalendar?: EventCalendar;
  /** When calendar notices go out; default 1 trading day before, 09:35 ET. */
  eventNotice?: NoticeOptions;
  /** How long the market takes to answer an analysis (default 1 minute of the clock). */
  analysisMs?: number;
  /** Failed sends and store writes, and scheduler failures. Default: console.error. */
  onError?: (error: unknown) => void;
  sessions?: SessionSource;
  /**
   * Strategies created just before the day starts (a service's configured strategies on a new
   * database): brought to the present as joining the day, not as missed while the service was down.
   */
  joined?: Iterable<string>;
}

/** Where the market stands, for a dashboard or a health check. */
export interface TradingDayStatus {
  phase: 'open' | 'closed';
  /** The next opening or closing bell. */
  nextBell: { type: MarketBell['type']; at: number } | null;
  strategies: number;
}

/** The exit a strategy's DTE monitor has armed: the 21-DTE rule, or a same-day variant's window end. */
export interface ScheduledExit {
  event: 'DEFENSIVE_EXIT_DTE' | 'TIME_WINDOW_END';
  /** Epoch ms. */
  at: number;
}

/** A running driver. */
export interface TradingDay {
  /** Picks up strategies added to or removed from the target since the last look. */
  refresh(): void;
  status(): TradingDayStatus;
  /** The exit armed for strategy `id`, or null (no position watched, exit sent, or not driven). */
  scheduledExit(id: string): ScheduledExit | null;
  /** Stops every timer, monitor and listener; strategies and the broker are left as they are. */
  stop(): void;
}

/** One driven strategy. */
interface Member {
  id: string;
  strategy: StrategyActor;
  variant: string;
  windows: readonly TimeWindow[];
  band: DteBand | undefined;
  /** Bumped on every accepted move: a reaction made for an earlier stay is dropped. */
  stay: number;
  /** Set while the strategy is brought up to date after a restart or a late join. */
  cause: CatchUpCause | null;
  /** A suspension by a calendar event ends at the first open after this date. */
  resumeAfter?: string;
  /** Calendar notices that went out before it joined, for an event still ahead: delivered by its catch-up. */
  notices?: Array<CalendarStrategyEvent & { catchUp?: string }>;
  /**
   * The notices sent to it by this trading day (keys of {@link noticeKey}): the calendar's own late
   * notice at a restart, ringing while the catch-up's send of the same notice is still being
   * written, is not sent a second time.
   */
  notified?: Set<string>;
  exitRefusals: number;
  /** Sends of the trading day the store refused in a row (the retry's backoff doubles with each). */
  storeFailures: number;
  /** What the next retry after a refused write sends (one retry pending per strategy at a time). */
  retry: { catchUp: boolean; analyse: boolean; exit: boolean; notices: CalendarStrategyEvent[] } | null;
  /** Undefined when the monitor could not start (reported): the window bells still reach the strategy. */
  monitor: DteMonitorHandle | undefined;
}

/** Callbacks due at one instant share one clock timer and run in the order they were added. */
function createAgenda(clock: Clock, onError: (error: unknown) => void) {
  const slots = new Map<number, { fns: Array<() => void>; cancel: () => void }>();
  const run = (at: number): void => {
    const slot = slots.get(at);
    if (!slot) return;
    slots.delete(at);
    for (const fn of slot.fns) {
      try {
        fn();
      } catch (error) {
        onError(error);
      }
    }
  };
  return {
    at(at: number, fn: () => void): void {
      const slot = slots.get(at);
      if (slot) slot.fns.push(fn);
      else slots.set(at, { fns: [fn], cancel: scheduleAt(clock, at, () => run(at)) });
    },
    stop: (): void => slots.forEach((slot) => slot.cancel()),
  };
}

/** The newest record of `records` (oldest first) that moved the strategy into SUSPENDED. */
function enteringSuspension(records: readonly TransitionRecord[]): TransitionRecord | undefined {
  for (let i = records.length - 1; i >= 0; i--) {
    const record = records[i];
    if (record.accepted && record.currentState === 'SUSPENDED' && record.previousState !== 'SUSPENDED') return record;
  }
  return undefined;
}

/** The date of the calendar event (FOMC, earnings) a suspending record names, if it does. */
function calendarDateOf(record: TransitionRecord): string | undefined {
  return (record.trigger === 'FOMC_MEETING' || record.trigger === 'EARNINGS_APPROACHING') && typeof record.data.date === 'string'
    ? record.data.date
    : undefined;
}

/**
 * The date after which a calendar suspension ends: its own event's, or a later event's whose notice
 * came while it lasted (refused in SUSPENDED, it extends the suspension as it did live). `later`:
 * the records after the suspending one. Undefined for a suspension that names no event (an operator's).
 */
function resumeDateOf(entering: TransitionRecord, later: Iterable<TransitionRecord>): string | undefined {
  let date = calendarDateOf(entering);
  if (date === undefined) return undefined;
  for (const record of later) {
    const noticed = calendarDateOf(record);
    if (noticed !== undefined && noticed > date) date = noticed;
  }
  return date;
}

/** One calendar notice's identity: its type, event date and (earnings) symbol. */
const noticeKey = (event: CalendarStrategyEvent): string =>
  event.type === 'EARNINGS_APPROACHING' ? `${event.type}|${event.date}|${event.symbol}` : `${event.type}|${event.date}`;

/** A notice's event in trader's words: `FOMC 2026-06-17`, `AAPL earnings 2026-01-29`. */
const noticeName = (event: CalendarStrategyEvent): string =>
  event.type === 'FOMC_MEETING' ? `FOMC ${event.date}` : `${event.symbol} earnings ${event.date}`;

/** An instant as New York time: `Tue 2026-06-16 09:35 ET`. */
const etTime = (ms: number): string => DateTime.fromMillis(ms, { zone: MARKET_ZONE }).toFormat("ccc yyyy-MM-dd HH:mm 'ET'");

/** The records of `records` after the one with seq `seq`. */
const after = (records: readonly TransitionRecord[], seq: number) => records.filter((r) => r.seq > seq);

/** Pages read back through a stored trail for the record that suspended a strategy, at most. */
const SUSPENSION_PAGES = 50;

/**
 * Runs the trading day for every strategy of `target`, on its clock, by itself: MARKET_OPEN and
 * MARKET_CLOSE at the exact NYSE bells (holidays, early closes, DST), each variant's time windows,
 * the DTE monitor of each strategy (DEFENSIVE_EXIT_DTE at the first open at or after the
 * defensive DTE; the same-day exit), the event calendar's notices (RESUME at the first open after
 * the event), entry conditions from `market` one minute into ANALYZING, and the orders each
 * state implies through `broker` (execution reports come back as order events).
 *
 * On start, and for each strategy that joins later, nothing missed is replayed: the strategy is
 * brought to what the present requires ({@link catchUpEvent}: a MARKET_CLOSE it missed, one
 * MARKET_OPEN, the open window's start), each event marked `catchUp` with the reason, and a
 * 21-DTE exit that fell due while down is sent at once if the market is open (else at the open).
 * With an in-memory target every step is synchronous, so a simulated clock can be moved through
 * a year in one call ({@link runSimulation} is built on it).
 *
 * @example
 * ```ts
 * const system = await openStrategySystem({ store, variants, clock: realClock });
 * const day = startTradingDay({ target: system, clock: realClock, broker: new PaperBroker({ clock: realClock }), market: createSimulatedMarket() });
 * day.status(); // { phase: 'closed', nextBell: { type: 'MARKET_OPEN', at: ... }, strategies: 3 }
 * day.stop();
 * ```
 * @throws {TimeWindowError} for an invalid window table; {@link CalendarRangeError} outside the calendar's years.
 */
export function startTradingDay(options: TradingDayOptions): TradingDay {
  const { target, clock, market } = options;
  const onError = options.onError ?? ((error: unknown) => console.error('strategy-lifecycle trading day:', error));
  const table = options.windows ?? TIME_WINDOWS;
  const sessions = options.sessions ?? createSessionCache();
  const analysisMs = options.analysisMs ?? MINUTE;
  const agenda = createAgenda(clock, onError);
  const members = new Map<string, Member>();
  const windowSchedules = new Map<string, BellSchedule<WindowBell>>();
  /** The expired positions told to `onError` (strategy, expiry, opening time): one alert each. */
  const expiredTold = new Set<string>();
  /**
   * `onError` for the DTE monitors and the routing. Both find an expired position (the monitor at
   * its close or at a restart, the routing when an exit or adjustment of it is asked for: a kill
   * switch, a rejected exit placed again): each told it, so the operator got the same alert twice.
   * Now an {@link ExpiredPositionError} is told once per strategy and position.
   */
  const tell = (error: unknown): void => {
    if (error instanceof ExpiredPositionError) {
      let openedAt: number | undefined;
      try {
        openedAt = target.get(error.strategyId).getSnapshot().context.position?.openedAt;
      } catch {
        // not held here: keyed by its expiry alone
      }
      const key = `${error.strategyId}|${error.expiry}|${openedAt ?? ''}`;
      if (expiredTold.has(key)) return;
      expiredTold.add(key);
    }
    onError(error);
  };
  const routing: BrokerRouting | undefined = options.broker
    ? startBrokerRouting({ broker: options.broker, target, onError: tell, clock, sessions })
    : undefined;
  // Told at the removal itself: a strategy added again under the id before the next refresh is another one.
  const unsubscribeRemovals = routing && target.subscribeRemovals?.((strategyId) => routing.removed(strategyId));
  let todays = { date: '', byVariant: new Map<string, WindowInstant[]>() };
  /** Window starts whose bell has rung (`variant|window|start`, to the start), so a strategy ready at that very instant is caught up. */
  const rungStarts = new Map<string, number>();
  let stopped = false;
  /** Set once the event calendar has started: a strategy enrolled after it gets the notices it missed. */
  let calendarStarted = false;
  /** The market bells, once started (after the first enrolment has started the window bells). */
  let marketBells: BellSchedule<MarketBell> | undefined;

  const windowsToday = (m: Member): WindowInstant[] => {
    const date = marketDate(clock.now());
    if (todays.date !== date) todays = { date, byVariant: new Map() };
    let list = todays.byVariant.get(m.variant);
    if (!list) todays.byVariant.set(m.variant, (list = windowInstants(date, m.windows, sessions)));
    return list;
  };

  /**
   * `exit`: the DTE monitor's exit (sent once by the monitor: a refused write has the monitor work it out again).
   * `storeRefused`: runs when the store refused the write, before its retry is planned.
   */
  const send = (m: Member, event: StrategyEvent, then?: (result: TriggerResult) => void, exit = false, storeRefused?: () => void): void => {
    if (stopped || members.get(m.id) !== m) return;
    settle(
      () => target.send(m.id, event),
      (result) => {
        m.storeFailures = 0;
        then?.(result);
      },
      (error) => {
        onError(error);
        if (error instanceof StoreUnavailableError) {
          storeRefused?.();
          retryAfterStoreFailure(m, event, exit);
        }
      },
    );
  };

  /**
   * Sends the RESUME that ends a calendar suspension: once (its date is taken off), unless the store
   * refuses the write: then nothing moved and the date comes back, so the retry's catch-up sends it
   * again. Before, the date was gone and the strategy stayed SUSPENDED until an operator resumed it.
   */
  const resume = (m: Member, event: StrategyEvent, then?: (result: TriggerResult) => void): void => {
    const date = m.resumeAfter;
    delete m.resumeAfter;
    send(m, event, then, false, () => {
      if (m.resumeAfter === undefined && m.strategy.state === 'SUSPENDED') m.resumeAfter = date;
    });
  };

  /**
   * A send the store refused (a full disk, a lost connection): nothing moved. After a backoff (1 s,
   * doubling, at most 60 s) it is tried again: a monitor's exit worked out again by the monitor, the market's answer by
   * analysing again (still in ANALYZING), a calendar notice by delivering it again while its event
   * is ahead (nothing in the present says it is due; before, a notice whose write failed was lost,
   * and the strategy traded through the FOMC day or its earnings), anything else (a bell, a window)
   * by working out what the present requires (`catchUp`, with the reason). Before, a bell whose
   * write failed was lost for the day. One retry is pending per strategy: sends refused together share it.
   */
  const retryAfterStoreFailure = (m: Member, event: StrategyEvent, exit: boolean): void => {
    const first = m.retry === null;
    const retry = (m.retry ??= { catchUp: false, analyse: false, exit: false, notices: [] });
    if (exit) retry.exit = true;
    else if (event.type === 'ENTRY_CONDITIONS_MET') retry.analyse = true;
    // The driver sends these only from the calendar (`notify`), which gives the date (and symbol).
    else if (event.type === 'FOMC_MEETING' || event.type === 'EARNINGS_APPROACHING') retry.notices.push(event as CalendarStrategyEvent);
    else retry.catchUp = true;
    if (!first) return;
    const wait = Math.min(STORE_RETRY_MAX_MS, STORE_RETRY_MS * 2 ** Math.min(10, m.storeFailures));
    m.storeFailures++;
    // Any stay: the strategy did not move (the write failed), and a move meanwhile reacts by itself.
    agenda.at(clock.now() + wait, () => {
      const due = m.retry;
      m.retry = null;
      if (stopped || members.get(m.id) !== m || !due) return;
      // The monitor works its exit out again from the state the strategy is in now.
      if (due.exit) m.monitor?.retry();
      if (due.analyse && m.strategy.state === 'ANALYZING') analyse(m);
      // A notice whose event is over by now is not sent (as a late wake does not ring it).
      for (const notice of due.notices) {
        if (notice.date < marketDate(clock.now())) continue;
        const { catchUp: _note, ...event } = notice as CalendarStrategyEvent & { catchUp?: string };
        notify(m, { ...event, catchUp: `sent again: the store refused the write when it was due: the ${noticeName(event)} notice` });
      }
      if (due.catchUp) {
        m.cause ??= 'storeFailed';
        catchUp(m);
      }
    });
  };

  /** Runs `fn` after `delay`, if the strategy is still in the stay that asked for it. */
  const later = (m: Member, fn: () => void, delay: number): void => {
    const stay = m.stay;
    agenda.at(clock.now() + delay, () => {
      if (!stopped && members.get(m.id) === m && m.stay === stay) fn();
    });
  };

  /** One step towards what the present requires; the next step follows the accepted move. */
  const catchUp = (m: Member): void => {
    const { strategy } = m;
    // Notices it missed by joining late, once it has had an open (INITIALIZING has no edge for
    // them): before the entry window's start, as the strategies there at the notice had them.
    // One whose event is over by now is not sent, nor one sent to it since it was held (the
    // calendar's own late ring at a restart, when two or more notices were missed: before, the
    // second went out twice, by the ring and then by this catch-up).
    const pending = m.notices?.filter((n) => n.date >= marketDate(clock.now()) && !m.notified?.has(noticeKey(n)));
    if (pending?.length && strategy.state !== 'INITIALIZING') {
      const notice = pending.shift() as CalendarStrategyEvent & { catchUp?: string };
      m.notices = pending;
      // Refused (a position held, ERROR): nothing moved, so the catch-up goes on from here.
      return notify(m, notice, (result) => {
        if (!result.accepted) later(m, () => catchUp(m), 0);
      });
    }
    if (pending?.length === 0) delete m.notices;
    const event = catchUpEvent(
      strategy.state,
      strategy.getSnapshot().context.enteredAt,
      marketPresent(clock.now(), sessions),
      windowsToday(m),
      m.cause ?? 'joined',
      m.resumeAfter,
      (w) => rungStarts.has(`${m.variant}|${w.name}|${w.start}`),
    );
    if (!event) {
      m.cause = null;
      return;
    }
    // A late join in the running day is ordinary flow: only catch-ups carry the note.
    if (m.cause === null) delete event.catchUp;
    const answered = (result: TriggerResult): void => {
      if (!result.accepted) m.cause = null;
    };
    // Sent once, as the open's would have been.
    if (event.type === 'RESUME') resume(m, event, answered);
    else send(m, event, answered);
  };

  /** The simulated market's answer to a strategy in ANALYZING, `analysisMs` later (none without a market). */
  const analyse = (m: Member): boolean => {
    if (!market || !m.band) return false;
    const band = m.band;
    later(
      m,
      () => {
        const { vix, expiry } = market.entryConditions(clock.now(), band);
        const underlying = m.strategy.getSnapshot().context.params.underlying;
        send(m, {
          type: 'ENTRY_CONDITIONS_MET',
          vix,
          expiry,
          ...(typeof underlying === 'string' && underlying.trim() ? { underlying } : {}),
        });
      },
      analysisMs,
    );
    return true;
  };

  const react = (m: Member, state: StrategyState, from: StrategyState): void => {
    // An order its state no longer waits on (left by a stuck deadline or an emergency exit) is cancelled.
    routing?.cancelStale(m.strategy);
    if (state === 'ANALYZING' && analyse(m)) return;
    if (state === 'PENDING_EXIT' && m.exitRefusals >= MAX_EXIT_RETRIES) return;
    // An emergency exit reaches EXITING with no exit order placed: place one (the kill switch's exits too).
    if (routing && (wantsOrder(state) || needsExitOrder({ previousState: from, currentState: state })))
      return later(m, () => routing.submitFor(m.strategy), 0);
    // Called from inside the strategy's transition: the next step goes from a fresh timer.
    later(m, () => catchUp(m), 0);
  };

  const ensureWindows = (variant: string, windows: readonly TimeWindow[]): void => {
    if (windowSchedules.has(variant)) return;
    windowSchedules.set(
      variant,
      startTimeWindows({
        clock,
        onError,
        sessions,
        windows,
        target: (event, window) => {
          // A late wake whose window timer ran first: the market bells before this boundary ring
          // first (yesterday's close before today's entry window), so the day's steps stay in order.
          marketBells?.ringDue(event.type === 'TIME_WINDOW_START' ? window.start : window.end);
          refresh();
          if (event.type === 'TIME_WINDOW_START') {
            rungStarts.set(`${variant}|${window.name}|${window.start}`, window.start);
            // Only today's are looked up: earlier days' go.
            for (const [key, start] of rungStarts) if (start < window.start - DAY_MS) rungStarts.delete(key);
          }
          for (const m of members.values()) {
            if (m.variant !== variant || !isWindowEventFor(event.type, window.kind, m.strategy.state)) continue;
            // The same-day exit (the manage window's end) is the DTE monitor's to send, with its
            // retries: sent from here too, it reached a persisted strategy twice (the second refused).
            // (Only the window the monitor follows, by the name it looks up: a manage window of another name is sent here.)
            if (event.type === 'TIME_WINDOW_END' && window.name === SAME_DAY_EXIT_WINDOW && m.monitor?.rule === 'sameDay') continue;
            send(m, event);
          }
        },
      }),
    );
  };

  /** Pages back through the stored trail for the record that suspended `m`, then sets its resume date. */
  const resumeDateFromStore = async (m: Member, read: NonNullable<TradingTarget['readAuditTrail']>): Promise<void> => {
    let before: number | undefined;
    /** The records of the pages read so far (newer than the page being read). */
    const newer: TransitionRecord[] = [];
    for (let page = 0; page < SUSPENSION_PAGES; page++) {
      const { records, next } = await read(m.id, before === undefined ? { limit: 100 } : { before, limit: 100 });
      const entering = enteringSuspension(records);
      if (entering) {
        if (members.get(m.id) === m && m.resumeAfter === undefined && m.strategy.state === 'SUSPENDED') {
          m.resumeAfter = resumeDateOf(entering, [...after(records, entering.seq), ...newer]);
          // Read back after the start's catch-up ran: the open it may have missed is caught up now.
          later(m, () => catchUp(m), 0);
        }
        return;
      }
      if (next === null) return;
      newer.push(...records);
      before = next;
    }
  };

  const enrol = (id: string, cause: CatchUpCause): void => {
    const strategy = target.get(id);
    const variant = definitionOf(strategy.machine)?.id ?? strategy.machine.id;
    const windows = table[variant];
    if (!windows) {
      onError(new Error(`strategy "${id}" is not driven: its variant "${variant}" has no time windows`));
      return;
    }
    validateWindows(windows, variant);
    const m: Member = {
      id,
      strategy,
      variant,
      windows,
      stay: 0,
      cause,
      exitRefusals: 0,
      storeFailures: 0,
      retry: null,
      band: options.dteBandOf?.(strategy) ?? SIMULATION_DTE_BANDS[variant],
      // Set right below, once the watch it reports to exists (the monitor needs the watch).
      monitor: undefined,
    };
    members.set(id, m);
    // Joining after the calendar started: the notices that went out before, for an event still ahead
    // (a strategy added the day before an FOMC decision, after 09:35). Before, it had none, and
    // traded through the event the strategies already there sat out. At a restart, the notices
    // whose time passed while the service was down: held for the catch-up too, which sends them
    // before the entry window's start. Before, the catch-up opened the window first (READY ->
    // ANALYZING) and the calendar's late notice came after it, so a quick market answer could take
    // the strategy to an entry on the eve of the event. (The calendar's own late notice then finds
    // the strategy noticed and skips it.)
    if ((calendarStarted || cause === 'restart') && options.eventCalendar) {
      const now = clock.now();
      const today = marketDate(now);
      const ahead = { ...options.eventCalendar, events: options.eventCalendar.events.filter((e) => e.date >= today) };
      const missed = calendarNotices(ahead, options.eventNotice)
        .filter((n) => n.at < now && (n.event.type === 'FOMC_MEETING' || underlyingOf(strategy) === n.event.symbol))
        .filter((n) => !noticedSince(strategy, n.event, n.at));
      for (const n of missed)
        hold(
          m,
          n.event,
          calendarStarted
            ? `added while the day was under way: the ${noticeName(n.event)} notice went out ${etTime(n.at)}`
            : `missed while the service was down: the ${noticeName(n.event)} notice was due ${etTime(n.at)}`,
        );
    }
    // The record that suspended it names the event (the newest record is often a bell it refused
    // since); older than the trail held in memory (a restart), it is read back from the store.
    if (strategy.state === 'SUSPENDED') {
      const trail = strategy.getAuditTrail();
      const entering = enteringSuspension(trail);
      if (entering) m.resumeAfter = resumeDateOf(entering, after(trail, entering.seq));
      else if (target.readAuditTrail) void resumeDateFromStore(m, target.readAuditTrail.bind(target)).catch(onError);
    }
    // The windows first: a monitor that cannot start (its exit window missing, an expiry past the
    // calendar) is reported, and the window bells still reach the strategy.
    ensureWindows(variant, windows);
    try {
      m.monitor = startDteMonitor({
        strategy,
        clock,
        windows,
        onError: tell,
        sessions,
        send: (event, { late, heldIn }) => send(m, late ? { ...event, catchUp: lateExitReason(event, heldIn) } : event, undefined, true),
      });
    } catch (error) {
      // Reported, and the rest of the enrolment goes on: before, the throw skipped the analysis and
      // the catch-up below (a position held since yesterday stayed in POSITION_OPEN all day).
      onError(error);
    }
    // Restored while analysing (a restart in the entry window): the market answers it as it would
    // have; before, nothing did and the day's entry was lost.
    if (strategy.state === 'ANALYZING') analyse(m);
    later(m, () => catchUp(m), 0);
  };

  const drop = (m: Member): void => {
    m.monitor?.stop();
    members.delete(m.id);
  };

  function refresh(cause: CatchUpCause = 'joined', joinedNow: ReadonlySet<string> = new Set()): void {
    if (stopped) return;
    const ids = new Set(target.ids());
    for (const m of members.values()) {
      // A strategy taken over and restored (another instance's lease) is a new handle: re-enrol it.
      if (!ids.has(m.id) || target.get(m.id) !== m.strategy) drop(m);
      // Gone for good here (removed, or lost to another instance): the routing lets go of it too.
      if (!ids.has(m.id)) {
        routing?.forget(m.id);
        for (const key of expiredTold) if (key.startsWith(`${m.id}|`)) expiredTold.delete(key);
      }
    }
    for (const id of ids) {
      if (members.has(id)) continue;
      try {
        enrol(id, joinedNow.has(id) ? 'joined' : cause);
      } catch (error) {
        onError(error);
      }
    }
  }

  const unsubscribe = target.subscribe(({ strategyId, record }) => {
    if (stopped) return;
    let m = members.get(strategyId);
    // Unknown, or enrolled as another strategy of that id (removed and added again, or taken over
    // and restored, since the last look): enrolled afresh first. Before, the new strategy's moves
    // were taken as the removed one's (its PENDING_ENTRY placed no order, its monitor never started).
    if (!m || (target.has(strategyId) && target.get(strategyId) !== m.strategy)) {
      refresh();
      m = members.get(strategyId);
      if (!m) return;
    }
    if (!record.accepted) return;
    if (record.trigger === 'ORDER_REJECTED' && record.currentState === 'PENDING_EXIT') m.exitRefusals++;
    if (record.currentState === 'CLOSED' || record.currentState === 'MANAGING') m.exitRefusals = 0;
    // The resume date belongs to the suspension that set it: one that ended (an operator's RESUME)
    // takes it along, and a new one sets its own (none for an operator's: it waits for an
    // operator), as a restart reads it from the trail. Before, an operator's hold after a resumed
    // calendar suspension was resumed at the first open after that event.
    if (record.previousState === 'SUSPENDED' && record.currentState !== 'SUSPENDED') delete m.resumeAfter;
    else if (record.currentState === 'SUSPENDED' && record.previousState !== 'SUSPENDED') m.resumeAfter = resumeDateOf(record, []);
    if (record.previousState === record.currentState && !record.reentered) return;
    m.stay++;
    react(m, record.currentState, record.previousState);
  });

  const joinedNow = new Set(options.joined ?? []);
  refresh('restart', joinedNow);
  // Orders in flight when the process stopped: followed again, or placed again where the broker
  // does not have them (see BrokerRouting.resume); before, such a strategy waited for its stuck
  // deadline, and a 0DTE exit caught by it went out at the next open.
  if (routing) void routing.resume([...members.values()].map((m) => m.strategy)).catch(onError);

  const bells = (marketBells = startMarketClock({
    clock,
    onError,
    sessions,
    target: (event, session) => {
      refresh();
      for (const m of members.values()) {
        m.cause = null; // from the first bell on, the day runs live
        const state = m.strategy.state;
        if (event.type === 'MARKET_OPEN' && m.resumeAfter !== undefined && m.resumeAfter < session.date) {
          if (state === 'SUSPENDED') resume(m, { type: 'RESUME' });
          else delete m.resumeAfter;
        }
        // A window clipped to an early close ends before the close, whichever timer rings first.
        for (const w of event.type === 'MARKET_CLOSE' ? windowsToday(m) : []) {
          if (w.end === session.close && isWindowEventFor('TIME_WINDOW_END', w.kind, state))
            send(m, { type: 'TIME_WINDOW_END', window: w.name });
        }
        send(m, event);
      }
    },
  }));

  /** Keeps a calendar notice for `m`'s catch-up to deliver (the same event once), with why it is late. */
  function hold(m: Member, event: CalendarStrategyEvent, why: string): void {
    const same = (n: CalendarStrategyEvent) =>
      n.type === event.type &&
      n.date === event.date &&
      (n.type === 'FOMC_MEETING' || (event.type === 'EARNINGS_APPROACHING' && n.symbol === event.symbol));
    if (m.notices?.some(same)) return;
    (m.notices ??= []).push({ ...event, catchUp: why });
  }

  /** Delivers a calendar notice to `m`: a suspension by it (or extended by it) ends at the first open after its event. */
  function notify(m: Member, event: CalendarStrategyEvent & { catchUp?: string }, then?: (result: TriggerResult) => void): void {
    (m.notified ??= new Set()).add(noticeKey(event));
    send(m, event, (result) => {
      then?.(result);
      // Suspended now, or still suspended by an earlier notice: resume after the later event.
      const suspended = (result.accepted && result.to === 'SUSPENDED') || (m.resumeAfter !== undefined && m.strategy.state === 'SUSPENDED');
      if (suspended && !(m.resumeAfter && m.resumeAfter > event.date)) m.resumeAfter = event.date;
    });
  }

  const notices = options.eventCalendar
    ? startEventCalendar({
        ...options.eventNotice,
        clock,
        onError,
        calendar: options.eventCalendar,
        // Looked again first, as the bells do: a strategy removed and added again under its id
        // since the last look is judged by its own state (held while INITIALIZING), not the old one's.
        strategies: () => {
          refresh();
          return [...members.values()].map((m) => m.strategy);
        },
        deliver: (strategy, event) => {
          const m = members.get(strategy.id);
          // Sent already by its catch-up (a restart after the notice time): not a second time.
          if (!m || m.notified?.has(noticeKey(event))) return;
          // INITIALIZING has no edge for it (refused, the strategy traded through the event once
          // its open came): held until its catch-up after that open, before any entry window.
          if (m.strategy.state === 'INITIALIZING')
            hold(m, event, `held until the strategy had its market open: the ${noticeName(event)} notice`);
          else notify(m, event);
        },
      })
    : undefined;

  calendarStarted = true;

  return {
    refresh: () => refresh(),
    status() {
      const present = marketPresent(clock.now(), sessions);
      const next = bells.next;
      return {
        phase: present.isOpen ? 'open' : 'closed',
        nextBell: next ? { type: next.type, at: next.at } : null,
        strategies: members.size,
      };
    },
    scheduledExit(id) {
      const monitor = members.get(id)?.monitor;
      const at = monitor?.dueAt ?? null;
      return monitor && at !== null ? { event: monitor.rule === 'sameDay' ? 'TIME_WINDOW_END' : 'DEFENSIVE_EXIT_DTE', at } : null;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      notices?.stop();
      bells.stop();
      for (const schedule of windowSchedules.values()) schedule.stop();
      for (const m of members.values()) m.monitor?.stop();
      unsubscribeRemovals?.();
      routing?.stop();
      agenda.stop();
    },
  };
}
