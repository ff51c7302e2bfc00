/**
 * The config file's `token` is held to the same rules as `STRATEGY_LIFECYCLE_TOKEN` and the token
 * file: surrounding whitespace is not part of it, and it is at least 16 characters without it.
 * Before, `"token": "abcdefghijklmnopq "` was taken with its space: HTTP drops a header's trailing
 * whitespace, so no request could ever match it and every write (the kill switch too) was 401.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../bin/cli/args';
import { startupLines } from '../../bin/cli/serve';
import { resolveServe } from '../../bin/cli/serveSettings';
import { startService, type RunningService } from '../../server/service';

let dir: string;
let service: RunningService | undefined;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sl-config-token-'))));
afterEach(async () => {
  await service?.close();
  service = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const configFile = (value: unknown) => {
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(value));
  return file;
};

test('a config token with a trailing space or newline authorises writes sent with the token', async () => {
  const file = configFile({ token: 'abcdefghijklmnopq \n', market: { enabled: false } });
  const settings = resolveServe({ config: file }, {}, dir);
  expect(settings.service.token).toBe('abcdefghijklmnopq');
  service = await startService({ ...settings.service, dataDir: join(dir, 'data'), port: 0, logger: false });
  // What an operator's client sends: HTTP carries the header without its trailing whitespace.
  const answer = await service.app.inject({
    method: 'POST',
    url: '/system/resume',
    headers: { authorization: 'Bearer abcdefghijklmnopq', 'content-type': 'application/json' },
    payload: '{}',
  });
  expect(answer.statusCode).toBe(200);
  // The startup line says where the token came from, not the library's option name.
  expect(startupLines(service)).toContain('token: from the config file ("token")');
});

test('a config token that is 16 characters only with its whitespace is refused, naming the key', () => {
  const file = configFile({ token: '   short-token   ' });
  expect(() => resolveServe({ config: file }, {}, dir)).toThrow(UsageError);
  expect(() => resolveServe({ config: file }, {}, dir)).toThrow(`config file ${file}: token must be at least 16 characters`);
  const blank = configFile({ token: ' '.repeat(20) });
  expect(() => resolveServe({ config: blank }, {}, dir)).toThrow(`config file ${blank}: token must be at least 16 characters`);
});
