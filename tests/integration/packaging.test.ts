/**
 * The package as users get it: `npm pack`, installed into a fresh project, imported from plain
 * Node ESM and CommonJS and type-checked from TypeScript. Every entry point is used for what it is
 * for; the root entry is traced to prove it loads no driver, no server and no Node built-in; and
 * `strategy-lifecycle/postgres` without its optional peer `pg` says to install it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freshDatabase } from '../persistence/pg';

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
const walked = { state: s.state, accepted: results.every((r) => r.accepted), trail: s.getAuditTrail().length };
`;
const expected = { state: 'CLOSED', accepted: true, trail: 9 };

/** Runs `node [flags] file` in the consumer and parses the last line it printed as JSON. */
function runJson(file: string, code: string, flags: string[] = [], env: NodeJS.ProcessEnv = {}): unknown {
  writeFileSync(join(work, file), code);
  const out = execFileSync(process.execPath, [...flags, file, work], { cwd: work, env: { ...process.env, ...env }, stdio: 'pipe' })
    .toString()
    .trim()
    .split('\n');
  return JSON.parse(out[out.length - 1]);
}

/** Runs a consumer file that may fail; its exit code and output. */
function attempt(file: string, code: string): { status: number | null; stdout: string; stderr: string } {
  writeFileSync(join(work, file), code);
  const result = spawnSync(process.execPath, [file], { cwd: work, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr };
}

// A resolve hook that writes down every module an import resolves, with who imported it: the
// ESM half of the trace (CommonJS modules are seen in require.cache).
const TRACE_HOOKS = `
import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(log, JSON.stringify({ url: result.url, parent: context.parentURL ?? null }) + '\\n');
  return result;
}
`;
const TRACE_REGISTER = `import { register } from 'node:module';\nregister('./trace-hooks.mjs', import.meta.url, { data: { log: process.env.TRACE_LOG } });\n`;

/** Packages whose files a module URL or path is in (scoped names kept whole). */
function packagesOf(paths: string[]): string[] {
  const names = new Set<string>();
  for (const p of paths) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(p);
    if (m) names.add(m[1]);
  }
  return [...names].sort();
}

interface Trace {
  packages: string[];
  /** Node built-ins imported by the package's own files (not by the tracer or a dependency). */
  builtinsFromPackage: string[];
  result: unknown;
}

/** Imports `entry` from ESM under the resolve hook, runs `body`, and says what was loaded. */
function traceEsm(name: string, entry: string, names: string, body: string): Trace {
  const log = join(work, `${name}.trace`);
  rmSync(log, { force: true });
  const code = `import { createRequire } from 'node:module';\nimport { ${names} } from '${entry}';\n${body}\nconsole.log(JSON.stringify({ result, cached: Object.keys(createRequire(import.meta.url).cache) }));\n`;
  const { result, cached } = runJson(`${name}.mjs`, code, ['--import', './trace-register.mjs'], { TRACE_LOG: log }) as {
    result: unknown;
    cached: string[];
  };
  const resolved = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { url: string; parent: string | null });
  const ours = (parent: string | null) => parent !== null && parent.includes('/node_modules/strategy-lifecycle/');
  return {
    packages: packagesOf([...resolved.map((r) => r.url), ...cached]),
    builtinsFromPackage: resolved
      .filter((r) => r.url.startsWith('node:') && ours(r.parent))
      .map((r) => `${r.url} <- ${r.parent!.split('/node_modules/')[1]}`),
    result,
  };
}

/**
 * Speed only: better-sqlite3's install script takes a prebuilt binary (as users get one from its
 * releases) before it compiles SQLite from source, a minute or more of CPU where the releases
 * cannot be downloaded. This hands it the binary of the same version already built in this
 * project's node_modules, as a local prebuild. Another version or platform finds no file of its
 * name and installs as before.
 */
function localSqlitePrebuild(dir: string): NodeJS.ProcessEnv {
  const sqlite = join(root, 'node_modules/better-sqlite3');
  const { version } = JSON.parse(readFileSync(join(sqlite, 'package.json'), 'utf8')) as { version: string };
  const prebuilds = join(dir, 'prebuilds');
  mkdirSync(prebuilds);
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  execFileSync('tar', ['-czf', join(prebuilds, name), 'build/Release/better_sqlite3.node'], { cwd: sqlite, stdio: 'pipe' });
  return { npm_config_better_sqlite3_local_prebuilds: prebuilds };
}

let withoutPg: { esm: unknown; cjs: ReturnType<typeof attempt>; others: unknown; help: number | null };
let manifest: {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'sl-pack-'));
  // What a run of the example config leaves next to it (its dataDir is ./data): never packed.
  const exampleData = join(root, 'examples/data');
  const leftBehind = !existsSync(exampleData);
  mkdirSync(exampleData, { recursive: true });
  writeFileSync(join(exampleData, 'pack-probe-token'), 'not for the package');
  try {
    // --ignore-scripts: packs the build `npm test` has just made instead of building a second time.
    execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work, '--silent'], { cwd: root, stdio: 'pipe' });
  } finally {
    if (leftBehind) rmSync(exampleData, { recursive: true, force: true });
    else rmSync(join(exampleData, 'pack-probe-token'), { force: true });
  }
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  // pg as a PostgreSQL user adds it (an optional peer is not installed by itself).
  // pg and the drivers' types as a TypeScript user of the stores adds them (optional peers are not installed by themselves).
  execFileSync(
    'npm',
    ['install', join(work, tarball), 'pg', '@types/pg', '@types/better-sqlite3', '--no-audit', '--no-fund', '--prefer-offline', '--silent'],
    {
      cwd: work,
      stdio: 'pipe',
      env: { ...process.env, ...localSqlitePrebuild(work) },
    },
  );
  manifest = JSON.parse(readFileSync(join(work, 'node_modules/strategy-lifecycle/package.json'), 'utf8'));
  writeFileSync(join(work, 'trace-hooks.mjs'), TRACE_HOOKS);
  writeFileSync(join(work, 'trace-register.mjs'), TRACE_REGISTER);
  // Without pg: its folder moved out of node_modules for these runs (one install instead of two).
  const pgDir = join(work, 'node_modules/pg');
  renameSync(pgDir, join(work, 'pg-aside'));
  try {
    withoutPg = {
      esm: runJson(
        'no-pg.mjs',
        `let out;\ntry { await import('strategy-lifecycle/postgres'); out = 'loaded'; } catch (e) { out = { name: e.name, packageName: e.packageName, message: e.message }; }\nconsole.log(JSON.stringify(out));\n`,
      ),
      cjs: attempt('no-pg.cjs', `require('strategy-lifecycle/postgres');\n`),
      others: runJson(
        'no-pg-others.mjs',
        `const entries = ['strategy-lifecycle', 'strategy-lifecycle/persistence', 'strategy-lifecycle/sqlite', 'strategy-lifecycle/server', 'strategy-lifecycle/node'];\nconsole.log(JSON.stringify(await Promise.all(entries.map(async (e) => Object.keys(await import(e)).length > 0))));\n`,
      ),
      help: spawnSync(
        process.execPath,
        [join(work, 'node_modules/strategy-lifecycle/dist/cjs/bin/strategy-lifecycle.js'), 'serve', '--help'],
        { cwd: work },
      ).status,
    };
  } finally {
    renameSync(join(work, 'pg-aside'), pgDir);
  }
}, 420_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

test('plain Node ESM imports it and runs a strategy from MARKET_OPEN to CLOSED', () => {
  expect(
    runJson(
      'esm.mjs',
      `import { createStrategyMachine, createStrategyActor, createSimulatedClock, lt112 } from 'strategy-lifecycle';\n${walk}\nconsole.log(JSON.stringify(walked));`,
    ),
  ).toEqual(expected);
});

test('CommonJS require() works too', () => {
  expect(
    runJson(
      'cjs.cjs',
      `const { createStrategyMachine, createStrategyActor, createSimulatedClock, lt112 } = require('strategy-lifecycle');\n${walk}\nconsole.log(JSON.stringify(walked));`,
    ),
  ).toEqual(expected);
});

describe('the root entry loads no driver, no server and no Node built-in', () => {
  test('from ESM (traced by a resolve hook): only xstate and luxon, and it builds and runs a machine', () => {
    const trace = traceEsm(
      'root-trace',
      'strategy-lifecycle',
      'createStrategyMachine, createStrategyActor, createSimulatedClock, lt112',
      `${walk}\nconst result = walked;`,
    );
    expect(trace.result).toEqual(expected);
    expect(trace.packages).toEqual(['luxon', 'strategy-lifecycle', 'xstate']);
    // A browser or an edge runtime has no node:fs: nothing the root reaches may import one.
    expect(trace.builtinsFromPackage).toEqual([]);
  });

  test('from CommonJS (require.cache): only xstate and luxon, and it builds and runs a machine', () => {
    const out = runJson(
      'root-cache.cjs',
      `const { createStrategyMachine, createStrategyActor, createSimulatedClock, lt112 } = require('strategy-lifecycle');\n${walk}\nconsole.log(JSON.stringify({ walked, cached: Object.keys(require.cache) }));`,
    ) as { walked: unknown; cached: string[] };
    expect(out.walked).toEqual(expected);
    expect(packagesOf(out.cached)).toEqual(['luxon', 'strategy-lifecycle', 'xstate']);
  });

  test('the trace does see drivers and the server where an entry loads them', () => {
    expect(traceEsm('sqlite-trace', 'strategy-lifecycle/sqlite', 'SqliteStore', 'const result = typeof SqliteStore;').packages).toContain(
      'better-sqlite3',
    );
    const server = traceEsm('server-trace', 'strategy-lifecycle/server', 'startService', 'const result = typeof startService;').packages;
    expect(server).toEqual(expect.arrayContaining(['better-sqlite3', 'fastify', 'ws'])); // pino comes with the first logger
  });
});

// Every subpath used for real, once from ESM and once from CommonJS: a persisted system on SQLite,
// one on PostgreSQL, the HTTP service answering /health, an event file read from disk.
const useEverySubpath = (from: 'esm' | 'cjs') => `
const dir = process.argv[2] + '/${from}';
require('node:fs').mkdirSync(dir, { recursive: true });
const { join } = require('node:path');
async function main() {
  const sqlite = await openStrategySystem({ store: new SqliteStore(join(dir, 'db.sqlite')), variants: [lt112] });
  await sqlite.add(lt112, { id: 'lt112-spx' });
  const sent = await sqlite.send('lt112-spx', { type: 'MARKET_OPEN' });
  await sqlite.close();
  const verified = await verifyStore(new SqliteStore(join(dir, 'db.sqlite')), [lt112]);
  const pgSystem = await openStrategySystem({ store: new PostgresStore({ connectionString: process.env.PG_URL }), variants: [lt112] });
  await pgSystem.add(lt112, { id: 'lt112-pg' });
  const pgSent = await pgSystem.send('lt112-pg', { type: 'MARKET_OPEN' });
  await pgSystem.close();
  const service = await startService({ dataDir: join(dir, 'service'), port: 0, logger: false, market: false });
  const health = await (await fetch(service.url + '/health')).json();
  await service.close();
  require('node:fs').writeFileSync(join(dir, 'events.csv'), 'type,date,symbol\\nFOMC,2026-12-16,\\n');
  const calendar = loadEventCalendar(join(dir, 'events.csv'));
  return {
    sqlite: [sent.to, verified.strategies, verified.differences.length, SCHEMA_VERSION > 0],
    postgres: [pgSent.to, CHANGE_CHANNEL.length > 0],
    server: [health.status, typeof buildApp, DEFAULT_VARIANTS.length],
    node: calendar.events.map((e) => e.type),
  };
}
main().then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e); process.exit(1); });
`;
const everySubpath = {
  sqlite: ['READY', 1, 0, true],
  postgres: ['READY', true],
  server: ['ok', 'function', 3],
  node: ['FOMC'],
};

describe('every subpath, from ESM and from CommonJS', () => {
  const imports = {
    'strategy-lifecycle': ['lt112'],
    'strategy-lifecycle/persistence': [
      'openStrategySystem',
      'verifyStore',
      'SCHEMA_VERSION',
      'DEFAULT_AUDIT_WINDOW',
      'DEFAULT_RESTORE_WINDOW',
    ],
    'strategy-lifecycle/sqlite': ['SqliteStore'],
    'strategy-lifecycle/postgres': ['PostgresStore', 'CHANGE_CHANNEL'],
    'strategy-lifecycle/server': ['startService', 'buildApp', 'DEFAULT_VARIANTS'],
    'strategy-lifecycle/node': ['loadEventCalendar'],
  };

  test('ESM: import from each entry works end to end', async () => {
    const lines = Object.entries(imports).map(([entry, names]) => `import { ${names.join(', ')} } from '${entry}';`);
    const code = `${lines.join('\n')}\nimport { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n${useEverySubpath('esm')}`;
    expect(runJson('every.mjs', code, [], { PG_URL: await freshDatabase('pack_esm') })).toEqual(everySubpath);
  });

  test('CommonJS: require() of each entry works end to end', async () => {
    const lines = Object.entries(imports).map(([entry, names]) => `const { ${names.join(', ')} } = require('${entry}');`);
    expect(runJson('every.cjs', `${lines.join('\n')}\n${useEverySubpath('cjs')}`, [], { PG_URL: await freshDatabase('pack_cjs') })).toEqual(
      everySubpath,
    );
  });
});

describe('without the optional peer pg', () => {
  test('pg is an optional peer dependency, not a dependency (npm does not install it with the package)', () => {
    expect(manifest.dependencies.pg).toBeUndefined();
    expect(manifest.peerDependencies.pg).toMatch(/^\^8\./);
    expect(manifest.peerDependenciesMeta.pg).toEqual({ optional: true });
    expect(manifest.dependencies['better-sqlite3']).toBeDefined();
  });

  test('importing strategy-lifecycle/postgres fails with a DriverMissingError that says to install pg (ESM and CommonJS)', () => {
    expect(withoutPg.esm).toEqual({
      name: 'DriverMissingError',
      packageName: 'pg',
      message: expect.stringContaining('strategy-lifecycle/postgres needs the "pg" package, which is not installed: run `npm install pg`'),
    });
    expect(withoutPg.cjs.status).toBe(1);
    expect(withoutPg.cjs.stderr).toContain(
      'DriverMissingError: strategy-lifecycle/postgres needs the "pg" package, which is not installed: run `npm install pg`',
    );
  });

  test('every other entry and the CLI load without it', () => {
    expect(withoutPg.others).toEqual([true, true, true, true, true]);
    expect(withoutPg.help).toBe(0);
  });
});

describe('type declarations', () => {
  const consumer = `
import { createStrategyMachine, createStrategyActor, lt112, DriverMissingError, type StrategyEvent, type TriggerResult } from 'strategy-lifecycle';
import { openStrategySystem, type StrategyStore, type PersistentStrategySystem, type VerifyReport } from 'strategy-lifecycle/persistence';
import { SqliteStore } from 'strategy-lifecycle/sqlite';
import { PostgresStore, type PostgresStoreOptions } from 'strategy-lifecycle/postgres';
import { startService, buildApp, type RunningService, type ServiceOptions } from 'strategy-lifecycle/server';
import { loadEventCalendar } from 'strategy-lifecycle/node';
const event: StrategyEvent = { type: 'ORDER_FILLED', quantity: 2, expiry: '2026-12-18' };
const result: TriggerResult = createStrategyActor(createStrategyMachine(lt112)).trigger(event);
const state: 'READY' | string = result.to;
// @ts-expect-error a quantity is required on fills
const bad: StrategyEvent = { type: 'ORDER_FILLED' };
const store: StrategyStore = new SqliteStore('./data/x.db');
const pgStore: StrategyStore = new PostgresStore({ connectionString: 'postgres://localhost/x' });
// @ts-expect-error a PostgreSQL store needs its connection string
const noUrl: PostgresStoreOptions = {};
const system: Promise<PersistentStrategySystem> = openStrategySystem({ store, variants: [lt112] });
const options: ServiceOptions = { store: pgStore, port: 0 };
const running: Promise<RunningService> = startService(options);
const events: number = loadEventCalendar('events.csv').events.length;
const missing: string = new DriverMissingError('pg', 'strategy-lifecycle/postgres').packageName;
const report: VerifyReport | undefined = undefined;
export { state, bad, noUrl, system, running, events, missing, report, buildApp };
`;
  // The root's declarations no longer carry the stores or the service.
  const notInRoot = `// @ts-expect-error SqliteStore is in strategy-lifecycle/sqlite\nimport { SqliteStore as rootSqlite } from 'strategy-lifecycle';\n// @ts-expect-error startService is in strategy-lifecycle/server\nimport { startService as rootStart } from 'strategy-lifecycle';\nexport { rootSqlite, rootStart };\n`;

  function typeCheck(dir: string, files: Record<string, string>, compilerOptions: object): void {
    mkdirSync(join(work, dir), { recursive: true });
    for (const [file, text] of Object.entries(files)) writeFileSync(join(work, dir, file), text);
    writeFileSync(
      join(work, dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, skipLibCheck: true, types: [], ...compilerOptions },
        files: Object.keys(files),
      }),
    );
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
      cwd: join(work, dir),
      encoding: 'utf8',
    });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  }

  test('an ESM TypeScript consumer (NodeNext, .mts) type-checks against every entry', () => {
    typeCheck('ts-esm', { 'consumer.mts': consumer, 'root.mts': notInRoot }, { module: 'NodeNext', moduleResolution: 'NodeNext' });
  });

  test('a CommonJS TypeScript consumer (NodeNext, .cts) type-checks against every entry', () => {
    typeCheck('ts-cjs', { 'consumer.cts': consumer, 'root.cts': notInRoot }, { module: 'NodeNext', moduleResolution: 'NodeNext' });
  });

  test('no type package is a dependency: installing it puts no Node globals on a browser project', () => {
    expect(Object.keys(manifest.dependencies).filter((name) => name.startsWith('@types/'))).toEqual([]);
    expect(manifest.peerDependenciesMeta['@types/better-sqlite3']).toEqual({ optional: true });
    expect(manifest.peerDependenciesMeta['@types/pg']).toEqual({ optional: true });
  });

  test('the package holds the examples and nothing a run of them writes (a data directory, a token)', () => {
    const listed = execFileSync(
      'tar',
      [
        '-tzf',
        join(
          work,
          readdirSync(work).find((f) => f.endsWith('.tgz'))!,
        ),
      ],
      { encoding: 'utf8' },
    )
      .split('\n')
      .filter((path) => path.startsWith('package/examples/'));
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.filter((path) => path.split('/').length > 3 || /\.(db|db-.*|lock.*|id)$|token$/.test(path))).toEqual([]);
    expect(listed.some((path) => path.includes('pack-probe'))).toBe(false);
  });

  test('the examples the docs run (config, event calendars, adapters) ship with the package', () => {
    const examples = join(work, 'node_modules/strategy-lifecycle/examples');
    const config = JSON.parse(readFileSync(join(examples, 'strategy-lifecycle.config.json'), 'utf8')) as {
      market: { eventCalendar: string };
    };
    expect(existsSync(join(examples, config.market.eventCalendar))).toBe(true);
    for (const file of [
      'event-calendar.example.csv',
      'broker-adapter.example.ts',
      'position-monitor.ts',
      'strategy-lifecycle.service',
      'Dockerfile',
    ]) {
      expect(existsSync(join(examples, file))).toBe(true);
    }
  });

  test("the stores type-check with the libraries checked too (skipLibCheck off): the drivers' types come with them", () => {
    const stores = `import { SqliteStore } from 'strategy-lifecycle/sqlite';\nimport { PostgresStore } from 'strategy-lifecycle/postgres';\nexport const make = (file: string, url: string) => [new SqliteStore(file), new PostgresStore({ connectionString: url })];\n`;
    typeCheck(
      'ts-libs',
      { 'stores.mts': stores },
      { module: 'NodeNext', moduleResolution: 'NodeNext', skipLibCheck: false, types: ['node'] },
    );
  });

  test('a CommonJS consumer without esModuleInterop type-checks the stores with the libraries checked too (no default import of a driver in the declarations)', () => {
    const stores = `import { SqliteStore } from 'strategy-lifecycle/sqlite';\nimport { PostgresStore } from 'strategy-lifecycle/postgres';\nexport const make = (file: string, url: string) => [new SqliteStore(file), new PostgresStore({ connectionString: url })];\n`;
    typeCheck(
      'ts-no-interop',
      { 'stores.ts': stores },
      { module: 'CommonJS', moduleResolution: 'node10', esModuleInterop: false, skipLibCheck: false, types: ['node'] },
    );
  });

  test('a consumer on the older node10 resolution (no exports map) finds every entry through typesVersions', () => {
    typeCheck(
      'ts-node10',
      { 'consumer.ts': consumer, 'root.ts': notInRoot },
      { module: 'CommonJS', moduleResolution: 'node10', esModuleInterop: true },
    );
  });
});
