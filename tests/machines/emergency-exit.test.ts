/**
 * "Every state that holds a position can be flattened": EMERGENCY_EXIT from ERROR while a
 * position is held goes to EXITING (audited, the recovery deadline disarmed); flat, it is refused.
 */
import { SITUATIONS, VARIANTS, drive, start } from '../support/fixtures';

const inError = (holds: boolean) => SITUATIONS.find((s) => s.state === 'ERROR' && s.holds === holds)!;

describe.each(VARIANTS)('EMERGENCY_EXIT in ERROR, variant $def.id', ({ def, entry }) => {
  test('with a position: to EXITING, audited, the recovery deadline replaced by the exit deadline', () => {
    const { strategy } = start(def);
    drive(strategy, inError(true).path(entry));
    expect(strategy.getSnapshot().context.deadline?.kind).toBe('ERROR_RECOVERY');

    const result = strategy.trigger({ type: 'EMERGENCY_EXIT', reason: 'flatten now' });

    expect(result).toMatchObject({ accepted: true, from: 'ERROR', to: 'EXITING' });
    expect(strategy.getAuditTrail().at(-1)).toMatchObject({
      trigger: 'EMERGENCY_EXIT',
      previousState: 'ERROR',
      currentState: 'EXITING',
      data: { reason: 'flatten now' },
    });
    const context = strategy.getSnapshot().context;
    expect(context.position?.quantity).toBe(3);
    expect(context.errorCount).toBe(0);
    expect(context.deadline?.kind).toBe('STUCK');
  });

  test('flat: refused, nothing moves', () => {
    const { strategy } = start(def);
    drive(strategy, inError(false).path(entry));
    const result = strategy.trigger({ type: 'EMERGENCY_EXIT' });
    expect(result).toMatchObject({ accepted: false, from: 'ERROR', to: 'ERROR' });
    expect(strategy.state).toBe('ERROR');
  });
});
