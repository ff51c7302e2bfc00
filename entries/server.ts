/**
 * `strategy-lifecycle/server`: the HTTP service (fastify) with its dashboard, trading day and
 * inspector bridge, as `strategy-lifecycle serve` runs it. Re-exports only.
 */
export { buildApp } from '../server/app.js';
export type { ApiError, AppOptions, ServiceLoggerOptions } from '../server/app.js';
export type { MarketView } from '../server/marketRoute.js';
export { DEFAULT_VARIANTS, startService } from '../server/service.js';
export type { RunningService, ServiceOptions } from '../server/service.js';
export type { InitialStrategy, MarketOptions, RunningMarket } from '../server/tradingService.js';
export type { ScheduledItem, StrategyView } from '../server/views.js';
