/**
 * A kill switch stays in force while the trading state stays HALTED: an operator confirming the
 * halt during the run (HALTED again) does not overrule it, so a restart resumes it and flattens
 * the position (before, the restart dropped it: the position stayed open, HALTED, nobody exiting).
 * Setting ACTIVE or REDUCING still overrules it (tests/system/kill-switch-restart.test.ts).
 */
import { join } from 'node:path';
import { KillSwitchInterruptedError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { exitBroker } from '../support/exitBroker';
import { FRIDAY_11AM, VARIANTS, managing } from '../support/fixtures';
import { advance } from '../support/persistedSteps';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('sl-halt-confirmed-')));
afterEach(() => cleanup());

test('SQLite: HALTED confirmed during a kill switch, then a restart: the position is still flattened', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const path = join(dir, 'strategies.db');
  const first = await openStrategySystem({ store: new SqliteStore(path), variants: [lt112], clock });
  await first.add(lt112, { id: 'held' });
  for (const e of managing(VARIANTS[1].entry, 2)) await first.send('held', e);
  const answers: Array<'reject' | 'fill'> = ['reject'];
  exitBroker(first, clock, () => answers.shift() ?? 'fill');
  const run = await first.startKillSwitch('risk desk', 'alice');
  const interrupted = expect(run.done).rejects.toThrow(KillSwitchInterruptedError);
  await advance(first, clock, 300); // the exit is rejected at +100 ms; retry due at +1100 ms
  expect(first.get('held').state).toBe('PENDING_EXIT');
  await first.setTradingState('HALTED', 'confirming the halt', 'bob');
  expect(first.tradingState).toBe('HALTED');
  await first.close();
  await interrupted;

  const second = await openStrategySystem({ store: new SqliteStore(path), variants: [lt112], clock });
  try {
    exitBroker(second, clock, () => 'fill');
    expect(second.tradingState).toBe('HALTED');
    await advance(second, clock, 5000);
    // The kill switch carries on (as it does without the restart, test below) and the exit fills.
    expect({ resumed: second.resumedKillSwitch !== undefined, state: second.get('held').state }).toEqual({
      resumed: true,
      state: 'CLOSED',
    });
  } finally {
    await second.close();
  }
});

test('SQLite (reference): the same without the restart flattens the position', async () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const first = await openStrategySystem({ store: new SqliteStore(join(dir, 'strategies.db')), variants: [lt112], clock });
  await first.add(lt112, { id: 'held' });
  for (const e of managing(VARIANTS[1].entry, 2)) await first.send('held', e);
  const answers: Array<'reject' | 'fill'> = ['reject'];
  exitBroker(first, clock, () => answers.shift() ?? 'fill');
  const run = await first.startKillSwitch('risk desk', 'alice');
  await advance(first, clock, 300);
  await first.setTradingState('HALTED', 'confirming the halt', 'bob');
  await advance(first, clock, 5000);
  expect(first.get('held').state).toBe('CLOSED');
  expect((await run.done).flattened).toEqual(['held']);
  await first.close();
});
