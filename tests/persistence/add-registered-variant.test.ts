/**
 * A persistent system adds strategies only with the definitions it was opened with: a copy (with
 * its own hooks, actors or deadlines) would run until the next restart, which restores the
 * strategy with the registered one; an unknown variant would make the next open refuse the store.
 */
import { join } from 'node:path';
import { InvalidDefinitionError } from '../../machines/errors';
import { lt112, strangle } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { FRIDAY_11AM } from '../support/fixtures';
import { tempDir } from './helpers';

test('add refuses a definition that is not the registered one, or not registered at all, and stores nothing; a reopen restores what was added', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const clock = createSimulatedClock(FRIDAY_11AM);
    const monitored = { ...lt112, stuckDeadlinesMs: { PENDING_EXIT: 60_000 } };
    const open = () => openStrategySystem({ store: new SqliteStore(join(dir, 's.db')), variants: [monitored], clock });
    const system = await open();

    await expect(system.add(lt112, { id: 'copy' })).rejects.toThrow(InvalidDefinitionError);
    await expect(system.add(lt112, { id: 'copy' })).rejects.toThrow(
      'strategy definition "lt112": id names a variant this system was opened with, but this is another definition object',
    );
    await expect(system.add(strangle, { id: 'unknown' })).rejects.toThrow(
      'strategy definition "strangle": id is not among the variants this system was opened with (lt112)',
    );
    // JavaScript callers passing a variant's name: named as such (before: a definition "undefined").
    await expect(system.add('lt112' as unknown as typeof lt112, { id: 'by-name' })).rejects.toThrow(
      'strategy definition "(none)": definition must be one of the definitions this system was opened with (lt112), got the string "lt112"',
    );
    await system.add(monitored, { id: 'ok' });
    expect(system.ids()).toEqual(['ok']);
    await system.close();

    const reopened = await open();
    expect(reopened.ids()).toEqual(['ok']);
    await reopened.close();
  } finally {
    cleanup();
  }
});
