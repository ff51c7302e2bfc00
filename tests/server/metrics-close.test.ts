/**
 * Node's default metrics start process-wide collectors (prom-client's event-loop delay histogram
 * and GC observer) that cannot be stopped and keep the registry they fill reachable. Filling each
 * service's own registry, they kept every closed service reachable for the life of the process: a
 * jest worker kept every server test file's whole module graph, grew by megabytes a file, and was
 * force-exited at the end of the suite because tearing that heap down took longer than jest waits.
 * They are now collected once per process into a registry of their own, shared by every service's.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createSimulatedClock } from '../../services/market/clock';
import { createMetrics } from '../../server/metrics';
import { startService } from '../../server/service';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM } from '../support/fixtures';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Whether `ref`'s target survives full collections over a few turns of the event loop (V8 keeps a
 * WeakRef's target for the job that made it; a closed server's handle is freed a turn or two later).
 */
async function survivesGc(ref: WeakRef<object>): Promise<boolean> {
  for (let turn = 0; turn < 20; turn++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    gc();
    if (ref.deref() === undefined) return false;
  }
  return true;
}

test('a dropped registry is collected: nothing process-wide holds it', async () => {
  const ref = (() => {
    const metrics = createMetrics();
    return new WeakRef(metrics.registry);
  })();
  expect(await survivesGc(ref)).toBe(false);
});

test('every registry has the default metrics, collected once for the process (the same metric objects)', async () => {
  const a = createMetrics();
  const b = createMetrics();
  for (const metrics of [a, b]) {
    const text = await metrics.registry.metrics();
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toContain('nodejs_gc_duration_seconds');
    expect(text).toContain('strategy_lifecycle_store_commit_seconds');
  }
  expect(a.registry.getSingleMetric('nodejs_eventloop_lag_seconds')).toBe(b.registry.getSingleMetric('nodejs_eventloop_lag_seconds'));
  // Each registry's own metrics stay its own.
  expect(a.registry.getSingleMetric('strategy_lifecycle_store_commit_seconds')).not.toBe(
    b.registry.getSingleMetric('strategy_lifecycle_store_commit_seconds'),
  );
});

test('a closed service leaves nothing process-wide holding its strategy system', async () => {
  const tmp = tempDir('sl-metrics-close-');
  try {
    const ref = await (async () => {
      const service = await startService({
        dataDir: tmp.dir,
        port: 0,
        logger: false,
        token: 'c'.repeat(40),
        clock: createSimulatedClock(FRIDAY_11AM),
        market: false,
      });
      // A scrape runs every collector once, the strategy gauges (which read the system) included.
      // (Injected: a real connection's client side would hold the system's stream for a while.)
      expect((await service.app.inject({ url: '/metrics' })).statusCode).toBe(200);
      await service.close();
      return new WeakRef(service.system);
    })();
    expect(await survivesGc(ref)).toBe(false);
  } finally {
    tmp.cleanup();
  }
});
