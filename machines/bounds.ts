/**
 * How deep data may nest anywhere it is accepted or stored. Every schema of this package is far
 * shallower (an event with legs is 3 levels); the limit exists so that nothing written by a
 * caller, or found in an old store, can make a recursive reader (JSON.stringify, structured
 * clone, a comparison) overflow the stack.
 */
export const MAX_DEPTH = 32;

/**
 * The path of the first place where `value` nests deeper than `limit` levels (the top-level
 * object or array is level 1), or `null` when it does not. Walks with an explicit stack, never
 * recursion, so it is safe on input of any depth; stops at the first place over the limit, so
 * a cycle ends there too.
 *
 * @example
 * ```ts
 * tooDeepAt({ a: { b: [1] } }, 2); // 'a.b'
 * tooDeepAt({ a: 1 }, 32);         // null
 * ```
 */
export function tooDeepAt(value: unknown, limit: number = MAX_DEPTH): string | null {
  const stack: Array<{ value: unknown; depth: number; path: string }> = [{ value, depth: 1, path: '' }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth > limit) return item.path || '(top)';
    for (const [key, child] of Object.entries(item.value)) {
      if (typeof child === 'object' && child !== null) {
        stack.push({ value: child, depth: item.depth + 1, path: item.path ? `${item.path}.${key}` : key });
      }
    }
  }
  return null;
}
