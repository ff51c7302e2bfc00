/**
 * How an error message repeats a value it refuses: a string quoted and cut at 40 characters, a
 * number or boolean as written, any object by its kind. Never a function's source or an object's
 * contents, which could be large or private.
 *
 * @example
 * ```ts
 * shownValue(NaN);      // 'NaN'
 * shownValue('x'.repeat(50)); // '"xxxx...x..."' (40 characters and "...")
 * shownValue({ a: 1 }); // 'an object'
 * ```
 */
export function shownValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'function') return 'a function';
  return String(v);
}
