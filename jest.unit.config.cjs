// `npm run test:unit`: the edit-loop tier. The same tests as `npm test` minus those that need a
// build (dist/), PostgreSQL, a browser or child processes, so it starts no database cluster and
// runs in well under a minute. tests/support/test-tiers.test.ts fails when a test that needs one
// of those is not listed here.
// No global setup: the whole suite's starts the throwaway PostgreSQL cluster.
const { globalSetup, globalTeardown, ...base } = require('./jest.config.cjs');

/** Test files (or folders) outside the unit tier, each with what it needs. */
const NOT_UNIT = [
  'tests/bench/', // the benchmark harness and its fixtures, not the library
  'tests/cli/', // runs the built CLI (dist/) as child processes
  'tests/integration/packaging\\.test\\.ts', // npm pack and install, child processes
  'tests/server/dashboard\\.test\\.ts', // a real browser
  'tests/persistence/crash\\.test\\.ts', // processes killed mid-write
  'tests/persistence/multi-instance\\.test\\.ts', // PostgreSQL, several processes
  'tests/persistence/ownership\\.test\\.ts', // PostgreSQL
  'tests/persistence/portfolio-limits\\.test\\.ts', // PostgreSQL
  'tests/persistence/postgres\\.test\\.ts', // PostgreSQL, processes
  'tests/persistence/shared-trading-state\\.test\\.ts', // PostgreSQL
  'tests/persistence/sqlite-persistence\\.test\\.ts', // chattr (a child process) on the database files
  'tests/reliability/load\\.test\\.ts', // autocannon for seconds on end: a load test, not an edit-loop one
  'tests/system/kill-switch-restart\\.test\\.ts', // PostgreSQL
  'tests/system/kill-switch-start-crash\\.test\\.ts', // PostgreSQL
  'tests/system/trading-state-persistence\\.test\\.ts', // PostgreSQL, chattr
  'tests/persistence/background-write-fencing\\.test\\.ts', // PostgreSQL
  'tests/persistence/resumed-instance-deadline\\.test\\.ts', // PostgreSQL
  'tests/persistence/group-commit\\.test\\.ts', // chattr (a child process) for a failing batch
  'tests/persistence/compute-once\\.test\\.ts', // chattr (a child process) for a failing write
  'tests/persistence/idle-transaction\\.test\\.ts', // PostgreSQL, on its own clock
  'tests/persistence/postgres-group-commit\\.test\\.ts', // PostgreSQL
  'tests/persistence/shared-kill-switch\\.test\\.ts', // PostgreSQL
  'tests/persistence/shared-kill-switch-dead-entry\\.test\\.ts', // PostgreSQL
  'tests/persistence/unrestorable-at-start\\.test\\.ts', // PostgreSQL
  'tests/persistence/postgres-stale-snapshot\\.test\\.ts', // PostgreSQL
  'tests/server/remote-trading-state-stream\\.test\\.ts', // PostgreSQL
  'tests/persistence/audit-window\\.test\\.ts', // PostgreSQL (and 10,000 SQLite commits)
  'tests/services/inspect-late-viewer\\.test\\.ts', // the built package (dist/) in a child process
  'tests/services/inspect-bridge-faults\\.test\\.ts', // the built package (dist/) in a child process
  'tests/services/inspect-bridge-large-replay\\.test\\.ts', // the built package (dist/) in a child process
  'tests/persistence/audit-feed\\.test\\.ts', // PostgreSQL
  'tests/server/event-resume-store\\.test\\.ts', // PostgreSQL
  'tests/server/stream-damaged-record\\.test\\.ts', // PostgreSQL
  'tests/server/dashboard-resume\\.test\\.ts', // a real browser
  'tests/server/dashboard-operation-failures\\.test\\.ts', // a real browser (and the built dashboard)
  'tests/server/dashboard-damaged-record\\.test\\.ts', // a real browser (and the built dashboard)
  'tests/persistence/lost-answer\\.test\\.ts', // PostgreSQL
  'tests/persistence/query-timeout\\.test\\.ts', // PostgreSQL
  'tests/persistence/terminated-backend\\.test\\.ts', // PostgreSQL
  'tests/persistence/kill-switch-clock-skew\\.test\\.ts', // PostgreSQL
  'tests/persistence/trading-state-reason-pg\\.test\\.ts', // PostgreSQL
  'tests/persistence/lease-round-faults\\.test\\.ts', // PostgreSQL
  'tests/persistence/lease-set-aside\\.test\\.ts', // PostgreSQL
  'tests/persistence/lease-busy-strategy\\.test\\.ts', // PostgreSQL
  'tests/persistence/sqlite-shm-fault\\.test\\.ts', // a child process (built package) killed by SIGBUS before the fix; chattr
  'tests/persistence/sqlite-check-after-fault\\.test\\.ts', // chattr (a child process) on the data directory
  'tests/persistence/slot-decide-lease\\.test\\.ts', // PostgreSQL
  'tests/persistence/kill-switch-pressed-again\\.test\\.ts', // PostgreSQL
  'tests/persistence/listen-reconnect\\.test\\.ts', // PostgreSQL
  'tests/persistence/same-instance-id\\.test\\.ts', // PostgreSQL
  'tests/persistence/store-options\\.test\\.ts', // constructs a PostgresStore (no server is reached, but the tier check counts any use)
  'tests/persistence/postgres-foreign-tables\\.test\\.ts', // PostgreSQL
  'tests/persistence/readd-after-fenced\\.test\\.ts', // PostgreSQL
  'tests/persistence/fence-forgotten-after-removal\\.test\\.ts', // PostgreSQL
  'tests/persistence/sqlite-writer-lock\\.test\\.ts', // the built package (dist/) in a child process
  'tests/persistence/sqlite-side-files\\.test\\.ts', // chattr (a child process) on the database file
  'tests/persistence/sqlite-busy-writer\\.test\\.ts', // a child process holding SQLite's write lock; 5 s of real busy waits
  'tests/persistence/sqlite-disk-full\\.test\\.ts', // mount (root, a child process): a tmpfs filled to the last byte
  'tests/persistence/kill-switch-store-failure\\.test\\.ts', // chattr (a child process) on the database file
  'tests/server/metrics-readiness\\.test\\.ts', // chattr (a child process) on the write-ahead log
];

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  // Both cores: the edit loop is the one thing running (the whole suite keeps jest's default).
  maxWorkers: '100%',
  // The property tests' volume: 50,000 events instead of the whole suite's 1,000,000 (PROPERTY_EVENTS).
  setupFiles: ['<rootDir>/tests/support/unit-tier.cjs'],
  testPathIgnorePatterns: ['/node_modules/', ...NOT_UNIT.map((p) => `<rootDir>/${p}`)],
};
