/**
 * The `serve` settings: `strategy-lifecycle.config.json` (in the working directory, or
 * `--config <path>`), then environment variables, then flags, each overriding the one before.
 * Every key is documented in docs/service.md.
 */
import { STRATEGY_ID_PATTERN, STRATEGY_ID_RULE } from '../../machines/strategyId.js';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { isIsoDate } from '../../services/market/time.js';
import { UsageError } from './args.js';
import { VARIANT_IDS, variantNamed } from './variants.js';
import { InvalidParamsError } from '../../machines/errors.js';
import { checkParams, DEFAULT_PARAMS } from '../../machines/params.js';

/** The file `serve` reads from the working directory when no `--config` is given. */
export const CONFIG_FILE = 'strategy-lifecycle.config.json';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const port = z.number().int().min(0).max(65535);
const strategyId = z.string().regex(STRATEGY_ID_PATTERN, STRATEGY_ID_RULE);

/** The schema of the config file: strict at every level, so a misspelt key is an error. */
export const serveConfigSchema = z
  .object({
    port,
    host: z.string().min(1),
    /** Host names requests may use besides the loopback ones and `host` (a reverse proxy's name). */
    allowedHosts: z.array(z.string().min(1).max(253)).max(64),
    /** Most HTTP connections open at once (default 256). */
    maxConnections: z.number().int().min(1).max(100_000),
    dataDir: z.string().min(1),
    store: z.string().regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'must be "sqlite:<path>" or "postgres://..."'),
    /** PostgreSQL only: this instance's name in leases (default a random UUID per start). */
    instanceId: strategyId,
    /** PostgreSQL only: how long a lease lasts without renewal, in ms (renewed at a third). */
    leaseMs: z.number().int().min(300).max(3_600_000),
    // Trimmed, as STRATEGY_LIFECYCLE_TOKEN and the token file are: HTTP drops a header's trailing
    // whitespace, so a token kept with its space matched no request and refused every write.
    token: z.string().trim().min(16, 'must be at least 16 characters'),
    logLevel: z.enum(LEVELS),
    inspector: z.union([z.boolean(), z.object({ port }).strict()]),
    market: z
      .object({
        enabled: z.boolean(),
        eventCalendar: z.string().min(1),
        seed: z.number().int().min(0),
        simulate: z
          .object({
            from: z.string().refine(isIsoDate, 'must be a date written yyyy-MM-dd'),
            speed: z.number().positive().max(1e9),
          })
          .strict(),
      })
      .partial()
      .strict(),
    broker: z
      .object({
        type: z.literal('paper'),
        latencyMs: z.number().int().min(0).max(3_600_000),
        partialFills: z.boolean(),
        rejectEvery: z.number().int().min(0),
      })
      .partial()
      .strict(),
    strategies: z.array(
      z.object({ id: strategyId, variant: z.enum(VARIANT_IDS), params: z.record(z.string(), z.unknown()).optional() }).strict(),
    ),
  })
  .partial()
  .strict();

/** A validated config file. */
export type ServeConfig = z.infer<typeof serveConfigSchema>;

/** The config key a zod issue is about, written as in the file (`market.simulate.speed`, `strategies[0].variant`). */
function keyOf(issue: z.core.$ZodIssue): string {
  const path = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
  if (issue.code === 'unrecognized_keys') return `${path ? `${path}.` : ''}${issue.keys.join(', ')}`;
  return path || '(the file)';
}

/**
 * Reads and validates a config file: one-line {@link UsageError} naming the file and the key.
 *
 * @example
 * ```ts
 * readServeConfig('strategy-lifecycle.config.json'); // { port: 7400, market: { enabled: true }, ... }
 * ```
 */
export function readServeConfig(path: string): ServeConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new UsageError(
      code === 'ENOENT'
        ? `config file ${path} does not exist`
        : `config file ${path} is not valid JSON: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  const parsed = serveConfigSchema.safeParse(raw);
  if (parsed.success) {
    checkStrategyParams(path, parsed.data.strategies ?? []);
    return parsed.data;
  }
  const issue = parsed.error.issues[0];
  const message = issue.code === 'unrecognized_keys' ? 'is not a known key' : issue.message;
  throw new UsageError(`config file ${path}: ${keyOf(issue)} ${message}`);
}

/**
 * Each configured strategy's params against its variant's schema, before anything starts: a bad
 * one stops `serve` with the config key that holds it, and no strategy of the file is created.
 */
function checkStrategyParams(path: string, strategies: NonNullable<ServeConfig['strategies']>): void {
  const firstIndex = new Map<string, number>();
  strategies.forEach((s, i) => {
    // Before, the second entry of an id was dropped without a word (the first one won).
    const first = firstIndex.get(s.id);
    if (first !== undefined) throw new UsageError(`config file ${path}: strategies[${i}].id "${s.id}" is already strategies[${first}].id`);
    firstIndex.set(s.id, i);
    const def = variantNamed(s.variant);
    try {
      checkParams(s.id, def.id, def.params ?? DEFAULT_PARAMS, s.params);
    } catch (error) {
      if (!(error instanceof InvalidParamsError)) throw error;
      throw new UsageError(`config file ${path}: strategies[${i}].${error.field} ${error.problem}`);
    }
  });
}

/** `--config <path>`, else the file in `cwd` when it exists, else nothing. */
export function loadServeConfig(flag: string | undefined, cwd: string): { config: ServeConfig; source: string | undefined } {
  if (flag !== undefined) {
    if (flag === '') throw new UsageError('--config needs a path');
    return { config: readServeConfig(resolve(cwd, flag)), source: flag };
  }
  const local = resolve(cwd, CONFIG_FILE);
  return existsSync(local) ? { config: readServeConfig(local), source: CONFIG_FILE } : { config: {}, source: undefined };
}

/** Environment variables `serve` reads, each the same as a config key. */
export const ENVIRONMENT: Readonly<Record<string, string>> = Object.freeze({
  STRATEGY_LIFECYCLE_PORT: 'port',
  STRATEGY_LIFECYCLE_HOST: 'host',
  STRATEGY_LIFECYCLE_DATA_DIR: 'dataDir',
  STRATEGY_LIFECYCLE_STORE: 'store',
  STRATEGY_LIFECYCLE_INSTANCE_ID: 'instanceId',
  STRATEGY_LIFECYCLE_MARKET: 'market.enabled',
  STRATEGY_LIFECYCLE_EVENT_CALENDAR: 'market.eventCalendar',
});

/**
 * The config with the environment's values laid over it (the token keeps its own variable,
 * read by the service). Each value is checked like the file's.
 *
 * @example
 * ```ts
 * withEnvironment({ port: 7400 }, { STRATEGY_LIFECYCLE_PORT: '8080' }).port; // 8080
 * ```
 */
export function withEnvironment(config: ServeConfig, env: NodeJS.ProcessEnv): ServeConfig {
  const market = { ...config.market };
  const out: ServeConfig = { ...config, market };
  const get = (name: string) => (env[name] !== undefined && env[name] !== '' ? env[name] : undefined);
  const fail = (name: string, what: string): never => {
    throw new UsageError(`${name} must be ${what}, got ${JSON.stringify(env[name])}`);
  };
  const portValue = get('STRATEGY_LIFECYCLE_PORT');
  if (portValue !== undefined)
    out.port =
      /^\d+$/.test(portValue) && Number(portValue) <= 65535
        ? Number(portValue)
        : fail('STRATEGY_LIFECYCLE_PORT', 'a port number (0-65535)');
  out.host = get('STRATEGY_LIFECYCLE_HOST') ?? out.host;
  out.dataDir = get('STRATEGY_LIFECYCLE_DATA_DIR') ?? out.dataDir;
  const store = get('STRATEGY_LIFECYCLE_STORE');
  if (store !== undefined)
    out.store = serveConfigSchema.shape.store.safeParse(store).success
      ? store
      : fail('STRATEGY_LIFECYCLE_STORE', '"sqlite:<path>" or "postgres://..."');
  const instance = get('STRATEGY_LIFECYCLE_INSTANCE_ID');
  if (instance !== undefined)
    out.instanceId = serveConfigSchema.shape.instanceId.safeParse(instance).success
      ? instance
      : fail('STRATEGY_LIFECYCLE_INSTANCE_ID', '1-64 letters, digits, "_", "." or "-"');
  const driver = get('STRATEGY_LIFECYCLE_MARKET');
  if (driver !== undefined)
    market.enabled = driver === 'on' ? true : driver === 'off' ? false : fail('STRATEGY_LIFECYCLE_MARKET', 'on or off');
  const calendar = get('STRATEGY_LIFECYCLE_EVENT_CALENDAR');
  if (calendar !== undefined) market.eventCalendar = calendar;
  return out;
}

/** A path from the config, relative to the directory the config file is in (or the working directory). */
export function configPath(path: string, base: string): string {
  return isAbsolute(path) ? path : resolve(base, path);
}
