/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function, inclusive
 * time per function (each sample counted once per function on its stack), and self time per
 * area (our files, xstate, luxon, node, GC). Locations in bench/.build are mapped back to the
 * TypeScript sources through their source maps.
 *
 * Usage: `node bench/.build/bench/cpuprofileSummary.js <file.cpuprofile | dir> [--top=25]`
 * (a directory means its newest .cpuprofile).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot, setUp } from './harness.js';

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** One function of the profile with the time attributed to it. */
export interface FunctionCost {
  name: string;
  location: string;
  area: string;
  selfUs: number;
  totalUs: number;
}

/** What {@link summarizeProfile} finds. */
export interface ProfileSummary {
  totalUs: number;
  functions: FunctionCost[];
  areas: Array<{ area: string; selfUs: number }>;
}

const root = repoRoot();
const build = join(root, 'bench', '.build') + sep;
const maps = new Map<string, SourceMap | null>();

function sourceMapOf(file: string): SourceMap | null {
  let map = maps.get(file);
  if (map === undefined) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as SourceMapPayload);
    } catch {
      map = null;
    }
    maps.set(file, map);
  }
  return map;
}

/** `file:line` in the TypeScript source when the frame is ours, else the package and file. */
export function locate(frame: CallFrame): { location: string; area: string } {
  const { url, lineNumber, columnNumber } = frame;
  if (!url) return { location: '', area: frame.functionName.startsWith('(') ? frame.functionName : 'V8 builtins' };
  if (url.startsWith('node:')) return { location: url, area: 'node internals' };
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(file);
  if (pkg) return { location: `${pkg[1]}/${pkg[2]}:${lineNumber + 1}`, area: pkg[1] };
  if (file.startsWith(build)) {
    const found = sourceMapOf(file)?.findEntry(lineNumber, columnNumber);
    const entry = found && 'originalSource' in found ? found : undefined; // {} when no mapping
    if (entry?.originalSource) {
      const source = entry.originalSource.startsWith('file://')
        ? fileURLToPath(entry.originalSource)
        : join(file, '..', entry.originalSource);
      const rel = relative(root, source);
      return { location: `${rel}:${(entry.originalLine ?? 0) + 1}`, area: rel.split(sep)[0] === 'bench' ? 'bench harness' : rel };
    }
    const rel = relative(build, file).replace(/\.js$/, '.ts');
    return { location: `${rel} (js line ${lineNumber + 1})`, area: rel };
  }
  return { location: `${relative(root, file)}:${lineNumber + 1}`, area: relative(root, file) };
}

/** Self and inclusive time per function, and self time per area. */
export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n] as const));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = new Map<number, string>();
  const costs = new Map<string, FunctionCost>();
  for (const n of profile.nodes) {
    const { location, area } = locate(n.callFrame);
    const name = n.callFrame.functionName || '(anonymous)';
    const key = `${name}@${location}`;
    keyOf.set(n.id, key);
    if (!costs.has(key)) costs.set(key, { name, location, area, selfUs: 0, totalUs: 0 });
  }
  const deltas = profile.timeDeltas;
  const meanDelta = deltas.length > 0 ? deltas.reduce((a, b) => a + b, 0) / deltas.length : 0;
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const frame = setUp(byId.get(id), `profile node ${id}`).callFrame;
    if (frame.functionName === '(idle)') return;
    // A sample lasts until the next one.
    const dt = Math.max(0, deltas[i + 1] ?? meanDelta);
    totalUs += dt;
    setUp(costs.get(setUp(keyOf.get(id), 'its key')), 'its cost').selfUs += dt;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = setUp(keyOf.get(at), 'its key');
      if (seen.has(key)) continue;
      seen.add(key);
      setUp(costs.get(key), 'its cost').totalUs += dt;
    }
  });
  const areas = new Map<string, number>();
  for (const c of costs.values()) areas.set(c.area, (areas.get(c.area) ?? 0) + c.selfUs);
  return {
    totalUs,
    functions: [...costs.values()].filter((c) => c.name !== '(root)'),
    areas: [...areas.entries()].map(([area, selfUs]) => ({ area, selfUs })).sort((a, b) => b.selfUs - a.selfUs),
  };
}

function newestProfile(path: string): string {
  if (!statSync(path).isDirectory()) return path;
  const files = readdirSync(path)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(path, f));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${path}`);
  return files.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

/** The report: self time by area, top functions by self time, our functions by inclusive time. */
export function renderSummary(file: string, top = 25): string {
  const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  const pct = (us: number) => `${((100 * us) / summary.totalUs).toFixed(1).padStart(5)}%`;
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(6)} ms`;
  const out: string[] = [`${relative(root, file)}: ${(summary.totalUs / 1000).toFixed(0)} ms sampled (idle excluded)`, ''];
  out.push('Self time by area');
  for (const a of summary.areas.slice(0, 12)) out.push(`${pct(a.selfUs)} ${ms(a.selfUs)}  ${a.area}`);
  out.push('', `Top ${top} functions by self time`);
  for (const f of [...summary.functions].sort((a, b) => b.selfUs - a.selfUs).slice(0, top))
    out.push(`${pct(f.selfUs)} ${ms(f.selfUs)}  ${f.name}  ${f.location}`);
  out.push('', `Top ${top} functions of our code by inclusive time`);
  const ours = summary.functions.filter((f) => /^(actions|guards|machines|services)\//.test(f.location));
  for (const f of ours.sort((a, b) => b.totalUs - a.totalUs).slice(0, top))
    out.push(`${pct(f.totalUs)} ${ms(f.totalUs)}  ${f.name}  ${f.location}  (self ${pct(f.selfUs).trim()})`);
  return out.join('\n');
}

function main(argv: readonly string[]): void {
  const target = argv.find((a) => !a.startsWith('--')) ?? join(root, 'bench', '.profiles');
  const top = Number(argv.find((a) => a.startsWith('--top='))?.split('=')[1] ?? 25);
  process.stdout.write(`${renderSummary(newestProfile(target), top)}\n`);
}

if (require.main === module) main(process.argv.slice(2));
