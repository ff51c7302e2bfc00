/** `strategy-lifecycle serve`: the HTTP service over a persisted system, until SIGTERM or SIGINT. */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TOKEN_ENV, checkedTokenFile } from '../../server/auth.js';
import { startService, type RunningService } from '../../server/service.js';
import { SqliteStore } from '../../services/store/sqliteStore.js';
import { CommandError, PROGRAM, UsageError, oneOf, parse, wholeNumber, type Command } from './args.js';
import { CONFIG_FILE } from './serveConfig.js';
import { MARKET_FLAGS, marketLines, resolveServe } from './serveSettings.js';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const usage = `Usage: ${PROGRAM} serve [options]

Runs the HTTP API and dashboard over the strategies stored in <data-dir>/strategy-lifecycle.db.
A first start (no database and no marker <database>.id) creates both, owner-only; a database that
is missing while its marker is there (deleted), or is another store's (replaced), is refused:
restore it, or start with --init for an empty store. Writes need "Authorization: Bearer <token>"; the token is read from
STRATEGY_LIFECYCLE_TOKEN or <data-dir>/token, generated at first start (mode 0600) and printed
that once. Logs are pino JSON lines on stdout. SIGTERM or SIGINT finishes the requests in
flight, commits what is pending and exits 0; a second signal exits at once with 1.

Settings come from ${CONFIG_FILE} in the working directory (or --config), then the
environment, then these flags (see docs/service.md). The service runs the trading day by
itself: market bells, time windows, the DTE rule, the event calendar and a paper broker.

Options:
  --config <path>       a config file (default ./${CONFIG_FILE} when it exists)
  --data-dir <dir>      database and token directory (default ./data)
  --store <url>         sqlite:<path> or postgres://... (default SQLite in --data-dir)
  --instance-id <id>    PostgreSQL: this instance's name in leases (default a random UUID)
  --lease-ms <n>        PostgreSQL: lease length (default 15000); a dead instance's strategies
                        are taken over by another within about this
  --no-market           no market driver: the service only does what it is sent
  --simulate            run on a simulated clock from --from, at --speed, with the paper broker
  --from <date>         first simulated New York date, yyyy-MM-dd (with --simulate)
  --speed <n>           simulated ms per real ms (default 600: a trading week in minutes)
  --event-calendar <f>  FOMC and earnings file (JSON or CSV) for the market driver
  --init                create an empty database even though its marker says one was there
  --host <host>         interface to listen on (default 127.0.0.1: this machine only)
  --port <n>            port (default 7400; 0 picks a free one, printed)
  --inspect             watch every strategy in the Stately inspector through a local bridge
                        (its page URL is printed)
  --inspect-port <n>    the bridge's port (default: a free one); implies --inspect
  --auth-reads          reads need the token too: every GET but /health, /ready,
                        /openapi.json, /docs and the dashboard's pages (the dashboard sends
                        the token from its Token field; the live stream takes it as ?token=)
  --request-timeout <s> seconds a client has to send a whole request (default 30); then 408
  --max-streams <n>     most live-stream clients at once (default 32); one more gets 503
  --log-level <level>   ${LEVELS.join(', ')} (default info)
  -h, --help            this text`;

function port(flag: string, value: string | undefined, fallback: number | undefined): number | undefined {
  return value === undefined ? fallback : wholeNumber(flag, value, 0, 65535, 'a port number (0-65535)');
}

/** The lines printed once the service listens. */
export function startupLines(service: RunningService, init = false): string[] {
  // The store actually opened (--store, the environment or the config may name another than the data dir's).
  const lines = [`${PROGRAM}: serving ${service.url} (store ${service.system.store.name})`];
  const identity = service.system.store instanceof SqliteStore ? service.system.store.identity : undefined;
  if (identity?.created === 'init')
    lines.push(`database: --init created an empty database (store ${identity.storeId}) in place of the missing one`);
  else if (identity?.created) lines.push(`database: created (first start, store ${identity.storeId})`);
  else if (init && identity) lines.push(`database: --init: the database exists (store ${identity.storeId}); nothing was created`);
  if (service.tokenCreated) {
    lines.push(`token: ${service.token}`, `  generated now and saved in ${service.tokenSource} (mode 0600); it is not printed again`);
  } else {
    // `serve` passes a token as an option only from the config file's `token` key.
    const from =
      service.tokenSource === TOKEN_ENV
        ? `from the environment variable ${TOKEN_ENV}`
        : service.tokenSource === 'options'
          ? 'from the config file ("token")'
          : `in ${service.tokenSource}`;
    lines.push(`token: ${from}`);
  }
  if (service.readToken)
    lines.push('reads: private (every GET but /health, /ready, /openapi.json, /docs and the dashboard files needs the token)');
  if (service.inspector) {
    lines.push(
      `inspector: ${service.inspector.url}`,
      `  open it in a browser with internet access: it embeds the Stately inspector (events on ${service.inspector.wsUrl})`,
    );
  }
  return lines;
}

/** The `serve` command: resolves to 0 once a signal has closed the service. */
export const serveCommand: Command = {
  name: 'serve',
  usage,
  async run(argv, io) {
    const { values } = parse(argv, {
      'data-dir': { type: 'string' },
      init: { type: 'boolean' },
      host: { type: 'string' },
      port: { type: 'string' },
      inspect: { type: 'boolean' },
      'inspect-port': { type: 'string' },
      'log-level': { type: 'string' },
      ...MARKET_FLAGS,
      'auth-reads': { type: 'boolean' },
      'request-timeout': { type: 'string' },
      'max-streams': { type: 'string' },
    });
    const settings = resolveServe(values, process.env, process.cwd());
    const dataDir = values['data-dir'] ?? settings.dataDir ?? './data';
    if (dataDir === '') throw new UsageError('--data-dir needs a path');
    const host = values.host ?? settings.host ?? '127.0.0.1';
    if (host === '') throw new UsageError('--host needs a value');
    const listenPort = port('--port', values.port, settings.port ?? 7400);
    const inspectPort = port('--inspect-port', values['inspect-port'], settings.inspectPort);
    const level = values['log-level'] === undefined ? (settings.logLevel ?? 'info') : oneOf('--log-level', values['log-level'], LEVELS);
    const inspect = inspectPort !== undefined ? { port: inspectPort } : Boolean(values.inspect ?? settings.inspect);
    const timeout =
      values['request-timeout'] === undefined
        ? undefined
        : wholeNumber('--request-timeout', values['request-timeout'], 1, 3600, 'a number of seconds (1-3600)');
    const maxStreams =
      values['max-streams'] === undefined
        ? undefined
        : wholeNumber('--max-streams', values['max-streams'], 1, 10_000, 'a number of clients (1-10000)');

    // A token too short to be a secret is a setting at fault: said before anything opens (exit 2).
    const envToken = process.env[TOKEN_ENV];
    if (envToken && envToken.trim().length < 16) throw new UsageError(`${TOKEN_ENV} must be at least 16 characters`);
    // startService makes the token before it opens the database: a start that fails after that
    // must not leave a token that was never shown (the next start would not print it).
    const tokenFile = join(dataDir, 'token');
    const tokenToMake = !process.env[TOKEN_ENV] && !existsSync(tokenFile);
    // The token file, held to the same rules (long enough, owner-only), before anything opens.
    if (!envToken && !tokenToMake && settings.service.token === undefined) {
      try {
        checkedTokenFile(tokenFile);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
    }
    let service: RunningService;
    try {
      service = await startService({
        ...settings.service,
        dataDir,
        init: Boolean(values.init),
        host,
        port: listenPort,
        inspect,
        logger: { level },
        ...(values['auth-reads'] ? { readToken: true } : {}),
        ...(timeout !== undefined ? { requestTimeoutMs: timeout * 1000 } : {}),
        ...(maxStreams !== undefined ? { stream: { maxClients: maxStreams } } : {}),
      });
    } catch (error) {
      if (tokenToMake) rmSync(tokenFile, { force: true });
      const code = (error as { code?: string }).code;
      if (code === 'EADDRINUSE') throw new CommandError(`cannot listen: ${host}:${listenPort} (or the inspector port) is in use`);
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new CommandError(`cannot listen on ${host}: no such local address`);
      if (code === 'EACCES') throw new CommandError(`cannot listen on ${host}:${listenPort}: permission denied`);
      throw error;
    }
    const stopped = new Promise<number>((resolve, reject) => {
      let stopping = false;
      const onSignal = (signal: NodeJS.Signals) => {
        if (stopping) {
          io.err(`${PROGRAM}: serve: ${signal} again: exiting without waiting`);
          process.exit(1);
        }
        stopping = true;
        service.app.log.info({ signal }, 'shutting down: finishing requests in flight, then closing the store');
        service.close().then(() => {
          service.app.log.info({ store: service.system.store.name }, 'closed');
          resolve(0);
        }, reject);
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
    // Printed once the handlers are in place: a supervisor that signals as soon as it reads the
    // line must get a clean shutdown, not the default kill.
    io.out([...startupLines(service, Boolean(values.init)), ...marketLines(service, settings)].join('\n'));
    return stopped;
  },
};
