// A child process for tests/services/inspect-*.test.ts: the BUILT package (dist/esm, what
// `npm run build` writes) running a strategy system on a simulated clock with the inspector
// bridge's `inspect` (`@statelyai/inspect` is ES modules only, which jest's CommonJS runtime cannot
// load), driven by JSON commands on stdin, one per line, each answered by one JSON line on stdout.
//
//   {"cmd":"bridge"}                          -> {"wsUrl"}            starts the bridge
//   {"cmd":"open","mode":"memory"|"persisted","dbFile"?} -> {...status}   opens a system on it
//   {"cmd":"run","steps":[...]}               -> {...status}          add/send/advance/remove/mark/haltBehindItsBack
//   {"cmd":"close"}                           -> {}                   stops (closes) the system
//   {"cmd":"external"}                        -> {...status}          a standalone strategy fed
//                                                                     through its own createWebSocketInspector
//   {"cmd":"memory"}                          -> {bytes}              heap and buffers after a full GC (the child runs with --expose-gc)
//   {"cmd":"stop"}                            -> {} and exits
// status: { coordinator: sessionId (in memory only), strategies: [{ id, state, sessionId }] }
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createWebSocketInspector } from '@statelyai/inspect';
import Database from 'better-sqlite3';

const dist = new URL('../../dist/esm/', import.meta.url);
const load = (path) => import(fileURLToPath(new URL(path, dist)));
const { startInspectorBridge } = await load('server/inspector.js');
const { createStrategySystem } = await load('services/runtime/strategySystem.js');
const { openStrategySystem } = await load('services/runtime/persistentSystem.js');
const { SqliteStore } = await load('services/store/sqliteStore.js');
const { createSimulatedClock } = await load('services/market/clock.js');
const { createStrategyActor } = await load('services/runtime/strategyActor.js');
const { createStrategyMachine } = await load('machines/createStrategyMachine.js');
const variants = await load('machines/variants/index.js');

const VARIANTS = [variants.zeroDte, variants.lt112, variants.strangle];
const variantOf = (id) => VARIANTS.find((v) => v.id === id);
/** Friday 2026-12-04, 11:00 New York (tests/support/fixtures FRIDAY_11AM). */
const clock = createSimulatedClock(Date.parse('2026-12-04T11:00:00-05:00'));

let bridge;
let system;
let persisted = false;
let external;

// The persisted system does not expose its coordinator: the tests learn it from the inspector.
const status = () => ({
  coordinator: system?.actorRef?.sessionId,
  strategies: system ? system.ids().map((id) => ({ id, state: system.get(id).state, sessionId: system.get(id).actorRef.sessionId })) : [],
});

async function step(s) {
  switch (s.op) {
    case 'add':
      return system.add(variantOf(s.variant), { id: s.id, params: { underlying: 'SPX' } });
    case 'send': {
      const result = await system.send(s.id, s.event);
      // `refused`: the code the trigger must be refused with.
      if (s.refused ? result.accepted || result.code !== s.refused : !result.accepted)
        throw new Error(`${s.id}: ${s.event.type} answered ${JSON.stringify(result)}`);
      return result;
    }
    case 'haltBehindItsBack': {
      // Another instance halts trading in the SQLite file; this one has not heard of it yet.
      const db = new Database(s.dbFile);
      db.prepare("UPDATE trading_state SET state = 'HALTED' WHERE id = 1").run();
      db.prepare(
        "INSERT INTO trading_state_changes (from_state, to_state, reason, operator, at) VALUES ('ACTIVE', 'HALTED', 'behind its back', 'test', ?)",
      ).run(clock.now());
      db.close();
      return undefined;
    }
    case 'advance':
      clock.increment(s.ms);
      return persisted && system ? system.flush() : undefined;
    case 'remove':
      return system.remove(s.id);
    case 'mark':
      // A change of the coordinator's context that leaves every strategy where it is.
      return system.setTradingState('ACTIVE', s.reason);
    default:
      throw new Error(`unknown step ${JSON.stringify(s)}`);
  }
}

const commands = {
  async bridge() {
    bridge = await startInspectorBridge();
    return { wsUrl: bridge.wsUrl };
  },
  async open({ mode, dbFile }) {
    persisted = mode === 'persisted';
    system = persisted
      ? await openStrategySystem({ store: new SqliteStore(dbFile), variants: VARIANTS, clock, inspect: bridge.inspect })
      : createStrategySystem({ clock, inspect: bridge.inspect });
    return status();
  },
  async run({ steps }) {
    for (const s of steps) await step(s);
    return status();
  },
  async close() {
    if (persisted) await system.close();
    else system.stop();
    system = undefined;
    return {};
  },
  async external() {
    // As an application would: its own WebSocket inspector, pointed at the bridge's address.
    const inspector = createWebSocketInspector({ url: bridge.wsUrl });
    const strategy = createStrategyActor(createStrategyMachine(variants.lt112), {
      id: 'external-lt112',
      clock,
      inspect: inspector.inspect,
    });
    strategy.trigger({ type: 'MARKET_OPEN' });
    strategy.trigger({ type: 'SYSTEM_ERROR', reason: 'external' });
    clock.increment(30 * 60_000);
    strategy.trigger({ type: 'TIME_WINDOW_START' });
    external = { inspector, strategy };
    return { strategies: [{ id: strategy.id, state: strategy.state, sessionId: strategy.actorRef.sessionId }] };
  },
  async memory() {
    globalThis.gc();
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    return { bytes: heapUsed + arrayBuffers };
  },
  async stop() {
    external?.strategy.stop();
    external?.inspector.stop();
    if (system) await commands.close();
    await bridge?.stop();
    return {};
  },
};

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const command = JSON.parse(line);
  try {
    process.stdout.write(`${JSON.stringify({ ok: true, ...(await commands[command.cmd](command)) })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: String(error?.stack ?? error) })}\n`);
  }
  if (command.cmd === 'stop') process.exit(0);
}
