/** `strategy-lifecycle replay`: rebuild every strategy from its audit trail and compare with its snapshot. */
import { StoredDataTooDeepError } from '../../machines/errors.js';
import { verifyStore, type ReplayDifference, type VerifyReport } from '../../services/runtime/replay.js';
import { CommandError, PROGRAM, UsageError, parse, type Command } from './args.js';
import { openExistingStore } from './database.js';
import { VARIANT_IDS, VARIANTS } from './variants.js';

const usage = `Usage: ${PROGRAM} replay <db> [--json]

Rebuilds every strategy of the SQLite database <db> from its audit trail alone (variants
${VARIANT_IDS.join(', ')}) and compares each rebuilt strategy with its stored snapshot, state and
whole context. Nothing is written to the database.

Exit codes: 0 no difference, 1 differences (listed) or the database cannot be read (also when
it holds data nested deeper than 32 levels, written by an older version), 2 bad arguments.

Options:
  --json      the report as JSON on stdout
  -h, --help  this text`;

/** A stored or replayed value on one line, cut at `max` characters. */
function shown(value: unknown, max = 200): string {
  const text = value === undefined ? '(none)' : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** The report as text. */
export function renderReport(path: string, report: VerifyReport): string {
  const head = `Replayed ${report.strategies} ${report.strategies === 1 ? 'strategy' : 'strategies'} (${report.records} audit ${report.records === 1 ? 'record' : 'records'}) from ${path}`;
  if (report.differences.length === 0) return `${head}\nNo difference: every audit trail rebuilds its stored snapshot.`;
  const list = report.differences.map(
    (d: ReplayDifference) =>
      `  ${d.strategyId}  ${d.where}  ${d.field}\n    stored:   ${shown(d.stored)}\n    replayed: ${shown(d.replayed)}`,
  );
  const n = report.differences.length;
  return `${head}\n${n} ${n === 1 ? 'difference' : 'differences'}:\n${list.join('\n')}`;
}

/** The `replay` command. */
export const replayCommand: Command = {
  name: 'replay',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { json: { type: 'boolean' } }, 1);
    // An empty path (an unset shell variable) is as missing as none.
    if (!positionals[0]) throw new UsageError('missing <db> (the SQLite database file to verify)');
    const path = positionals[0];
    const store = await openExistingStore(path);
    let report: VerifyReport;
    try {
      report = await verifyStore(store, Object.values(VARIANTS));
    } catch (error) {
      // An older version's unbounded data: said plainly (strategy and record), not a stack trace.
      if (error instanceof StoredDataTooDeepError) throw new CommandError(`cannot replay ${path}: ${error.message}`);
      throw error;
    } finally {
      await store.close();
    }
    io.out(values.json ? JSON.stringify({ database: path, ...report }, null, 2) : renderReport(path, report));
    return report.differences.length === 0 ? 0 : 1;
  },
};
