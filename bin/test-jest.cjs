#!/usr/bin/env node
// `npm test`'s jest step: the whole suite in two runs of jest.config.cjs. First every test file
// except those in tests/support/serial-tests.cjs, on two workers; then those, one at a time, with
// nothing else running beside them. Both runs always run; the closing line counts both, and the
// exit status is 1 when either run failed (or ended without its counts). Each run starts its own
// throwaway PostgreSQL cluster (unless PG_TEST_URL is set), so the serial tests that stop theirs
// stop no other test's.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const SERIAL = require('../tests/support/serial-tests.cjs');
const jestBin = require.resolve('jest/bin/jest');

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The two jest runs: a name and jest's arguments; the first ignores (by absolute path) the files the second runs. */
const runs = [
  {
    name: 'two workers',
    ignore: ['/node_modules/', ...SERIAL.map((f) => `^${escape(path.join(root, f))}$`)],
    get args() {
      return ['--maxWorkers=2', ...this.ignore.map((p) => `--testPathIgnorePatterns=${p}`)];
    },
  },
  { name: 'one at a time', args: ['--runInBand', '--runTestsByPath', ...SERIAL] },
];

module.exports = { runs, SERIAL };
if (require.main === module) main();

/** Runs both, prints the closing line for both and sets the exit status. */
function main() {
  if (process.argv.length > 2) {
    console.error('bin/test-jest.cjs takes no arguments: run part of the suite with `npx jest PATH`.');
    process.exit(64);
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sl-jest-'));
  const total = { passed: 0, failed: 0, skipped: 0 };
  let ok = true;
  for (const [i, run] of runs.entries()) {
    const file = path.join(dir, `summary-${i}.json`);
    const started = Date.now();
    process.stdout.write(`\njest, ${run.name}:\n`);
    const result = spawnSync(process.execPath, [jestBin, ...run.args], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, JEST_SUMMARY_FILE: file },
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    let counts;
    try {
      counts = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      counts = undefined;
    }
    if (result.status !== 0 || !counts) ok = false;
    if (counts) for (const key of Object.keys(total)) total[key] += counts[key];
    process.stdout.write(
      `jest, ${run.name}: ${counts ? `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped` : 'no counts (jest did not finish)'}, exit ${result.status ?? result.signal}, ${seconds} s\n`,
    );
  }
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
  process.exitCode = ok ? 0 : 1;
}
