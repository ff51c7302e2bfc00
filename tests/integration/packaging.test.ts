/**
 * The package as users get it: `npm pack`, installed into a fresh project, imported from plain
 * Node ESM and CommonJS and type-checked from TypeScript, running a strategy to CLOSED.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
let work: string;

const walk = `
const clock = createSimulatedClock('2026-12-04T11:00:00-05:00');
const s = createStrategyActor(createStrategyMachine(lt112), { id: 'pkg', clock });
const events = [
  { type: 'MARKET_OPEN' }, { type: 'TIME_WINDOW_START' },
  { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-03-29' }, { type: 'ORDER_SUBMITTED' },
  { type: 'ORDER_FILLED', quantity: 1, expiry: '2026-12-18' }, { type: 'MARKET_OPEN' },
  { type: 'DEFENSIVE_EXIT_DTE' }, { type: 'ORDER_SUBMITTED' }, { type: 'ORDER_FILLED', quantity: 1 },
];
const results = events.map((e) => s.trigger(e));
console.log(JSON.stringify({ state: s.state, accepted: results.every((r) => r.accepted), trail: s.getAuditTrail().length }));
`;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'sl-pack-'));
  execFileSync('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: root, stdio: 'pipe' });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  execFileSync('npm', ['install', join(work, tarball), '--no-audit', '--no-fund', '--prefer-offline', '--silent'], { cwd: work, stdio: 'pipe' });
}, 240_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const expected = { state: 'CLOSED', accepted: true, trail: 9 };

test('plain Node ESM imports it and runs a strategy from MARKET_OPEN to CLOSED', () => {
  writeFileSync(join(work, 'esm.mjs'), `import { createStrategyMachine, createStrategyActor, createSimulatedClock, lt112 } from 'strategy-lifecycle';\n${walk}`);
  expect(JSON.parse(execFileSync('node', ['esm.mjs'], { cwd: work }).toString())).toEqual(expected);
});

test('CommonJS require() works too', () => {
  writeFileSync(join(work, 'cjs.cjs'), `const { createStrategyMachine, createStrategyActor, createSimulatedClock, lt112 } = require('strategy-lifecycle');\n${walk}`);
  expect(JSON.parse(execFileSync('node', ['cjs.cjs'], { cwd: work }).toString())).toEqual(expected);
});

test('its type declarations type-check a TypeScript consumer (NodeNext)', () => {
  writeFileSync(join(work, 'consumer.mts'), `
import { createStrategyMachine, createStrategyActor, lt112, type StrategyEvent, type TriggerResult } from 'strategy-lifecycle';
const event: StrategyEvent = { type: 'ORDER_FILLED', quantity: 2, expiry: '2026-12-18' };
const result: TriggerResult = createStrategyActor(createStrategyMachine(lt112)).trigger(event);
const state: 'READY' | string = result.to;
// @ts-expect-error a quantity is required on fills
const bad: StrategyEvent = { type: 'ORDER_FILLED' };
export { state, bad };
`);
  writeFileSync(join(work, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ['consumer.mts'] }));
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: work, stdio: 'pipe' });
});
