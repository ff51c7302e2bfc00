/** `simulate`: a month of five strategies on the simulated clock, summarised as tables or JSON. */
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { runSimulation } from '../../services/simulation/simulation';
import { run } from './cli';

const MONTH = ['--from', '2026-01-01', '--to', '2026-01-31'];

test('prints the summary tables; progress lines go to stderr (not a terminal)', () => {
  const { code, stdout, stderr } = run(['simulate', ...MONTH, '--strategies', '5', '--progress-every', '5']);
  expect(code).toBe(0);
  expect(stdout).toMatch(/^Simulation 2026-01-01 to 2026-01-31: 5 strategies, 20 trading days, seed 42\n/);
  expect(stdout).toMatch(/^state +strategies$/m);
  expect(stdout).toMatch(/^variant +strategies +transitions +rejected +errors +open$/m);
  expect(stdout).toMatch(/^zeroDte +2 +\d+ +\d+ +\d+ +\d+$/m);
  expect(stdout).toMatch(/^lt112 +2 +\d+/m);
  expect(stdout).toMatch(/^strangle +1 +\d+/m);
  expect(stdout).toMatch(/^total +5 +\d+/m);
  for (const label of ['transitions', 'rejected', 'errors', 'elapsed ms', 'trading days'])
    expect(stdout).toMatch(new RegExp(`^${label} +\\d+$`, 'm'));
  expect(stdout).toMatch(/^trading days +20$/m);
  // Per-state rows add up to the strategies.
  const states = stdout
    .split('\n\n')[1]
    .split('\n')
    .slice(1)
    .map((line) => Number(line.split(/ +/)[1]));
  expect(states.reduce((a, b) => a + b, 0)).toBe(5);
  expect(stderr).toBe(
    ['2026-01-08: 5/20', '2026-01-15: 10/20', '2026-01-23: 15/20', '2026-01-30: 20/20']
      .map((p) => `simulate: ${p} trading days\n`)
      .join(''),
  );
  expect(run(['simulate', ...MONTH, '--strategies', '5', '--quiet']).stderr).toBe('');
});

test('--json agrees with runSimulation run on the same inputs', () => {
  const { code, stdout, stderr } = run(['simulate', ...MONTH, '--strategies', '5', '--seed', '7', '--json']);
  // Progress every 20 trading days by default: one line for this month.
  expect({ code, stderr }).toEqual({ code: 0, stderr: 'simulate: 2026-01-30: 20/20 trading days\n' });
  const summary = JSON.parse(stdout);
  const defs = [zeroDte, lt112, strangle];
  const underlying: Record<string, string> = { zeroDte: 'SPX', lt112: 'SPX', strangle: 'SPY' };
  const expected = runSimulation({
    from: '2026-01-01',
    to: '2026-01-31',
    seed: 7,
    strategies: Array.from({ length: 5 }, (_, n) => ({
      id: `${defs[n % 3].id}-${n + 1}`,
      definition: defs[n % 3],
      params: { underlying: underlying[defs[n % 3].id] },
    })),
  });
  const sum = (f: (s: (typeof expected.statistics)[number]) => number) => expected.statistics.reduce((a, s) => a + f(s), 0);
  expect(summary).toMatchObject({
    from: '2026-01-01',
    to: '2026-01-31',
    seed: 7,
    strategies: 5,
    tradingDays: 20,
    totals: {
      transitions: sum((s) => s.totalTransitions),
      rejected: sum((s) => s.rejectedTriggers),
      errors: sum((s) => s.errorCount),
      openPositions: sum((s) => (s.openQuantity > 0 ? 1 : 0)),
    },
  });
  const byState: Record<string, number> = {};
  for (const s of expected.statistics) byState[s.currentState] = (byState[s.currentState] ?? 0) + 1;
  expect(summary.countByState).toEqual(byState);
  expect(Object.keys(summary.variants)).toEqual(['zeroDte', 'lt112', 'strangle']);
  expect(summary.elapsedMs).toEqual(expect.any(Number));
});

test('--variants picks the variants the strategies are spread over', () => {
  const summary = JSON.parse(run(['simulate', ...MONTH, '--strategies', '3', '--variants', 'strangle', '--json', '--quiet']).stdout);
  expect(summary.variants).toEqual({ strangle: expect.objectContaining({ strategies: 3 }) });
});
