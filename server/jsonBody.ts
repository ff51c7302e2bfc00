import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { MAX_DEPTH } from '../machines/bounds.js';
import { HttpError } from './errors.js';

/** Keys refused anywhere in a body: harmless in a parsed object, but a trap for any code that merges it. */
const FORBIDDEN_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

/**
 * True when JSON text nests objects or lists deeper than `limit`. Scans the text itself (no
 * parse, no recursion), so a hostile body never becomes a deep object at all.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next character, a quote included
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** The path of the first refused key in `value` (at most {@link MAX_DEPTH} deep, checked before). */
function forbiddenKeyIn(value: unknown): { key: string; path: string } | null {
  const stack: Array<{ value: unknown; path: string }> = [{ value, path: '' }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (typeof item.value !== 'object' || item.value === null) continue;
    for (const [key, child] of Object.entries(item.value)) {
      const path = item.path ? `${item.path}.${key}` : key;
      if (FORBIDDEN_KEYS.includes(key)) return { key, path: item.path || 'body' };
      stack.push({ value: child, path });
    }
  }
  return null;
}

/** An object being scanned by {@link duplicateKeyIn}, or a list (no `keys`). */
interface Level {
  path: string;
  keys?: Set<string>;
  /** In an object: the next string is a key. In a list: the index of the current item. */
  expectKey: boolean;
  index: number;
  /** The key (or index) the next nested object or list is the value of. */
  last: string;
}

/**
 * The first key written twice in one object of `text` (valid JSON, at most {@link MAX_DEPTH}
 * deep, checked before), and the path of that object. JSON.parse keeps the last of two equal
 * keys without a word, while a proxy, a log reader or the operator reading the body may take the
 * first: `{"type":"MARKET_OPEN","type":"EMERGENCY_EXIT"}` must not mean one thing to one reader
 * and another to the service. Keys are compared as decoded (`"\u0074ype"` is `"type"`).
 */
function duplicateKeyIn(text: string): { key: string; path: string } | null {
  const levels: Level[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = levels[levels.length - 1];
    if (c === 0x22) {
      const start = i;
      for (i++; text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (top.keys.has(key)) return { key, path: top.path || 'body' };
        top.keys.add(key);
        top.last = key;
        top.expectKey = false;
      }
    } else if (c === 0x7b || c === 0x5b) {
      const path = top ? (top.path ? `${top.path}.${top.last}` : top.last) : '';
      levels.push({ path, expectKey: c === 0x7b, index: 0, last: '0', ...(c === 0x7b ? { keys: new Set<string>() } : {}) });
    } else if (c === 0x7d || c === 0x5d) levels.pop();
    else if (c === 0x2c && top) {
      if (top.keys) top.expectKey = true;
      else top.last = String(++top.index);
    }
  }
  return null;
}

/**
 * Parses a JSON request body under the API's limits: at most {@link MAX_DEPTH} levels of nesting
 * (400 `BODY_TOO_DEEP`), no `__proto__`, `constructor` or `prototype` key (400 `FORBIDDEN_KEY`),
 * no key twice in one object (400 `DUPLICATE_KEY`), valid JSON (400 `INVALID_JSON`). The size limit is fastify's `bodyLimit` (413), applied while
 * the body streams in.
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new HttpError(400, 'INVALID_JSON', 'request body is empty: send a JSON object');
  if (nestsDeeperThan(text, MAX_DEPTH)) {
    throw new HttpError(
      400,
      'BODY_TOO_DEEP',
      `request body nests objects or lists deeper than ${MAX_DEPTH} levels (the limit); no request needs more than 3`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'INVALID_JSON', `request body is not valid JSON: ${(error as Error).message.slice(0, 120)}`);
  }
  const forbidden = forbiddenKeyIn(value);
  if (forbidden)
    throw new HttpError(
      400,
      'FORBIDDEN_KEY',
      `key "${forbidden.key}" is refused (in ${forbidden.path}): it could alter object prototypes`,
      forbidden.path,
    );
  const duplicate = duplicateKeyIn(text);
  if (duplicate)
    throw new HttpError(
      400,
      'DUPLICATE_KEY',
      `key "${duplicate.key.slice(0, 64)}" appears twice (in ${duplicate.path.slice(0, 120)}): send each key once`,
      duplicate.path,
    );
  return value;
}

/** Only JSON's own whitespace (RFC 8259): a body of nothing else holds no value. */
const JSON_WHITESPACE_ONLY = /^[ \t\n\r]*$/;

/**
 * Whether the route `request` reached needs a body: it declares a body schema that `{}` does not
 * satisfy. A route without one (`DELETE /strategies/:id`, a route that does not exist) or whose
 * body may be empty (`POST /system/resume`, whose missing body is checked as `{}`) needs none.
 */
function needsBody(request: FastifyRequest): boolean {
  const schema: unknown = request.routeOptions.schema?.body;
  if (schema === undefined) return false;
  return !(schema instanceof z.ZodType && schema.safeParse({}).success);
}

/**
 * Makes JSON the only body the service parses: fastify's default parsers are removed (its
 * `text/plain` parser let a text body reach the routes, to be audited as an event), so any other
 * content type is answered 415 before a route runs. An empty body (or JSON whitespace only) sent
 * as JSON is no body on a route that needs none: fetch wrappers and axios send
 * `Content-Type: application/json` with every request, a `DELETE` included, and that request is
 * answered as one without a body. A route that needs a body refuses it (400 `INVALID_JSON`, empty),
 * and any body with something in it is parsed, and refused when malformed, wherever it is sent.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      const text = utf8Of(body as Buffer);
      if (JSON_WHITESPACE_ONLY.test(text) && !needsBody(request)) done(null, undefined);
      else done(null, parseJsonBody(text));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body's text, decoded strictly: JSON is UTF-8 (RFC 8259), and a lossy decode would turn bad
 * bytes into U+FFFD and let them reach a field (an audited reason) as if the client had sent it.
 * Bad bytes are a malformed body: 400 `INVALID_JSON` naming where they start.
 */
function utf8Of(body: Buffer): string {
  try {
    return strictUtf8.decode(body);
  } catch {
    throw new HttpError(400, 'INVALID_JSON', `request body is not valid UTF-8 (a bad byte sequence at byte ${firstBadByte(body)})`);
  }
}

/**
 * Where the first invalid UTF-8 sequence starts (a stray byte, a sequence cut short, an overlong
 * form, a surrogate, past U+10FFFF); the body's length when there is none.
 */
function firstBadByte(b: Buffer): number {
  for (let i = 0; i < b.length;) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (n === 0 || i + n >= b.length) return i;
    const c1 = b[i + 1];
    if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 > 0x9f) || (c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 > 0x8f)) return i;
    for (let k = 1; k <= n; k++) if ((b[i + k] & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return b.length;
}
