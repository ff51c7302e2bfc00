import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StrategyLifecycleError } from '../../machines/errors.js';

/** One file of the dashboard: its content type, and its name in the build folder (none: the page, from page.ts). */
export interface DashboardAsset {
  type: string;
  file?: string;
}

/**
 * The dashboard's files, served by the service at these paths: `/` is the page (also served for
 * `/ui/strategies/:id`, see routes.ts), `/app.js` its script (typed sources in `browser/`, chart.js
 * bundled in; live updates from `GET /events`), `/style.css` its stylesheet. The script and the
 * stylesheet are what `npm run build` wrote to `dist/dashboard/`: nothing comes from a CDN.
 *
 * @example
 * ```ts
 * const dir = dashboardBuildDir();
 * readFileSync(join(dir, dashboardAssets['/app.js'].file!), 'utf8');
 * ```
 */
export const dashboardAssets: Readonly<Record<string, DashboardAsset>> = {
  '/': { type: 'text/html; charset=utf-8' },
  '/app.js': { type: 'text/javascript; charset=utf-8', file: 'app.js' },
  '/style.css': { type: 'text/css; charset=utf-8', file: 'style.css' },
};

/** The dashboard's script or stylesheet is not in the build folder: `npm run build` has not run. */
export class DashboardNotBuiltError extends StrategyLifecycleError {
  constructor(readonly file: string) {
    super(`the dashboard is not built: ${file} is missing (run npm run build)`);
    this.name = 'DashboardNotBuiltError';
  }
}

/** This module's folder: `__dirname` in CommonJS (dist/cjs, ts-jest), the call site's file URL in ESM. */
function moduleDir(): string {
  if (typeof __dirname === 'string') return __dirname;
  // ESM has no __dirname, and `import.meta` does not compile to CommonJS: V8's call sites name this file.
  // Kept to be put back, never called: V8 calls the hook as a property of Error.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const original = Error.prepareStackTrace;
  Error.prepareStackTrace = (_error, sites) => sites;
  // With prepareStackTrace returning its call sites (above), V8 hands the array back as `stack`.
  const sites = new Error().stack as unknown as NodeJS.CallSite[];
  Error.prepareStackTrace = original;
  const file = sites[0]?.getFileName() ?? '.';
  return dirname(file.startsWith('file:') ? fileURLToPath(file) : file);
}

/**
 * Where `npm run build` puts the dashboard's bundle: `dist/dashboard` under this package's root,
 * the nearest folder above this module whose package.json is this package's. The same answer from
 * the sources (ts-jest), from dist/esm and from dist/cjs.
 *
 * @example
 * ```ts
 * dashboardBuildDir(); // '/srv/strategy-lifecycle/dist/dashboard'
 * ```
 */
export function dashboardBuildDir(): string {
  for (let dir = moduleDir(); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'strategy-lifecycle')
      return join(dir, 'dist', 'dashboard');
    if (dirname(dir) === dir) throw new DashboardNotBuiltError('package.json of strategy-lifecycle');
  }
}

/**
 * The body of a built dashboard file.
 *
 * @throws DashboardNotBuiltError when the build has not written it.
 * @example
 * ```ts
 * readDashboardFile(dashboardBuildDir(), 'app.js');
 * ```
 */
export function readDashboardFile(dir: string, file: string): string {
  const path = join(dir, file);
  if (!existsSync(path)) throw new DashboardNotBuiltError(path);
  return readFileSync(path, 'utf8');
}
