/** A Server-Sent Events reader for the stream tests: every event parsed (comments skipped), as it arrives. */

/** One event as a client received it. */
export interface Received {
  id: string;
  event: string;
  data: Record<string, unknown>;
}

/**
 * Opens `GET <base>/events<query>` with `headers` and collects its events; resolves once the
 * first `connected` or `reset` arrived (or, with `waitFor: false`, at once).
 */
export async function openStream(base: string, headers: Record<string, string> = {}, query = '', waitFor = true) {
  const controller = new AbortController();
  const response = await fetch(`${base}/events${query}`, { headers, signal: controller.signal });
  const events: Received[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let pending = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        pending += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          const block = pending.slice(0, end);
          pending = pending.slice(end + 2);
          const fields = Object.fromEntries(
            block
              .split('\n')
              .filter((l) => !l.startsWith(':'))
              .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
          );
          if (fields.event) events.push({ id: fields.id, event: fields.event, data: JSON.parse(fields.data) });
        }
      }
    } catch {
      // aborted
    }
  })();
  /** Polls the network reader (real I/O, not time-dependent behaviour) until `check` holds, for at most 10 s. */
  const until = async (check: () => boolean) => {
    for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(check()).toBe(true);
  };
  if (waitFor) await until(() => events.some((e) => e.event === 'connected' || e.event === 'reset'));
  return { events, until, close: () => controller.abort(), lastId: () => events.at(-1)!.id };
}

/** `strategyId#seq` of every transition received, in order. */
export function transitionsOf(events: Received[]): string[] {
  return events
    .filter((e) => e.event === 'transition')
    .map((e) => `${e.data.strategyId as string}#${(e.data.record as { seq: number }).seq}`);
}
