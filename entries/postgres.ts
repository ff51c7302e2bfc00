/**
 * `strategy-lifecycle/postgres`: the multi-instance store on PostgreSQL. Its driver `pg` is an
 * optional peer dependency: importing this entry without it throws a {@link DriverMissingError}
 * that says to run `npm install pg`.
 */
import { loadPg } from '../services/store/pgModule.js';

// At import rather than at the first `open()`: a missing driver is a deployment mistake, best
// reported where the package is wired in, not on the first connection.
loadPg('strategy-lifecycle/postgres');

export { DriverMissingError } from '../machines/errors.js';
export { CHANGE_CHANNEL, changesOf, PostgresStore } from '../services/store/postgresStore.js';
export type { PostgresStoreOptions, StoreChange } from '../services/store/postgresStore.js';
export { SYSTEM_CHANNEL } from '../services/store/postgresSystemState.js';
