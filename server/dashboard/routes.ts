import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { PersistentStrategySystem } from '../../services/runtime/persistentSystem.js';
import { dashboardAssets, dashboardBuildDir, DashboardNotBuiltError, readDashboardFile } from './assets.js';
import { DASHBOARD_HTML, notFoundPage } from './page.js';

/** Where a strategy's dashboard page lives: `/ui/strategies/<id>` (the API keeps `/strategies/<id>`). */
export const STRATEGY_PAGE_PREFIX = '/ui/strategies/';

const HTML = 'text/html; charset=utf-8';

/**
 * Serves the dashboard: its files ({@link dashboardAssets}) and each strategy's page at
 * `/ui/strategies/:id`, which is the dashboard itself (200) for a strategy this service holds and
 * a not-found page (404, HTML) for any other id, so a stale link or a typo says so at once;
 * `revealIds: false` (private reads) serves the dashboard for every id, since which ids exist is
 * itself data.
 *
 * @example
 * ```ts
 * registerDashboard(app, system);
 * ```
 */
export function registerDashboard(app: FastifyInstance, system: PersistentStrategySystem, options: { revealIds?: boolean } = {}): void {
  const revealIds = options.revealIds ?? true;
  // Read from the build on first use and kept for this service: the files change only with a new build.
  const bodies = new Map<string, string>();
  for (const [path, asset] of Object.entries(dashboardAssets)) {
    app.get(
      path,
      { schema: { tags: ['dashboard'], summary: `The dashboard's ${path === '/' ? 'page' : 'file ' + path}` } },
      async (_request, reply) => {
        let body = asset.file ? bodies.get(asset.file) : DASHBOARD_HTML;
        if (body === undefined && asset.file) {
          try {
            body = readDashboardFile(dashboardBuildDir(), asset.file);
          } catch (error) {
            if (!(error instanceof DashboardNotBuiltError)) throw error;
            return reply.status(503).send({ error: { code: 'DASHBOARD_NOT_BUILT', message: error.message } });
          }
          bodies.set(asset.file, body);
        }
        return reply.type(asset.type).header('Cache-Control', 'no-cache').send(body);
      },
    );
  }
  const page = {
    tags: ['dashboard'],
    summary: "A strategy's page (HTML; 404 page for an unknown id)",
    params: z.object({ id: z.string() }),
  };
  app.get<{ Params: { id: string } }>(`${STRATEGY_PAGE_PREFIX}:id`, { schema: page }, async (request, reply) => {
    const { id } = request.params;
    reply.type(HTML).header('Cache-Control', 'no-cache');
    // Without `revealIds` (private reads) every id gets the dashboard, whose API calls then need the token.
    return system.has(id) || !revealIds ? reply.send(DASHBOARD_HTML) : reply.status(404).send(notFoundPage(id));
  });
}
