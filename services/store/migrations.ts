/**
 * Schema versions. Each step moves a database from version N-1 to N; a database newer than
 * {@link SCHEMA_VERSION} is refused before anything is written.
 */
export const SCHEMA_VERSION = 4;

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
    `-- trading state and kill switch
     -- One row holds the current trading state, read in each order-producing write's transaction;
     -- every change and every kill switch step is kept (an audit, not just the latest).
     CREATE TABLE trading_state (
       id INTEGER PRIMARY KEY CHECK (id = 1),
       state TEXT NOT NULL CHECK (state IN ('ACTIVE', 'REDUCING', 'HALTED'))
     );
     INSERT INTO trading_state (id, state) VALUES (1, 'ACTIVE');
     CREATE TABLE trading_state_changes (
       seq INTEGER PRIMARY KEY,
       from_state TEXT NOT NULL,
       to_state TEXT NOT NULL,
       reason TEXT NOT NULL,
       operator TEXT NOT NULL,
       at INTEGER NOT NULL
     );
     CREATE TABLE kill_switch_steps (
       seq INTEGER PRIMARY KEY,
       started_at INTEGER NOT NULL,
       at INTEGER NOT NULL,
       progress TEXT NOT NULL
     );
     -- store identity: which store this file is. One row, written when the store is made (a version-1
     -- database gets its row when it migrates); the marker file beside the database holds the same
     -- id, so a deleted or replaced file is noticed instead of becoming a fresh empty store.
     CREATE TABLE store_identity (
       singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
       store_id TEXT NOT NULL,
       created_at INTEGER NOT NULL
     );`,
    `-- audit feed: a durable cursor for the live stream's Last-Event-ID. The trail gets a rowid
     -- (AUTOINCREMENT: a cursor is never handed out twice, even after the newest rows were
     -- deleted with their strategy); one writer commits in rowid order, so a reader resuming
     -- "after cursor N" misses nothing. The rows of a version-2 database keep their order of time.
     CREATE TABLE audit_records_v3 (
       feed_id INTEGER PRIMARY KEY AUTOINCREMENT,
       strategy_id TEXT NOT NULL,
       seq INTEGER NOT NULL,
       at INTEGER NOT NULL,
       record TEXT NOT NULL,
       UNIQUE (strategy_id, seq)
     );
     INSERT INTO audit_records_v3 (strategy_id, seq, at, record) SELECT strategy_id, seq, at, record FROM audit_records ORDER BY at, strategy_id, seq;
     DROP TABLE audit_records;
     ALTER TABLE audit_records_v3 RENAME TO audit_records;`,
    `-- the newest kill switch run is looked up on every open and lease round: by its place in the
     -- trading state history, then its start (see loadSqliteSystemState), through this index instead
     -- of reading every step's JSON (370 ms at 20,000 steps).
     CREATE INDEX IF NOT EXISTS kill_switch_steps_run ON kill_switch_steps (COALESCE(json_extract(progress, '$.tradingStateChanges'), -1), started_at);`,
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
    `-- trading state and kill switch
     -- One row holds the current trading state: an order-producing write reads it FOR SHARE in its
     -- own transaction and a change updates it, so no write slips in after another instance halted.
     CREATE TABLE trading_state (
       id INT PRIMARY KEY CHECK (id = 1),
       state TEXT NOT NULL CHECK (state IN ('ACTIVE', 'REDUCING', 'HALTED'))
     );
     INSERT INTO trading_state (id, state) VALUES (1, 'ACTIVE');
     CREATE TABLE trading_state_changes (
       seq BIGSERIAL PRIMARY KEY,
       from_state TEXT NOT NULL,
       to_state TEXT NOT NULL,
       reason TEXT NOT NULL,
       operator TEXT NOT NULL,
       at BIGINT NOT NULL
     );
     CREATE TABLE kill_switch_steps (
       seq BIGSERIAL PRIMARY KEY,
       started_at BIGINT NOT NULL,
       at BIGINT NOT NULL,
       progress JSONB NOT NULL
     );
     -- portfolio slots: whether each strategy holds a slot and in which correlation group, kept by
     -- every write, so an entry counts the slots of every instance in its own transaction.
     -- Strategies stored before this version hold one when their state says so; their group is
     -- filled in by their next write.
     ALTER TABLE strategies ADD COLUMN holds_slot BOOLEAN NOT NULL DEFAULT FALSE, ADD COLUMN slot_group TEXT;
     UPDATE strategies SET holds_slot = state IN ('PENDING_ENTRY', 'ENTERING', 'POSITION_OPEN', 'MANAGING', 'ADJUSTING', 'PENDING_EXIT', 'EXITING', 'PARTIAL_EXIT');
     -- store identity: recorded for symmetry with SQLite (a server's database cannot vanish under an
     -- open connection the way a file can, so PostgreSQL keeps no marker file).
     CREATE TABLE store_identity (
       singleton INT PRIMARY KEY CHECK (singleton = 1),
       store_id TEXT NOT NULL,
       created_at BIGINT NOT NULL
     );
     INSERT INTO store_identity (singleton, store_id, created_at)
       VALUES (1, gen_random_uuid()::text, (extract(epoch FROM clock_timestamp()) * 1000)::bigint);`,
    `-- audit feed: a durable cursor for the live stream's Last-Event-ID, shared by every instance.
     -- Identity values are not committed in order across concurrent transactions, so the cursor
     -- is (feed_tx, feed_id): the writing transaction's id and an identity. A reader only reads
     -- rows whose feed_tx is below its snapshot's xmin: every transaction before that has ended,
     -- so no row can later appear below the cursor (commit-safe, nothing skipped). Rows of a
     -- version-2 database get feed_tx 0: they come before everything written since.
     ALTER TABLE audit_records ADD COLUMN feed_tx xid8 NOT NULL DEFAULT '0', ADD COLUMN feed_id BIGINT GENERATED ALWAYS AS IDENTITY;
     ALTER TABLE audit_records ALTER COLUMN feed_tx SET DEFAULT pg_current_xact_id();
     CREATE INDEX audit_records_feed ON audit_records (feed_tx, feed_id);`,
    `-- the newest kill switch run is looked up on every open and lease round (see postgresSystemState.ts).
     CREATE INDEX IF NOT EXISTS kill_switch_steps_run ON kill_switch_steps ((COALESCE((progress->>'tradingStateChanges')::bigint, -1)), started_at);`,
  ],
};
