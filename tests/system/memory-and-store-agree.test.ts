/**
 * The in-memory and the persisted system run the same pipeline: the same event stream gives the
 * same answers, the same audit trails and the same states, whichever system runs it.
 */
import { join } from 'node:path';
import type { StrategyDefinition } from '../../machines/definition';
import type { StrategyEvent } from '../../machines/events';
import { lt112, zeroDte } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { openStrategySystem } from '../../services/runtime/persistentSystem';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { SqliteStore } from '../../services/store/sqliteStore';
import { tempDir } from '../persistence/helpers';
import { FRIDAY_11AM, VARIANTS } from '../support/fixtures';

/** lt112 whose hook refuses the first entry into PENDING_ENTRY (a broker session not ready). */
function withFlakyHook(): StrategyDefinition {
  let failures = 1;
  return {
    ...lt112,
    hooks: {
      onEnter: {
        PENDING_ENTRY: () => {
          if (failures-- > 0) throw new Error('broker session not ready');
        },
      },
    },
  };
}

/** Sends, suspensions, broadcasts and a trading state change, with rejections of every kind. */
const STREAM: Array<['send', string, StrategyEvent] | ['broadcast', StrategyEvent] | ['suspendAll' | 'resumeAll'] | ['halt']> = [
  ['broadcast', { type: 'MARKET_OPEN' }],
  ['send', 'lt', { type: 'TIME_WINDOW_START', eventId: 'w-1' }],
  ['send', 'lt', { type: 'TIME_WINDOW_START', eventId: 'w-1' }], // duplicate
  ['send', 'lt', { type: 'ORDER_FILLED', quantity: 0 }], // invalid
  ['send', 'lt', VARIANTS[1].entry], // the hook throws once: aborted
  ['send', 'lt', VARIANTS[1].entry],
  ['send', 'zero', { type: 'ORDER_SUBMITTED' }], // no edge
  ['suspendAll'],
  ['resumeAll'],
  ['halt'],
  ['send', 'zero', { type: 'TIME_WINDOW_START' }],
  ['send', 'zero', VARIANTS[0].entry], // HALTED: refused by the trading state
  ['broadcast', { type: 'SYSTEM_ERROR', reason: 'feed down' }],
];

interface Run {
  answers: unknown[];
  trails: Record<string, unknown[]>;
  states: Record<string, string>;
}

async function runStream(kind: 'memory' | 'sqlite'): Promise<Run> {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const flaky = withFlakyHook();
  const { dir, cleanup } = tempDir();
  const system =
    kind === 'memory'
      ? createStrategySystem({ clock })
      : await openStrategySystem({ store: new SqliteStore(join(dir, 's.db')), variants: [flaky, zeroDte], clock });
  await system.add(flaky, { id: 'lt', params: { underlying: 'SPX' } });
  await system.add(zeroDte, { id: 'zero', params: { underlying: 'SPX' } });
  const answers: unknown[] = [];
  const brief = (r: { accepted: boolean; from: string; to: string; code?: string; reason?: string }) => ({
    accepted: r.accepted,
    from: r.from,
    to: r.to,
    code: r.code,
    reason: r.reason,
  });
  for (const step of STREAM) {
    clock.increment(1000);
    if (step[0] === 'send') answers.push(brief(await system.send(step[1], step[2])));
    else if (step[0] === 'broadcast') {
      const results = await system.broadcast(step[1]);
      answers.push(Object.fromEntries(Object.entries(results).map(([id, r]) => [id, r instanceof Error ? r.message : brief(r)])));
    } else if (step[0] === 'halt') answers.push(await system.setTradingState('HALTED', 'test', 'operator'));
    else answers.push(await system[step[0]]('FOMC'));
  }
  const trails = Object.fromEntries(
    system.ids().map((id) => [
      id,
      system
        .get(id)
        .getAuditTrail()
        .map(({ timestamp, ...rest }) => rest),
    ]),
  );
  const states = Object.fromEntries(system.ids().map((id) => [id, system.get(id).state]));
  if ('close' in system) await system.close();
  else system.stop();
  cleanup();
  return { answers, trails, states };
}

describe.each(['memory', 'sqlite'] as const)('the %s system', (kind) => {
  test('answers the stream as the pipeline says: rejections, an aborting hook, suspension, HALTED, a safety broadcast', async () => {
    const run = await runStream(kind);
    const codes = run.answers.slice(1, 7).map((a) => (a as { code?: string }).code ?? 'accepted');
    expect(codes).toEqual(['accepted', 'DUPLICATE_EVENT', 'INVALID_EVENT', 'HOOK_FAILED', 'accepted', 'NO_EDGE']);
    expect(run.answers[11]).toMatchObject({ accepted: false, code: 'TRADING_HALTED' });
    expect(run.states).toEqual({ lt: 'ERROR', zero: 'ERROR' });
  });
});

test('the in-memory and the persisted system give the same answers, trails and states for the same stream', async () => {
  const memory = await runStream('memory');
  const stored = await runStream('sqlite');
  expect(stored.answers).toEqual(memory.answers);
  expect(stored.trails).toEqual(memory.trails);
  expect(stored.states).toEqual(memory.states);
});
