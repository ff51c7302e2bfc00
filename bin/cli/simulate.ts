/** `strategy-lifecycle simulate`: runSimulation in memory, with progress and a summary table. */
import { STRATEGY_STATES } from '../../machines/states.js';
import { marketCalendar } from '../../services/market/marketCalendar.js';
import { runSimulation, type SimulatedStrategy, type SimulationResult } from '../../services/simulation/simulation.js';
import { PROGRAM, UsageError, isoDate, parse, wholeNumber, type Command, type CommandIo } from './args.js';
import { countRows, keyValues, table } from './table.js';
import { VARIANT_IDS, variantNamed } from './variants.js';

const MAX_STRATEGIES = 100_000;
/** The underlying each variant trades in the simulation (routes earnings notices; shown in positions). */
const UNDERLYING: Readonly<Record<string, string>> = { zeroDte: 'SPX', lt112: 'SPX', strangle: 'SPY' };

const usage = `Usage: ${PROGRAM} simulate --from <date> --to <date> --strategies <n> [options]

Drives <n> strategies through every NYSE trading day from --from to --to (both included,
yyyy-MM-dd, ${marketCalendar.coveredYears.from}-${marketCalendar.coveredYears.to}) on a simulated clock, in memory, then prints a summary:
strategies per state and per variant, transitions, rejected triggers, errors, elapsed ms.

Options:
  --from <date>          first day (required)
  --to <date>            last day (required)
  --strategies <n>       how many strategies (required), spread over the variants in turn
  --seed <n>             seed of the simulated VIX series (default 42)
  --variants <list>      comma-separated, from ${VARIANT_IDS.join(',')} (default all)
  --progress-every <n>   without a terminal on stderr, a progress line every <n>
                         trading days (default 20; 0 for none)
  --quiet                no progress at all
  --json                 the summary as JSON on stdout
  -h, --help             this text`;

interface Summary {
  from: string;
  to: string;
  seed: number;
  strategies: number;
  tradingDays: number;
  elapsedMs: number;
  countByState: Record<string, number>;
  variants: Record<string, { strategies: number; transitions: number; rejected: number; errors: number; openPositions: number }>;
  totals: { transitions: number; rejected: number; errors: number; openPositions: number };
}

function summarise(result: SimulationResult, input: SimulatedStrategy[], header: Pick<Summary, 'from' | 'to' | 'seed'>): Summary {
  const variantOf = new Map(input.map((s) => [s.id, s.definition.id]));
  const summary: Summary = {
    ...header,
    strategies: input.length,
    tradingDays: result.tradingDays,
    elapsedMs: Math.round(result.elapsedMs),
    countByState: {},
    variants: {},
    totals: { transitions: 0, rejected: 0, errors: 0, openPositions: 0 },
  };
  for (const s of result.statistics) {
    summary.countByState[s.currentState] = (summary.countByState[s.currentState] ?? 0) + 1;
    const variant = variantOf.get(s.strategyId) ?? 'unknown'; // every statistic is of an input strategy
    const v = (summary.variants[variant] ??= { strategies: 0, transitions: 0, rejected: 0, errors: 0, openPositions: 0 });
    const open = s.openQuantity > 0 ? 1 : 0;
    v.strategies++;
    v.transitions += s.totalTransitions;
    v.rejected += s.rejectedTriggers;
    v.errors += s.errorCount;
    v.openPositions += open;
    summary.totals.transitions += s.totalTransitions;
    summary.totals.rejected += s.rejectedTriggers;
    summary.totals.errors += s.errorCount;
    summary.totals.openPositions += open;
  }
  return summary;
}

function render(s: Summary): string {
  const variants = Object.entries(s.variants).map(([id, v]) => [id, v.strategies, v.transitions, v.rejected, v.errors, v.openPositions]);
  return [
    `Simulation ${s.from} to ${s.to}: ${s.strategies} strategies, ${s.tradingDays} trading days, seed ${s.seed}`,
    '',
    table(['state', 'strategies'], countRows(s.countByState, STRATEGY_STATES)),
    '',
    table(
      ['variant', 'strategies', 'transitions', 'rejected', 'errors', 'open'],
      [...variants, ['total', s.strategies, s.totals.transitions, s.totals.rejected, s.totals.errors, s.totals.openPositions]],
    ),
    '',
    keyValues([
      ['transitions', s.totals.transitions],
      ['rejected', s.totals.rejected],
      ['errors', s.totals.errors],
      ['elapsed ms', s.elapsedMs],
      ['trading days', s.tradingDays],
    ]),
  ].join('\n');
}

/** Progress on stderr: a redrawn bar on a terminal, else a plain line every `every` days. */
function progress(io: CommandIo, every: number, quiet: boolean) {
  let drawn = -1;
  const onProgress = ({ date, day, tradingDays }: { date: string; day: number; tradingDays: number }) => {
    if (quiet) return;
    if (io.errIsTTY) {
      const width = 30;
      const filled = Math.round((day / tradingDays) * width);
      if (filled === drawn && day !== tradingDays) return;
      drawn = filled;
      io.err(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${day}/${tradingDays} trading days, ${date}\r`);
    } else if (every > 0 && day % every === 0) {
      io.err(`simulate: ${date}: ${day}/${tradingDays} trading days`);
    }
  };
  const done = () => {
    if (!quiet && io.errIsTTY && drawn >= 0) io.err('\r\x1b[K\r');
  };
  return { onProgress, done };
}

/** The `simulate` command. */
export const simulateCommand: Command = {
  name: 'simulate',
  usage,
  async run(argv, io) {
    const { values } = parse(argv, {
      from: { type: 'string' },
      to: { type: 'string' },
      strategies: { type: 'string' },
      seed: { type: 'string' },
      variants: { type: 'string' },
      'progress-every': { type: 'string' },
      quiet: { type: 'boolean' },
      json: { type: 'boolean' },
    });
    const from = isoDate('--from', values.from);
    const to = isoDate('--to', values.to);
    const { from: first, to: last } = marketCalendar.coveredYears;
    for (const [flag, date] of [
      ['--from', from],
      ['--to', to],
    ] as const) {
      const year = Number(date.slice(0, 4));
      if (year < first || year > last) throw new UsageError(`${flag} ${date} is outside the market calendar (covers ${first}-${last})`);
    }
    if (to < from) throw new UsageError(`--to ${to} is before --from ${from}`);
    if (values.strategies === undefined) throw new UsageError('--strategies is required (how many strategies to simulate)');
    const count = wholeNumber('--strategies', values.strategies, 1, Number.MAX_SAFE_INTEGER, 'a positive whole number');
    if (count > MAX_STRATEGIES)
      throw new UsageError(`--strategies must be at most ${MAX_STRATEGIES}, got ${JSON.stringify(values.strategies)}`);
    const seed = values.seed === undefined ? 42 : wholeNumber('--seed', values.seed, 0);
    const every = values['progress-every'] === undefined ? 20 : wholeNumber('--progress-every', values['progress-every'], 0);
    const ids = values.variants === undefined ? [...VARIANT_IDS] : values.variants.split(',').map((v) => v.trim());
    if (ids.some((id) => id === ''))
      throw new UsageError(
        `--variants must be a comma-separated list of ${VARIANT_IDS.join(', ')}, got ${JSON.stringify(values.variants)}`,
      );
    const definitions = ids.map((id) => variantNamed(id, '--variants: '));
    if (new Set(ids).size !== ids.length) throw new UsageError(`--variants lists a variant twice: ${JSON.stringify(values.variants)}`);

    const width = String(count).length;
    const strategies: SimulatedStrategy[] = Array.from({ length: count }, (_, n) => {
      const definition = definitions[n % definitions.length];
      return {
        id: `${definition.id}-${String(n + 1).padStart(width, '0')}`,
        definition,
        params: { underlying: UNDERLYING[definition.id] ?? 'SPX' },
      };
    });
    const bar = progress(io, every, Boolean(values.quiet));
    let result: SimulationResult;
    try {
      result = runSimulation({ from, to, strategies, seed, onProgress: bar.onProgress });
    } finally {
      bar.done();
    }
    const summary = summarise(result, strategies, { from, to, seed });
    io.out(values.json ? JSON.stringify(summary, null, 2) : render(summary));
    return 0;
  },
};
