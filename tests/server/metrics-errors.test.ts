/**
 * `strategy_lifecycle_errors_total{kind}` counts the service's background errors (the ones it logs
 * as `background` lines: the store's, the trading day's) by class, from a fixed list or `other`:
 * never a message or an id. Every kind's series is there from the first scrape, at 0. Before, the
 * errors were only in the log: nothing to alert on.
 */
import { createSimulatedClock } from '../../services/market/clock';
import { ERROR_KINDS, errorKind } from '../../server/metrics';
import { startService, type RunningService } from '../../server/service';
import { StoreUnavailableError } from '../../machines/errors';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM } from '../support/fixtures';
import { ReportingBroker } from '../support/scriptedBroker';

const TOKEN = 'e'.repeat(40);
const KINDS = [...ERROR_KINDS.map(([kind]) => kind), 'other'];

/** The `strategy_lifecycle_errors_total` samples of a scrape, `{labels}` -> value. */
async function errors(service: RunningService): Promise<Map<string, number>> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^strategy_lifecycle_errors_total(\{[^}]*\}) (\S+)$/.exec(line);
    if (match) found.set(match[1], Number(match[2]));
  }
  return found;
}

test("every kind starts at 0; a trading day's error is counted under its class, with no id in the labels", async () => {
  const tmp = tempDir('sl-metrics-errors-');
  const clock = createSimulatedClock(FRIDAY_11AM);
  const broker = new ReportingBroker({ clock });
  const service = await startService({
    dataDir: tmp.dir,
    port: 0,
    token: TOKEN,
    clock,
    logger: false,
    market: { broker },
  });
  try {
    const before = await errors(service);
    expect([...before.keys()].sort()).toEqual(KINDS.map((kind) => `{kind="${kind}"}`).sort());
    expect([...before.values()].every((v) => v === 0)).toBe(true);

    broker.deliver({ orderId: 'o-1', strategyId: 'lt', kind: 'filled', quantity: 1 }); // no such kind: unreadable
    broker.deliver({ orderId: 'o-2', strategyId: 'lt', kind: 'filled', quantity: 1 });
    const after = await errors(service);
    expect(after.get('{kind="InvalidExecutionReportError"}')).toBe(2);
    expect(after.size).toBe(KINDS.length); // no new series: nothing of the report reaches a label
    expect([...after.entries()].filter(([labels]) => labels !== '{kind="InvalidExecutionReportError"}').every(([, v]) => v === 0)).toBe(
      true,
    );
  } finally {
    await service.close();
    tmp.cleanup();
  }
});

test('the kind is the class from the fixed list, else other', () => {
  expect(errorKind(new StoreUnavailableError('sqlite:x.db', 'disk full'))).toBe('StoreUnavailableError');
  expect(errorKind(Object.assign(new Error('x'), { name: 'StoreCorruptError' }))).toBe('other'); // a name is not a class
  expect(errorKind(new TypeError('boom'))).toBe('other');
  expect(errorKind('a string')).toBe('other');
  for (const [kind, type] of ERROR_KINDS) expect(type.name).toBe(kind); // the label is the class's own name
});
