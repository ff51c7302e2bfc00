/**
 * The parts of the code (Chart, Time, Runtime, Store, Broker, Service, the entry points) import
 * each other only in the directions of README "Layout". bin/check-imports.cjs (also run by
 * `npm run lint`) holds the table; here it is run on the repository, and on small fixture trees
 * that break a rule, to show that it refuses them and says which rule.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

interface Problem {
  file: string;
  specifier?: string;
  target?: string;
  fromPart?: string;
  toPart?: string;
  message: string;
}
interface Table {
  parts: Record<string, string[]>;
  mayImport: Record<string, Record<string, string | string[]>>;
  exceptions: Array<{ from: string; to: string; reason: string }>;
  claimedRoots: string[];
}
const checker = require('../../bin/check-imports.cjs') as {
  checkImports: (root: string, table?: Table) => Problem[];
  partOf: (file: string) => string | undefined;
  TABLE: Table;
};
const { checkImports, partOf, TABLE } = checker;

const root = join(__dirname, '../..');
let tree: string;

/** A fixture tree laid out like the repository, holding `files`. */
function fixture(files: Record<string, string>): string {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(tree, path)), { recursive: true });
    writeFileSync(join(tree, path), text);
  }
  return tree;
}

/** The repository's table without its exceptions (a fixture tree holds none of their files). */
const bare: Table = { ...TABLE, exceptions: [] };

beforeEach(() => {
  tree = mkdtempSync(join(tmpdir(), 'import-directions-'));
});
afterEach(() => rmSync(tree, { recursive: true, force: true }));

test('every import of the repository follows the directions, and every listed exception is still needed', () => {
  expect(checkImports(root).map((p) => p.message)).toEqual([]);
});

test('each folder of services/ belongs to the part the layout gives it', () => {
  expect(
    [
      'services/market/clock.ts',
      'services/simulation/simulatedTime.ts',
      'services/simulation/simulation.ts',
      'services/day/tradingDay.ts',
      'services/runtime/pipeline.ts',
      'services/store/types.ts',
      'services/broker/broker.ts',
      'machines/events.ts',
      'server/app.ts',
      'index.ts',
    ].map((f) => `${f} ${String(partOf(f))}`),
  ).toEqual([
    'services/market/clock.ts Time',
    'services/simulation/simulatedTime.ts Time',
    'services/simulation/simulation.ts Runtime',
    'services/day/tradingDay.ts Runtime',
    'services/runtime/pipeline.ts Runtime',
    'services/store/types.ts Store',
    'services/broker/broker.ts Broker',
    'machines/events.ts Chart',
    'server/app.ts Service',
    'index.ts Entry',
  ]);
});

test('a type-only import from the chart into the runtime is refused, naming the file, the import, both parts and the rule', () => {
  const problems = checkImports(
    fixture({
      'machines/events.ts': "import type { StrategyActor } from '../services/runtime/strategyActor.js';\nexport type E = StrategyActor;\n",
      'services/runtime/strategyActor.ts': 'export interface StrategyActor { id: string }\n',
    }),
    bare,
  );
  expect(problems).toEqual([
    {
      file: 'machines/events.ts',
      specifier: '../services/runtime/strategyActor.js',
      target: 'services/runtime/strategyActor.ts',
      fromPart: 'Chart',
      toPart: 'Runtime',
      message:
        "machines/events.ts imports '../services/runtime/strategyActor.js' (services/runtime/strategyActor.ts): Chart -> Runtime is not allowed; " +
        'Chart may import Time (services/market/time.ts, services/market/marketCalendar.ts, services/market/timeWindows.ts only)',
    },
  ]);
});

test('re-exports, dynamic imports and require() are read too; allowed directions pass', () => {
  const problems = checkImports(
    fixture({
      'services/market/marketClock.ts': "export { x } from '../runtime/a.js';\nexport const y = import('../store/b.js');\n",
      'services/store/b.ts': "const c = require('../broker/broker.js');\nexport const b = c;\n",
      'services/runtime/a.ts': "import { b } from '../store/b.js';\nimport type { R } from '../broker/broker.js';\nexport const x = b;\n",
      'services/broker/broker.ts': 'export type R = string;\n',
    }),
    bare,
  );
  expect(problems.map((p) => `${p.file} -> ${String(p.target)}: ${String(p.fromPart)} -> ${String(p.toPart)}`)).toEqual([
    'services/market/marketClock.ts -> services/runtime/a.ts: Time -> Runtime',
    'services/market/marketClock.ts -> services/store/b.ts: Time -> Store',
    'services/store/b.ts -> services/broker/broker.ts: Store -> Broker',
  ]);
});

test('the runtime may import the broker adapter interface, not any other broker file', () => {
  const problems = checkImports(
    fixture({
      'services/runtime/reconcile.ts':
        "import type { A } from '../broker/broker.js';\nimport { s } from '../broker/smartRouter.js';\nexport const r: A = s;\n",
      'services/broker/broker.ts': 'export type A = string;\n',
      'services/broker/smartRouter.ts': "export const s = 'x';\n",
    }),
    bare,
  );
  expect(problems.map((p) => p.message)).toEqual([
    "services/runtime/reconcile.ts imports '../broker/smartRouter.js' (services/broker/smartRouter.ts): Runtime -> Broker is not allowed; " +
      'Runtime may import Chart, Time, Store, Broker (services/broker/broker.ts only)',
  ]);
});

test('a file in a folder no part holds is reported, and so is an exception no import needs', () => {
  const problems = checkImports(fixture({ 'services/pricing/greeks.ts': 'export const delta = 0.5;\n' }), {
    ...bare,
    exceptions: [{ from: 'services/store/', to: 'services/market/clock.ts', reason: 'test' }],
  });
  expect(problems.map((p) => p.message)).toEqual([
    'services/pricing/greeks.ts belongs to no part: add it (or its folder) to PARTS in bin/check-imports.cjs',
    'the exception services/store/ -> services/market/clock.ts matches no import any more: remove it from EXCEPTIONS',
  ]);
});

test('a listed exception lets its import through, and only for the files it names', () => {
  const problems = checkImports(
    fixture({
      'services/store/sqliteStore.ts': "import { realClock } from '../market/clock.js';\nexport const c = realClock;\n",
      'services/broker/broker.ts': "import type { Clock } from '../market/clock.js';\nexport type C = Clock;\n",
      'services/market/clock.ts': 'export type Clock = number;\nexport const realClock = 1;\n',
    }),
    { ...bare, exceptions: [{ from: 'services/store/', to: 'services/market/clock.ts', reason: 'test' }] },
  );
  expect(problems.map((p) => `${p.file}: ${String(p.fromPart)} -> ${String(p.toPart)}`)).toEqual([
    'services/broker/broker.ts: Broker -> Time',
  ]);
});
