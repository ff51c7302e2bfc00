#!/usr/bin/env node
// The import directions between the parts of the code (README "Layout": Chart, Time, Runtime,
// Store, Broker, Service, and the entry points). Every relative import of a source file, type-only
// imports, `export ... from`, `import()` and `require()` included, is read with TypeScript's own
// scanner (ts.preProcessFile) and judged against the table below. Run by `npm run lint` and by
// tests/support/import-directions.test.ts; exits 1 naming each import that breaks a rule.
const { readdirSync, readFileSync, existsSync, statSync } = require('node:fs');
const { join, posix } = require('node:path');
const ts = require('typescript');

/**
 * Which files each part holds: folder prefixes (ending in `/`) or single files. A file belongs to
 * the part with the longest matching entry, so one file can be set apart from its folder.
 */
const PARTS = {
  Chart: ['machines/', 'guards/', 'actions/'],
  Time: ['services/market/', 'services/simulation/simulatedMarket.ts', 'services/simulation/simulatedTime.ts'],
  Runtime: ['services/runtime/', 'services/day/', 'services/simulation/simulation.ts'],
  Store: ['services/store/'],
  Broker: ['services/broker/'],
  Service: ['server/', 'bin/'],
  Entry: ['index.ts', 'entries/'],
};

/** Every part, for the rows that may import all of them. */
const ALL = '*';

/**
 * What each part may import besides itself: a part name to ALL (any of its files) or to the list
 * of its files that may be imported. A part missing from a row may not be imported at all.
 */
const MAY_IMPORT = {
  // The chart uses the pure helpers of market time: New York dates and DTE, the NYSE calendar,
  // the instants of the time windows. Never the runtime, a store, the broker or the service.
  Chart: { Time: ['services/market/time.ts', 'services/market/marketCalendar.ts', 'services/market/timeWindows.ts'] },
  // Market time sends to strategies through its own narrow shapes (strategyTarget.ts).
  Time: { Chart: ALL },
  // The broker's adapter interface only: order routing is the runtime's own (services/runtime/routing/).
  Runtime: { Chart: ALL, Time: ALL, Store: ALL, Broker: ['services/broker/broker.ts'] },
  Store: { Chart: ALL },
  Broker: { Chart: ALL },
  Service: { Chart: ALL, Time: ALL, Runtime: ALL, Store: ALL, Broker: ALL },
  Entry: { Chart: ALL, Time: ALL, Runtime: ALL, Store: ALL, Broker: ALL, Service: ALL },
};

/**
 * Imports that break the table but are kept, each with its reason. `from` is a file or a folder
 * prefix, `to` a file. Keep this list short: each entry is a debt, not a rule.
 */
const EXCEPTIONS = [
  {
    from: 'machines/createStrategyMachine.ts',
    to: 'services/market/clock.ts',
    reason: 'a bare actor (no clock given) reads realClock.now(); clock.ts imports nothing',
  },
  {
    from: 'services/store/',
    to: 'services/market/clock.ts',
    reason: 'leases, busy waits and file checks run on the Clock the system binds, realClock by default; clock.ts imports nothing',
  },
];

/** Folders whose files must each belong to a part: a new file there has to be placed in the table. */
const CLAIMED_ROOTS = ['machines', 'guards', 'actions', 'services', 'server', 'bin', 'entries'];
const SOURCE = /\.(ts|tsx|mts|cts|cjs|mjs|js)$/;
const SKIP = new Set(['node_modules', 'dist', '.build']);

/** The part of `file` (a path relative to the root, with `/`), or undefined. */
function partOf(file, parts = PARTS) {
  let best;
  for (const [part, entries] of Object.entries(parts)) {
    for (const entry of entries) {
      const hit = entry.endsWith('/') ? file.startsWith(entry) : file === entry;
      if (hit && (!best || entry.length > best.entry.length)) best = { part, entry };
    }
  }
  return best?.part;
}

function sourceFiles(root, dir) {
  const full = join(root, dir);
  if (!existsSync(full)) return [];
  if (statSync(full).isFile()) return SOURCE.test(dir) ? [dir] : [];
  return readdirSync(full, { withFileTypes: true }).flatMap((e) => {
    if (SKIP.has(e.name)) return [];
    const path = posix.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(root, path) : SOURCE.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The file a relative specifier names: `./x.js` is `./x.ts` in the sources. */
function resolve(root, from, specifier) {
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  const candidates = [
    base,
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.js$/, '.tsx'),
    base.replace(/\.mjs$/, '.mts'),
    base.replace(/\.cjs$/, '.cts'),
    `${base}.ts`,
    `${base}/index.ts`,
  ];
  return candidates.find((c) => existsSync(join(root, c)) && statSync(join(root, c)).isFile()) ?? base.replace(/\.js$/, '.ts');
}

function allowed(table, fromPart, toPart, target) {
  const row = table.mayImport[fromPart] ?? {};
  const files = row[toPart];
  return files === ALL || (Array.isArray(files) && files.includes(target));
}

function excepted(table, file, target) {
  return table.exceptions.find((e) => (e.from.endsWith('/') ? file.startsWith(e.from) : file === e.from) && e.to === target);
}

/** What `fromPart` may import, in words, for the message of a refused import. */
function ruleOf(table, fromPart) {
  const row = Object.entries(table.mayImport[fromPart] ?? {});
  if (row.length === 0) return `${fromPart} may import no other part`;
  return `${fromPart} may import ${row.map(([part, files]) => (files === ALL ? part : `${part} (${files.join(', ')} only)`)).join(', ')}`;
}

/**
 * Every import under `root` that breaks the table, each with the file, the specifier as written,
 * the file it names, both parts and the rule; files in the claimed folders that belong to no part
 * are reported too, and so is an exception no import needs any more.
 *
 * @param {string} root the repository (or a fixture tree laid out like it)
 * @param {{ parts: Record<string, string[]>, mayImport: Record<string, Record<string, string | string[]>>, exceptions: Array<{ from: string, to: string, reason: string }>, claimedRoots: string[] }} [table]
 * @returns {Array<{ file: string, specifier?: string, target?: string, fromPart?: string, toPart?: string, message: string }>}
 */
function checkImports(root, table = TABLE) {
  const problems = [];
  const used = new Set();
  const files = [...table.claimedRoots, ...Object.values(table.parts).flat()]
    .map((p) => p.replace(/\/$/, ''))
    .filter((p, i, all) => all.indexOf(p) === i)
    .flatMap((p) => sourceFiles(root, p))
    .filter((f, i, all) => all.indexOf(f) === i)
    .sort();
  for (const file of files) {
    const fromPart = partOf(file, table.parts);
    if (!fromPart) {
      problems.push({ file, message: `${file} belongs to no part: add it (or its folder) to PARTS in bin/check-imports.cjs` });
      continue;
    }
    const info = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
    for (const { fileName: specifier } of info.importedFiles) {
      if (!specifier.startsWith('.')) continue;
      const target = resolve(root, file, specifier);
      const toPart = partOf(target, table.parts);
      if (!toPart || toPart === fromPart || allowed(table, fromPart, toPart, target)) continue;
      const exception = excepted(table, file, target);
      if (exception) {
        used.add(exception);
        continue;
      }
      problems.push({
        file,
        specifier,
        target,
        fromPart,
        toPart,
        message: `${file} imports '${specifier}' (${target}): ${fromPart} -> ${toPart} is not allowed; ${ruleOf(table, fromPart)}`,
      });
    }
  }
  for (const e of table.exceptions.filter((x) => !used.has(x)))
    problems.push({
      file: e.from,
      target: e.to,
      message: `the exception ${e.from} -> ${e.to} matches no import any more: remove it from EXCEPTIONS`,
    });
  return problems;
}

/** The table the repository is checked against. */
const TABLE = { parts: PARTS, mayImport: MAY_IMPORT, exceptions: EXCEPTIONS, claimedRoots: CLAIMED_ROOTS };

module.exports = { checkImports, partOf, TABLE, ALL };

if (require.main === module) {
  const root = join(__dirname, '..');
  const problems = checkImports(root);
  for (const p of problems) console.error(p.message);
  if (problems.length > 0) {
    console.error(`check-imports: ${problems.length} import(s) against the directions in README "Layout"`);
    process.exit(1);
  }
  console.log(`check-imports: every import follows the parts' directions (${EXCEPTIONS.length} listed exceptions)`);
}
