/**
 * A slot the gate reserves for an entry from a flat SUSPENDED or ERROR strategy (an operator's
 * MANUAL_OVERRIDE to PENDING_ENTRY) is returned when the entry goes nowhere: refused by the
 * strategy or rolled back. Those states keep the slot they came with, so before, the reservation
 * stayed held and the limit refused every other strategy's entry until that one moved again.
 */
import type { PortfolioLimits } from '../../guards/portfolio';
import type { StrategyEvent } from '../../machines/events';
import type { StrategyState } from '../../machines/states';
import { lt112, strangle } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { tempDir } from './helpers';

const limits: PortfolioLimits = { maxOpenPositions: 1 };
const suspend: StrategyEvent = { type: 'MANUAL_OVERRIDE', target: 'SUSPENDED', reason: 'desk review', operator: 'ops' };
const enter = (from?: StrategyState[]): StrategyEvent => ({
  type: 'MANUAL_OVERRIDE',
  target: 'PENDING_ENTRY',
  reason: 'enter by hand',
  operator: 'ops',
  ...(from ? { from } : {}),
});
const strangleEntry: StrategyEvent = { type: 'ENTRY_CONDITIONS_MET', vix: 18, expiry: '2027-02-02' };

test('in memory: an override to PENDING_ENTRY refused from a flat SUSPENDED strategy returns the slot', () => {
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM), limits });
  system.add(lt112, { id: 'held' });
  system.add(strangle, { id: 'other' });
  system.broadcast({ type: 'MARKET_OPEN' });
  expect(system.send('held', suspend)).toMatchObject({ accepted: true, to: 'SUSPENDED' });

  expect(system.send('held', enter(['READY']))).toMatchObject({ accepted: false, code: 'GUARD_FAILED', to: 'SUSPENDED' });
  expect(system.summary().portfolio.slotsUsed).toBe(0);

  system.send('other', { type: 'TIME_WINDOW_START' });
  expect(system.send('other', strangleEntry)).toMatchObject({ accepted: true, to: 'PENDING_ENTRY' });
  expect(system.summary().portfolio.slotsUsed).toBe(1);
});

test('in memory: an entry from a flat ERROR that went through PENDING_ENTRY keeps its slot', () => {
  const system = createStrategySystem({ clock: createSimulatedClock(FRIDAY_11AM), limits });
  system.add(lt112, { id: 'held' });
  system.add(strangle, { id: 'other' });
  system.broadcast({ type: 'MARKET_OPEN' });
  system.send('held', { type: 'SYSTEM_ERROR', reason: 'feed lost', hold: true });
  expect(system.get('held').state).toBe('ERROR');
  expect(system.send('held', enter())).toMatchObject({ accepted: true, to: 'PENDING_ENTRY' });
  expect(system.send('held', { type: 'SYSTEM_ERROR', reason: 'broker link down', hold: true })).toMatchObject({ to: 'ERROR' });
  // The order may still be working: the slot stays, and the limit refuses the other entry.
  expect(system.summary().portfolio.slotsUsed).toBe(1);
  system.send('other', { type: 'TIME_WINDOW_START' });
  expect(system.send('other', strangleEntry)).toMatchObject({ accepted: false, code: 'CORRELATION_LIMIT' });
});

test('SQLite: an override to PENDING_ENTRY rolled back from a flat SUSPENDED strategy returns the slot, also after a restart', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const clock = createSimulatedClock(FRIDAY_11AM);
    const file = `${dir}/slots.db`;
    let system = await openStrategySystem({ store: new SqliteStore(file), variants: [lt112, strangle], clock, limits });
    await system.add(lt112, {
      id: 'held',
      hooks: {
        onEnter: {
          PENDING_ENTRY: () => {
            throw new Error('order router unreachable');
          },
        },
      },
    });
    await system.add(strangle, { id: 'other' });
    await system.send('held', { type: 'MARKET_OPEN' });
    await system.send('held', suspend);
    expect(await system.send('held', enter())).toMatchObject({ accepted: false, code: 'HOOK_FAILED', to: 'SUSPENDED' });
    expect(system.summary().portfolio.slotsUsed).toBe(0);

    await system.send('other', { type: 'MARKET_OPEN' });
    await system.send('other', { type: 'TIME_WINDOW_START' });
    expect(await system.send('other', strangleEntry)).toMatchObject({ accepted: true, to: 'PENDING_ENTRY' });
    await system.close();

    system = await openStrategySystem({ store: new SqliteStore(file), variants: [lt112, strangle], clock, limits });
    expect(system.summary().portfolio).toMatchObject({ slotsUsed: 1 });
    expect(system.get('held').state).toBe('SUSPENDED');
    await system.close();
  } finally {
    cleanup();
  }
});
