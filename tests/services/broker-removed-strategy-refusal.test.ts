/**
 * A strategy removed while the broker has not yet answered its order's submission, and that
 * submission is then refused. Before, the refusal was sent under the strategy's id to whatever
 * held the id by then: a strategy added again under it, waiting in PENDING_ENTRY on its own entry,
 * took the predecessor's ENTRY_CONDITIONS_FAILED, abandoned its entry (READY) and had its own order
 * cancelled when it was acknowledged. Now a refused submission of a removed strategy answers
 * nothing, as its other rejects do (see `BrokerRouting.removed`). In-memory system, simulated clock,
 * the paper broker with submissions answered later: no mocks.
 */
import { strangle } from '../../machines/variants';
import { PaperBroker, type OrderRequest, type PaperBrokerOptions } from '../../services/broker/broker';
import { startTradingDay } from '../../services/day/tradingDay';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { sendEntry } from '../support/scriptedBroker';

/** The paper broker answering each submission `answerMs` after it is sent; the first one it refuses. */
class SlowAnswerBroker extends PaperBroker {
  submitted = 0;
  constructor(
    private readonly opts: PaperBrokerOptions,
    private readonly answerMs: number,
  ) {
    super(opts);
  }
  override submit(order: OrderRequest): { orderId: string } & Promise<{ orderId: string }> {
    const first = ++this.submitted === 1;
    return new Promise<{ orderId: string }>((resolve, reject) =>
      this.opts.clock.setTimeout(
        () => (first ? reject(new Error('insufficient buying power')) : resolve(super.submit(order))),
        this.answerMs,
      ),
    ) as { orderId: string } & Promise<{ orderId: string }>;
  }
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

test('the refused submission of a removed strategy does not reach the strategy added again under its id', async () => {
  const clock = createSimulatedClock('2026-11-23T10:00:00-05:00');
  const system = createStrategySystem({ clock });
  system.add(strangle, { id: 's', params: { quantity: 2 } });
  const broker = new SlowAnswerBroker({ clock, session: 'refused', latencyMs: 1000 }, 2000);
  const errors: unknown[] = [];
  const day = startTradingDay({ target: system, clock, broker, onError: (e) => errors.push(e) });
  const toPendingEntry = () => {
    sendEntry(system);
  };
  toPendingEntry();
  clock.increment(0);
  await flush();
  expect(broker.submitted).toBe(1); // on its way, not answered yet
  expect(system.send('s', { type: 'EMERGENCY_EXIT', reason: 'operator' }).to).toBe('READY');
  system.remove('s');
  const again = system.add(strangle, { id: 's', params: { quantity: 2 } });
  clock.increment(1000);
  await flush();
  toPendingEntry();
  clock.increment(0);
  await flush();
  expect({ state: again.state, submitted: broker.submitted }).toEqual({ state: 'PENDING_ENTRY', submitted: 2 });
  clock.increment(1000); // the predecessor's submission is refused
  await flush();
  expect(again.state).toBe('PENDING_ENTRY');
  expect(again.getAuditTrail().filter((r) => r.trigger === 'ENTRY_CONDITIONS_FAILED')).toEqual([]);
  clock.increment(1000); // its own entry is acknowledged, then fills
  await flush();
  clock.increment(1000);
  await flush();
  expect({ state: again.state, held: again.getSnapshot().context.position?.quantity }).toEqual({ state: 'POSITION_OPEN', held: 2 });
  expect(errors).toEqual([]);
  day.stop();
  system.stop();
});
