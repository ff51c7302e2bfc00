// A trading process for the crash tests: runs a deterministic stream of events against a store
// and prints "ACK <strategy> <seq>" after each acknowledged (committed) send. The parent kills it
// with SIGKILL at random points. Uses the built package (npm test builds it first).
// The built package's entries, merged: the stores and the persisted system are subpaths of the root.
const lib = ['index', 'entries/persistence', 'entries/sqlite', 'entries/postgres'].reduce(
  (all, entry) => ({ ...all, ...require(`../../dist/cjs/${entry}.js`) }),
  {},
);

const T0 = Date.parse('2026-12-04T11:00:00-05:00');
const STEP_MS = 1000;
const IDS = ['zero', 'long', 'strangle'];
const DEFS = [lib.zeroDte, lib.lt112, lib.strangle];
const ENTRIES = [
  { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2026-12-04' },
  { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-29' },
  { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-02-02' },
];

/** Event i of strategy s: a full lifecycle cycle with a duplicate fill and an invalid event. */
function streamEvent(s, i) {
  const cycle = Math.floor(i / 12);
  const events = [
    { type: 'MARKET_OPEN' },
    { type: 'TIME_WINDOW_START' },
    ENTRIES[s],
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_PARTIALLY_FILLED', quantity: 1, eventId: `c${cycle}-p1` },
    { type: 'ORDER_PARTIALLY_FILLED', quantity: 1, eventId: `c${cycle}-p1` },
    { type: 'ORDER_FILLED', quantity: 1, expiry: '2026-12-18' },
    { type: 'MARKET_OPEN' },
    { type: 'NOT_AN_EVENT' },
    { type: 'MARGIN_CALL' },
    { type: 'ORDER_SUBMITTED' },
    { type: 'ORDER_FILLED', quantity: 2 },
  ];
  return events[i % 12];
}

/** Global step g: strategy g % 3 gets its event floor(g / 3), at T0 + g seconds. */
function stepOf(g) {
  return { s: g % 3, i: Math.floor(g / 3), at: T0 + g * STEP_MS };
}

function storeFor(kind, target) {
  return kind === 'postgres'
    ? new lib.PostgresStore({ connectionString: target, instanceId: 'crash-worker' })
    : new lib.SqliteStore(target);
}

async function stream(kind, target, total) {
  const clock = lib.createSimulatedClock(T0);
  const system = await lib.openStrategySystem({ store: storeFor(kind, target), variants: DEFS, clock });
  for (const [s, id] of IDS.entries()) if (!system.has(id)) await system.add(DEFS[s], { id });
  // Records written so far (the in-memory window after a restore holds only the newest few).
  let g = IDS.reduce((n, id) => n + (system.get(id).getSnapshot().context.lastRecord?.seq ?? 0), 0);
  process.stdout.write(`READY ${g}\n`);
  for (; g < total; g++) {
    const { s, i, at } = stepOf(g);
    clock.set(at);
    const result = await system.send(IDS[s], streamEvent(s, i));
    process.stdout.write(`ACK ${IDS[s]} ${result.record.seq}\n`);
  }
  await system.close();
  process.stdout.write('DONE\n');
}

/** Durable deadline across processes: phase "enter" puts a strategy in ERROR at T0; phase "recover" checks it. */
async function deadline(kind, target, phase) {
  if (phase === 'enter') {
    const clock = lib.createSimulatedClock(T0);
    const system = await lib.openStrategySystem({ store: storeFor(kind, target), variants: DEFS, clock });
    await system.add(lib.lt112, { id: 'err' });
    await system.send('err', { type: 'MARKET_OPEN' });
    await system.send('err', { type: 'SYSTEM_ERROR', reason: 'crash test' });
    await system.close();
    process.stdout.write('ENTERED\n');
    return;
  }
  const clock = lib.createSimulatedClock(T0 + 10 * 60_000);
  const system = await lib.openStrategySystem({ store: storeFor(kind, target), variants: DEFS, clock });
  const states = [system.get('err').state];
  clock.set(T0 + 30 * 60_000 - 1);
  await system.flush();
  states.push(system.get('err').state);
  clock.set(T0 + 30 * 60_000);
  await system.flush();
  states.push(system.get('err').state);
  const last = system.get('err').getAuditTrail().at(-1);
  await system.close();
  process.stdout.write(`${JSON.stringify({ states, recoveredAt: last.at, trigger: last.trigger })}\n`);
}

module.exports = { streamEvent, stepOf, IDS, T0 };

if (require.main === module) {
  const [mode, kind, target, arg] = process.argv.slice(2);
  const run = mode === 'stream' ? stream(kind, target, Number(arg)) : deadline(kind, target, arg);
  run.catch((error) => {
    process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
    process.exit(1);
  });
}
