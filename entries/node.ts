/**
 * `strategy-lifecycle/node`: what needs Node's own modules but no third-party package: reading
 * an event calendar from a file. Kept out of the root entry, which imports no Node built-in so
 * that browsers and edge runtimes can load the machines. Re-exports only.
 */
export { loadEventCalendar } from '../services/market/eventCalendarFile.js';
