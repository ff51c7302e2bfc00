import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

/** Where the document and its browsable page live; both are open with private reads (they hold no data). */
export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PREFIX = '/docs';
/** The version of the HTTP API the document describes (not the package's). */
export const API_VERSION = '1.0.0';

/** Options of {@link registerOpenApi}. */
export interface OpenApiOptions {
  /**
   * Whether a read of a document path (`/ui/strategies/{id}`) is open even with private reads
   * (`readToken`, `serve --auth-reads`). Every other read declares the token, optional (the
   * document is the same whether reads are private or not), and its 401.
   */
  isOpenRead: (path: string) => boolean;
}

/**
 * Generates the OpenAPI 3.1 document from the routes' zod schemas (fastify-type-provider-zod's
 * `jsonSchemaTransform` through @fastify/swagger) and serves it at `/openapi.json`, with Swagger UI
 * at `/docs` from the package's own files (no CDN). Must be registered before the routes: the
 * document is made from the routes registered after it (see `buildApp`, which adds them in
 * `app.after`).
 *
 * @example
 * ```ts
 * registerOpenApi(app, { isOpenRead: (path) => path === '/health' || path === OPENAPI_PATH });
 * app.after(() => app.get('/health', { schema: { response: { 200: z.object({ status: z.string() }) } } }, handler));
 * ```
 */
export function registerOpenApi(app: FastifyInstance, options: OpenApiOptions): void {
  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'strategy-lifecycle',
        version: API_VERSION,
        description:
          'Options-trading strategy lifecycles as XState statecharts: the HTTP API of `strategy-lifecycle serve`. Every error is `{ error: { code, message, field? } }`; docs/http.md lists every code.',
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description:
              'The service token (`<dataDir>/token` or STRATEGY_LIFECYCLE_TOKEN); every write needs it, reads too with `serve --auth-reads`.',
          },
        },
      },
      tags: [
        { name: 'strategies', description: 'Create, read, remove strategies and send them events' },
        { name: 'system', description: 'System-wide operations: suspend, resume, trading state, kill switch' },
        { name: 'service', description: 'Health, readiness, metrics, market, variants, the live stream' },
        { name: 'dashboard', description: 'The browser dashboard' },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: (input) =>
      completeDocument(jsonSchemaTransformObject(input) as OpenApiDocument, options.isOpenRead) as ReturnType<
        typeof jsonSchemaTransformObject
      >,
  });
  void app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
  app.after(() => {
    app.get(OPENAPI_PATH, { schema: { tags: ['service'], summary: 'This document (OpenAPI 3.1)' } }, async (_request, reply) =>
      reply.type('application/json; charset=utf-8').send(app.swagger()),
    );
  });
}

/** Whether a request body's JSON schema (written in place, not a `$ref`) is an object with no required property: `{}` passes it. */
function acceptsEmptyObject(requestBody: unknown): boolean {
  const schema = (requestBody as { content?: Record<string, { schema?: { type?: unknown; required?: unknown[] } }> }).content?.[
    'application/json'
  ]?.schema;
  return schema?.type === 'object' && (schema.required ?? []).length === 0;
}

/** The parts of the generated document {@link completeDocument} touches. */
interface OperationDoc {
  tags?: string[];
  security?: unknown[];
  requestBody?: unknown;
  parameters?: unknown[];
  responses?: Record<string, unknown>;
}
interface OpenApiDocument {
  paths?: Record<string, Record<string, OperationDoc>>;
}

const apiError = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/ApiError' } } },
});

/**
 * What the route schemas cannot say: every route may answer 421 (a Host it does not answer to)
 * and 503 `SHUTTING_DOWN` (a request that arrives while the service closes; a dashboard file also
 * `DASHBOARD_NOT_BUILT`); every read but those
 * `isOpenRead` names may need the token (optional security, and 401 with private reads); a route
 * with a path parameter may answer 400 `INVALID_URL` (not valid percent-encoding) and 414 (a
 * segment over the router's 2048 characters) before it runs; every route with a body, and
 * `DELETE` (fastify reads a body sent with it), may answer 413 (too large) and 415 (not JSON)
 * before it runs; a body that `{}` satisfies is not required (none, or an empty one, is checked
 * as `{}`); the diagram answers SVG or Mermaid text; a strategy's page is HTML, 404 for an
 * id the service does not hold.
 */
function completeDocument(document: OpenApiDocument, isOpenRead: (path: string) => boolean): OpenApiDocument {
  for (const [path, operations] of Object.entries(document.paths ?? {})) {
    for (const [method, operation] of Object.entries(operations)) {
      operation.responses ??= {};
      operation.responses['421'] ??= apiError('UNKNOWN_HOST: the Host header names a host the service does not answer to (allowedHosts)');
      // The dashboard's files are read from the build: a service started from sources without it answers 503.
      const dashboardFile = path !== '/' && operation.tags?.includes('dashboard') === true;
      operation.responses['503'] ??= apiError(
        'SHUTTING_DOWN: the request arrived while the service was closing; nothing was done (Retry-After: 5)' +
          (dashboardFile ? '; or DASHBOARD_NOT_BUILT: the dashboard files are not built (`npm run build`)' : ''),
      );
      if ((method === 'get' || method === 'head') && !isOpenRead(path)) {
        // None (reads open, the default) or the bearer token (private reads): the empty requirement
        // makes it optional, so the document is true either way.
        operation.security ??= [{}, { bearer: [] }];
        operation.responses['401'] ??= apiError(
          'UNAUTHORIZED: reads are private (`serve --auth-reads`) and the request has no token or a wrong one (WWW-Authenticate: Bearer)',
        );
      }
      if (path.includes('{')) {
        // The router refuses these before the route's own checks run.
        operation.responses['400'] ??= apiError('INVALID_URL: a path parameter is not valid percent-encoding');
        operation.responses['414'] ??= apiError('URL_TOO_LONG: a path segment is longer than 2048 characters');
      }
      if (!operation.requestBody && method !== 'delete') continue;
      if (operation.requestBody && acceptsEmptyObject(operation.requestBody)) {
        // The route needs no body: none, or an empty one sent as JSON, is checked as `{}` (jsonBody.ts).
        (operation.requestBody as { required?: boolean }).required = false;
      }
      operation.responses['413'] ??= apiError('BODY_TOO_LARGE: the body is over the limit (64 KiB by default)');
      operation.responses['415'] ??= apiError('UNSUPPORTED_MEDIA_TYPE: the body is not application/json');
    }
  }
  const diagram = document.paths?.['/variants/{id}/diagram.{format}']?.get;
  if (diagram)
    diagram.responses = {
      200: {
        description: 'The diagram',
        content: { 'image/svg+xml': { schema: { type: 'string' } }, 'text/plain': { schema: { type: 'string' } } },
      },
      ...diagram.responses,
    };
  const page = document.paths?.['/ui/strategies/{id}']?.get;
  if (page)
    page.responses = {
      ...page.responses,
      200: { description: "The strategy's page", content: { 'text/html': { schema: { type: 'string' } } } },
      404: {
        description: 'A not-found page: the service does not hold this strategy',
        content: { 'text/html': { schema: { type: 'string' } } },
      },
    };
  const events = document.paths?.['/events']?.get;
  if (events) {
    events.responses = {
      ...events.responses,
      200: {
        description: 'Server-Sent Events, until the client or the service closes the stream',
        content: { 'text/event-stream': { schema: { type: 'string' } } },
      },
      503: apiError(
        'TOO_MANY_STREAMS: every place is taken, or those open to clients without the token; or SHUTTING_DOWN (Retry-After: 5)',
      ),
    };
    events.parameters = [
      ...(events.parameters ?? []),
      { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' }, description: 'Resume after this event id' },
      {
        name: 'lastEventId',
        in: 'query',
        required: false,
        schema: { type: 'string' },
        description: 'Resume after this event id (for a new EventSource)',
      },
      {
        name: 'token',
        in: 'query',
        required: false,
        schema: { type: 'string' },
        description: 'The bearer token, for a browser EventSource (it cannot send headers)',
      },
    ];
  }
  const metrics = document.paths?.['/metrics']?.get;
  if (metrics)
    metrics.responses = {
      ...metrics.responses,
      200: { description: 'Prometheus text exposition format', content: { 'text/plain; version=0.0.4': { schema: { type: 'string' } } } },
    };
  return document;
}
