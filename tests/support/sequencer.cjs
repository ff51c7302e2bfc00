// Jest's own order (tests/support/serial-tests.cjs aside, `npm test` runs files on two workers):
// files that failed last time first, then the longest first by the durations jest cached on the
// last run. A clean clone (CI) has no such cache, and jest then goes by file size, which puts the
// longest file of all, the 1,000,000-event property run (a small file), near the end: one
// worker runs it for minutes while the other idles. So when jest has no durations of its own,
// the files below go first, longest first (rough seconds from per-file jest timings on a loaded
// machine: only their order matters); the others follow in jest's file-size order.
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

/** Rough durations (seconds) of the longest test files, from per-file jest timings. */
const ESTIMATES = {
  'tests/property/lifecycle.property.test.ts': 130,
  'tests/cli/diagram.test.ts': 40,
  'tests/persistence/crash.test.ts': 35,
  'tests/cli/bad-arguments.test.ts': 28,
  'tests/cli/serve-market.test.ts': 26,
  'tests/cli/serve-init.test.ts': 22,
  'tests/persistence/postgres.test.ts': 22,
  'tests/reliability/load.test.ts': 18,
  'tests/server/event-stream.test.ts': 16,
  'tests/integration/packaging.test.ts': 15,
  'tests/services/simulation.test.ts': 15,
  'tests/machines/edge-table.test.ts': 15,
  'tests/cli/serve-inspect.test.ts': 14,
  'tests/cli/serve.test.ts': 13,
  'tests/cli/help.test.ts': 13,
  'tests/services/market-time-format.test.ts': 12,
  'tests/cli/trading-state-restart.test.ts': 11,
  'tests/server/dashboard.test.ts': 10,
  'tests/persistence/audit-window.test.ts': 8,
  'tests/bench/bench-smoke.test.ts': 8,
};

/** The estimate of a test file (seconds), or -1. */
function estimate(test) {
  return ESTIMATES[path.relative(test.context.config.rootDir, test.path).split(path.sep).join('/')] ?? -1;
}

class EstimatingSequencer extends Sequencer {
  /** Jest's order when it has durations of its own; with none at all, the estimated files first, longest first. */
  sort(tests) {
    const sorted = super.sort(tests);
    if (sorted.some((test) => this.time(test) != null)) return sorted;
    // Array.prototype.sort is stable: the files with no estimate keep jest's size order.
    return sorted.sort((a, b) => estimate(b) - estimate(a));
  }
}

module.exports = EstimatingSequencer;
module.exports.ESTIMATES = ESTIMATES;
