/** Plain-text tables for terminal output: columns padded, numbers right-aligned. */

/** A cell: text is left-aligned, numbers right-aligned. */
export type Cell = string | number;

/**
 * Lays out rows under a header, two spaces between columns.
 *
 * @example
 * ```ts
 * table(['state', 'count'], [['READY', 3]]); // 'state  count\nREADY      3'
 * ```
 */
export function table(header: readonly string[], rows: ReadonlyArray<readonly Cell[]>): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((row) => String(row[c] ?? '').length)));
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((row) => typeof row[c] === 'number'));
  return all
    .map((row) =>
      row
        .map((cell, c) => (numeric[c] ? String(cell).padStart(widths[c]) : String(cell).padEnd(widths[c])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Counts of a record as table rows, in `order` first, then the rest sorted. */
export function countRows(counts: Readonly<Record<string, number>>, order: readonly string[] = []): Array<[string, number]> {
  const keys = [
    ...order.filter((k) => k in counts),
    ...Object.keys(counts)
      .filter((k) => !order.includes(k))
      .sort(),
  ];
  return keys.map((k) => [k, counts[k]]);
}

/** Label and value pairs, values right-aligned: `transitions   1234`. */
export function keyValues(rows: ReadonlyArray<readonly [string, Cell]>): string {
  const label = Math.max(...rows.map(([k]) => k.length));
  const value = Math.max(...rows.map(([, v]) => String(v).length));
  return rows.map(([k, v]) => `${k.padEnd(label)}  ${typeof v === 'number' ? String(v).padStart(value) : v}`).join('\n');
}
