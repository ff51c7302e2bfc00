import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Marks an answer given before the request's body was received whole (`request.raw.complete`
 * false) with `Connection: close`. Node then ends the connection once the answer is written out,
 * instead of keeping it alive and reading the rest of the body to discard it: a client without the
 * token announcing a 200 MB body had all 200 MB read. The answer itself goes out whole; only what
 * the client still sends is not read.
 */
export function closeIfBodyUnread(request: FastifyRequest, reply: FastifyReply): void {
  if (!request.raw.complete) reply.header('connection', 'close');
}

/**
 * Applies {@link closeIfBodyUnread} to every answer of `app` (an `onSend` hook): the hooks that answer
 * before the body (401, 421, 503 `SHUTTING_DOWN`), the body parser's refusals (413, 415) and any
 * route that answers without reading the body it was sent.
 *
 * @example
 * const app = Fastify();
 * closeConnectionsWithUnreadBodies(app);
 */
export function closeConnectionsWithUnreadBodies(app: FastifyInstance): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    closeIfBodyUnread(request, reply);
    done(null, payload);
  });
}
