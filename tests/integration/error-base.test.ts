/**
 * Every error class the package exports, from every entry point, extends the package's base
 * `StrategyLifecycleError`, so a caller can tell the package's errors from everyone else's with
 * one `instanceof`.
 */
import * as root from '../../index';
import * as persistence from '../../entries/persistence';
import * as postgres from '../../entries/postgres';
import * as server from '../../entries/server';
import * as sqlite from '../../entries/sqlite';
import * as node from '../../entries/node';
import { StrategyLifecycleError } from '../../machines/errors';
import { CommandError, UsageError } from '../../bin/cli/args';
import { HttpError } from '../../server/errors';
import { DashboardNotBuiltError } from '../../server/dashboard/assets';

const errorClasses = (entry: Record<string, unknown>) =>
  Object.entries(entry).filter(
    (e): e is [string, new (...args: never[]) => unknown] =>
      typeof e[1] === 'function' && (e[1] as { prototype?: unknown }).prototype instanceof Error,
  );

const entries = { root, persistence, sqlite, postgres, server, node };

test.each(Object.entries(entries))('every error class exported by %s extends StrategyLifecycleError', (_name, entry) => {
  const found = errorClasses(entry);
  for (const [name, cls] of found)
    expect([name, cls === StrategyLifecycleError || cls.prototype instanceof StrategyLifecycleError]).toEqual([name, true]);
});

test('the root exports the error classes a caller catches (the check above has something to check)', () => {
  expect(errorClasses(root).length).toBeGreaterThan(15);
});

test('the CLI and server errors extend it too', () => {
  for (const cls of [CommandError, UsageError, HttpError, DashboardNotBuiltError])
    expect(cls.prototype).toBeInstanceOf(StrategyLifecycleError);
});
