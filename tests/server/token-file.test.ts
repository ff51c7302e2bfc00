/** The token file and the directory `loadToken` makes: owner-only whatever the umask. */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadToken } from '../../server/auth';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sl-token-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test.each([
  ['000', 0],
  ['022', 0o022],
  ['277', 0o277],
])('under umask %s the data directory is 0700 and the token 0600', (_name, umask) => {
  const dataDir = join(dir, 'data');
  const previous = process.umask(umask);
  let token: ReturnType<typeof loadToken>;
  try {
    token = loadToken(dataDir, {});
  } finally {
    process.umask(previous);
  }
  expect(token).toMatchObject({ created: true, source: join(dataDir, 'token') });
  expect(statSync(dataDir).mode & 0o777).toBe(0o700);
  expect(statSync(token.source).mode & 0o777).toBe(0o600);
  expect(readFileSync(token.source, 'utf8').trim()).toBe(token.token);
});
