/**
 * A hook that throws after a committed safety transition (EMERGENCY_EXIT) is recorded, and at
 * `maxErrors` forces the strategy into ERROR. In a persisted system that record is written first,
 * like any transition: when the store fails at that moment the strategy stays as stored (EXITING),
 * in memory as after a restart, instead of showing an ERROR (with its recovery deadline armed)
 * that the store never got.
 */
import { join } from 'node:path';
import { StoreUnavailableError } from '../../machines/errors';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import type { StrategyWrite } from '../../services/store/types';
import { FRIDAY_11AM, VARIANTS, managing } from '../support/fixtures';
import { tempDir } from './helpers';

let failWrites = false;
/** A real SQLite store that refuses appends while `failWrites` is set (as a full disk would). */
class FlakyStore extends SqliteStore {
  override append(write: StrategyWrite): Promise<void> {
    return failWrites ? Promise.reject(new StoreUnavailableError(this.name, 'disk full')) : super.append(write);
  }
}
const hooked = {
  ...lt112,
  id: 'lt112-hooked',
  maxErrors: 1,
  hooks: {
    onEnter: {
      EXITING: () => {
        if (breakStoreInHook) failWrites = true;
        throw new Error('alert service down');
      },
    },
  },
};
let breakStoreInHook = false;

async function scenario(dir: string, storeFailsAfterCommit: boolean) {
  failWrites = false;
  breakStoreInHook = storeFailsAfterCommit;
  const file = join(dir, 's.db');
  const errors: unknown[] = [];
  const clock = createSimulatedClock(FRIDAY_11AM);
  const system = await openStrategySystem({ store: new FlakyStore(file), variants: [hooked], clock, onStoreError: (e) => errors.push(e) });
  await system.add(hooked, { id: 'a' });
  for (const event of managing(VARIANTS[1].entry, 2)) expect(await system.send('a', event)).toMatchObject({ accepted: true });
  expect(await system.send('a', { type: 'EMERGENCY_EXIT', reason: 'desk' })).toMatchObject({ accepted: true, to: 'EXITING' });
  await system.flush();
  const inMemory = system.get('a').state;
  await system.close();
  failWrites = false;
  const reopened = await openStrategySystem({ store: new SqliteStore(file), variants: [hooked], clock });
  const stored = reopened.get('a').state;
  await reopened.close();
  return { inMemory, stored, errors };
}

test('the store fails as the hook throws: the strategy stays EXITING in memory and in the store, and the error is reported', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { inMemory, stored, errors } = await scenario(dir, true);
    expect([inMemory, stored]).toEqual(['EXITING', 'EXITING']);
    expect(errors).toEqual([expect.any(StoreUnavailableError)]);
  } finally {
    cleanup();
  }
});

test('the store works: the forced ERROR is written, in memory and after a restart', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { inMemory, stored, errors } = await scenario(dir, false);
    expect([inMemory, stored]).toEqual(['ERROR', 'ERROR']);
    expect(errors).toEqual([]);
  } finally {
    cleanup();
  }
});
