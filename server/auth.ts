import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  if (existsSync(file)) return { token: readFileSync(file, 'utf8').trim(), created: false, source: file };
  // 0700 whatever the umask, as the store makes it (the umask can only take bits away from `mode`).
  if (mkdirSync(dataDir, { recursive: true, mode: 0o700 }) !== undefined) chmodSync(dataDir, 0o700);
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { token, created: true, source: file };
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
