/**
 * `strategy-lifecycle/persistence`: the strategy system persisted write-ahead over any
 * {@link StrategyStore}, restore, replay and verification, and the store contract. It imports no
 * database driver: pair it with `strategy-lifecycle/sqlite`, `strategy-lifecycle/postgres` or a
 * store of your own. Re-exports only.
 */
export type { KillSwitchEnd, KillSwitchRun } from '../services/runtime/persistentSafety.js';
export { DEFAULT_AUDIT_WINDOW, openStrategySystem } from '../services/runtime/persistentSystem.js';
export { MAX_AUDIT_PAGE, readAuditPage } from '../services/runtime/auditPages.js';
export { DEFAULT_RESTORE_WINDOW } from '../services/runtime/restoreStrategies.js';
export type { AuditPageQuery, AuditTrailPage } from '../services/runtime/auditPages.js';
export type {
  CommittedStrategy,
  LeaseChange,
  PersistentStrategySystem,
  PersistentSystemOptions,
  ReconciliationReport,
} from '../services/runtime/persistentSystem.js';
export { SCHEMA_VERSION } from '../services/store/migrations.js';
export type {
  AuditFeedEntry,
  AuditFeedPage,
  AuditFeedRow,
  AuditTrailQuery,
  DamagedAuditFeedRow,
  KillSwitchProgress,
  LeaseRoundResult,
  LoadOptions,
  NewStrategy,
  StoredStrategy,
  StoredSystemState,
  StrategyStore,
  StrategyWrite,
  SystemStore,
  TradingStateRequest,
} from '../services/store/types.js';
export { eventOfRecord, REPLAY_PAGE, replayAuditTrail, verifyStore } from '../services/runtime/replay.js';
export type { ReplayDifference, ReplayResult, VerifyReport } from '../services/runtime/replay.js';
