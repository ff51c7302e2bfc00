/**
 * The setups server tests share: services each in its own temp data dir, closed after each test
 * (`serviceFixture`) or after the file's tests (`useService`), and a SQLite-backed system with apps
 * built over it (`useSystemApps`).
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../../server/app';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { DEFAULT_VARIANTS, startService, type RunningService, type ServiceOptions } from '../../server/service';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM } from '../support/fixtures';

/**
 * Registers an `afterEach` that closes every service started in the test and removes its data
 * dir, and returns `start(options)`: a hand-fed service (`market: false`) on loopback with `token`,
 * on a simulated clock at {@link FRIDAY_11AM} unless `options` say otherwise.
 */
export function serviceFixture(prefix: string, token: string): (options?: Partial<ServiceOptions>) => Promise<RunningService> {
  let running: Array<{ service: RunningService; cleanup: () => void }> = [];
  afterEach(async () => {
    for (const { service, cleanup } of running) {
      await service.close();
      cleanup();
    }
    running = [];
  });
  return async (options = {}) => {
    const tmp = tempDir(prefix);
    const service = await startService({
      dataDir: tmp.dir,
      port: 0,
      logger: false,
      token,
      clock: createSimulatedClock(FRIDAY_11AM),
      market: false,
      ...options,
    });
    running.push({ service, cleanup: tmp.cleanup });
    return service;
  };
}

/**
 * A service started before the file's tests (in a data directory named with `prefix`, on port 0,
 * no logger, a simulated clock at FRIDAY_11AM unless `options` say otherwise) and closed after them.
 */
export function useService(prefix: string, options: ServiceOptions): { readonly service: RunningService } {
  let service: RunningService | undefined;
  let cleanup: () => void = () => undefined;
  beforeAll(async () => {
    const tmp = tempDir(prefix);
    cleanup = tmp.cleanup;
    service = await startService({ dataDir: tmp.dir, port: 0, logger: false, clock: createSimulatedClock(FRIDAY_11AM), ...options });
  });
  afterAll(async () => {
    await service?.close();
    cleanup();
  });
  return {
    get service(): RunningService {
      if (!service) throw new Error('the service starts in beforeAll');
      return service;
    },
  };
}

/**
 * A persistent system on SQLite (the default variants, a simulated clock at FRIDAY_11AM) opened
 * before the file's tests; `app(options)` builds an app over it. Both are closed after the tests.
 */
export function useSystemApps(prefix: string): { app(options: Omit<AppOptions, 'system' | 'variants'>): FastifyInstance } {
  let system: PersistentStrategySystem | undefined;
  let cleanup: () => void = () => undefined;
  const apps: FastifyInstance[] = [];
  beforeAll(async () => {
    const tmp = tempDir(prefix);
    cleanup = tmp.cleanup;
    system = await openStrategySystem({
      store: new SqliteStore(join(tmp.dir, 'strategy-lifecycle.db')),
      variants: DEFAULT_VARIANTS,
      clock: createSimulatedClock(FRIDAY_11AM),
    });
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await system?.close();
    cleanup();
  });
  return {
    app(options) {
      if (!system) throw new Error('the system opens in beforeAll');
      const built = buildApp({ system, variants: DEFAULT_VARIANTS, ...options });
      apps.push(built);
      return built;
    },
  };
}
