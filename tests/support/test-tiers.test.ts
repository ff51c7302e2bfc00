/**
 * The unit tier (`npm run test:unit`, jest.unit.config.cjs) holds no test that needs a build, a
 * PostgreSQL cluster, a browser or a child process: such a test would fail there (no cluster is
 * started) or make the edit loop slow. Every test file the unit config keeps is read for the
 * marks of those needs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '../..');
const unitConfig = require('../../jest.unit.config.cjs') as { testPathIgnorePatterns: string[]; globalSetup?: string };

/** What a test file shows when it needs something the unit tier does not have. */
const NEEDS: Array<[string, RegExp]> = [
  ['a child process', /child_process|\bsetImmutable\b|crashHarness|from '(\.\.\/cli|\.)\/cli'/],
  ['PostgreSQL', /\bpgUrl\b|\bfreshDatabase\b|PG_TEST_URL|from 'pg'|PostgresStore/],
  ['a browser', /playwright|chromium/],
  ['the build', /\bdist\//],
];

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

const ignored = unitConfig.testPathIgnorePatterns.map((p) => new RegExp(p.replace('<rootDir>', root)));
// This file names the marks it looks for, so it is left out of its own reading.
const allFiles = testFiles(join(root, 'tests'));
const unitFiles = allFiles.filter((f) => f !== __filename && !ignored.some((re) => re.test(f)));

test('the unit tier starts no PostgreSQL cluster and keeps more than half of the suite', () => {
  expect(unitConfig.globalSetup).toBeUndefined();
  // The fast tier is the suite minus a few kinds of test, not a hand-picked sample of it.
  expect(unitFiles.length).toBeGreaterThan(allFiles.length / 2);
});

test.each(unitFiles.map((f) => relative(root, f)))('%s needs no build, PostgreSQL, browser or child process', (file) => {
  const text = readFileSync(join(root, file), 'utf8');
  expect(NEEDS.filter(([, mark]) => mark.test(text)).map(([need]) => need)).toEqual([]);
});
