/**
 * Facts about states come from the tags of the lifecycle config, one source of truth: the system
 * operations and the portfolio slot rules agree with `snapshot.hasTag` in every situation.
 */
import { holdsPortfolioSlot } from '../../guards/portfolio';
import { FLAT_STATES, POSITION_STATES } from '../../machines/states';
import { hasStateTag, statesTagged } from '../../machines/tags';
import { suspensionOf } from '../../services/runtime/systemOperations';
import { SITUATIONS, VARIANTS, drive, start } from '../support/fixtures';

test('statesTagged reads the tags of the lifecycle config', () => {
  expect(statesTagged('suspendable')).toEqual(['READY', 'ANALYZING', 'PENDING_ENTRY']);
  expect(statesTagged('releasesSlot')).toEqual(['INITIALIZING', 'READY', 'ANALYZING', 'CLOSED', 'TERMINATED']);
  expect(statesTagged('takesSlot')).toEqual([
    'PENDING_ENTRY',
    'ENTERING',
    'POSITION_OPEN',
    'MANAGING',
    'ADJUSTING',
    'PENDING_EXIT',
    'EXITING',
    'PARTIAL_EXIT',
  ]);
  expect(hasStateTag('TERMINATED', 'terminal')).toBe(true);
  expect(hasStateTag('READY', 'terminal')).toBe(false);
});

test('the exported position and flat state lists are the holdsPosition and flat tags', () => {
  expect([...POSITION_STATES]).toEqual(statesTagged('holdsPosition'));
  expect([...FLAT_STATES]).toEqual(statesTagged('flat'));
});

describe.each(VARIANTS.map((v) => [v.def.id, v] as const))('%s: rules by state agree with snapshot.hasTag', (_id, { def, entry }) => {
  test.each(SITUATIONS.map((s) => [`${s.state}${s.holds ? ' with a position' : ''}`, s] as const))('%s', (_name, situation) => {
    const { strategy } = start(def);
    drive(strategy, situation.path(entry));
    const snapshot = strategy.getSnapshot();
    expect(strategy.state).toBe(situation.state);
    expect('event' in suspensionOf(strategy.state, 'test')).toBe(snapshot.hasTag('suspendable'));
    const quantity = snapshot.context.position?.quantity ?? 0;
    const slot = holdsPortfolioSlot(strategy.state, quantity);
    if (snapshot.hasTag('releasesSlot')) expect(slot).toBe(false);
    else if (snapshot.hasTag('takesSlot')) expect(slot).toBe(true);
    else expect(slot).toBe(quantity > 0 ? true : undefined);
    strategy.stop();
  });
});
