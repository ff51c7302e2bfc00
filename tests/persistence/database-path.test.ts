/**
 * A database path that cannot name a database file is refused naming the path and what it is:
 * a directory (SQLite says only SQLITE_IOERR_READ or SQLITE_CANTOPEN), or a path under a file
 * (the error named the marker file, not the path given). Nothing is created.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoreUnavailableError } from '../../machines/errors';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from './helpers';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('sl-db-path-')));
afterEach(() => cleanup());

const refusal = async (path: string, create?: boolean) => {
  const error = await new SqliteStore(path, { checkEveryMs: 0, create }).open().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreUnavailableError);
  return (error as StoreUnavailableError).message;
};

test.each([undefined, false, true])('a directory (create: %s) is refused as a directory, nothing made in it', async (create) => {
  const before = readdirSync(dir);
  expect(await refusal(dir, create)).toBe(
    `store sqlite:${dir} unavailable: ${dir} is a directory, not a database file: nothing was opened or created. Give the database file's path (e.g. ${join(dir, 'strategy-lifecycle.db')}).`,
  );
  expect(readdirSync(dir)).toEqual(before);
});

test('a path under a file is refused naming that file', async () => {
  const file = join(dir, 'data');
  writeFileSync(file, 'not a directory');
  expect(await refusal(join(file, 'sub', 'x.db'))).toBe(
    `store sqlite:${join(file, 'sub', 'x.db')} unavailable: ${file}, in the database path ${join(file, 'sub', 'x.db')}, is a file, not a directory: nothing was opened or created.`,
  );
  expect(readdirSync(dir)).toEqual(['data']);
});

test('a missing parent directory: created on a first start, named when nothing may be created', async () => {
  expect(await refusal(join(dir, 'missing', 'x.db'), false)).toContain(
    `no database at ${join(dir, 'missing', 'x.db')}; nothing was created`,
  );
  const store = new SqliteStore(join(dir, 'made', 'x.db'), { checkEveryMs: 0 });
  await store.open();
  expect(store.identity?.created).toBe('first-start');
  await store.close();
});
