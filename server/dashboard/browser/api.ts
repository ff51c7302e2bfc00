/**
 * The API client and the messages: every error is `{ code, message }` from the service, or a
 * network failure, shown to the operator with its code.
 */
import { $, el } from './util.js';

const TOKEN_KEY = 'strategy-lifecycle.token';

/** An API refusal or a network failure, with the service's code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The bearer token the operator typed (kept for this tab only). */
export function token(): string {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

/** Keeps the token for this tab, or forgets it. */
export function setToken(value: string): void {
  if (value) sessionStorage.setItem(TOKEN_KEY, value.trim());
  else sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * Calls the API with the token; resolves to the JSON answer, rejects with an {@link ApiError}.
 * `T` is the answer's shape as types.ts declares it: the service's schemas guarantee it.
 */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token()) headers.Authorization = `Bearer ${token()}`;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new ApiError(0, 'NETWORK', `the service did not answer: ${(error as Error).message}`);
  }
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? (JSON.parse(text) as unknown) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = errorBodyOf(data) ?? { code: `HTTP_${res.status}`, message: text.slice(0, 200) || res.statusText };
    throw new ApiError(res.status, err.code, err.message, err.field);
  }
  return data as T;
}

/** The `error` object of an error answer (`{ error: { code, message, field? } }`), if it has one. */
function errorBodyOf(data: unknown): { code: string; message: string; field?: string } | undefined {
  if (typeof data !== 'object' || data === null || !('error' in data)) return undefined;
  const error = data.error;
  if (typeof error !== 'object' || error === null || !('code' in error) || !('message' in error)) return undefined;
  if (typeof error.code !== 'string' || typeof error.message !== 'string') return undefined;
  const field = 'field' in error && typeof error.field === 'string' ? error.field : undefined;
  return { code: error.code, message: error.message, field };
}

/** A message in the corner: errors stay until dismissed; confirmations fade after a while. */
export function notify(kind: 'error' | 'ok' | 'info', title: string, detail?: string): void {
  const box = $('messages');
  const item = el(
    'div',
    { class: `msg msg-${kind}`, role: kind === 'error' ? 'alert' : null },
    el(
      'div',
      { class: 'msg-body' },
      el('strong', { class: 'msg-title', text: title }),
      detail ? el('span', { class: 'msg-detail', text: detail }) : null,
    ),
    el('button', { type: 'button', class: 'msg-close', 'aria-label': 'Dismiss', text: '×', onclick: () => item.remove() }),
  );
  box.prepend(item);
  while (box.children.length > 4) box.lastChild?.remove();
  if (kind !== 'error') setTimeout(() => item.remove(), 8000);
}

/** Shows a failure with its code and status, prefixed by what was being done. */
export function showError(error: unknown, action?: string): void {
  const e = error as Partial<ApiError> & Error;
  notify('error', (e.code || 'ERROR') + (e.status ? ` (${e.status})` : ''), (action ? `${action}: ` : '') + e.message);
}
