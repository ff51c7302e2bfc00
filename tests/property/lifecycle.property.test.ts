/**
 * Property-based tests of the strategy lifecycle against an independent reference model
 * (./model: the spec's edge table plus the documented refinements), across all three variants.
 * Random sequences of valid and malformed events, duplicate event ids, fills of every size,
 * VIX levels and expiries, failing hooks, clock advances across the stuck deadlines, the
 * 30-minute recovery, New York midnight and the circuit breaker, and persist/restore points.
 *
 * Volume: PROPERTY_EVENTS events in total (default 1,000,000), split evenly over the six
 * properties; each property runs fc.assert until its share is delivered.
 * PROPERTY_SEED=<n> makes the runs reproducible (fast-check prints the seed of a failure);
 * PROPERTY_STATS=1 prints what the runs covered.
 */
import fc from 'fast-check';
import { scenarioArb, type Scenario } from './commands';
import { coverage } from './coverage';
import { delivered } from './driver';
import { STATES } from './model/table';
import { runScenario, type Checks } from './runner';

const TARGET_EVENTS = Number(process.env.PROPERTY_EVENTS ?? 1_000_000);
const SEED = process.env.PROPERTY_SEED === undefined ? undefined : Number(process.env.PROPERTY_SEED);
const PROPERTIES = 6;
const SHARE = Math.ceil(TARGET_EVENTS / PROPERTIES);
/** Generous (about 1 ms per event on top of a minute): a loaded CI machine must not time out. */
const TIMEOUT_MS = 60_000 + SHARE;
const MAX_COMMANDS = 200;

const completed = new Set<string>();
const started = Date.now();

/**
 * Runs `fc.assert` until this property has delivered its share of events: a first chunk of
 * 20 runs measures the events per run, each next chunk aims at most of what is left.
 */
function assertProperty(name: string, arb: fc.Arbitrary<Scenario>, checks: Checks): void {
  const from = delivered.events;
  let runs = 0;
  for (let chunk = 0; delivered.events - from < SHARE; chunk++) {
    const done = delivered.events - from;
    const left = SHARE - done;
    const perRun = Math.max(1, done / Math.max(1, runs));
    const numRuns = runs === 0 ? 20 : Math.max(5, Math.ceil((left > 20 * perRun ? 0.8 * left : left) / perRun));
    runs += numRuns;
    fc.assert(
      fc.property(arb, (scenario) => runScenario(scenario, checks)),
      SEED === undefined ? { numRuns } : { numRuns, seed: SEED + chunk },
    );
  }
  completed.add(name);
}

const plain = scenarioArb({ maxCommands: MAX_COMMANDS, restoreWeight: 1 });
const restoring = scenarioArb({ maxCommands: MAX_COMMANDS, restoreWeight: 4 });

describe('strategy lifecycle properties (reference model, all variants)', () => {
  test(
    "1. the state is always one of the 15 and equals the reference model's (so do position, expiry, errorCount, deadline, auto-recoveries and applied ids)",
    () => {
      assertProperty('model', plain, { model: true });
    },
    TIMEOUT_MS,
  );

  test(
    '2. a position is held only in a state that may hold one (never READY, CLOSED or TERMINATED) and a flat strategy is never in one that needs one; TERMINATED is never left',
    () => {
      assertProperty('position', plain, { position: true });
    },
    TIMEOUT_MS,
  );

  test(
    '3. errorCount counts failed hooks only and never exceeds maxErrors; ERROR is left exactly at its deadline (never while the circuit breaker is open) or by RESET, MANUAL_OVERRIDE or EMERGENCY_EXIT',
    () => {
      assertProperty('errors', plain, { errors: true });
    },
    TIMEOUT_MS,
  );

  test(
    '4. the audit trail has one record per trigger plus exactly the deadline firings and hook failures, in time order; time per state adds up to the elapsed time',
    () => {
      assertProperty('audit', plain, { audit: true });
    },
    TIMEOUT_MS,
  );

  test(
    '5. persisting and restoring at any point changes nothing that follows',
    () => {
      assertProperty('restore', restoring, { twin: true });
    },
    TIMEOUT_MS,
  );

  test(
    '6. an event delivered twice with the same eventId is applied once, also across a restore',
    () => {
      assertProperty('idempotency', plain, { idempotency: true });
    },
    TIMEOUT_MS,
  );
});

afterAll(() => {
  const seconds = (Date.now() - started) / 1000;
  const rate = Math.round(delivered.events / seconds);
  if (process.env.PROPERTY_STATS) {
    const states = Object.fromEntries(Object.entries(coverage.statesByVariant).map(([v, s]) => [v, s.size]));
    process.stdout.write(`property coverage: ${JSON.stringify({ ...coverage, statesByVariant: states })}\n`);
  }
  process.stdout.write(
    `property suite: ${delivered.events.toLocaleString('en-US')} events in ${seconds.toFixed(1)} s (${rate.toLocaleString('en-US')} events/s)\n`,
  );
  if (completed.size < PROPERTIES) return; // a filtered run (-t) cannot reach the total
  expect(delivered.events).toBeGreaterThanOrEqual(TARGET_EVENTS);
  if (TARGET_EVENTS >= 1_000_000) {
    for (const [variant, seen] of Object.entries(coverage.statesByVariant)) {
      expect({ variant, missing: STATES.filter((s) => !seen.has(s)) }).toEqual({ variant, missing: [] });
    }
    const { restores, stuckDeadlines, autoRecoveries, breakerHeld, forcedByHooks, duplicates, invalid, guardFailed, partialExits } =
      coverage;
    expect(
      Math.min(restores, stuckDeadlines, autoRecoveries, breakerHeld, forcedByHooks, duplicates, invalid, guardFailed, partialExits),
    ).toBeGreaterThan(0);
  }
});
