/**
 * Closing the metrics stops what Node's default metrics started process-wide (prom-client's
 * event-loop delay histogram and GC observer). Left running, each closed service stayed reachable
 * from that observer for the life of the process: a jest worker kept every server test file's
 * whole module graph, grew by megabytes a file, and was force-exited at the end of the suite
 * because tearing that heap down took longer than jest waits.
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

test('metrics.close() leaves nothing process-wide holding the registry; a second close is harmless', async () => {
  const ref = (() => {
    const metrics = createMetrics();
    metrics.close();
    metrics.close();
    return new WeakRef(metrics.registry);
  })();
  expect(await survivesGc(ref)).toBe(false);
});

test('the registry still answers after close(), with the default metrics in it', async () => {
  const metrics = createMetrics();
  metrics.close();
  const text = await metrics.registry.metrics();
  expect(text).toContain('nodejs_eventloop_lag_seconds');
  expect(text).toContain('nodejs_gc_duration_seconds');
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
