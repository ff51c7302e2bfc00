/**
 * `npm run bench`: runs every module of `bench/measures/` with tinybench, prints one table
 * (ours, the reference measured in the same run, the ratio, the target) and writes
 * `bench/results.json`. Options: `--only=id,id` runs some modules; `--readme` also rewrites the
 * table in bench/README.md; `--time=cpu` times with the process's CPU time instead of elapsed
 * time (a machine shared with other work). Run it with `node --expose-gc` (the memory rows
 * need a full GC).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { clockOfSource, times, repoRoot, type BenchRow, type TimeSource } from './harness.js';
import { BENCHES } from './measures/index.js';
import { createTinybenchMeasurer } from './tinybenchMeasurer.js';

/** Where and when the figures were measured. */
interface Machine {
  date: string;
  cpu: string;
  cores: number;
  memoryGb: number;
  node: string;
  os: string;
  gcExposed: boolean;
  /** What the timings were read from (`--time=cpu` or the default `wall`). */
  timeSource: TimeSource;
  /** 1-minute load average when the run started and when it ended: other processes skew figures. */
  loadAtStart: number;
  loadAtEnd?: number;
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1].trim();
  } catch {
    // not Linux: os.cpus() below
  }
  return cpus()[0]?.model ?? 'unknown';
}

function machine(timeSource: TimeSource): Machine {
  return {
    date: new Date().toISOString(),
    cpu: cpuModel(),
    cores: availableParallelism(),
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    os: `${process.platform} ${release()}`,
    gcExposed: typeof (globalThis as { gc?: unknown }).gc === 'function',
    timeSource,
    loadAtStart: loadavg()[0],
  };
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** The one table, in Markdown, with the notes under it. */
export function renderTable(rows: readonly BenchRow[], where: Machine): string {
  const lines = [
    `Measured ${where.date.slice(0, 10)} on ${where.cpu}, ${where.cores} cores (nproc), ${where.memoryGb} GB RAM, Node ${where.node}, ${where.os}; ` +
      `1-min load average ${where.loadAtStart.toFixed(2)} at the start, ${where.loadAtEnd?.toFixed(2) ?? '?'} at the end. ` +
      (where.timeSource === 'cpu'
        ? "Times are this process's CPU time (process.cpuUsage, user + system, all its threads), not elapsed time: other processes were loading the machine."
        : 'Times are elapsed time (performance.now).'),
    '',
    '| measure | ours | reference (same run) | ratio (ours / reference cost) | target | met |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const reference = r.reference ? `${r.referenceName}: ${r.reference.text}` : r.referenceName;
    const met = r.met === null ? '—' : r.met ? 'yes' : '**NO**';
    lines.push(`| ${cell(r.measure)} | ${cell(r.ours.text)} | ${cell(reference)} | ${times(r.ratio)} | ${cell(r.target)} | ${met} |`);
  }
  const notes = rows.flatMap((r) => r.notes ?? []);
  if (notes.length > 0) lines.push('', ...notes.map((n) => `- ${n}`));
  return lines.join('\n');
}

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

function updateReadme(path: string, table: string): void {
  const text = readFileSync(path, 'utf8');
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  if (from < 0 || to < from) throw new Error(`${path} has no ${START} ... ${END} section`);
  writeFileSync(path, `${text.slice(0, from + START.length)}\n${table}\n${text.slice(to)}`);
}

async function main(argv: readonly string[]): Promise<void> {
  const only = argv
    .find((a) => a.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',');
  const modules = only ? BENCHES.filter((b) => only.includes(b.id)) : BENCHES;
  if (only && modules.length !== only.length) throw new Error(`--only: unknown module; known: ${BENCHES.map((b) => b.id).join(', ')}`);
  const timeArg = argv.find((a) => a.startsWith('--time='))?.slice('--time='.length) ?? 'wall';
  if (timeArg !== 'wall' && timeArg !== 'cpu') throw new Error(`--time must be wall or cpu, got ${timeArg}`);
  const now = clockOfSource(timeArg);
  const where = machine(timeArg);
  if (!where.gcExposed) process.stderr.write('note: run with node --expose-gc for the memory rows (falling back to a run-time flag)\n');
  const measurer = createTinybenchMeasurer(timeArg === 'wall' ? undefined : now);
  const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
  const rows: BenchRow[] = [];
  for (const module of modules) {
    const began = Date.now();
    log(`${module.id}: ${module.title}`);
    rows.push(...(await module.run({ measurer, now, smoke: false, log }, module.full)));
    log(`${module.id}: done in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  }
  where.loadAtEnd = loadavg()[0];
  const table = renderTable(rows, where);
  process.stdout.write(`${table}\n`);
  const dir = join(repoRoot(), 'bench');
  const results = join(dir, 'results.json');
  writeFileSync(`${results}.tmp`, `${JSON.stringify({ machine: where, modules: modules.map((m) => m.id), rows }, null, 2)}\n`);
  renameSync(`${results}.tmp`, results);
  log(`wrote ${results}`);
  if (argv.includes('--readme')) {
    updateReadme(join(dir, 'README.md'), table);
    log('updated bench/README.md');
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
