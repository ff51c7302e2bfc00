/**
 * Samples a user copies from the README and docs/ run as written and answer what their comments
 * say (against this checkout's root entry instead of the installed package). Each `trigger(...)`
 * line of a sample is captured; a comment `// { accepted: true, from: 'A', to: 'B', ... }` is
 * compared field by field, `// rejected: SomeError names \`field\`` checks the refusal.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lt112, runSimulation, type TriggerResult } from '../../index';

const root = resolve(__dirname, '..', '..');
const read = (doc: string) => readFileSync(join(root, doc), 'utf8');

/** The first ```ts block after `heading` in `doc`. */
function sample(doc: string, heading: string): string {
  const text = read(doc);
  const at = text.indexOf(heading);
  expect(at).toBeGreaterThanOrEqual(0);
  const code = /```ts\n([\s\S]*?)```/.exec(text.slice(at))?.[1];
  if (code === undefined) throw new Error(`${doc}: no ts block after ${heading}`);
  return code;
}

interface Captured {
  results: Array<{ result: TriggerResult; comment: string }>;
  state: () => string;
  extra: Record<string, unknown>;
}

/** Runs a sample with each `strategy.trigger(...)` line captured with its comment. */
function run(name: string, code: string, tail = ''): Captured {
  const captured = code
    .split('\n')
    .map((line) => {
      const m = /^strategy\.trigger\((.*)\);\s*(?:\/\/\s*(.*))?$/.exec(line.trim());
      return m ? `__results.push({ result: strategy.trigger(${m[1]}), comment: ${JSON.stringify(m[2] ?? '')} });` : line;
    })
    .join('\n')
    .replace(/'strategy-lifecycle'/g, JSON.stringify(join(root, 'index')));
  const dir = join(root, 'tests', '.generated');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.ts`);
  const body = `const __results: unknown[] = [];\nconst __extra: Record<string, unknown> = {};\n${captured}\n${tail}\nexport const results = __results;\nexport const extra = __extra;\nexport const state = () => String(strategy.getSnapshot().value);\n`;
  writeFileSync(file, body);
  return require(file) as Captured;
}

/** Checks a result against its comment's claims. */
function expectAsCommented({ result, comment }: { result: TriggerResult; comment: string }): void {
  const braces = /^\{(.*)\}/.exec(comment)?.[1];
  if (braces !== undefined) {
    for (const [, key, value] of braces.matchAll(/(\w+): ('[^']*'|true|false)/g)) {
      const expected: unknown = value.startsWith("'") ? value.slice(1, -1) : value === 'true';
      expect({ [key]: (result as unknown as Record<string, unknown>)[key] }).toEqual({ [key]: expected });
    }
    return;
  }
  if (comment.startsWith('rejected')) {
    expect(result.accepted).toBe(false);
    const named = /(\w+Error) names `(\w+)`/.exec(comment);
    if (named) {
      expect(result.error?.name).toBe(named[1]);
      expect((result.error as { field?: string } | undefined)?.field).toBe(named[2]);
    }
    if (comment.includes('state unchanged')) expect(result.to).toBe(result.from);
    return;
  }
  if (comment.startsWith('guarded')) expect(result.accepted).toBe(true);
}

// The README sample prints its statistics: keep the test output quiet.
beforeEach(() => jest.spyOn(console, 'log').mockImplementation(() => undefined));
afterEach(() => jest.restoreAllMocks());

test('README "Use it": every trigger answers as its comment says, and the saved snapshot restores', () => {
  const code = sample('README.md', '## Use it');
  const tail = `__extra.restored = String(createStrategyActor(createStrategyMachine(lt112), { id: 'lt112-spx-1', clock, snapshot: JSON.parse(saved) }).getSnapshot().value);`;
  const { results, state, extra } = run('readme-use-it', code, tail);
  expect(results).toHaveLength(4);
  results.forEach(expectAsCommented);
  expect(state()).toBe('PENDING_ENTRY');
  expect(extra.restored).toBe('PENDING_ENTRY');
});

test('docs/lifecycle.md: the first trigger sample answers as its comments say', () => {
  const code = sample('docs/lifecycle.md', 'own in-memory timers');
  const { results } = run('lifecycle-triggers', code);
  expect(results).toHaveLength(2);
  results.forEach(expectAsCommented);
});

test('docs/market-time.md runSimulation: the order is acknowledged as it is placed and filled a minute later', () => {
  const text = read('docs/market-time.md');
  expect(text).toContain('`ORDER_SUBMITTED` at that\n   instant, `ORDER_FILLED` one minute later (quantity from `params.quantity` or 1');
  const result = runSimulation({
    from: '2026-01-12',
    to: '2026-05-29',
    strategies: [{ id: 'lt112-spx', definition: lt112, params: { underlying: 'SPX', quantity: 2 } }],
    seed: 42,
  });
  const trail = result.auditTrails['lt112-spx'].filter((r) => r.accepted);
  for (const placed of ['PENDING_ENTRY', 'PENDING_EXIT']) {
    const at = trail.findIndex((r) => r.currentState === placed && r.trigger !== 'ORDER_REJECTED');
    expect(at).toBeGreaterThanOrEqual(0);
    const submitted = trail.slice(at).find((r) => r.trigger === 'ORDER_SUBMITTED');
    const filled = trail.slice(at).find((r) => r.trigger === 'ORDER_FILLED');
    expect(submitted?.at).toBe(trail[at].at);
    expect(filled && submitted && filled.at - submitted.at).toBe(60_000);
    expect(filled?.data.quantity).toBe(2);
  }
});
