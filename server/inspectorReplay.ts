/**
 * What the inspector bridge keeps so that a viewer who connects late still sees every live
 * actor: per actor (by `sessionId`) its `@xstate.actor` message and its latest
 * `@xstate.snapshot`, plus a short tail of recent `@xstate.event` messages. An actor whose
 * snapshot says it is no longer running (`stopped`, `done`, `error`) is forgotten, so memory is
 * bounded by the live actors and the tail, however long the process runs. That includes a
 * strategy's invoked actors: XState sends a `stopped` snapshot for each when its state is left.
 * An `@xstate.actor` message carries its machine's whole definition (about 20 KB for a strategy);
 * the definition is kept once per distinct text and shared by every actor of that machine, so
 * 10,000 strategies of three variants keep three definitions, not 10,000.
 * (It sends none for an invoked actor it stops before starting it, in a state left within the
 * macrostep that entered it, e.g. by an `always` transition; `@statelyai/inspect` announces that
 * one `active` and it would stay. The strategy machines have no such transient invoking state.)
 */

/** Snapshot statuses after which an actor is gone from the system and from the replay. */
const ENDED = new Set(['stopped', 'done', 'error']);

/** The fields of a `@statelyai/inspect` message the replay reads (the rest is passed on verbatim). */
interface InspectMessage {
  type?: unknown;
  sessionId?: unknown;
  snapshot?: { status?: unknown } | null;
  definition?: unknown;
}

interface LiveActor {
  /** The `@xstate.actor` message without its definition (see {@link DEFINITION_MARK}). */
  actor: string;
  /** The definition's text, shared with every other actor of the same machine. */
  definition?: string;
  /** The latest `@xstate.snapshot` message, as received. */
  snapshot?: string;
}

/** Stands for the definition in a kept `@xstate.actor` message (one that already contains it is kept verbatim). */
const DEFINITION_MARK = '\u0000definition\u0000';
const MARK_JSON = JSON.stringify(DEFINITION_MARK);

/** Options of {@link createInspectionReplay}. */
export interface InspectionReplayOptions {
  /** How many recent `@xstate.event` messages of live actors are kept (default 100). */
  eventTail?: number;
}

/** The bridge's memory of the live system, in the `@statelyai/inspect` wire format. */
export interface InspectionReplay {
  /** Takes one message as it goes by (JSON text); anything that is not an inspection message is ignored. */
  record(message: string): void;
  /**
   * What a newly connected viewer receives before the live messages: every live actor's
   * `@xstate.actor` message (in creation order, so parents come before their children), then the
   * recent events addressed to live actors, then each live actor's latest `@xstate.snapshot`,
   * so the viewer ends on the state each actor is in now.
   */
  replay(): string[];
  /** The session ids of the actors kept (live ones). */
  sessionIds(): string[];
  /** What is kept: live actors, distinct machine definitions, and the characters of every kept message and definition. */
  size(): { actors: number; definitions: number; chars: number };
}

/**
 * Creates the replay memory of the inspector bridge.
 *
 * @example
 * ```ts
 * const replay = createInspectionReplay({ eventTail: 50 });
 * socket.on('message', (data) => replay.record(data.toString()));
 * wss.on('connection', (viewer) => replay.replay().forEach((m) => viewer.send(m)));
 * ```
 */
export function createInspectionReplay(options: InspectionReplayOptions = {}): InspectionReplay {
  const tailSize = Math.max(0, options.eventTail ?? 100);
  const actors = new Map<string, LiveActor>();
  const events: Array<{ sessionId: string; message: string }> = [];
  /** Each distinct definition text once, with the number of live actors sharing it. */
  const definitions = new Map<string, { text: string; users: number }>();

  const share = (text: string): string => {
    const entry = definitions.get(text);
    if (entry) {
      entry.users++;
      return entry.text;
    }
    definitions.set(text, { text, users: 1 });
    return text;
  };
  const release = (text: string | undefined) => {
    if (text === undefined) return;
    const entry = definitions.get(text);
    if (entry && --entry.users === 0) definitions.delete(text);
  };
  /** The actor message as received: the shared definition put back in its place. */
  const actorMessage = (live: LiveActor): string =>
    live.definition === undefined ? live.actor : live.actor.replace(MARK_JSON, () => JSON.stringify(live.definition));

  const parse = (message: string): InspectMessage | undefined => {
    try {
      const parsed: unknown = JSON.parse(message);
      return parsed !== null && typeof parsed === 'object' ? parsed : undefined;
    } catch {
      return undefined;
    }
  };
  const ended = (parsed: InspectMessage) => ENDED.has(String(parsed.snapshot?.status));
  const forget = (sessionId: string) => {
    release(actors.get(sessionId)?.definition);
    actors.delete(sessionId);
    for (let i = events.length - 1; i >= 0; i--) if (events[i].sessionId === sessionId) events.splice(i, 1);
  };

  return {
    record(message) {
      const parsed = parse(message);
      if (!parsed || typeof parsed.sessionId !== 'string') return;
      const { sessionId } = parsed;
      switch (parsed.type) {
        case '@xstate.actor':
          // @statelyai/inspect reads the actor's snapshot when it converts the event: an actor
          // stopped in the same tick it was created arrives already ended.
          if (ended(parsed)) return forget(sessionId);
          release(actors.get(sessionId)?.definition);
          if (typeof parsed.definition === 'string' && !message.includes(MARK_JSON.slice(1, -1))) {
            const definition = share(parsed.definition);
            actors.set(sessionId, { actor: JSON.stringify({ ...parsed, definition: DEFINITION_MARK }), definition });
          } else actors.set(sessionId, { actor: message });
          return;
        case '@xstate.snapshot': {
          if (ended(parsed)) return forget(sessionId);
          const live = actors.get(sessionId);
          // A snapshot of an actor whose actor message never came cannot be shown: not kept.
          if (live) live.snapshot = message;
          return;
        }
        case '@xstate.event':
          if (!actors.has(sessionId) || tailSize === 0) return;
          events.push({ sessionId, message });
          if (events.length > tailSize) events.shift();
          return;
        default:
          return;
      }
    },
    replay() {
      const live = [...actors.values()];
      return [
        ...live.map(actorMessage),
        ...events.filter((e) => actors.has(e.sessionId)).map((e) => e.message),
        ...live.flatMap((a) => (a.snapshot === undefined ? [] : [a.snapshot])),
      ];
    },
    sessionIds: () => [...actors.keys()],
    size() {
      let chars = 0;
      for (const live of actors.values()) chars += live.actor.length + (live.snapshot?.length ?? 0);
      for (const { message } of events) chars += message.length;
      for (const text of definitions.keys()) chars += text.length;
      return { actors: actors.size, definitions: definitions.size, chars };
    },
  };
}
