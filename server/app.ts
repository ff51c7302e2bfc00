import { EventEmitter } from 'node:events';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { LoggerOptions } from 'pino';
import { z } from 'zod';
import { createStrategyMachine } from '../machines/createStrategyMachine.js';
import type { StrategyDefinition } from '../machines/definition.js';
import { toMermaid } from '../machines/diagram.js';
import type { StrategyEvent } from '../machines/events.js';
import { validateEvent } from '../machines/validateEvent.js';
import type { PersistentStrategySystem } from '../services/persistentSystem.js';
import { isAuthorized } from './auth.js';
import { clientErrorHandler, clip, errorBody, frameworkErrors, HttpError, installErrorHandling } from './errors.js';
import { installJsonBodyParser } from './jsonBody.js';
import { redactedUrl, requireTokenForReads } from './readAccess.js';
import { registerEventStream, type StreamLimits } from './stream.js';
import { dashboardAssets } from './dashboard/assets.js';
import { registerDashboard, STRATEGY_PAGE_PREFIX } from './dashboard/routes.js';
import { registerMarketRoute } from './marketRoute.js';
import type { RunningMarket } from './tradingService.js';
import { diagramSvg } from './diagramSvg.js';
import { getStatistics } from '../services/statistics.js';
import { strategyView, type ViewContext } from './views.js';

/** Options of {@link buildApp}. */
export interface AppOptions {
  system: PersistentStrategySystem;
  variants: readonly StrategyDefinition[];
  token: string;
  /** pino options, or false for no log. */
  logger?: LoggerOptions | false;
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
}

export type { ApiError } from './errors.js';

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const idSchema = z.string().regex(ID, 'ids are 1-64 letters, digits, "_", "." or "-", starting with a letter or digit');
const reasonSchema = z.string().trim().min(1).max(500);
/** Who asked for a system-wide change; kept in the stored history. */
const operatorSchema = z.string().trim().min(1).max(64);
const bodies = {
  // params are checked against the variant by system.add (InvalidParamsError -> 400 INVALID_PARAMS).
  create: z.object({ id: idSchema, variant: z.string().min(1).max(64), params: z.record(z.string(), z.unknown()).optional() }).strict(),
  reason: z.object({ reason: reasonSchema }).strict(),
  empty: z.object({}).strict(),
  tradingState: z.object({ state: z.enum(['ACTIVE', 'REDUCING', 'HALTED']), reason: reasonSchema, operator: operatorSchema.optional() }).strict(),
  killSwitch: z.object({ reason: reasonSchema, operator: operatorSchema.optional() }).strict(),
};

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? (issue as { keys?: string[] }).keys?.join(', ') : undefined) || 'body';
  throw new HttpError(400, 'INVALID_REQUEST', `${field}: ${issue.message}`, field);
}

/**
 * The HTTP API and dashboard over a persisted strategy system. Reads are open unless `readToken`;
 * every write needs `Authorization: Bearer <token>`. Bodies are JSON only (415 otherwise), at most
 * `bodyLimit` bytes and 32 levels deep. Errors are JSON `{ error: { code, message, field? } }`:
 * 400 bad input, 401 no or wrong token, 404 unknown strategy or route, 408 a request not received
 * in time, 409 a rejected trigger (with its reason), 413/414/415 too large, too long, not JSON,
 * 503 the store is unavailable or too many streams.
 */
export function buildApp(options: AppOptions): FastifyInstance {
  const { system, token } = options;
  const variants = new Map(options.variants.map((def) => [def.id, def]));
  const bodyLimit = options.bodyLimit ?? 64 * 1024;
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const logger = options.logger === false ? false : (options.logger ?? { level: 'info' });
  const app = Fastify({
    // URLs are logged cut short and without a ?token= value.
    logger: logger && { ...logger, serializers: { req: (req: FastifyRequest) => ({ method: req.method, url: redactedUrl(req.url), remoteAddress: req.ip }), ...logger.serializers } },
    bodyLimit,
    // A client that never finishes sending cannot hold a connection for ever. Node enforces the
    // timeout only when it checks, every connectionsCheckingInterval (30 s by default), with its
    // own headersTimeout (60 s); with fastify's requestTimeout alone a half-sent body was still
    // open after 45 s. Set on the server itself and checked at least every second, it holds.
    requestTimeout,
    http: { requestTimeout, headersTimeout: requestTimeout, connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(requestTimeout / 4))) },
    clientErrorHandler,
    frameworkErrors: frameworkErrors(bodyLimit),
    forceCloseConnections: 'idle',
    // Ids up to 2048 characters reach the handler, which answers INVALID_ID; longer, 414 URL_TOO_LONG.
    routerOptions: { maxParamLength: 2048 },
  });
  /** System-wide happenings for the live stream (trading state, kill switch). */
  const systemEvents = new EventEmitter();
  // Every trading state change goes to the stream: this instance's, and another instance's as soon
  // as this one learns it (a halt on one instance must show on every instance's dashboard).
  const stopTradingState = system.subscribeTradingState((change) => systemEvents.emit('event', { type: 'tradingState', change }));
  app.addHook('onClose', async () => stopTradingState());

  const viewContext: ViewContext = { instance: system.store.instanceId ?? null, scheduledExit: (id) => options.market?.day.scheduledExit(id) ?? null };
  const view = (strategy: Parameters<typeof strategyView>[0]) => strategyView(strategy, clockNow(system), viewContext);
  const strategyOf = (id: string) => {
    if (!ID.test(id)) throw new HttpError(400, 'INVALID_ID', `strategy id "${clip(id, 64)}" is not a valid id (1-64 letters, digits, "_", "." or "-")`, 'id');
    return system.get(id); // UnknownStrategyError -> 404
  };

  installErrorHandling(app, bodyLimit);
  installJsonBodyParser(app);
  if (options.readToken) app.addHook('onRequest', requireTokenForReads(token, Object.keys(dashboardAssets), [STRATEGY_PAGE_PREFIX]));

  const requireToken = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!isAuthorized(request.headers.authorization, token)) {
      reply.header('WWW-Authenticate', 'Bearer');
      return reply.status(401).send(errorBody('UNAUTHORIZED', 'this request changes state: send Authorization: Bearer <token>'));
    }
  };
  const write = { preHandler: requireToken };

  app.get('/health', async () => {
    // The stored trading state with why, who and since when (ACTIVE with no change: since ever).
    const last = system.tradingStateHistory().at(-1);
    const trading = last ? { state: last.to, reason: last.reason, operator: last.operator ?? null, since: new Date(last.at).toISOString() } : { state: system.tradingState, reason: null, operator: null, since: null };
    return { status: 'ok', strategies: system.ids().length, tradingState: system.tradingState, trading, store: system.store.name };
  });
  app.get('/summary', async () => system.summary());
  app.get('/variants', async () => ({ variants: [...variants.values()].map((d) => ({ id: d.id, name: d.name, description: d.description ?? '' })) }));
  app.get<{ Params: { id: string } }>('/variants/:id/diagram.:format', async (request, reply) => {
    const { id, format } = request.params as { id: string; format: string };
    const def = variants.get(id);
    if (!def) throw new HttpError(404, 'UNKNOWN_VARIANT', `unknown variant "${id.slice(0, 64)}"`);
    const machine = createStrategyMachine(def);
    if (format === 'mmd') return reply.type('text/plain; charset=utf-8').send(toMermaid(machine));
    if (format === 'svg') return reply.type('image/svg+xml').send(diagramSvg(machine));
    throw new HttpError(404, 'NOT_FOUND', `diagram format "${format.slice(0, 16)}" is not mmd or svg`);
  });

  app.get('/strategies', async () => {
    return { instance: viewContext.instance, strategies: system.ids().map((id) => view(system.get(id))) };
  });

  app.get<{ Params: { id: string }; Querystring: { offset?: string; limit?: string } }>('/strategies/:id', async (request) => {
    const strategy = strategyOf(request.params.id);
    const offset = Math.max(0, Number.parseInt(request.query.offset ?? '0', 10) || 0);
    const limit = Math.min(500, Math.max(1, Number.parseInt(request.query.limit ?? '50', 10) || 50));
    const trail = strategy.getAuditTrail();
    // Newest first: an operator reads the latest records first; `offset` pages back in time.
    const end = Math.max(0, trail.length - offset);
    const records = trail.slice(Math.max(0, end - limit), end).reverse();
    const at = clockNow(system);
    return { strategy: view(strategy), statistics: getStatistics(strategy, at), audit: { total: trail.length, offset, limit, records } };
  });

  app.post('/strategies', write, async (request, reply) => {
    const body = parse(bodies.create, request.body);
    const def = variants.get(body.variant);
    if (!def) throw new HttpError(400, 'UNKNOWN_VARIANT', `variant "${body.variant}" is not one of ${[...variants.keys()].join(', ')}`, 'variant');
    const strategy = await system.add(def, { id: body.id, params: body.params ?? {} });
    return reply.status(201).send({ strategy: view(strategy) });
  });

  app.delete<{ Params: { id: string } }>('/strategies/:id', write, async (request, reply) => {
    strategyOf(request.params.id);
    await system.remove(request.params.id);
    return reply.status(204).send();
  });

  app.post<{ Params: { id: string } }>('/strategies/:id/events', write, async (request, reply) => {
    const strategy = strategyOf(request.params.id);
    const validation = validateEvent(request.body);
    if (!validation.ok) {
      // Still sent, so the rejection is audited like any other trigger; answered as bad input.
      const result = await system.send(strategy.id, request.body as StrategyEvent);
      return reply.status(400).send({ ...errorBody('INVALID_EVENT', validation.error.message, validation.error.field), result: { ...result, error: undefined } });
    }
    const result = await system.send(strategy.id, validation.event);
    if (!result.accepted) return reply.status(409).send({ ...errorBody(result.code ?? 'REJECTED', result.reason ?? 'rejected'), result });
    return { result };
  });

  app.post('/system/suspend', write, async (request) => {
    const { reason } = parse(bodies.reason, request.body);
    return { result: await system.suspendAll(reason) };
  });
  app.post('/system/resume', write, async (request) => {
    parse(bodies.empty, request.body);
    return { result: await system.resumeAll() };
  });
  app.post('/system/trading-state', write, async (request) => {
    const { state, reason, operator } = parse(bodies.tradingState, request.body);
    // Answered once stored: a restart keeps it (a store failure is a 503 and changes nothing).
    const change = await system.setTradingState(state, reason, operator ?? 'api');
    return { change };
  });
  app.post('/system/kill-switch', write, async (request, reply) => {
    const { reason, operator } = parse(bodies.killSwitch, request.body);
    // 202 once HALTED is stored; flattening can take minutes of retries: its outcome goes to the stream.
    const run = await system.startKillSwitch(reason, operator ?? 'api');
    void run.done.then(
      (result) => systemEvents.emit('event', { type: 'killSwitch', result }),
      (error: unknown) => systemEvents.emit('event', { type: 'killSwitch', error: String(error) }),
    );
    return reply.status(202).send({ status: 'flattening', tradingState: system.tradingState });
  });

  // Live stream of every transition (Server-Sent Events); streams never end by themselves:
  // closed so a shutdown can drain.
  const stream = registerEventStream(app, system, systemEvents, view, options.stream);
  app.decorate('eventStream', stream.stats);
  app.addHook('preClose', async () => stream.closeAll());

  registerMarketRoute(app, system, options.market);
  // With private reads, a strategy page is the dashboard for any id: whether an id exists is data.
  registerDashboard(app, system, { revealIds: !options.readToken });
  return app;
}

/** The system clock's now, for views (time in state). */
function clockNow(system: PersistentStrategySystem): number {
  return system.clock.now();
}
