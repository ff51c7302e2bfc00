/** `serve`'s settings resolved from the config file, the environment and the flags, in that order. */
import { dirname, resolve } from 'node:path';
import { DateTime } from 'luxon';
import { TOKEN_ENV } from '../../server/auth.js';
import type { RunningService, ServiceOptions } from '../../server/service.js';
import type { MarketOptions } from '../../server/tradingService.js';
import { PostgresStore } from '../../services/store/postgresStore.js';
import { SqliteStore } from '../../services/store/sqliteStore.js';
import type { StrategyStore } from '../../services/store/types.js';
import { MARKET_ZONE } from '../../services/market/time.js';
import { PROGRAM, UsageError, isoDate } from './args.js';
import { configPath, loadServeConfig, serveConfigSchema, withEnvironment } from './serveConfig.js';

/** The flags `serve` adds for the config, the store and the market driver. */
export const MARKET_FLAGS = {
  config: { type: 'string' },
  store: { type: 'string' },
  'instance-id': { type: 'string' },
  'lease-ms': { type: 'string' },
  'no-market': { type: 'boolean' },
  simulate: { type: 'boolean' },
  from: { type: 'string' },
  speed: { type: 'string' },
  'event-calendar': { type: 'string' },
} as const;

type Flags = Partial<
  Record<'config' | 'store' | 'instance-id' | 'lease-ms' | 'from' | 'speed' | 'event-calendar', string> &
    Record<'no-market' | 'simulate', boolean>
>;

/** What `serve` runs with, besides what its own flags give directly. */
export interface ServeSettings {
  dataDir?: string;
  host?: string;
  port?: number;
  inspect?: boolean;
  inspectPort?: number;
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Passed to startService. */
  service: Pick<ServiceOptions, 'store' | 'token' | 'market' | 'strategies'>;
  configSource: string | undefined;
  storeName: string | undefined;
}

/** How instances sharing a PostgreSQL database tell themselves apart and hand strategies over. */
export interface InstanceSettings {
  /** This instance's name in leases (shown by `GET /strategies` and the dashboard). */
  instanceId?: string;
  /** Lease length in ms (default 15 s): a dead instance's strategies move within about this. */
  leaseMs?: number;
}

/**
 * A store from `sqlite:<path>` or `postgres://...`.
 * @throws {UsageError} for another scheme, or instance settings with a SQLite store (one process owns a file).
 */
export function storeFromUrl(url: string, base: string, instance: InstanceSettings = {}): StrategyStore {
  if (url.startsWith('sqlite:')) {
    if (instance.instanceId !== undefined || instance.leaseMs !== undefined)
      throw new UsageError(
        `${instance.instanceId !== undefined ? '--instance-id' : '--lease-ms'} is for a postgres:// store (a SQLite file has one instance)`,
      );
    return new SqliteStore(configPath(url.slice('sqlite:'.length), base));
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    // Not echoed: the URL may hold a password.
    if (!URL.canParse(url)) throw new UsageError('--store is not a valid postgres:// URL (check its user, password, host and port parts)');
    return new PostgresStore({ connectionString: url, ...instance });
  }
  throw new UsageError(`--store must be "sqlite:<path>" or "postgres://...", got ${JSON.stringify(url)}`);
}

/**
 * Resolves the config file (`--config` or `./strategy-lifecycle.config.json`), the environment
 * and the flags into `serve`'s settings; every bad value is a one-line {@link UsageError}.
 *
 * @example
 * ```ts
 * resolveServe({ simulate: true, from: '2026-11-23', speed: '600' }, process.env, process.cwd()).service.market;
 * // { simulate: { from: '2026-11-23', speed: 600 }, ... }
 * ```
 */
export function resolveServe(flags: Flags, env: NodeJS.ProcessEnv, cwd: string): ServeSettings {
  const { config: file, source } = loadServeConfig(flags.config, cwd);
  const config = withEnvironment(file, env);
  // Paths in a config file are relative to the file; paths from flags or variables to the working directory.
  const fileBase = source ? dirname(resolve(cwd, source)) : cwd;
  const storeUrl = flags.store ?? config.store;
  if (flags.store !== undefined && !serveConfigSchema.shape.store.safeParse(flags.store).success)
    throw new UsageError(`--store must be "sqlite:<path>" or "postgres://...", got ${JSON.stringify(flags.store)}`);
  const instance: InstanceSettings = {};
  const instanceId = flags['instance-id'] ?? config.instanceId;
  if (instanceId !== undefined) {
    if (!serveConfigSchema.shape.instanceId.safeParse(instanceId).success)
      throw new UsageError(`--instance-id must be 1-64 letters, digits, "_", "." or "-", got ${JSON.stringify(instanceId)}`);
    instance.instanceId = instanceId;
  }
  const leaseMs = flags['lease-ms'] !== undefined ? Number(flags['lease-ms']) : config.leaseMs;
  if (leaseMs !== undefined) {
    if (!serveConfigSchema.shape.leaseMs.safeParse(leaseMs).success)
      throw new UsageError(
        `--lease-ms must be a whole number of ms from 300 to 3600000, got ${JSON.stringify(flags['lease-ms'] ?? leaseMs)}`,
      );
    instance.leaseMs = leaseMs;
  }
  if ((instance.instanceId !== undefined || instance.leaseMs !== undefined) && !storeUrl?.startsWith('postgres')) {
    // Named where the operator set it: the flag, the environment variable or the config key.
    const setting =
      instance.instanceId !== undefined
        ? flags['instance-id'] !== undefined
          ? '--instance-id'
          : env.STRATEGY_LIFECYCLE_INSTANCE_ID !== undefined
            ? 'STRATEGY_LIFECYCLE_INSTANCE_ID'
            : `instanceId (in ${source ?? 'the config'})`
        : flags['lease-ms'] !== undefined
          ? '--lease-ms'
          : `leaseMs (in ${source ?? 'the config'})`;
    throw new UsageError(`${setting} is for a postgres:// store (a SQLite file has one instance)`);
  }
  const market = config.market ?? {};
  const enabled = flags['no-market'] ? false : (market.enabled ?? true);
  // Named where the operator turned the driver off: before, a config file's `"enabled": false` or
  // STRATEGY_LIFECYCLE_MARKET=off was reported as a --no-market that was never passed.
  const turnedOff = flags['no-market']
    ? 'drop --no-market'
    : env.STRATEGY_LIFECYCLE_MARKET === 'off'
      ? 'STRATEGY_LIFECYCLE_MARKET=off turns it off'
      : `market.enabled is false in ${source ?? 'the config'}`;
  if (!enabled && flags.simulate) throw new UsageError(`--simulate needs the market driver: ${turnedOff}`);
  // The calendar feeds the market driver: with --no-market it would be silently ignored.
  if (!enabled && flags['event-calendar'] !== undefined) throw new UsageError(`--event-calendar needs the market driver: ${turnedOff}`);
  // An empty one (an unset shell variable) would run without FOMC and earnings notices, the config's calendar dropped too.
  if (flags['event-calendar'] === '') throw new UsageError('--event-calendar needs a path');
  let simulate = market.simulate;
  if (flags.simulate || flags.from !== undefined || flags.speed !== undefined) {
    if (!flags.simulate) throw new UsageError(`${flags.from !== undefined ? '--from' : '--speed'} is for --simulate`);
    const speed = flags.speed === undefined ? (simulate?.speed ?? 600) : Number(flags.speed);
    if (!(speed > 0 && speed <= 1e9))
      throw new UsageError(`--speed must be a number > 0 (simulated ms per real ms, at most 1e9), got ${JSON.stringify(flags.speed)}`);
    simulate = { from: flags.from !== undefined || !simulate ? isoDate('--from', flags.from) : simulate.from, speed };
  }
  const calendar = flags['event-calendar'] ?? market.eventCalendar;
  const calendarBase = flags['event-calendar'] !== undefined || env.STRATEGY_LIFECYCLE_EVENT_CALENDAR ? cwd : fileBase;
  const marketOptions: MarketOptions | false = enabled
    ? {
        ...(simulate ? { simulate } : {}),
        ...(calendar ? { eventCalendar: configPath(calendar, calendarBase) } : {}),
        ...(market.seed !== undefined ? { seed: market.seed } : {}),
        ...(config.broker ? { paper: { ...config.broker } } : {}),
      }
    : false;
  const inspector = config.inspector;
  return {
    ...(config.dataDir !== undefined ? { dataDir: configPath(config.dataDir, env.STRATEGY_LIFECYCLE_DATA_DIR ? cwd : fileBase) } : {}),
    ...(config.host !== undefined ? { host: config.host } : {}),
    ...(config.port !== undefined ? { port: config.port } : {}),
    ...(config.logLevel !== undefined ? { logLevel: config.logLevel } : {}),
    ...(inspector !== undefined
      ? { inspect: inspector !== false, ...(typeof inspector === 'object' ? { inspectPort: inspector.port } : {}) }
      : {}),
    service: {
      ...(storeUrl
        ? { store: storeFromUrl(storeUrl, flags.store !== undefined || env.STRATEGY_LIFECYCLE_STORE ? cwd : fileBase, instance) }
        : {}),
      // The variable beats the file: the service reads it itself when no token is passed.
      ...(config.token && !env[TOKEN_ENV] ? { token: config.token } : {}),
      market: marketOptions,
      ...(config.strategies ? { strategies: config.strategies } : {}),
      ...(config.allowedHosts ? { allowedHosts: config.allowedHosts } : {}),
      ...(config.maxConnections !== undefined ? { maxConnections: config.maxConnections } : {}),
    },
    configSource: source,
    storeName: storeUrl,
  };
}

const nyTime = (at: number) => DateTime.fromMillis(at, { zone: MARKET_ZONE }).toFormat("ccc yyyy-MM-dd HH:mm 'ET'");

/** The startup lines about the config and the market driver. */
export function marketLines(service: RunningService, settings: ServeSettings): string[] {
  const lines: string[] = [];
  if (settings.configSource) lines.push(`config: ${settings.configSource}`);
  if (settings.storeName) {
    const { store } = service.system;
    lines.push(`store: ${store.name}${store.instanceId ? ` (instance ${store.instanceId}, lease ${store.leaseMs ?? 15_000} ms)` : ''}`);
  }
  const market = service.market;
  if (!market) return [...lines, 'market: off: events are only what is sent to the API'];
  const status = market.day.status();
  const next = status.nextBell ? `, next ${status.nextBell.type} ${nyTime(status.nextBell.at)}` : '';
  const simulate = typeof settings.service.market === 'object' ? settings.service.market.simulate : undefined;
  lines.push(`market: ${status.phase}${next}; ${status.strategies} strategies driven, paper broker`);
  if (simulate) {
    // Restarted over its own data, the clock resumes where the records end, not at --from.
    const from =
      market.resumedAt === undefined ? simulate.from : `${nyTime(market.resumedAt)} (after the stored records; --from ${simulate.from})`;
    lines.push(`  simulated clock from ${from} at ${simulate.speed}x real time (${PROGRAM} status shows the stored result)`);
  }
  return lines;
}
