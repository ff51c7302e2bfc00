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
    const rec = raw.prepare('SELECT record FROM audit_records WHERE strategy_id = ? AND seq = ?').get(record.strategyId, record.seq) as { record: string };
    raw.prepare('UPDATE audit_records SET record = ? WHERE strategy_id = ? AND seq = ?').run(rec.record.replace(record.replace, record.with), record.strategyId, record.seq);
  } finally {
    raw.close();
  }
}
