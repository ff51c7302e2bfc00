/**
 * `npm test` runs jest twice (bin/test-jest.cjs): most files on two workers, then the files of
 * tests/support/serial-tests.cjs one at a time. Together the two runs are the whole suite, each
 * test file exactly once, and the closing line counts both.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = join(__dirname, '../..');
const { runs, SERIAL } = require('../../bin/test-jest.cjs') as {
  runs: Array<{ name: string; args: string[]; ignore?: string[] }>;
  SERIAL: string[];
};
const SummaryReporter = require('./summary-reporter.cjs') as new () => {
  onRunComplete(contexts: unknown, results: { numPassedTests: number; numFailedTests: number; numPendingTests: number }): void;
};

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

test('every serial entry is a test file, and the serial run takes exactly those, one at a time', () => {
  expect(SERIAL.length).toBeGreaterThan(0);
  for (const file of SERIAL)
    expect({ file, exists: existsSync(join(root, file)) && file.endsWith('.test.ts') }).toEqual({ file, exists: true });
  expect(runs[1].args).toEqual(['--runInBand', '--runTestsByPath', ...SERIAL]);
});

test('the two runs together hold every test file exactly once; the first runs on two workers', () => {
  expect(runs[0].args).toContain('--maxWorkers=2');
  const ignore = (runs[0].ignore ?? []).map((p) => new RegExp(p));
  const counted = testFiles(join(root, 'tests')).map((abs) => {
    const file = relative(root, abs);
    return { file, runs: (ignore.some((re) => re.test(abs)) ? 0 : 1) + (SERIAL.includes(file) ? 1 : 0) };
  });
  expect(counted.length).toBeGreaterThan(50);
  expect(counted.filter((c) => c.runs !== 1)).toEqual([]);
});

test('with JEST_SUMMARY_FILE the reporter writes its counts there instead of printing them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sl-summary-'));
  const before = process.env.JEST_SUMMARY_FILE;
  try {
    process.env.JEST_SUMMARY_FILE = join(dir, 'counts.json');
    new SummaryReporter().onRunComplete([], { numPassedTests: 7, numFailedTests: 2, numPendingTests: 1 });
    expect(JSON.parse(readFileSync(join(dir, 'counts.json'), 'utf8'))).toEqual({ passed: 7, failed: 2, skipped: 1 });
  } finally {
    if (before === undefined) delete process.env.JEST_SUMMARY_FILE;
    else process.env.JEST_SUMMARY_FILE = before;
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('the sequencer (jest.config.cjs): longest first also on a clean clone, with no cached durations', () => {
  const Sequencer = require('./sequencer.cjs') as {
    new (options: unknown): { sort(tests: unknown[]): Array<{ path: string }> };
    ESTIMATES: Record<string, number>;
  };
  const context = { config: { rootDir: root, cache: false }, hasteFS: { getSize: (p: string) => (p.endsWith('big.test.ts') ? 1e9 : 100) } };
  const at = (file: string) => ({ path: join(root, file), context });

  test('every estimate names a test file', () => {
    const missing = Object.keys(Sequencer.ESTIMATES).filter((file) => !existsSync(join(root, file)));
    expect(missing).toEqual([]);
  });

  test('estimated files come first, longest first, then the rest by size', () => {
    const tests = [
      'tests/a/small.test.ts',
      'tests/a/big.test.ts',
      'tests/cli/help.test.ts',
      'tests/property/lifecycle.property.test.ts',
    ].map(at);
    expect(new Sequencer({}).sort(tests).map((t) => relative(root, t.path))).toEqual([
      'tests/property/lifecycle.property.test.ts',
      'tests/cli/help.test.ts',
      'tests/a/big.test.ts',
      'tests/a/small.test.ts',
    ]);
  });
});
