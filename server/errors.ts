import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { closeIfBodyUnread } from './unreadBody.js';
import {
  DuplicateStrategyError,
  InvalidOptionsError,
  InvalidParamsError,
  StoreConflictError,
  StoreUnavailableError,
  StrategyLifecycleError,
  StrategyNotFlatError,
  UnknownStrategyError,
} from '../machines/errors.js';

/** A stable error code and a message naming the problem: every error the API returns. */
export interface ApiError {
  error: { code: string; message: string; field?: string };
}

/** Raised inside a handler (or a body parser) to answer with a given status and code. */
export class HttpError extends StrategyLifecycleError {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The body of every error answer. */
export function errorBody(code: string, message: string, field?: string): ApiError {
  return { error: field ? { code, message, field } : { code, message } };
}

/** At most `max` characters of something a client sent, so an answer never echoes a huge input. */
export function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}... (${text.length} characters)` : text;
}

/**
 * fastify's own errors (node_modules/fastify/lib/errors.js) as our status, code and message.
 * Messages are ours: fastify's echo the URL or name its internals.
 */
const FASTIFY_ERRORS: Record<string, [number, string, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE', 'send JSON (Content-Type: application/json)'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'INVALID_CONTENT_LENGTH', 'the request body does not match its Content-Length'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'INVALID_JSON', 'request body is empty: send a JSON object'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'INVALID_JSON', 'request body is not valid JSON'],
  FST_ERR_BAD_URL: [400, 'INVALID_URL', 'the URL is not valid percent-encoding'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'URL_TOO_LONG', 'a path segment of the URL is longer than 2048 characters'],
  FST_ERR_NOT_FOUND: [404, 'NOT_FOUND', 'no such route'],
  FST_ERR_VALIDATION: [400, 'INVALID_REQUEST', 'the request does not match the route'],
  FST_ERR_ROUTE_MISSING_CONTENT_TYPE: [400, 'INVALID_REQUEST', 'the request needs a Content-Type'],
  FST_ERR_ROUTE_MISSING_CONTENT: [400, 'INVALID_REQUEST', 'the request needs a body'],
  FST_ERR_HANDLER_TIMEOUT: [503, 'TIMEOUT', 'the request took too long; it may be retried'],
  FST_ERR_ASYNC_CONSTRAINT: [500, 'INTERNAL', 'internal error; see the service log'],
};

/** One issue of a failed schema check, as fastify-type-provider-zod reports it (`error.validation`). */
interface ValidationIssue {
  keyword?: string;
  instancePath?: string;
  message?: string;
  params?: { keys?: unknown };
}

/**
 * A request the routes' zod schemas refused, in the codes the API always gave: a path id that is
 * not an id is `INVALID_ID`, any other part (body, query) `INVALID_REQUEST` naming the field
 * (`id: ...`, or the unknown keys for a strict object) with zod's message.
 */
function validationAnswer(error: FastifyError, request: FastifyRequest | undefined): [number, ApiError] {
  const issue: ValidationIssue = (error.validation?.[0] as ValidationIssue | undefined) ?? {};
  const path = (issue.instancePath ?? '').split('/').filter(Boolean).join('.');
  if (error.validationContext === 'params' && path === 'id') {
    const id = String((request?.params as { id?: unknown } | undefined)?.id ?? '');
    return [400, errorBody('INVALID_ID', `strategy id "${clip(id, 64)}" is not a valid id (1-64 letters, digits, "_", "." or "-")`, 'id')];
  }
  const keys = issue.keyword === 'unrecognized_keys' && Array.isArray(issue.params?.keys) ? issue.params.keys.map(String).join(', ') : '';
  const field = path || keys || (error.validationContext === 'querystring' ? 'query' : 'body');
  return [400, errorBody('INVALID_REQUEST', clip(`${field}: ${issue.message ?? 'does not match the route'}`, 300), field)];
}

/** Our errors, fastify's and anything else as (status, body); unknown ones are 500 and logged. */
function answerOf(
  error: FastifyError & { statusCode?: number },
  bodyLimit: number,
  request?: FastifyRequest,
): [number, ApiError] | undefined {
  if (error instanceof HttpError) return [error.status, errorBody(error.code, error.message, error.field)];
  if (error.code === 'FST_ERR_VALIDATION' || Array.isArray(error.validation)) return validationAnswer(error, request);
  if (error instanceof UnknownStrategyError) return [404, errorBody('UNKNOWN_STRATEGY', error.message)];
  if (error instanceof InvalidParamsError) return [400, errorBody('INVALID_PARAMS', error.message, error.field)];
  // An argument the library refused by name (e.g. a trail page's bound): the request's fault.
  if (error instanceof InvalidOptionsError) return [400, errorBody('INVALID_REQUEST', error.message, error.option)];
  if (error instanceof DuplicateStrategyError) return [409, errorBody('DUPLICATE_STRATEGY', error.message)];
  if (error instanceof StrategyNotFlatError) return [409, errorBody('STRATEGY_NOT_FLAT', error.message)];
  if (error instanceof StoreConflictError) return [409, errorBody('OWNED_ELSEWHERE', error.message)];
  if (error instanceof StoreUnavailableError) return [503, errorBody('STORE_UNAVAILABLE', error.message)];
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return [413, errorBody('BODY_TOO_LARGE', `request body is larger than ${bodyLimit} bytes`)];
  const known = FASTIFY_ERRORS[error.code];
  if (known) return [known[0], errorBody(known[1], known[2])];
  // A client error fastify or Node raised that the table does not name yet: still our shape.
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500)
    return [error.statusCode, errorBody('BAD_REQUEST', clip(`bad request (${error.code ?? 'unnamed'})`, 120))];
  return undefined;
}

/**
 * Answers every error in our shape `{ error: { code, message, field? } }`: errors thrown by the
 * routes, requests the routes' schemas refused, fastify's own (bad URL encoding, too long a path, unknown media type, ...), unknown
 * routes, and anything else (500, logged with its stack).
 */
export function installErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const answer = answerOf(error, bodyLimit, request);
    if (answer) return reply.status(answer[0]).send(answer[1]);
    request.log.error({ err: error }, 'unexpected error');
    return reply.status(500).send(errorBody('INTERNAL', 'internal error; see the service log'));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${clip(request.url.split('?')[0])}`)),
  );
}

/**
 * fastify's `frameworkErrors` option: errors raised before routing (a URL that is not valid
 * percent-encoding, a path segment over the router's limit). Without it fastify answers in its
 * own shape and echoes the whole URL.
 */
export function frameworkErrors(bodyLimit: number) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const [status, body] = answerOf(error, bodyLimit) ?? [400, errorBody('BAD_REQUEST', 'bad request')];
    request.log.info({ code: error.code }, 'refused before routing');
    closeIfBodyUnread(request, reply);
    void reply.status(status).send(body);
  };
}

/** Node's client errors (no request object yet, or one that timed out) as status, code and message. */
const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [
    408,
    'REQUEST_TIMEOUT',
    'the request was not received in time (headers and body must arrive within the request timeout)',
  ],
  HPE_HEADER_OVERFLOW: [431, 'HEADERS_TOO_LARGE', 'the request line and headers are larger than 16 KiB'],
};

/**
 * fastify's `clientErrorHandler` option: Node raises these on the socket (a body that never
 * finishes, headers too large, a malformed request line). Answered in our shape, then closed.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] = CLIENT_ERRORS[error.code ?? ''] ?? [400, 'BAD_REQUEST', 'malformed HTTP request'];
  const body = JSON.stringify(errorBody(code, message));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
