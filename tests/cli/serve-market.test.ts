/**
 * `serve` runs the trading day: `--simulate --from --speed` as a real child process, strategies
 * from `strategy-lifecycle.config.json`, flags over the file, and config errors named in one line.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TransitionRecord } from '../../machines/types';
import { readServeConfig } from '../../bin/cli/serveConfig';
import { run, start, type Running } from './cli';

let dir: string;
const running: Running[] = [];
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sl-serve-market-'))));
afterEach(async () => {
  for (const r of running.splice(0)) {
    r.child.kill('SIGTERM');
    await r.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

const config = (value: unknown, name = 'strategy-lifecycle.config.json') => writeFileSync(join(dir, name), JSON.stringify(value));

test('serve --simulate plays Thanksgiving week on the paper broker: strategies from the config file trade with no event posted', async () => {
  config({
    dataDir: 'data',
    logLevel: 'warn',
    broker: { type: 'paper', latencyMs: 200 },
    strategies: [
      { id: 'zero-spx', variant: 'zeroDte', params: { underlying: 'SPX' } },
      { id: 'strangle-spy', variant: 'strangle' },
    ],
  });
  // 20000x: a simulated day in about four real seconds; the test watches Monday's first hours.
  const server = start(['serve', '--port', '0', '--simulate', '--from', '2026-11-23', '--speed', '20000'], { cwd: dir });
  running.push(server);
  const [, url] = await server.waitFor(/serving (http:\/\/127\.0\.0\.1:\d+)/);
  await server.waitFor(/^config: strategy-lifecycle\.config\.json$/m);
  await server.waitFor(/^market: closed, next MARKET_OPEN Mon 2026-11-23 09:30 ET; 2 strategies driven, paper broker$/m);
  await server.waitFor(/simulated clock from 2026-11-23 at 20000x real time/);
  // 20000x: Monday's open comes after about 1.7 real seconds, the entry window half a second later.
  const trail = async (id: string) =>
    (
      (await (await fetch(`${url}/strategies/${id}?limit=100`)).json()) as { audit: { records: TransitionRecord[] } }
    ).audit.records.reverse();
  const deadline = Date.now() + 30_000;
  let strangle: TransitionRecord[] = [];
  while (Date.now() < deadline) {
    strangle = await trail('strangle-spy');
    if (strangle.some((r) => r.currentState === 'MANAGING')) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const path = strangle.filter((r) => r.accepted).map((r) => r.currentState);
  expect(path.slice(0, 6)).toEqual(['READY', 'ANALYZING', 'PENDING_ENTRY', 'ENTERING', 'POSITION_OPEN', 'MANAGING']);
  expect(strangle.find((r) => r.trigger === 'MARKET_OPEN')!.timestamp).toBe('2026-11-23T09:30:00.000-05:00');

  // Restarted over its own data, the clock resumes after the stored records, and the banner says so.
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
  const again = start(['serve', '--port', '0', '--simulate', '--from', '2026-11-23', '--speed', '20000'], { cwd: dir });
  running.push(again);
  await again.waitFor(
    /simulated clock from \w{3} 2026-11-2\d \d\d:\d\d ET \(after the stored records; --from 2026-11-23\) at 20000x real time/,
  );
}, 60_000);

test('a config key that is not known, or a bad value, is one line naming the key (exit 2)', () => {
  config({ port: 7400, markte: {} });
  expect(run(['serve', '--port', '0'], { cwd: dir })).toMatchObject({
    code: 2,
    stderr: `strategy-lifecycle: serve: config file ${join(dir, 'strategy-lifecycle.config.json')}: markte is not a known key\n`,
  });
  config({ market: { simulate: { from: '2026-11-23', speed: -1 } } }, 'other.json');
  expect(run(['serve', '--config', 'other.json'], { cwd: dir }).stderr).toMatch(
    /^strategy-lifecycle: serve: config file .*other\.json: market\.simulate\.speed Too small: expected number to be >0\n$/,
  );
  config({ strategies: [{ id: 'a', variant: 'weekly' }] }, 'third.json');
  expect(run(['serve', '--config', 'third.json'], { cwd: dir }).stderr).toMatch(/config file .*third\.json: strategies\[0\]\.variant /);
  // A strategy's params are checked with the file, before anything opens: nothing of the file is created.
  config(
    {
      strategies: [
        { id: 'x', variant: 'lt112', params: { underlying: 'SPX' } },
        { id: 'y', variant: 'lt112', params: { underlying: 5 } },
      ],
    },
    'fourth.json',
  );
  const bad = run(['serve', '--no-market', '--port', '0', '--data-dir', join(dir, 'fourth-data'), '--config', 'fourth.json'], { cwd: dir });
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/^strategy-lifecycle: serve: config file .*fourth\.json: strategies\[1\]\.params\.underlying must be /);
  expect(existsSync(join(dir, 'fourth-data', 'strategy-lifecycle.db'))).toBe(false);
  // So is a token too short to be one (exit 2, before anything opens).
  config({}, 'fifth.json');
  expect(
    run(['serve', '--no-market', '--port', '0', '--config', 'fifth.json'], { cwd: dir, env: { STRATEGY_LIFECYCLE_TOKEN: 'short' } }),
  ).toMatchObject({
    code: 2,
    stderr: 'strategy-lifecycle: serve: STRATEGY_LIFECYCLE_TOKEN must be at least 16 characters\n',
  });
});

test('flags name their problems: --from without --simulate, --simulate without --from, --no-market with --simulate, instance flags', () => {
  expect(run(['serve', '--from', '2026-11-23'], { cwd: dir }).stderr).toBe('strategy-lifecycle: serve: --from is for --simulate\n');
  expect(run(['serve', '--simulate'], { cwd: dir }).stderr).toBe(
    'strategy-lifecycle: serve: --from is required (a date written yyyy-MM-dd)\n',
  );
  expect(run(['serve', '--simulate', '--from', '2026-11-23', '--no-market'], { cwd: dir }).stderr).toBe(
    'strategy-lifecycle: serve: --simulate needs the market driver: drop --no-market\n',
  );
  expect(run(['serve', '--store', 'mysql://x'], { cwd: dir }).stderr).toBe(
    'strategy-lifecycle: serve: --store must be "sqlite:<path>" or "postgres://...", got "mysql://x"\n',
  );
  expect(run(['serve', '--instance-id', 'node-a'], { cwd: dir }).stderr).toBe(
    'strategy-lifecycle: serve: --instance-id is for a postgres:// store (a SQLite file has one instance)\n',
  );
  expect(run(['serve'], { cwd: dir, env: { STRATEGY_LIFECYCLE_INSTANCE_ID: 'node-a' } }).stderr).toBe(
    'strategy-lifecycle: serve: STRATEGY_LIFECYCLE_INSTANCE_ID is for a postgres:// store (a SQLite file has one instance)\n',
  );
  expect(run(['serve', '--store', 'postgres://u@127.0.0.1:1/db', '--lease-ms', '10'], { cwd: dir }).stderr).toBe(
    'strategy-lifecycle: serve: --lease-ms must be a whole number of ms from 300 to 3600000, got "10"\n',
  );
  expect(run(['serve', '--store', 'postgres://u@127.0.0.1:1/db', '--instance-id', 'a b'], { cwd: dir }).stderr).toBe(
    'strategy-lifecycle: serve: --instance-id must be 1-64 letters, digits, "_", "." or "-", got "a b"\n',
  );
});

test('the example config file is valid', () => {
  const example = readServeConfig(join(__dirname, '../../examples/strategy-lifecycle.config.json'));
  expect(example.strategies?.map((s) => s.variant)).toEqual(['zeroDte', 'lt112', 'strangle']);
  expect(existsSync(join(__dirname, '../../examples', example.market!.eventCalendar!))).toBe(true);
});

test('a config file naming one strategy id twice is refused with both places (before, the second was dropped without a word)', () => {
  const file = join(dir, 'dup.json');
  writeFileSync(
    file,
    JSON.stringify({
      strategies: [
        { id: 'a', variant: 'lt112' },
        { id: 'b', variant: 'lt112' },
        { id: 'a', variant: 'zeroDte' },
      ],
    }),
  );
  expect(() => readServeConfig(file)).toThrow(`config file ${file}: strategies[2].id "a" is already strategies[0].id`);
});
