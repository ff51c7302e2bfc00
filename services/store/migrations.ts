/**
 * Schema versions. Each step moves a database from version N-1 to N; a database newer than
 * {@link SCHEMA_VERSION} is refused before anything is written.
 */
export const SCHEMA_VERSION = 2;

/** SQL of each version, per dialect (index 0 = version 1). */
export const MIGRATIONS: Record<'sqlite' | 'postgres', string[]> = {
  sqlite: [
    `CREATE TABLE strategies (
       strategy_id TEXT PRIMARY KEY,
       variant TEXT NOT NULL,
       params TEXT NOT NULL,
       snapshot TEXT NOT NULL,
       seq INTEGER NOT NULL,
       state TEXT NOT NULL,
       created_at INTEGER NOT NULL,
       updated_at INTEGER NOT NULL
     );
     CREATE TABLE audit_records (
       strategy_id TEXT NOT NULL,
       seq INTEGER NOT NULL,
       at INTEGER NOT NULL,
       record TEXT NOT NULL,
       PRIMARY KEY (strategy_id, seq)
     ) WITHOUT ROWID;`,
    `-- portfolio slots: nothing here. One process owns a SQLite file, so the slot its runtime
     -- reserves in memory before each write is the whole truth.
     SELECT 1;`,
  ],
  postgres: [
    `CREATE TABLE strategies (
       strategy_id TEXT PRIMARY KEY,
       variant TEXT NOT NULL,
       params JSONB NOT NULL,
       snapshot JSONB NOT NULL,
       seq BIGINT NOT NULL,
       state TEXT NOT NULL,
       created_at BIGINT NOT NULL,
       updated_at BIGINT NOT NULL,
       owner TEXT,
       lease_expires_at BIGINT NOT NULL DEFAULT 0,
       fencing_token BIGINT NOT NULL DEFAULT 0
     );
     CREATE TABLE audit_records (
       strategy_id TEXT NOT NULL,
       seq BIGINT NOT NULL,
       at BIGINT NOT NULL,
       record JSONB NOT NULL,
       PRIMARY KEY (strategy_id, seq)
     );`,
    `-- portfolio slots: whether each strategy holds a slot and in which correlation group, kept by
     -- every write, so an entry counts the slots of every instance in its own transaction.
     -- Strategies stored before this version hold one when their state says so; their group is
     -- filled in by their next write.
     ALTER TABLE strategies ADD COLUMN holds_slot BOOLEAN NOT NULL DEFAULT FALSE, ADD COLUMN slot_group TEXT;
     UPDATE strategies SET holds_slot = state IN ('PENDING_ENTRY', 'ENTERING', 'POSITION_OPEN', 'MANAGING', 'ADJUSTING', 'PENDING_EXIT', 'EXITING', 'PARTIAL_EXIT');`,
  ],
};
