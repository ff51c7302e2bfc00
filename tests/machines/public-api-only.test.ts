/**
 * Only XState's public API: no source reads or writes an XState private member (`_clock`,
 * `_parent`, `_snapshot`, `_relay`, SimulatedClock's `timeouts`) or builds an actor scope by hand.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const FOLDERS = ['machines', 'guards', 'actions', 'services', 'server', 'bin'];
const FORBIDDEN: Array<[string, RegExp]> = [
  ['_clock', /\b_clock\b/],
  ['_parent', /\b_parent\b/],
  ['_snapshot', /\b_snapshot\b/],
  ['_relay', /\b_relay\b/],
  ['.timeouts', /\.timeouts\b|\btimeouts\s*:\s*Map/],
  ['a hand-made actor scope', /AnyActorScope|actionExecutor|stopChild\s*:/],
];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|cjs|mjs|js)$/.test(name) ? [path] : [];
  });
}

test.each(FORBIDDEN)('no source uses %s', (_name, pattern) => {
  const hits = FOLDERS.flatMap((folder) => sources(join(ROOT, folder)))
    .filter((file) => pattern.test(readFileSync(file, 'utf8')))
    .map((file) => relative(ROOT, file));
  expect(hits).toEqual([]);
});
