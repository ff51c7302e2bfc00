/** The example in docs/system.md runs as written (against this checkout instead of the package). */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

test('docs/system.md example runs and does what the text says', () => {
  const markdown = readFileSync(resolve(__dirname, '../../docs/system.md'), 'utf8');
  const code = /## Example[\s\S]*?```ts\n([\s\S]*?)```/.exec(markdown)?.[1];
  expect(code).toBeDefined();
  const dir = resolve(__dirname, '../.generated');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'system-example.ts');
  writeFileSync(file, code!.replace("'strategy-lifecycle'", JSON.stringify(resolve(__dirname, '../../index'))));
  const example = require(file) as { before: object; after: object; skipped: string[]; transitions: string[] };
  expect(example.before).toEqual({ READY: 1, PENDING_ENTRY: 1, SUSPENDED: 1 });
  expect(example.after).toEqual({ SUSPENDED: 3 });
  expect(example.skipped).toEqual(['strangle-aapl']);
  expect(example.transitions).toContain('strangle-aapl: READY -> SUSPENDED');
  expect(example.transitions).toContain('lt112-spx: ANALYZING -> PENDING_ENTRY');
});
