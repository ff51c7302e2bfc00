/** The token file and the directory `loadToken` makes: owner-only whatever the umask. */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

test('an existing token file must be owner-only and at least 16 characters: a 1-character token in a 0644 file authorised the kill switch', () => {
  const dataDir = join(dir, 'data');
  const made = loadToken(dataDir, {});
  expect(loadToken(dataDir, {})).toEqual({ token: made.token, created: false, source: made.source });

  chmodSync(made.source, 0o644);
  expect(() => loadToken(dataDir, {})).toThrow(
    `${made.source} can be read by other users (mode 0644): the token authorises every write; run chmod 600 on it`,
  );

  writeFileSync(made.source, 'a\n', { mode: 0o600 });
  chmodSync(made.source, 0o600);
  expect(() => loadToken(dataDir, {})).toThrow(
    `${made.source} holds a token of 1 characters: it must be at least 16 (delete the file to have one generated)`,
  );
});
