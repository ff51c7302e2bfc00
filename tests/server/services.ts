/** For server tests that start several services: each in its own temp data dir, all closed after each test. */
import { createSimulatedClock } from '../../services/market/clock';
import { startService, type RunningService, type ServiceOptions } from '../../server/service';
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
