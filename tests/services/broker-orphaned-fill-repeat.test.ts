/**
 * A broker may deliver a report twice (a reconnect replays its last reports). For an order of a
 * removed strategy, each report became an UntrackedFillError: one fill of 2 contracts was told as
 * two, "4 contracts at the broker with no strategy tracking them" to an operator reconciling the
 * account. Now a fill report of an orphaned order is told once: a repeat is known by its report id,
 * or, from a broker that gives none, by the order's cumulative quantity (nothing fills after the
 * final fill; a partial never reaches the order's quantity). A fill the removal took out of the
 * retry queue counts as told too. In-memory system, simulated clock, the paper broker (its cancel
 * taking time to reach it, each report delivered again 3 s later): no mocks.
 */
import { UntrackedFillError } from '../../index';
import { strangle } from '../../machines/variants';
import { PaperBroker, type ExecutionReport, type PaperBrokerOptions } from '../../services/broker/broker';
import { startTradingDay } from '../../services/day/tradingDay';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FlakyMemoryStore } from '../support/flakyStore';
import { sendEntry } from '../support/scriptedBroker';

/** The paper broker delivering each report twice, the second time 3 s later (with or without its report id), its cancels taking 5 s. */
class RepeatingBroker extends PaperBroker {
  constructor(
    private readonly opts: PaperBrokerOptions,
    private readonly withReportId: boolean,
  ) {
    super(opts);
  }
  override onExecution(listener: (report: ExecutionReport) => void): () => void {
    return super.onExecution((report) => {
      const { reportId, ...rest } = report;
      const sent = this.withReportId ? { ...rest, reportId } : rest;
      listener({ ...sent });
      // The repeat, 3 s later: a reconnect replaying the broker's last reports.
      this.opts.clock.setTimeout(() => listener({ ...sent }), 3000);
    });
  }
  override cancel(orderId: string): Promise<void> {
    return new Promise<void>((resolve) => this.opts.clock.setTimeout(() => resolve(), 5000)).then(() => super.cancel(orderId));
  }
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** A strangle of `quantity` ENTERING on Monday 10:00 ET, emergency-exited and removed before its entry's reports (1 s apart) arrive. */
async function removedBeforeReports(
  broker: (clock: ReturnType<typeof createSimulatedClock>) => PaperBroker,
  quantity: number,
  storeDown = false,
) {
  const clock = createSimulatedClock('2026-11-23T10:00:00-05:00');
  const store = new FlakyMemoryStore();
  const system = createStrategySystem({ clock, store });
  system.add(strangle, { id: 's', params: { quantity } });
  const errors: unknown[] = [];
  const day = startTradingDay({ target: system, clock, broker: broker(clock), onError: (e) => errors.push(e) });
  sendEntry(system);
  clock.increment(0);
  await flush();
  expect(system.get('s').state).toBe('ENTERING');
  if (storeDown) {
    // The fill (and its repeat) wait in the retry queue; the removal takes them out.
    store.full = true;
    clock.increment(1000);
    await flush();
    store.full = false;
  }
  expect(system.send('s', { type: 'EMERGENCY_EXIT', reason: 'operator' }).to).toBe('READY');
  clock.increment(0);
  await flush();
  system.remove('s');
  const again = system.add(strangle, { id: 's', params: { quantity } });
  for (let i = 0; i < 10; i++) {
    clock.increment(1000);
    await flush();
  }
  day.stop();
  system.stop();
  const told = errors.map((e) => (e instanceof UntrackedFillError ? [e.orderId, e.quantity] : String(e)));
  return { told, state: again.state };
}

test.each([
  ['with its report id', true],
  ['without a report id', false],
])('a fill of a removed strategy’s order delivered twice (%s) is told once', async (_name, withReportId) => {
  const result = await removedBeforeReports((clock) => new RepeatingBroker({ clock, session: 'twice', latencyMs: 1000 }, withReportId), 2);
  expect(result).toEqual({ told: [['paper-twice-1', 2]], state: 'INITIALIZING' });
});

test.each([
  ['with its report id', true],
  ['without a report id', false],
])('a partial fill and the final fill, each delivered twice (%s), are told once each', async (_name, withReportId) => {
  const result = await removedBeforeReports(
    (clock) =>
      new RepeatingBroker(
        { clock, session: 'parts', latencyMs: 1000, script: () => [{ kind: 'partial', quantity: 2 }, { kind: 'fill' }] },
        withReportId,
      ),
    3,
  );
  expect(result).toEqual({
    told: [
      ['paper-parts-1', 2],
      ['paper-parts-1', 1],
    ],
    state: 'INITIALIZING',
  });
});

test('a fill the removal took out of the retry queue is not told again when the broker repeats it', async () => {
  const result = await removedBeforeReports((clock) => new RepeatingBroker({ clock, session: 'queued', latencyMs: 1000 }, true), 2, true);
  expect(result).toEqual({ told: [['paper-queued-1', 2]], state: 'INITIALIZING' });
});

test('a partial fill the removal took out of the retry queue is told, then the final fill; neither again on their repeats', async () => {
  const result = await removedBeforeReports(
    (clock) =>
      new RepeatingBroker(
        { clock, session: 'queued-parts', latencyMs: 1000, script: () => [{ kind: 'partial', quantity: 2 }, { kind: 'fill' }] },
        true,
      ),
    3,
    true,
  );
  expect(result).toEqual({
    told: [
      ['paper-queued-parts-1', 2],
      ['paper-queued-parts-1', 1],
    ],
    state: 'INITIALIZING',
  });
});
