/**
 * Helpers of the inspector bridge tests: the producer child process (tests/services/inspect-producer.mjs,
 * the built package with `@statelyai/inspect`) and WebSocket viewers on the bridge.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';

const PRODUCER = resolve(__dirname, 'inspect-producer.mjs');
const DIST = resolve(__dirname, '../../dist/esm/server/inspector.js');

/** One `@statelyai/inspect` message as a viewer receives it. */
export interface InspectMessage {
  type: string;
  sessionId: string;
  name?: string;
  parentId?: string;
  _version?: string;
  event?: { type: string; [key: string]: unknown };
  snapshot?: { status?: string; value?: unknown; context?: Record<string, unknown> };
}

/** What the producer says about its system. */
export interface ProducerStatus {
  coordinator?: string;
  strategies: Array<{ id: string; state: string; sessionId: string }>;
}

/** The producer child: `call` sends one command and resolves with its answer. */
export interface Producer {
  call<T = ProducerStatus>(command: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

/** Starts the producer (the built package: run `npm run build` first). */
export function startProducer(): Producer {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run \`npm run build\` first`);
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--expose-gc', PRODUCER], { stdio: 'pipe' });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const answers: Array<(line: string) => void> = [];
  createInterface({ input: child.stdout }).on('line', (line) => answers.shift()?.(line));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return {
    call<T>(command: Record<string, unknown>) {
      return new Promise<T>((resolveCall, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer to ${String(command.cmd)}; stderr: ${stderr}`)), 30_000);
        answers.push((line) => {
          clearTimeout(timer);
          const answer = JSON.parse(line) as { ok: boolean; error?: string } & T;
          if (answer.ok) resolveCall(answer);
          else reject(new Error(`${String(command.cmd)} failed in the producer: ${answer.error}`));
        });
        child.stdin.write(`${JSON.stringify(command)}\n`);
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin.write(`${JSON.stringify({ cmd: 'stop' })}\n`);
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** A WebSocket client on the bridge, keeping every message in order. */
export interface Viewer {
  messages: InspectMessage[];
  /** Resolves with the first message `find` accepts (waiting for it), rejects after 20 s. */
  waitFor(find: (m: InspectMessage) => boolean, what: string): Promise<InspectMessage>;
  close(): void;
}

/** Connects a viewer to the bridge's WebSocket. */
export async function connectViewer(wsUrl: string): Promise<Viewer> {
  const messages: InspectMessage[] = [];
  const waiting = new Set<() => void>();
  const socket = new WebSocket(wsUrl);
  socket.on('message', (data: Buffer) => {
    messages.push(JSON.parse(data.toString()) as InspectMessage);
    for (const wake of waiting) wake();
  });
  await new Promise<void>((open, reject) => socket.once('open', () => open()).once('error', reject));
  return {
    messages,
    waitFor(find, what) {
      return new Promise((found, reject) => {
        const check = () => {
          const hit = messages.find(find);
          if (!hit) return;
          cleanup();
          found(hit);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no ${what} among ${messages.length} messages`));
        }, 20_000);
        const cleanup = () => {
          clearTimeout(timer);
          waiting.delete(check);
        };
        waiting.add(check);
        check();
      });
    },
    close: () => socket.terminate(),
  };
}

/** The top-level state of a snapshot value (`'MANAGING'` or `{ MANAGING: ... }`). */
export function topLevel(value: unknown): unknown {
  return value !== null && typeof value === 'object' ? Object.keys(value)[0] : value;
}

/** What a viewer shows for each actor after applying `messages` in order: its latest snapshot. */
export function viewOf(messages: InspectMessage[]): Map<string, { name?: string; snapshot?: InspectMessage['snapshot'] }> {
  const view = new Map<string, { name?: string; snapshot?: InspectMessage['snapshot'] }>();
  for (const m of messages) {
    if (m.type === '@xstate.actor') view.set(m.sessionId, { name: m.name, snapshot: m.snapshot });
    else if (m.type === '@xstate.snapshot' && view.has(m.sessionId)) view.get(m.sessionId)!.snapshot = m.snapshot;
  }
  return view;
}
