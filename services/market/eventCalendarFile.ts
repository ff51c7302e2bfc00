import { readFileSync } from 'node:fs';
import { EventCalendarError, parseEventCalendar, type EventCalendar } from './eventCalendar.js';

// Apart from the rest of the event calendar because it reads a file: the package's root entry
// imports no Node built-in, so that browsers and edge runtimes can load the machines.

/**
 * Reads and validates an event file; the format comes from its extension (`.json` or `.csv`).
 *
 * @example
 * ```ts
 * const calendar = loadEventCalendar('examples/event-calendar.example.csv');
 * ```
 * @throws {EventCalendarError} for bad lines, an unknown extension or a file that cannot be read.
 */
export function loadEventCalendar(path: string): EventCalendar {
  const format = /\.json$/i.test(path) ? 'json' : /\.csv$/i.test(path) ? 'csv' : null;
  if (!format) throw new EventCalendarError(path, [{ line: 0, reason: 'the file name must end in .json or .csv' }]);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new EventCalendarError(path, [{ line: 0, reason: `cannot be read: ${(error as Error).message}` }]);
  }
  return parseEventCalendar(text, format, path);
}
