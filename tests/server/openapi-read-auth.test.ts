/**
 * /openapi.json declares the token on every read that can answer 401: with private reads
 * (`readToken`, `serve --auth-reads`) every read but /health, /ready, the document and the
 * dashboard's files answers 401 UNAUTHORIZED, and the document gives each such read an optional
 * security requirement (`[{}, { bearer: [] }]`: true whether reads are private or not) and the 401
 * response in the API's error shape, the same as the writes'. The reads that stay open declare
 * neither, and the document is the same either way.
 *
 * Before, the document declared no 401 and no security requirement on any read: a client
 * generated from it did not know it must send the token, nor how the refusal looks.
 */
import { validate, compileErrors } from '@readme/openapi-parser';
import type { FastifyInstance } from 'fastify';
import { useSystemApps } from './services';

const TOKEN = 'v'.repeat(40);

type Operation = { security?: unknown[]; responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> };
type Doc = { paths: Record<string, Record<string, Operation>> };

const apps = useSystemApps('sl-openapi-reads-');

async function app(readToken: boolean): Promise<FastifyInstance> {
  const built = apps.app({ token: TOKEN, logger: false, readToken });
  await built.ready();
  return built;
}

const documentOf = async (api: FastifyInstance) => (await api.inject({ method: 'GET', url: '/openapi.json' })).json<Doc>();

/** A URL for a document path: its parameters filled in. */
const urlOf = (path: string) => path.replace('{id}', 'x1').replace('{format}', 'svg');

test('with private reads, every read that answers 401 declares the token (optional) and 401; every open read declares neither', async () => {
  const api = await app(true);
  const doc = await documentOf(api);
  const reads = Object.entries(doc.paths).filter(([, operations]) => operations.get);
  expect(reads.length).toBeGreaterThan(10);
  const refused: string[] = [];
  for (const [path, operations] of reads) {
    const operation = operations.get;
    const answer = await api.inject({ method: 'GET', url: urlOf(path) });
    if (answer.statusCode === 401) {
      refused.push(path);
      expect(answer.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
      expect([path, operation.security]).toEqual([path, [{}, { bearer: [] }]]);
      expect([path, operation.responses?.['401']?.content]).toEqual([
        path,
        { 'application/json': { schema: { $ref: '#/components/schemas/ApiError' } } },
      ]);
    } else {
      expect([path, operation.security, operation.responses?.['401']]).toEqual([path, undefined, undefined]);
    }
  }
  expect(refused).toEqual(
    expect.arrayContaining(['/strategies', '/strategies/{id}', '/summary', '/market', '/metrics', '/variants', '/events']),
  );
  expect(refused).not.toEqual(expect.arrayContaining(['/health']));
  expect(refused).not.toEqual(expect.arrayContaining(['/openapi.json']));
});

test("a read's 401 is the writes' 401; writes still require the token; the document validates and is the same with open reads", async () => {
  const privateDoc = await documentOf(await app(true));
  const openDoc = await documentOf(await app(false));
  expect(openDoc).toEqual(privateDoc);
  const write = privateDoc.paths['/system/kill-switch'].post;
  expect(write.security).toEqual([{ bearer: [] }]);
  expect(privateDoc.paths['/summary'].get.responses?.['401']?.content).toEqual(write.responses?.['401']?.content);
  const result = await validate(structuredClone(privateDoc) as never);
  if (!result.valid) throw new Error(compileErrors(result));
  expect(result.valid).toBe(true);
});

test('the token as a query parameter (`?token=`) is declared on exactly the routes that take it: the live stream', async () => {
  const api = await app(true);
  const doc = await documentOf(api);
  type Parameter = { name: string; in: string; required?: boolean; schema?: unknown };
  const declaring = Object.entries(doc.paths).flatMap(([path, operations]) =>
    Object.entries(operations)
      .filter(([, operation]) =>
        ((operation as { parameters?: Parameter[] }).parameters ?? []).some((p) => p.in === 'query' && p.name === 'token'),
      )
      .map(([method]) => `${method} ${path}`),
  );
  expect(declaring).toEqual(['get /events']);
  const events = doc.paths['/events'].get as Operation & { parameters: Parameter[] };
  expect(events.parameters.find((p) => p.name === 'token')).toMatchObject({ in: 'query', required: false, schema: { type: 'string' } });

  // What the document says is what the service does: every other private read refuses a token in the query...
  for (const [path, operations] of Object.entries(doc.paths)) {
    if (!operations.get || path === '/events') continue;
    const bare = await api.inject({ method: 'GET', url: urlOf(path) });
    if (bare.statusCode !== 401) continue;
    const withQuery = await api.inject({ method: 'GET', url: `${urlOf(path)}?token=${TOKEN}` });
    expect([path, withQuery.statusCode]).toEqual([path, 401]);
  }
  // ...and the stream takes it (a stream does not end: read its head over a real connection).
  expect((await api.inject({ method: 'GET', url: '/events' })).statusCode).toBe(401);
  const address = await api.listen({ port: 0, host: '127.0.0.1' });
  const abort = new AbortController();
  const stream = await fetch(`${address}/events?token=${TOKEN}`, { signal: abort.signal });
  expect(stream.status).toBe(200);
  expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
  abort.abort();
  await stream.body?.cancel().catch(() => undefined);
});
