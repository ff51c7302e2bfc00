/**
 * The OpenAPI document is generated from the routes' zod schemas: it is a valid OpenAPI 3.1
 * document, names every route the app registers, describes the event union with the shape of a
 * leg, and is browsable at /docs from the service's own files.
 */
import { join } from 'node:path';
import { validate, compileErrors } from '@readme/openapi-parser';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app';
import { DEFAULT_VARIANTS } from '../../server/service';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM } from '../support/fixtures';
import { useService } from './services';

const TOKEN = 'o'.repeat(40);
let app: FastifyInstance;
let system: PersistentStrategySystem;
let cleanup: () => void;
/** Every route the app registered (HEAD twins and routes hidden from the document left out). */
const registered: Array<{ method: string; url: string }> = [];
type Doc = {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        tags?: string[];
        security?: unknown;
        requestBody?: unknown;
        responses?: Record<string, { description?: string; content?: Record<string, unknown> }>;
      }
    >
  >;
  components: { schemas: Record<string, { oneOf?: unknown[]; properties?: Record<string, unknown> }> };
};
let doc: Doc;

beforeAll(async () => {
  const tmp = tempDir('sl-openapi-');
  cleanup = tmp.cleanup;
  system = await openStrategySystem({
    store: new SqliteStore(join(tmp.dir, 'strategy-lifecycle.db')),
    variants: DEFAULT_VARIANTS,
    clock: createSimulatedClock(FRIDAY_11AM),
  });
  app = buildApp({ system, variants: DEFAULT_VARIANTS, token: TOKEN, logger: false });
  // Routes are added while the app boots (after the OpenAPI plugin): this hook sees every one.
  app.addHook('onRoute', (route) => {
    const hidden = route.schema?.hide === true;
    for (const method of [route.method].flat()) if (method !== 'HEAD' && !hidden) registered.push({ method, url: route.url });
  });
  await app.ready();
  doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<Doc>();
});
afterAll(async () => {
  await app.close();
  await system.close();
  cleanup();
});

test('GET /openapi.json is a valid OpenAPI 3.1 document', async () => {
  expect(doc.openapi).toBe('3.1.0');
  const result = await validate(structuredClone(doc) as never);
  if (!result.valid) throw new Error(compileErrors(result));
  expect(result.valid).toBe(true);
});

test('every route the app registers is in the document, with its method', () => {
  expect(registered.length).toBeGreaterThan(20);
  const missing = registered.filter(({ method, url }) => !doc.paths[url.replace(/:([A-Za-z]+)/g, '{$1}')]?.[method.toLowerCase()]);
  expect(missing).toEqual([]);
  for (const path of [
    '/strategies/{id}',
    '/variants',
    '/variants/{id}/diagram.{format}',
    '/market',
    '/metrics',
    '/ready',
    '/events',
    '/openapi.json',
  ])
    expect(Object.keys(doc.paths)).toContain(path);
  expect(Object.keys(doc.paths['/strategies/{id}'])).toEqual(expect.arrayContaining(['get', 'delete']));
});

test('the document answers as the routes do: 413 and 415 on every body, the diagram as SVG or text, the page as HTML with a 404', () => {
  const withBody = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([, op]) => op.requestBody)
      .map(([method, op]) => [`${method} ${path}`, Object.keys(op.responses ?? {}).filter((code) => code === '413' || code === '415')]),
  );
  expect(withBody.length).toBeGreaterThan(3);
  for (const [, codes] of withBody) expect(codes).toEqual(['413', '415']);
  const diagram = doc.paths['/variants/{id}/diagram.{format}'].get.responses ?? {};
  expect(Object.keys(diagram['200'].content ?? {})).toEqual(['image/svg+xml', 'text/plain']);
  expect(diagram['404']).toBeDefined();
  const page = doc.paths['/ui/strategies/{id}'].get.responses ?? {};
  // 421 and 503 SHUTTING_DOWN as every route, 400 INVALID_URL and 414 as every route with a path parameter.
  expect(Object.keys(page).sort()).toEqual(['200', '400', '404', '414', '421', '503']);
  expect(Object.keys(page['404'].content ?? {})).toEqual(['text/html']);
  for (const [path, ops] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(ops))
      expect([`${method} ${path}`, Object.keys(op.responses ?? {})]).toEqual([`${method} ${path}`, expect.arrayContaining(['421'])]);
  const events = doc.paths['/events'].get;
  expect(Object.keys(events.responses?.['200'].content ?? {})).toEqual(['text/event-stream']);
  expect(events.responses?.['503']).toBeDefined();
  const metrics = doc.paths['/metrics'].get;
  expect(Object.keys(metrics.responses?.['200'].content ?? {})).toEqual(['text/plain; version=0.0.4']);
});

test('writes declare the bearer token; the event body is the union of every event type with the shape of a leg', () => {
  expect(doc.paths['/strategies/{id}/events'].post.security).toEqual([{ bearer: [] }]);
  expect(doc.paths['/system/kill-switch'].post.security).toEqual([{ bearer: [] }]);
  expect(JSON.stringify(doc.paths['/strategies/{id}/events'].post.requestBody)).toContain('#/components/schemas/StrategyEventInput');
  expect(doc.components.schemas.StrategyEventInput.oneOf).toHaveLength(23);
  const leg = doc.components.schemas.OptionLegInput;
  expect(Object.keys(leg.properties ?? {}).sort()).toEqual(['expiry', 'quantity', 'right', 'strike', 'symbol']);
  expect(leg).toMatchObject({
    required: ['right', 'strike', 'expiry', 'quantity'],
    additionalProperties: false,
    properties: { right: { enum: ['C', 'P'] } },
  });
  expect(doc.components.schemas.ApiError).toBeDefined();
});

test('a body is required where the route needs one: POST /system/resume takes none (no body or an empty one is {})', () => {
  const required = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([, op]) => op.requestBody)
      .map(([method, op]) => [`${method} ${path}`, (op.requestBody as { required?: boolean }).required ?? false]),
  );
  expect(Object.fromEntries(required)).toEqual({
    'post /strategies': true,
    'post /strategies/{id}/events': true,
    'post /system/suspend': true,
    'post /system/resume': false,
    'post /system/trading-state': true,
    'post /system/kill-switch': true,
  });
});

describe('with private reads', () => {
  const running = useService('sl-openapi-private-', { token: TOKEN, market: false, readToken: true });

  test('the document and /docs are open (they hold no data), served from the service itself with no CDN', async () => {
    const document = await fetch(`${running.service.url}/openapi.json`);
    expect(document.status).toBe(200);
    await document.arrayBuffer(); // read to the end: a response left unread keeps its connection busy at close
    const page = await fetch(`${running.service.url}/docs/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('swagger-ui');
    expect(html).not.toMatch(/(src|href)="https?:/);
    const bundle = await fetch(`${running.service.url}/docs/static/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
    const summary = await fetch(`${running.service.url}/summary`);
    expect(summary.status).toBe(401);
    await summary.arrayBuffer();
  });
});

test("a dashboard file's 503 names DASHBOARD_NOT_BUILT beside SHUTTING_DOWN; the API routes' only SHUTTING_DOWN", async () => {
  const document = doc;
  const files = Object.entries(document.paths).filter(([path, ops]) => path !== '/' && ops.get?.tags?.includes('dashboard'));
  expect(files.length).toBeGreaterThan(0);
  for (const [, ops] of files) expect(ops.get?.responses?.['503']?.description).toMatch(/SHUTTING_DOWN.*DASHBOARD_NOT_BUILT/);
  expect(document.paths['/strategies'].get?.responses?.['503']?.description).not.toMatch(/DASHBOARD_NOT_BUILT/);
});
