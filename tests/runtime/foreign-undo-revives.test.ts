/**
 * An invoked actor that sends a bare event (sendBack of the event itself, not lifecycleRequest)
 * has it undone and triggered again through the runtime. When that trigger is refused (trading
 * HALTED), the strategy stays where it was, and the actors its state invokes run again (after
 * 100 ms on its clock, doubling for each such undo in a row). Before, the position monitor stayed
 * stopped for good: stored stopped, it did not run after a restart either.
 */
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FRIDAY_11AM, VARIANTS, managing } from '../support/fixtures';
import { countingMonitor } from '../support/monitors';

test('a bare report re-triggered and refused leaves MANAGING watched again, and stored so', async () => {
  const { monitor, logic } = countingMonitor();
  const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    const clock = createSimulatedClock(FRIDAY_11AM);
    const system = createStrategySystem({ clock });
    system.add({ ...lt112, actors: { positionMonitor: logic } }, { id: 'lt', params: { underlying: 'SPX' } });
    for (const e of managing(VARIANTS[1].entry)) expect(system.send('lt', e).accepted).toBe(true);
    expect(monitor.running).toBe(1);
    system.setTradingState('HALTED', 'risk desk');
    monitor.send?.({ type: 'MARGIN_CALL' }); // bare
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
    expect(system.get('lt').state).toBe('MANAGING');
    expect(system.get('lt').getAuditTrail().at(-1)).toMatchObject({ trigger: 'MARGIN_CALL', accepted: false, code: 'TRADING_HALTED' });
    clock.increment(100);
    expect(monitor.running).toBe(1);
    const children = (
      system.get('lt').getPersistedSnapshot().snapshot as unknown as { children: Record<string, { snapshot: { status: string } }> }
    ).children;
    expect(Object.values(children).map((c) => c.snapshot.status)).toEqual(['active']);
    system.stop();
  } finally {
    spy.mockRestore();
  }
});
