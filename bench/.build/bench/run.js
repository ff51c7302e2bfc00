"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.renderTable = renderTable;
/**
 * `npm run bench`: runs every module of `bench/measures/` with tinybench, prints one table
 * (ours, the reference measured in the same run, the ratio, the target) and writes
 * `bench/results.json`. Options: `--only=id,id` runs some modules; `--readme` also rewrites the
 * table in bench/README.md; `--time=cpu` times with the process's CPU time instead of elapsed
 * time (a machine shared with other work). Run it with `node --expose-gc` (the memory rows
 * need a full GC).
 */
const node_fs_1 = require("node:fs");
const node_os_1 = require("node:os");
const node_path_1 = require("node:path");
const harness_js_1 = require("./harness.js");
const index_js_1 = require("./measures/index.js");
const tinybenchMeasurer_js_1 = require("./tinybenchMeasurer.js");
function cpuModel() {
    try {
        const line = (0, node_fs_1.readFileSync)('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
        if (line)
            return line.split(':')[1].trim();
    }
    catch {
        // not Linux: os.cpus() below
    }
    return (0, node_os_1.cpus)()[0]?.model ?? 'unknown';
}
function machine(timeSource) {
    return {
        date: new Date().toISOString(),
        cpu: cpuModel(),
        cores: (0, node_os_1.availableParallelism)(),
        memoryGb: Math.round((0, node_os_1.totalmem)() / 1024 ** 3),
        node: process.version,
        os: `${process.platform} ${(0, node_os_1.release)()}`,
        gcExposed: typeof globalThis.gc === 'function',
        timeSource,
        loadAtStart: (0, node_os_1.loadavg)()[0],
    };
}
const cell = (text) => text.replace(/\|/g, '\\|');
/** The one table, in Markdown, with the notes under it. */
function renderTable(rows, where) {
    const lines = [
        `Measured ${where.date.slice(0, 10)} on ${where.cpu}, ${where.cores} cores (nproc), ${where.memoryGb} GB RAM, Node ${where.node}, ${where.os}; ` +
            `1-min load average ${where.loadAtStart.toFixed(2)} at the start, ${where.loadAtEnd?.toFixed(2) ?? '?'} at the end. ` +
            (where.timeSource === 'cpu'
                ? 'Times are this process\'s CPU time (process.cpuUsage, user + system, all its threads), not elapsed time: other processes were loading the machine.'
                : 'Times are elapsed time (performance.now).'),
        '',
        '| measure | ours | reference (same run) | ratio (ours / reference cost) | target | met |',
        '|---|---|---|---|---|---|',
    ];
    for (const r of rows) {
        const reference = r.reference ? `${r.referenceName}: ${r.reference.text}` : r.referenceName;
        const met = r.met === null ? '—' : r.met ? 'yes' : '**NO**';
        lines.push(`| ${cell(r.measure)} | ${cell(r.ours.text)} | ${cell(reference)} | ${(0, harness_js_1.times)(r.ratio)} | ${cell(r.target)} | ${met} |`);
    }
    const notes = rows.flatMap((r) => r.notes ?? []);
    if (notes.length > 0)
        lines.push('', ...notes.map((n) => `- ${n}`));
    return lines.join('\n');
}
const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';
function updateReadme(path, table) {
    const text = (0, node_fs_1.readFileSync)(path, 'utf8');
    const from = text.indexOf(START);
    const to = text.indexOf(END);
    if (from < 0 || to < from)
        throw new Error(`${path} has no ${START} ... ${END} section`);
    (0, node_fs_1.writeFileSync)(path, `${text.slice(0, from + START.length)}\n${table}\n${text.slice(to)}`);
}
async function main(argv) {
    const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
    const modules = only ? index_js_1.BENCHES.filter((b) => only.includes(b.id)) : index_js_1.BENCHES;
    if (only && modules.length !== only.length)
        throw new Error(`--only: unknown module; known: ${index_js_1.BENCHES.map((b) => b.id).join(', ')}`);
    const timeArg = argv.find((a) => a.startsWith('--time='))?.slice('--time='.length) ?? 'wall';
    if (timeArg !== 'wall' && timeArg !== 'cpu')
        throw new Error(`--time must be wall or cpu, got ${timeArg}`);
    const now = (0, harness_js_1.clockOfSource)(timeArg);
    const where = machine(timeArg);
    if (!where.gcExposed)
        process.stderr.write('note: run with node --expose-gc for the memory rows (falling back to a run-time flag)\n');
    const measurer = (0, tinybenchMeasurer_js_1.createTinybenchMeasurer)(timeArg === 'wall' ? undefined : now);
    const log = (line) => process.stderr.write(`[bench] ${line}\n`);
    const rows = [];
    for (const module of modules) {
        const began = Date.now();
        log(`${module.id}: ${module.title}`);
        rows.push(...(await module.run({ measurer, now, smoke: false, log }, module.full)));
        log(`${module.id}: done in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    }
    where.loadAtEnd = (0, node_os_1.loadavg)()[0];
    const table = renderTable(rows, where);
    process.stdout.write(`${table}\n`);
    const dir = (0, node_path_1.join)((0, harness_js_1.repoRoot)(), 'bench');
    const results = (0, node_path_1.join)(dir, 'results.json');
    (0, node_fs_1.writeFileSync)(`${results}.tmp`, `${JSON.stringify({ machine: where, modules: modules.map((m) => m.id), rows }, null, 2)}\n`);
    (0, node_fs_1.renameSync)(`${results}.tmp`, results);
    log(`wrote ${results}`);
    if (argv.includes('--readme')) {
        updateReadme((0, node_path_1.join)(dir, 'README.md'), table);
        log('updated bench/README.md');
    }
}
main(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
});
//# sourceMappingURL=run.js.map