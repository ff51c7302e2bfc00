/**
 * Every benchmark, in the order of the table. A new measure is one file in this folder plus
 * one line here.
 */
import type { BenchModule } from '../harness.js';
import { broadcast } from './broadcast.js';
import { eventsPerSecond } from './eventsPerSecond.js';
import { groupCommit } from './groupCommit.js';
import { memoryPerActor } from './memoryPerActor.js';
import { simulatedYear } from './simulatedYear.js';
import { spawnSystem } from './spawnSystem.js';
import { sqlitePersistence } from './sqlitePersistence.js';
import { trailWindow } from './trailWindow.js';

/** The benchmark modules `npm run bench` runs and the smoke test runs once each. */
export const BENCHES: readonly BenchModule[] = [
  eventsPerSecond,
  memoryPerActor,
  spawnSystem,
  broadcast,
  sqlitePersistence,
  groupCommit,
  simulatedYear,
  trailWindow,
];
