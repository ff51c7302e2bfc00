import { STRATEGY_EVENT_TYPES } from '../../machines/events.js';
import { STRATEGY_STATES } from '../../machines/states.js';
import { STATE_FAMILIES } from '../diagramSvg.js';
import { dashboardScript } from './client.js';
import { EVENT_TEMPLATES } from './eventTemplates.js';
import { DASHBOARD_HTML } from './page.js';
import { DASHBOARD_CSS } from './style.js';

/** One file of the dashboard: its content type and body. */
export interface DashboardAsset {
  type: string;
  body: string;
}

/**
 * The dashboard's files, served by the service at these paths (kept as strings so every build
 * format has them; no bundler, no CDN). `/` is the page (also served for `/ui/strategies/:id`, see routes.ts), `/app.js` its script (live updates from
 * `GET /events`), `/style.css` its stylesheet.
 *
 * @example
 * ```ts
 * for (const [path, asset] of Object.entries(dashboardAssets)) app.get(path, (_q, r) => r.type(asset.type).send(asset.body));
 * ```
 */
export const dashboardAssets: Record<string, DashboardAsset> = {
  '/': { type: 'text/html; charset=utf-8', body: DASHBOARD_HTML },
  '/app.js': { type: 'text/javascript; charset=utf-8', body: dashboardScript({ states: STRATEGY_STATES, families: STATE_FAMILIES, events: STRATEGY_EVENT_TYPES, templates: EVENT_TEMPLATES, pagePrefix: '/ui/strategies/' }) },
  '/style.css': { type: 'text/css; charset=utf-8', body: DASHBOARD_CSS },
};
