import type { FastifyInstance } from 'fastify';
import type { PersistentStrategySystem } from '../services/runtime/persistentSystem.js';
import { errorBody } from './errors.js';
import { apiErrorSchema, responses } from './schemas.js';
import type { RunningMarket } from './tradingService.js';

/** How long the store has to answer a readiness read before the probe says not ready. */
const STORE_PROBE_MS = 2000;

/**
 * `GET /ready`: 200 only when the store answers a read (it is open and reachable), can commit
 * (after a failed commit, a write that changes nothing must succeed) and, when the
 * market driver runs, its clock is moving; otherwise 503 `NOT_READY` naming what is not. `/health`
 * stays the liveness probe (the process answers): a load balancer sends traffic on `/ready`, an
 * orchestrator restarts on `/health`.
 *
 * @example
 * ```ts
 * registerReadiness(app, system, service.market);
 * // curl -i http://127.0.0.1:7400/ready -> 200 { "status": "ready", "store": "sqlite:...", "clock": "running" }
 * ```
 */
export function registerReadiness(app: FastifyInstance, system: PersistentStrategySystem, market: RunningMarket | undefined): void {
  app.get(
    '/ready',
    {
      schema: {
        tags: ['service'],
        summary: 'Readiness: the store is open and the market clock runs',
        response: { 200: responses.ready, 503: apiErrorSchema },
      },
    },
    async (_request, reply) => {
      const problem =
        (await storeProblem(system)) ??
        (market && !market.clockRunning() ? 'the market driver is stopped or its clock stopped moving' : null);
      if (problem) return reply.status(503).header('Retry-After', '5').send(errorBody('NOT_READY', problem));
      return { status: 'ready' as const, store: system.store.name, clock: market ? ('running' as const) : ('no driver' as const) };
    },
  );
}

/** Why the store is not ready, or null: a cheap read (the trading state) must answer in time. */
async function storeProblem(system: PersistentStrategySystem): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`the store did not answer within ${STORE_PROBE_MS} ms`), STORE_PROBE_MS);
  });
  try {
    const read = system.store.loadSystemState().then(
      async () => {
        try {
          await system.store.checkWritable?.();
          return null;
        } catch (error) {
          return `the store cannot commit: ${error instanceof Error ? error.message.slice(0, 200) : String(error)}`;
        }
      },
      (error: unknown) => `the store is not available: ${error instanceof Error ? error.message.slice(0, 200) : String(error)}`,
    );
    return await Promise.race([read, late]);
  } finally {
    clearTimeout(timer);
  }
}
