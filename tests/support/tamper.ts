/** Edits a SQLite store behind the package's back, as an operator or a disk fault might. */
import Database from 'better-sqlite3';

/** What to change: one strategy's stored position quantity, and one text replacement in one audit record. */
export interface Tampering {
  quantity: { strategyId: string; to: number };
  record: { strategyId: string; seq: number; replace: string; with: string };
}

/** Applies `tampering` to the SQLite file `file`. */
export function tamperSqlite(file: string, { quantity, record }: Tampering): void {
  const raw = new Database(file);
  try {
    const row = raw.prepare('SELECT snapshot FROM strategies WHERE strategy_id = ?').get(quantity.strategyId) as { snapshot: string };
    const snapshot = JSON.parse(row.snapshot);
    snapshot.context.position.quantity = quantity.to;
    raw.prepare('UPDATE strategies SET snapshot = ? WHERE strategy_id = ?').run(JSON.stringify(snapshot), quantity.strategyId);
    const rec = raw.prepare('SELECT record FROM audit_records WHERE strategy_id = ? AND seq = ?').get(record.strategyId, record.seq) as {
      record: string;
    };
    raw
      .prepare('UPDATE audit_records SET record = ? WHERE strategy_id = ? AND seq = ?')
      .run(rec.record.replace(record.replace, record.with), record.strategyId, record.seq);
  } finally {
    raw.close();
  }
}

/** `{"a":{"a":...1}}`, `depth` levels, as JSON text (JSON.stringify itself overflows on deep values). */
export function nestedJson(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/**
 * Writes what an older version accepted unchecked: an extra key nested `depth` levels inside a
 * leg of one audit record (`seq`), as a store written before the depth limit may hold.
 */
export function deepenRecord(file: string, strategyId: string, seq: number, depth: number): void {
  const raw = new Database(file);
  try {
    const rec = raw.prepare('SELECT record FROM audit_records WHERE strategy_id = ? AND seq = ?').get(strategyId, seq) as {
      record: string;
    };
    const record = JSON.parse(rec.record);
    record.data = { ...record.data, legs: [{ right: 'P', strike: 4000, expiry: '2026-12-18', quantity: -1, note: 'DEEP' }] };
    const text = JSON.stringify(record).replace('"note":"DEEP"', `"note":${nestedJson(depth)}`);
    raw.prepare('UPDATE audit_records SET record = ? WHERE strategy_id = ? AND seq = ?').run(text, strategyId, seq);
  } finally {
    raw.close();
  }
}

/** Edits one strategy's stored snapshot in the SQLite file `file` (parsed, changed by `edit`, written back). */
export function editStoredSnapshot(file: string, strategyId: string, edit: (snapshot: { context: Record<string, unknown> }) => void): void {
  const raw = new Database(file);
  try {
    const row = raw.prepare('SELECT snapshot FROM strategies WHERE strategy_id = ?').get(strategyId) as { snapshot: string };
    const snapshot = JSON.parse(row.snapshot) as { context: Record<string, unknown> };
    edit(snapshot);
    raw.prepare('UPDATE strategies SET snapshot = ? WHERE strategy_id = ?').run(JSON.stringify(snapshot), strategyId);
  } finally {
    raw.close();
  }
}
