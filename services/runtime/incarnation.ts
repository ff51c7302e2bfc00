/**
 * A fresh `StrategyContext.incarnation`: 64 random bits as 16 hex digits, given to a strategy
 * when it is added (not restored), so its orders are told from those of an earlier strategy that
 * held the same id. `Math.random`, as the paper broker's session: the package's root stays free of
 * Node built-ins, and the id only has to differ from the few that went before under one id.
 *
 * @example
 * ```ts
 * newIncarnation(); // '3f9c01a27be4d810'
 * ```
 */
export function newIncarnation(): string {
  const half = () =>
    Math.floor(Math.random() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return half() + half();
}
