import { EventEmitter } from 'node:events';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifySchemaCompiler } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { LoggerOptions } from 'pino';
import type { z } from 'zod';
import { createStrategyMachine } from '../machines/createStrategyMachine.js';
import type { StrategyDefinition } from '../machines/definition.js';
import { toMermaid } from '../machines/diagram.js';
import { validateEvent } from '../machines/validateEvent.js';
import type { PersistentStrategySystem } from '../services/runtime/persistentSystem.js';
import { isAuthorized } from './auth.js';
import { clientErrorHandler, errorBody, frameworkErrors, HttpError, installErrorHandling } from './errors.js';
import { installJsonBodyParser } from './jsonBody.js';
import { closeConnectionsWithUnreadBodies } from './unreadBody.js';
import { isOpenRead, presentsToken, redactedUrl, requireTokenForReads } from './readAccess.js';
import { registerEventStream, type StreamLimits } from './stream.js';
import { dashboardAssets } from './dashboard/assets.js';
import { registerDashboard, STRATEGY_PAGE_PREFIX } from './dashboard/routes.js';
import { registerMarketRoute } from './marketRoute.js';
import { createMetrics, registerMetrics, type ServiceMetrics } from './metrics.js';
import { DOCS_PREFIX, OPENAPI_PATH, registerOpenApi } from './openapi.js';
import { registerReadiness } from './readiness.js';
import { auditQuery, bodies, errorResponses, params, responses } from './schemas.js';
import type { RunningMarket } from './tradingService.js';
import { diagramSvg } from './diagramSvg.js';
import { getStatistics } from '../services/runtime/statistics.js';
import { toMarketIso } from '../services/market/time.js';
import { strategyView, type ViewContext } from './views.js';

/** The service's log: pino options, and `stream` to send its JSON lines elsewhere than stdout. */
export type ServiceLoggerOptions = LoggerOptions & { stream?: { write(line: string): void } };

/** Options of {@link buildApp}. */
export interface AppOptions {
  system: PersistentStrategySystem;
  variants: readonly StrategyDefinition[];
  token: string;
  /**
   * Host names (without port) requests may name in their Host header; others get 421 UNKNOWN_HOST
   * (a DNS-rebound page's requests). Default {@link LOOPBACK_NAMES}; `'any'` checks nothing.
   */
  allowedHosts?: readonly string[] | 'any';
  /** pino options (plus `stream`: where the JSON lines go, default stdout), or false for no log. */
  logger?: ServiceLoggerOptions | false;
  /** Largest request body accepted (default 64 KiB). */
  bodyLimit?: number;
  /**
   * Reads need the token too: every GET but `/health` and the dashboard's static files
   * (default false: reads are open, as on a service bound to 127.0.0.1).
   */
  readToken?: boolean;
  /**
   * Time a client has to send a whole request, headers and body (default 30 s); past it the
   * request is answered 408 `REQUEST_TIMEOUT` and the connection closed, within about a second.
   */
  requestTimeoutMs?: number;
  /** Limits of the live stream `GET /events`. */
  stream?: StreamLimits;
  /** The running trading day: `GET /market` and each strategy's armed exit come from it. */
  market?: RunningMarket;
  /** Where `/metrics` reads from; pass the one the store is timed into (`timedStore`). Default: a new one. */
  metrics?: ServiceMetrics;
}

export type { ApiError } from './errors.js';

/** The event route's body is described by its zod union but checked by `validateEvent` in the handler: a malformed event must reach the runtime to be audited. */
const passBodyThrough: FastifySchemaCompiler<unknown> = (route) =>
  route.httpPart === 'body' ? (data: unknown) => ({ value: data }) : validatorCompiler(route as Parameters<typeof validatorCompiler>[0]);

/**
 * The HTTP API and dashboard over a persisted strategy system. Reads are open unless `readToken`;
 * every write needs `Authorization: Bearer <token>`. Bodies are JSON only (415 otherwise), at most
 * `bodyLimit` bytes and 32 levels deep, and checked against the routes' zod schemas, which also
 * make the OpenAPI document (`/openapi.json`, browsable at `/docs`). Errors are JSON
 * `{ error: { code, message, field? } }`: 400 bad input, 401 no or wrong token, 404 unknown
 * strategy or route, 408 a request not received in time, 409 a rejected trigger (with its reason),
 * 413/414/415 too large, too long, not JSON, 503 the store is unavailable, not ready or too many
 * streams. docs/http.md lists every route and code.
 */
/** The host names a service on a loopback interface answers to by default. */
export const LOOPBACK_NAMES: readonly string[] = ['127.0.0.1', 'localhost', '[::1]'];

/** The host name of a Host header, without its port, lower case (`[::1]:7400` -> `[::1]`). */
function hostName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const name = header.startsWith('[') ? header.slice(0, header.indexOf(']') + 1) : header.split(':')[0];
  return name.toLowerCase();
}

export function buildApp(options: AppOptions): FastifyInstance {
  const { system, token } = options;
  const variants = new Map(options.variants.map((def) => [def.id, def]));
  const bodyLimit = options.bodyLimit ?? 64 * 1024;
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const logger = options.logger === false ? false : (options.logger ?? { level: 'info' });
  const metrics = options.metrics ?? createMetrics();
  const app = Fastify({
    // URLs are logged cut short and without a ?token= value.
    logger: logger && {
      ...logger,
      serializers: {
        req: (req: FastifyRequest) => ({ method: req.method, url: redactedUrl(req.url), remoteAddress: req.ip }),
        ...logger.serializers,
      },
    },
    bodyLimit,
    // A client that never finishes sending cannot hold a connection for ever. Node enforces the
    // timeout only when it checks, every connectionsCheckingInterval (30 s by default), with its
    // own headersTimeout (60 s); with fastify's requestTimeout alone a half-sent body was still
    // open after 45 s. Set on the server itself and checked at least every second, it holds.
    requestTimeout,
    http: {
      requestTimeout,
      headersTimeout: requestTimeout,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(requestTimeout / 4))),
    },
    clientErrorHandler,
    frameworkErrors: frameworkErrors(bodyLimit),
    forceCloseConnections: 'idle',
    // A request that arrives while the service closes (on a keep-alive connection still busy) gets
    // the API's own 503 SHUTTING_DOWN from the hook below: fastify's default body has no `error.code`.
    return503OnClosing: false,
    // Ids up to 2048 characters reach the handler, which answers INVALID_ID; longer, 414 URL_TOO_LONG.
    routerOptions: { maxParamLength: 2048 },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  /** System-wide happenings for the live stream (trading state, kill switch). */
  const systemEvents = new EventEmitter();
  // Every trading state change goes to the stream: this instance's, and another instance's as soon
  // as this one learns it (a halt on one instance must show on every instance's dashboard).
  const stopTradingState = system.subscribeTradingState((change) => systemEvents.emit('event', { type: 'tradingState', change }));
  app.addHook('onClose', async () => stopTradingState());

  const viewContext: ViewContext = {
    instance: system.store.instanceId ?? null,
    scheduledExit: (id) => options.market?.day.scheduledExit(id) ?? null,
  };
  // Views read committed state only (`peek`): listing or showing a dormant strategy never wakes it.
  const view = (id: string) => strategyView(system.peek(id), clockNow(system), viewContext);
  const strategyOf = (id: string) => system.get(id); // the id's shape is checked by the route's params schema; UnknownStrategyError -> 404

  installErrorHandling(app, bodyLimit);
  installJsonBodyParser(app);
  // An answer given before the body was read closes the connection: the rest of the body is not read.
  closeConnectionsWithUnreadBodies(app);
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // DNS rebinding: a web page whose name is re-pointed at 127.0.0.1 would be same-origin with the
  // service and could read it (reads are open by default). Only the names the service is known by.
  const allowedHosts =
    options.allowedHosts === 'any' ? undefined : new Set((options.allowedHosts ?? LOOPBACK_NAMES).map((h) => h.toLowerCase()));
  if (allowedHosts)
    app.addHook('onRequest', async (request, reply) => {
      const name = hostName(request.headers.host);
      if (name !== undefined && allowedHosts.has(name)) return;
      return reply
        .status(421)
        .send(
          errorBody(
            'UNKNOWN_HOST',
            `the service does not answer to the host name ${JSON.stringify((request.headers.host ?? '').slice(0, 100))}: use one it listens on (allowedHosts)`,
          ),
        );
    });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    reply.header('Retry-After', '5');
    return reply
      .status(503)
      .send(errorBody('SHUTTING_DOWN', 'the service is shutting down: nothing was done; retry on another instance or once it is back'));
  });
  // The reads open even with private reads: one list for the hook and for the document, which
  // declares the token (optional) and 401 on every other read.
  const openPaths = [...Object.keys(dashboardAssets), OPENAPI_PATH];
  const openPrefixes = [STRATEGY_PAGE_PREFIX, `${DOCS_PREFIX}/`, DOCS_PREFIX];
  if (options.readToken) app.addHook('onRequest', requireTokenForReads(token, openPaths, openPrefixes));
  registerOpenApi(app, { isOpenRead: (path) => isOpenRead(path, openPaths, openPrefixes) });

  // Before the body is read: a request without the token learns only that it needs one, whatever
  // its body. An `onRequest` hook runs before the body parser; a route's `preValidation` runs after
  // it, and a write without the token whose body was malformed, not JSON, too deep, with a
  // forbidden key or too large was answered 400/415/413 naming its body's problem.
  const requireToken = async (request: FastifyRequest, reply: FastifyReply) => {
    if (isAuthorized(request.headers.authorization, token)) return;
    reply.header('WWW-Authenticate', 'Bearer');
    return reply.status(401).send(errorBody('UNAUTHORIZED', 'this request changes state: send Authorization: Bearer <token>'));
  };
  // A write sent without a body is checked as `{}` (POST /system/resume needs nothing more). A JSON
  // `null` is a body: checked as sent (before, it became `{}` too: resume answered 200 to it).
  const emptyBodyAsObject = async (request: FastifyRequest) => {
    if (request.body === undefined) request.body = {};
  };
  const write = { onRequest: requireToken, preValidation: emptyBodyAsObject };
  const security = [{ bearer: [] }];

  // Added once the OpenAPI plugin is loaded, so the document has every route.
  app.after(() => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    // Live stream of every transition, strategy added or removed and system event (Server-Sent
    // Events); streams never end by themselves: closed so a shutdown can drain.
    const stream = registerEventStream(app, system, systemEvents, view, options.stream, (request) => presentsToken(request, token));
    app.decorate('eventStream', stream.stats);
    app.addHook('preClose', async () => stream.closeAll());

    api.get(
      '/health',
      {
        schema: {
          tags: ['service'],
          summary: 'Liveness: the process answers; the trading state with why, who and since when',
          response: { 200: responses.health },
        },
      },
      async () => {
        // The stored trading state with why, who and since when (ACTIVE with no change: since ever).
        const last = system.tradingStateHistory().at(-1);
        const trading = last
          ? { state: last.to, reason: last.reason, operator: last.operator ?? null, since: toMarketIso(last.at) }
          : { state: system.tradingState, reason: null, operator: null, since: null };
        return {
          status: 'ok' as const,
          strategies: system.ids().length,
          tradingState: system.tradingState,
          trading,
          store: system.store.name,
        };
      },
    );
    api.get(
      '/summary',
      {
        schema: {
          tags: ['service'],
          summary: 'Counts by state and variant, errors, open positions, portfolio slots',
          response: { 200: responses.summary },
        },
      },
      async () => system.summary(),
    );
    api.get(
      '/variants',
      { schema: { tags: ['service'], summary: 'The variants this service runs', response: { 200: responses.variants } } },
      async () => ({ variants: [...variants.values()].map((d) => ({ id: d.id, name: d.name, description: d.description ?? '' })) }),
    );
    api.get(
      '/variants/:id/diagram.:format',
      {
        schema: {
          tags: ['service'],
          summary: "A variant's state diagram: svg (image/svg+xml) or mmd (Mermaid text)",
          params: params.diagram,
          response: errorResponses(404),
        },
      },
      async (request, reply) => {
        const { id, format } = request.params;
        const def = variants.get(id);
        if (!def) throw new HttpError(404, 'UNKNOWN_VARIANT', `unknown variant "${id.slice(0, 64)}"`);
        const machine = createStrategyMachine(def);
        if (format === 'mmd') return reply.type('text/plain; charset=utf-8').send(toMermaid(machine));
        if (format === 'svg') return reply.type('image/svg+xml').send(await diagramSvg(machine));
        throw new HttpError(404, 'NOT_FOUND', `diagram format "${format.slice(0, 16)}" is not mmd or svg`);
      },
    );

    api.get(
      '/strategies',
      { schema: { tags: ['strategies'], summary: 'Every strategy this instance holds', response: { 200: responses.strategies } } },
      async () => {
        return { instance: viewContext.instance ?? null, strategies: system.ids().map(view) };
      },
    );

    api.get(
      '/strategies/:id',
      {
        schema: {
          tags: ['strategies'],
          summary: 'One strategy, its statistics and a page of its audit trail (newest first)',
          params: params.strategy,
          querystring: auditQuery,
          response: { 200: responses.strategy, ...errorResponses(400, 404) },
        },
      },
      async (request) => {
        const { id } = request.params;
        const committed = system.peek(id);
        // limit=0: the strategy and its statistics only; without a trail page a dormant strategy stays dormant.
        // Bad numbers (not a whole number, negative) fall back to the default, 50.
        const asked = Number.parseInt(request.query.limit ?? '50', 10);
        const limit = asked === 0 ? 0 : asked > 0 ? Math.min(500, asked) : 50;
        // Seqs run from 1 without gaps: the newest is the count, and an offset is a `before`.
        const total = committed.snapshot.context.lastRecord?.seq ?? 0;
        const cursor = Number.parseInt(request.query.before ?? '', 10);
        // before=0: older than the first record, so an empty page; a bad one: from the newest.
        const before = cursor >= 0 ? cursor : total + 1 - Math.max(0, Number.parseInt(request.query.offset ?? '0', 10) || 0);
        // Newest first: an operator reads the latest records first; `next` pages back in time. The
        // library takes a whole `before` from 1 (it refuses 0, a negative or an unsafe integer):
        // below 1 is the same empty page as 1, beyond the newest the same page as the newest.
        const bounded = Math.min(Number.MAX_SAFE_INTEGER, Math.max(1, before));
        const page =
          limit > 0 ? await system.readAuditTrail(id, { before: bounded, limit }) : { records: [], next: before > 1 ? before : null };
        const at = clockNow(system);
        // Read after the page: what the strategy committed meanwhile shows in its view, as before.
        const strategy = system.peek(id);
        return {
          strategy: strategyView(strategy, at, viewContext),
          statistics: getStatistics(strategy.snapshot, at),
          audit: { total, offset: Math.max(0, total + 1 - before), limit, records: page.records.reverse(), next: page.next },
        };
      },
    );

    api.post(
      '/strategies',
      {
        ...write,
        schema: {
          tags: ['strategies'],
          summary: 'Create a strategy of a variant',
          security,
          body: bodies.create,
          response: { 201: responses.created, ...errorResponses(400, 401, 409, 503) },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const def = variants.get(body.variant);
        if (!def)
          throw new HttpError(
            400,
            'UNKNOWN_VARIANT',
            `variant "${body.variant}" is not one of ${[...variants.keys()].join(', ')}`,
            'variant',
          );
        const strategy = await system.add(def, { id: body.id, params: body.params ?? {} });
        stream.sync(); // strategyAdded reaches the stream before this answer
        return reply.status(201).send({ strategy: view(strategy.id) });
      },
    );

    api.delete(
      '/strategies/:id',
      {
        ...write,
        schema: {
          tags: ['strategies'],
          summary: 'Remove a flat strategy and its stored history',
          security,
          params: params.strategy,
          response: { 204: responses.empty, ...errorResponses(400, 401, 404, 409, 503) },
        },
      },
      async (request, reply) => {
        strategyOf(request.params.id);
        await system.remove(request.params.id);
        stream.sync();
        return reply.status(204).send();
      },
    );

    api.post(
      '/strategies/:id/events',
      {
        ...write,
        validatorCompiler: passBodyThrough,
        schema: {
          tags: ['strategies'],
          summary: 'Send an event to a strategy',
          description:
            'A malformed event is 400 INVALID_EVENT (with field) and still audited as a rejection; a refused trigger is 409 with its code (NO_EDGE, GUARD_FAILED, ...).',
          security,
          params: params.strategy,
          body: bodies.event,
          response: { 200: responses.event, 400: responses.eventRefused, 409: responses.eventRefused, ...errorResponses(401, 404, 503) },
        },
      },
      async (request, reply) => {
        const strategy = strategyOf(request.params.id);
        const validation = validateEvent(request.body);
        if (!validation.ok) {
          // Still sent, so the rejection is audited like any other trigger; answered as bad input.
          const result = await system.send(strategy.id, request.body);
          return reply.status(400).send({
            ...errorBody('INVALID_EVENT', validation.error.message, validation.error.field),
            result: { ...result, error: undefined },
          });
        }
        const result = await system.send(strategy.id, validation.event);
        if (!result.accepted)
          return reply.status(409).send({ ...errorBody(result.code ?? 'REJECTED', result.reason ?? 'rejected'), result });
        return { result };
      },
    );

    const systemRoute = <B extends z.ZodType>(summary: string, body: B, ok: Record<number, z.ZodType>) => ({
      ...write,
      schema: { tags: ['system'], summary, security, body, response: { ...ok, ...errorResponses(400, 401, 503) } },
    });
    api.post(
      '/system/suspend',
      systemRoute('Suspend every strategy that is READY, ANALYZING or PENDING_ENTRY', bodies.reason, { 200: responses.operation }),
      async (request) => {
        const { reason } = request.body;
        return { result: await system.suspendAll(reason) };
      },
    );
    api.post('/system/resume', systemRoute('Resume every suspended strategy', bodies.empty, { 200: responses.operation }), async () => ({
      result: await system.resumeAll(),
    }));
    api.post(
      '/system/trading-state',
      systemRoute('Set the trading state (stored with why and who)', bodies.tradingState, { 200: responses.tradingChange }),
      async (request) => {
        const { state, reason, operator } = request.body;
        // Answered once stored: a restart keeps it (a store failure is a 503 and changes nothing).
        // The stream hears of it through subscribeTradingState, like another instance's change.
        const change = await system.setTradingState(state, reason, operator ?? 'api');
        return { change };
      },
    );
    api.post(
      '/system/kill-switch',
      systemRoute('Halt trading and flatten every position (202; the outcome follows on the stream)', bodies.killSwitch, {
        202: responses.killSwitch,
      }),
      async (request, reply) => {
        const { reason, operator } = request.body;
        // Any string: the system makes it storable (killSwitchText), as for a programmatic kill switch.
        // 202 once HALTED is stored; flattening can take minutes of retries: its outcome goes to the stream.
        const run = await system.startKillSwitch(reason, operator ?? 'api');
        void run.done.then(
          (result) => systemEvents.emit('event', { type: 'killSwitch', result }),
          (error: unknown) => systemEvents.emit('event', { type: 'killSwitch', error: String(error) }),
        );
        return reply.status(202).send({ status: 'flattening' as const, tradingState: system.tradingState });
      },
    );

    registerMarketRoute(app, system, options.market);
    registerReadiness(app, system, options.market);
    const stopMetrics = registerMetrics(app, system, metrics, stream.stats, [...variants.keys()]);
    app.addHook('onClose', async () => stopMetrics());
    // With private reads, a strategy page is the dashboard for any id: whether an id exists is data.
    registerDashboard(app, system, { revealIds: !options.readToken });
  });

  return app;
}

/** The system clock's now, for views (time in state). */
function clockNow(system: PersistentStrategySystem): number {
  return system.clock.now();
}
