/**
 * The OpenAPI document against the routes themselves: every documented operation is sent good and
 * bad requests (no token, a foreign Host, unknown, invalid, badly encoded and too long ids, bodies
 * that are not JSON, too large, malformed or of the wrong shape, junk query strings, a request
 * that arrives while the service closes), and each answer must be one the document lists for that
 * operation, with a documented content type, in the API's error shape when it is an error, and
 * never a 500.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app';
import { DEFAULT_VARIANTS } from '../../server/service';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem, type PersistentStrategySystem } from '../../services/runtime/persistentSystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM } from '../support/fixtures';

const TOKEN = 'w'.repeat(40);
const AUTH = { authorization: `Bearer ${TOKEN}` };
const JSON_TYPE = { 'content-type': 'application/json' };

interface Operation {
  requestBody?: unknown;
  responses?: Record<string, { content?: Record<string, unknown> }>;
}
type Doc = { paths: Record<string, Record<string, Operation>> };

let system: PersistentStrategySystem;
let cleanup: () => void;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  const tmp = tempDir('sl-openapi-walk-');
  cleanup = tmp.cleanup;
  system = await openStrategySystem({
    store: new SqliteStore(join(tmp.dir, 'strategy-lifecycle.db')),
    variants: DEFAULT_VARIANTS,
    clock: createSimulatedClock(FRIDAY_11AM),
  });
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await system.close();
  cleanup();
});

function app(readToken = false): FastifyInstance {
  const built = buildApp({ system, variants: DEFAULT_VARIANTS, token: TOKEN, logger: false, readToken });
  apps.push(built);
  return built;
}

const createA = (target: FastifyInstance) =>
  target.inject({
    method: 'POST',
    url: '/strategies',
    headers: { ...AUTH, ...JSON_TYPE },
    payload: JSON.stringify({ id: 'walk-a', variant: 'lt112', params: { underlying: 'SPX' } }),
  });

/** A request of the walk: a label, what is sent. */
interface Probe {
  label: string;
  path: string;
  query?: string;
  body?: string;
  headers?: Record<string, string>;
}

/**
 * The concrete path of a documented one: `{id}` and `{format}` filled with `id` and `format`
 * (Mermaid by default: rendering an SVG hundreds of times would only slow the walk; diagram-svg tests it).
 */
function fill(path: string, id: string, format = 'mmd'): string {
  return path.replace('{id}', path.startsWith('/variants/') && id === 'walk-a' ? 'lt112' : id).replace('{format}', format);
}

/** Every request the walk sends to one documented operation. */
function probesOf(path: string, method: string): Probe[] {
  const good = fill(path, 'walk-a');
  const write = method !== 'get';
  const body = (text: string, type = 'application/json') => ({ body: text, headers: { ...AUTH, 'content-type': type } });
  const probes: Probe[] = [
    { label: 'as documented', path: good, ...(write ? body('{}') : { headers: AUTH }) },
    { label: 'no token', path: good, ...(write ? { body: '{}', headers: JSON_TYPE } : {}) },
    { label: 'a wrong token', path: good, headers: { authorization: 'Bearer nope' } },
    { label: 'a foreign Host', path: good, headers: { ...AUTH, host: 'rebound.example' } },
    { label: 'junk query', path: good, query: 'limit=-1&before=x&offset=%zz&a[b]=1&__proto__=1', headers: AUTH },
    { label: 'a repeated query key', path: good, query: 'limit=1&limit=2&before=3&before=4', headers: AUTH },
  ];
  if (path.includes('{')) {
    probes.push(
      { label: 'an unknown id', path: fill(path, 'walk-unknown', 'svg'), headers: AUTH },
      { label: 'an invalid id', path: fill(path, 'a%20b', 'png'), headers: AUTH },
      { label: 'a path traversal id', path: fill(path, '..%2F..%2Fetc%2Fpasswd'), headers: AUTH },
      { label: 'a badly encoded id', path: fill(path, '%zz', '%zz'), headers: AUTH },
      { label: 'an id too long for the router', path: fill(path, 'x'.repeat(3000)), headers: AUTH },
    );
  }
  if (write) {
    probes.push(
      { label: 'a body that is not JSON', path: good, ...body('reason=x', 'text/plain') },
      { label: 'a body too large', path: good, ...body(JSON.stringify({ reason: 'x'.repeat(70_000) })) },
      { label: 'malformed JSON', path: good, ...body('{"reason":') },
      { label: 'JSON that is not an object', path: good, ...body('[1,2]') },
      { label: 'JSON null', path: good, ...body('null') },
      { label: 'an unknown key', path: good, ...body('{"walk":1}') },
      { label: 'a forbidden key', path: good, ...body('{"__proto__":{"x":1}}') },
      { label: 'a body too deep', path: good, ...body(`${'['.repeat(40)}${']'.repeat(40)}`) },
      { label: 'wrong types', path: good, ...body('{"id":5,"variant":[],"reason":{},"state":1,"type":7}') },
      { label: 'an unknown event type', path: good, ...body('{"type":"WALK"}') },
      { label: 'an empty body', path: good, ...body('') },
    );
  }
  return probes;
}

/** What is wrong with an answer to `method path`, or null when the document lists it. */
function problemOf(operation: Operation, answer: { statusCode: number; headers: Record<string, unknown>; body: string }): string | null {
  const status = answer.statusCode;
  if (status >= 500 && status !== 503) return `${status}: ${answer.body.slice(0, 200)}`;
  const documented = operation.responses?.[String(status)];
  if (!documented) return `${status} is not in the document (${Object.keys(operation.responses ?? {}).join(', ')})`;
  const type = String(answer.headers['content-type'] ?? '').split(';')[0];
  const types = Object.keys(documented.content ?? {}).map((t) => t.split(';')[0]);
  if (status !== 204 && types.length > 0 && !types.includes(type)) return `${status} as ${type}, documented as ${types.join(', ')}`;
  if (status >= 400 && type === 'application/json') {
    const parsed = JSON.parse(answer.body) as { error?: { code?: unknown; message?: unknown } };
    if (typeof parsed.error?.code !== 'string' || typeof parsed.error.message !== 'string') return `${status} not in the error shape`;
  }
  return null;
}

/** Walks every documented operation of `target` (the stream only with answers that end). */
async function walk(target: FastifyInstance, streamProbes: (label: string) => boolean): Promise<string[]> {
  await target.ready();
  const doc = (await target.inject({ method: 'GET', url: '/openapi.json', headers: AUTH })).json<Doc>();
  const problems: string[] = [];
  let walked = 0;
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      for (const probe of probesOf(path, method)) {
        // A stream that is let in never ends: only the probes it refuses.
        if (path === '/events' && !streamProbes(probe.label)) continue;
        if (!system.has('walk-a')) expect((await createA(target)).statusCode).toBe(201);
        const answer = await target.inject({
          method: method.toUpperCase() as 'GET',
          url: probe.query ? `${probe.path}?${probe.query}` : probe.path,
          ...(probe.body !== undefined ? { payload: probe.body } : {}),
          headers: probe.headers ?? {},
        });
        walked++;
        const problem = problemOf(operation, answer);
        if (problem) problems.push(`${method.toUpperCase()} ${path}, ${probe.label}: ${problem}`);
      }
    }
  }
  expect(walked).toBeGreaterThan(200);
  return problems;
}

test('every answer of every documented operation to good and bad requests is one the document lists', async () => {
  expect(await walk(app(), (label) => label === 'a foreign Host')).toEqual([]);
});

test('with private reads too (reads without the token are 401)', async () => {
  expect(await walk(app(true), (label) => ['a foreign Host', 'no token', 'a wrong token'].includes(label))).toEqual([]);
});

test('a request that arrives while the service closes is 503 SHUTTING_DOWN, documented on every operation', async () => {
  const target = app();
  let doc: Doc = { paths: {} };
  let port = 0;
  const answers: string[] = [];
  // Hooks run in order: the app's own preClose has marked it closing; the server still listens.
  target.addHook('preClose', async () => {
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const response = await fetch(`http://127.0.0.1:${port}${fill(path, 'walk-a')}`, {
          method: method.toUpperCase(),
          headers: { ...AUTH, ...JSON_TYPE },
          ...(method === 'get' ? {} : { body: '{}' }),
        });
        const body = await response.text();
        const headers = { 'content-type': response.headers.get('content-type') };
        const problem = problemOf(operation, { statusCode: response.status, headers, body });
        answers.push(`${method.toUpperCase()} ${path}: ${response.status} ${problem ?? 'documented'}`);
      }
    }
  });
  await target.listen({ port: 0, host: '127.0.0.1' });
  port = (target.server.address() as { port: number }).port;
  doc = (await target.inject({ method: 'GET', url: '/openapi.json' })).json<Doc>();
  await target.close();
  expect(answers.length).toBeGreaterThan(15);
  for (const answer of answers) expect(answer).toMatch(/: 503 documented$/);
});
