/**
 * The broker routing checks every execution report the broker passes to its listener. A report
 * with an unknown `kind`, a `quantity` that is not a finite non-negative number, no `orderId` or
 * `strategyId`, or that is not an object at all is refused: an InvalidExecutionReportError naming
 * the field and the value goes to `onError`, the strategy is not touched, and nothing is thrown
 * back into the broker.
 *
 * Before, a report of kind 'bogus' was applied as ORDER_PARTIALLY_FILLED (the position became 1,
 * nothing reported), a string quantity made a concatenated fill total ('03'), and a null report
 * threw a TypeError back into the broker's emit (from a broker's timer callback, an uncaught
 * exception).
 */
import { handBroker } from '../support/handBroker';
import { lt112 } from '../../machines/variants';
import { InvalidExecutionReportError } from '../../machines/errors';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { startBrokerRouting } from '../../services/runtime/routing/brokerRouting';
import { checkExecutionReport } from '../../services/runtime/routing/executionReport';
import { wantsOrder } from '../../services/runtime/routing/orderIntent';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';

/** Strategy `a` in ENTERING, its entry order o1 acknowledged; `emit` passes anything to the routing's listener. */
function setup() {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = createStrategySystem({ clock });
  system.add(lt112, { id: 'a' });
  const { broker, emit } = handBroker();
  const errors: unknown[] = [];
  const routing = startBrokerRouting({ broker, target: system, clock, onError: (e) => errors.push(e) });
  system.send('a', { type: 'MARKET_OPEN' });
  system.send('a', { type: 'TIME_WINDOW_START' });
  system.send('a', VARIANTS[1].entry);
  expect(wantsOrder(system.get('a').state)).toBe(true);
  routing.submitFor(system.get('a')); // the broker acknowledges o1 at once: ORDER_SUBMITTED
  expect(system.get('a').state).toBe('ENTERING');
  const strategy = () => system.get('a');
  return { strategy, clock, emit: (r: unknown) => emit(r), errors };
}

const position = (s: { getSnapshot(): { context: { position?: { quantity: number } | null } } }) =>
  s.getSnapshot().context.position?.quantity ?? 0;

test('a report of an unknown kind changes no position and is reported to onError, naming the field and value', () => {
  const { strategy, emit, errors } = setup();
  const records = strategy().getAuditTrail().length;
  emit({ orderId: 'o1', strategyId: 'a', kind: 'bogus', quantity: 1 });
  expect(position(strategy())).toBe(0);
  expect(strategy().getAuditTrail()).toHaveLength(records);
  expect(strategy().state).toBe('ENTERING');
  expect(errors).toHaveLength(1);
  expect(errors[0]).toBeInstanceOf(InvalidExecutionReportError);
  expect(errors[0]).toMatchObject({ field: 'kind' });
  expect((errors[0] as Error).message).toContain('"bogus"');
});

test.each([
  ['null', null, 'report'],
  ['a string', 'fill', 'report'],
  ['a number', 42, 'report'],
  ['an array', [], 'report'],
  ['no orderId', { strategyId: 'a', kind: 'fill', quantity: 1 }, 'orderId'],
  ['no strategyId', { orderId: 'o1', kind: 'fill', quantity: 1 }, 'strategyId'],
  ['a string quantity', { orderId: 'o1', strategyId: 'a', kind: 'partial', quantity: '3' }, 'quantity'],
  ['a negative quantity', { orderId: 'o1', strategyId: 'a', kind: 'fill', quantity: -1 }, 'quantity'],
  ['a NaN quantity', { orderId: 'o1', strategyId: 'a', kind: 'fill', quantity: NaN }, 'quantity'],
  ['no quantity', { orderId: 'o1', strategyId: 'a', kind: 'fill' }, 'quantity'],
  ['a numeric reportId', { orderId: 'o1', strategyId: 'a', kind: 'fill', quantity: 1, reportId: 7 }, 'reportId'],
])('a report with %s is refused to onError without throwing into the broker', (_what, report, field) => {
  const { strategy, emit, errors } = setup();
  const records = strategy().getAuditTrail().length;
  expect(() => emit(report)).not.toThrow();
  expect(errors).toHaveLength(1);
  expect(errors[0]).toBeInstanceOf(InvalidExecutionReportError);
  expect(errors[0]).toMatchObject({ field });
  expect(strategy().getAuditTrail()).toHaveLength(records);
  expect(position(strategy())).toBe(0);
});

test('a string quantity never reaches the fill total: the valid fills after it add up as numbers', () => {
  const { strategy, emit, errors } = setup();
  emit({ orderId: 'o1', strategyId: 'a', kind: 'partial', quantity: '3' });
  emit({ orderId: 'o1', strategyId: 'a', kind: 'partial', quantity: 1 });
  emit({ orderId: 'o1', strategyId: 'a', kind: 'fill', quantity: 2 });
  expect(errors).toHaveLength(1);
  expect(strategy().state).not.toBe('ENTERING');
  expect(position(strategy())).toBe(3);
  const ids = strategy()
    .getAuditTrail()
    .filter((r) => r.trigger.startsWith('ORDER_') && r.trigger !== 'ORDER_SUBMITTED')
    .map((r) => r.eventId);
  // `<kind>-<contracts filled so far>@<the strategy's last audit seq>`: 1 then 3, sums of numbers.
  expect(ids).toEqual(['o1/partial-1@4', 'o1/fill-3@5']);
});

test('a report emitted from the broker timer callback does not escape as an exception', () => {
  const { strategy, clock, emit, errors } = setup();
  clock.setTimeout(() => emit(undefined), 10);
  expect(() => clock.increment(10)).not.toThrow();
  expect(errors).toHaveLength(1);
  expect(strategy().state).toBe('ENTERING');
});

test('checkExecutionReport keeps a valid report and drops optional fields given as null', () => {
  expect(checkExecutionReport({ orderId: 'o', strategyId: 's', kind: 'reject', quantity: 0, reason: null, price: null })).toEqual({
    orderId: 'o',
    strategyId: 's',
    kind: 'reject',
    quantity: 0,
  });
  expect(checkExecutionReport({ orderId: 'o', strategyId: 's', kind: 'fill', quantity: 2, reportId: 'x', price: 1.5 })).toEqual({
    orderId: 'o',
    strategyId: 's',
    kind: 'fill',
    quantity: 2,
    reportId: 'x',
    price: 1.5,
  });
});
