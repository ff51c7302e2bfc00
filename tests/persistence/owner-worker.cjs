// One instance of a multi-instance deployment, for the ownership tests: a persistent system on a
// PostgresStore with a short lease on real time, driven by JSON commands on stdin (one a line,
// answered by one JSON line on stdout carrying the same `n`). Uses the built package (dist).
//   node owner-worker.cjs URL INSTANCE_ID LEASE_MS ID...
// Commands: {"op":"ids"} | {"op":"send","id","event"} | {"op":"lock","ids"} | {"op":"close"}.
// "lock" holds SELECT ... FOR UPDATE on rows in an open transaction, as an instance paused in the
// middle of a write would; it is rolled back when the process is continued (SIGCONT).
const readline = require('node:readline');
const pg = require('pg');
// The built package's entries, merged: the stores and the persisted system are subpaths of the root.
const lib = ['index', 'entries/persistence', 'entries/sqlite', 'entries/postgres'].reduce(
  (all, entry) => ({ ...all, ...require(`../../dist/cjs/${entry}.js`) }),
  {},
);

const [url, instanceId, leaseMs, ...ids] = process.argv.slice(2);
const DEFS = [lib.zeroDte, lib.lt112, lib.strangle];
const say = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

async function main() {
  const store = new lib.PostgresStore({ connectionString: url, instanceId, leaseMs: Number(leaseMs) });
  const system = await lib.openStrategySystem({
    store,
    variants: DEFS,
    onStoreError: (error, id) => process.stderr.write(`${new Date().toISOString()} ${instanceId} ${id}: ${error && error.message}\n`),
    // The ownership changes, timed, for the test's failure message.
    onLeaseChange: (c) => process.stderr.write(`${new Date().toISOString()} ${instanceId} ${c.change} ${c.strategyId}: ${c.reason}\n`),
  });
  for (const [i, id] of ids.entries()) if (!system.has(id)) await system.add(DEFS[i % 3], { id });
  let locker;
  process.on('SIGCONT', () => {
    const held = locker;
    locker = undefined;
    if (held)
      void held
        .query('ROLLBACK')
        .then(() => held.end())
        .catch(() => undefined);
  });
  say({ ready: instanceId });

  const commands = {
    ids: async () => ({ ids: system.ids().sort() }),
    send: async ({ id, event }) => {
      try {
        return { result: await system.send(id, event) };
      } catch (error) {
        return { error: error.name, message: error.message };
      }
    },
    lock: async ({ ids: rows }) => {
      locker = new pg.Client({ connectionString: url });
      locker.on('error', () => undefined);
      await locker.connect();
      await locker.query('BEGIN');
      const { rowCount } = await locker.query('SELECT strategy_id FROM strategies WHERE strategy_id = ANY($1) FOR UPDATE', [rows]);
      return { locked: rowCount };
    },
    close: async () => {
      await system.close();
      setImmediate(() => process.exit(0));
      return { closed: instanceId };
    },
  };
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    const command = JSON.parse(line);
    commands[command.op](command).then(
      (answer) => say({ n: command.n, ...answer }),
      (error) => say({ n: command.n, error: error.name, message: error.message }),
    );
  });
}

main().catch((error) => {
  process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
