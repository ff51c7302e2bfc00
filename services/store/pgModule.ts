import type pg from 'pg';
import { DriverMissingError } from '../../machines/errors.js';
import { requirePg } from './pgDriver.cjs';

/**
 * The `pg` driver, loaded when first needed: `pg` is an optional peer dependency, so nothing that
 * merely imports the CLI or the SQLite store may require it.
 *
 * @example
 * ```ts
 * const pool = new (loadPg().Pool)({ connectionString });
 * ```
 * @throws {DriverMissingError} when `pg` is not installed, naming it and `neededBy`.
 */
export function loadPg(neededBy = 'strategy-lifecycle/postgres'): typeof pg {
  const driver = requirePg();
  if (!driver) throw new DriverMissingError('pg', neededBy);
  return driver;
}
