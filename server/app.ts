import { EventEmitter } from 'node:events';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { LoggerOptions } from 'pino';
import { z } from 'zod';
import { createStrategyMachine } from '../machines/createStrategyMachine.js';
import type { StrategyDefinition } from '../machines/definition.js';
import { toMermaid } from '../machines/diagram.js';
import { DuplicateStrategyError, StoreConflictError, StoreUnavailableError, StrategyNotFlatError, UnknownStrategyError } from '../machines/errors.js';
import type { StrategyEvent } from '../machines/events.js';
import { validateEvent } from '../machines/validateEvent.js';
import type { PersistentStrategySystem } from '../services/persistentSystem.js';
import { isAuthorized } from './auth.js';
import { registerDashboard } from './dashboard/routes.js';
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
  /** The running trading day: `GET /market` and each strategy's armed exit come from it. */
  market?: RunningMarket;
}

/** A stable error code and a message naming the problem: every error the API returns. */
export interface ApiError {
  error: { code: string; message: string; field?: string };
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const idSchema = z.string().regex(ID, 'ids are 1-64 letters, digits, "_", "." or "-", starting with a letter or digit');
const reasonSchema = z.string().trim().min(1).max(500);
/** Who asked for a system-wide change; kept in the stored history. */
const operatorSchema = z.string().trim().min(1).max(64);
const bodies = {
  create: z.object({ id: idSchema, variant: z.string().min(1).max(64), params: z.record(z.string(), z.unknown()).optional() }).strict(),
  reason: z.object({ reason: reasonSchema }).strict(),
  empty: z.object({}).strict(),
  tradingState: z.object({ state: z.enum(['ACTIVE', 'REDUCING', 'HALTED']), reason: reasonSchema, operator: operatorSchema.optional() }).strict(),
  killSwitch: z.object({ reason: reasonSchema, operator: operatorSchema.optional() }).strict(),
};

/** Raised inside a handler to answer with a given status and code. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? (issue as { keys?: string[] }).keys?.join(', ') : undefined) || 'body';
  throw new HttpError(400, 'INVALID_REQUEST', `${field}: ${issue.message}`, field);
}

function errorBody(code: string, message: string, field?: string): ApiError {
  return { error: field ? { code, message, field } : { code, message } };
}

/**
 * The HTTP API and dashboard over a persisted strategy system. Reads are open; every write needs
 * `Authorization: Bearer <token>`. Errors are JSON `{ error: { code, message } }`: 400 bad input,
 * 401 no or wrong token, 404 unknown strategy, 409 a rejected trigger (with its reason), 503 the
 * store is unavailable.
 */
export function buildApp(options: AppOptions): FastifyInstance {
  const { system, token } = options;
  const variants = new Map(options.variants.map((def) => [def.id, def]));
  const app = Fastify({
    logger: options.logger === false ? false : (options.logger ?? { level: 'info' }),
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    // A client that never finishes sending cannot hold a connection for ever.
    requestTimeout: 30_000,
    forceCloseConnections: 'idle',
    // Long ids reach the handler, which answers INVALID_ID instead of a bare 414.
    routerOptions: { maxParamLength: 2048 },
  });
  /** System-wide happenings for the live stream (trading state, kill switch). */
  const systemEvents = new EventEmitter();
  const streams = new Set<FastifyReply>();

  const viewContext: ViewContext = { instance: system.store.instanceId ?? null, scheduledExit: (id) => options.market?.day.scheduledExit(id) ?? null };
  const view = (strategy: Parameters<typeof strategyView>[0]) => strategyView(strategy, clockNow(system), viewContext);
  const strategyOf = (id: string) => {
    if (!ID.test(id)) throw new HttpError(400, 'INVALID_ID', `strategy id "${id.slice(0, 80)}" is not a valid id`, 'id');
    return system.get(id); // UnknownStrategyError -> 404
  };

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string; validation?: unknown }, request, reply) => {
    if (error instanceof HttpError) return reply.status(error.status).send(errorBody(error.code, error.message, error.field));
    if (error instanceof UnknownStrategyError) return reply.status(404).send(errorBody('UNKNOWN_STRATEGY', error.message));
    if (error instanceof DuplicateStrategyError) return reply.status(409).send(errorBody('DUPLICATE_STRATEGY', error.message));
    if (error instanceof StrategyNotFlatError) return reply.status(409).send(errorBody('STRATEGY_NOT_FLAT', error.message));
    if (error instanceof StoreConflictError) return reply.status(409).send(errorBody('OWNED_ELSEWHERE', error.message));
    if (error instanceof StoreUnavailableError) return reply.status(503).send(errorBody('STORE_UNAVAILABLE', error.message));
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.status(413).send(errorBody('BODY_TOO_LARGE', `request body is larger than ${options.bodyLimit ?? 65536} bytes`));
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.status(415).send(errorBody('UNSUPPORTED_MEDIA_TYPE', 'send JSON (Content-Type: application/json)'));
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.status(error.statusCode).send(errorBody('INVALID_JSON', `request body: ${error.message}`));
    }
    request.log.error({ err: error }, 'unexpected error');
    return reply.status(500).send(errorBody('INTERNAL', 'internal error; see the service log'));
  });
  app.setNotFoundHandler((request, reply) => reply.status(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0].slice(0, 120)}`)));

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
    systemEvents.emit('event', { type: 'tradingState', change });
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
    systemEvents.emit('event', { type: 'tradingState', change: system.tradingStateHistory().at(-1) });
    return reply.status(202).send({ status: 'flattening', tradingState: system.tradingState });
  });

  // Live stream of every transition (Server-Sent Events).
  app.get('/events', (request, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write(': connected\n\n');
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const unsubscribe = system.subscribe(({ strategyId, record }) => send('transition', { strategyId, record, strategy: system.has(strategyId) ? view(system.get(strategyId)) : null }));
    const onSystem = (event: unknown) => send('system', event);
    systemEvents.on('event', onSystem);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    heartbeat.unref();
    streams.add(reply);
    const end = () => {
      clearInterval(heartbeat);
      unsubscribe();
      systemEvents.off('event', onSystem);
      streams.delete(reply);
    };
    request.raw.on('close', end);
  });
  // Streams never end by themselves: close them so a shutdown can drain.
  app.addHook('preClose', async () => {
    for (const reply of streams) reply.raw.end();
  });

  registerMarketRoute(app, system, options.market);
  registerDashboard(app, system);
  return app;
}

/** The system clock's now, for views (time in state). */
function clockNow(system: PersistentStrategySystem): number {
  return system.clock.now();
}
