import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The environment variable that gives the service its bearer token. */
export const TOKEN_ENV = 'STRATEGY_LIFECYCLE_TOKEN';

/**
 * The bearer token every write needs: from `STRATEGY_LIFECYCLE_TOKEN`, or from `<dataDir>/token`,
 * generated at first start with owner-only permissions (0600). `created` tells the caller to
 * print it, once.
 */
export function loadToken(dataDir: string, env: NodeJS.ProcessEnv = process.env): { token: string; created: boolean; source: string } {
  const fromEnv = env[TOKEN_ENV];
  if (fromEnv && fromEnv.trim().length >= 16) return { token: fromEnv.trim(), created: false, source: TOKEN_ENV };
  if (fromEnv) throw new RangeError(`${TOKEN_ENV} must be at least 16 characters`);
  const file = join(dataDir, 'token');
  if (existsSync(file)) return { token: checkedTokenFile(file), created: false, source: file };
  // 0700 whatever the umask, as the store makes it (the umask can only take bits away from `mode`).
  if (mkdirSync(dataDir, { recursive: true, mode: 0o700 }) !== undefined) chmodSync(dataDir, 0o700);
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { token, created: true, source: file };
}

/**
 * The token in an existing token file, held to the same rules as the environment's: at least 16
 * characters, and a file only its owner can read (the token authorises the kill switch). Before,
 * a one-character token in a world-readable file was taken as it was.
 *
 * @throws {RangeError} naming the file and what is wrong with it.
 */
export function checkedTokenFile(file: string): string {
  const mode = statSync(file).mode & 0o777;
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new RangeError(
      `${file} can be read by other users (mode ${mode.toString(8).padStart(4, '0')}): the token authorises every write; run chmod 600 on it`,
    );
  }
  const token = readFileSync(file, 'utf8').trim();
  if (token.length < 16) {
    throw new RangeError(
      `${file} holds a token of ${token.length} characters: it must be at least 16 (delete the file to have one generated)`,
    );
  }
  return token;
}

/** Compares a request's Authorization header with the token in constant time. */
export function isAuthorized(header: string | undefined, token: string): boolean {
  // The scheme is case-insensitive (RFC 7235): `bearer <token>` is the same credential.
  const match = /^Bearer +(.+)$/i.exec(header ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1]);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
