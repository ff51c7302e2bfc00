/**
 * Without a store the in-memory trail is capped (issue 15): `auditLimit`, default 10,000, the
 * oldest record dropped first; persisted snapshots of the earlier release, with their whole trail,
 * still restore.
 */
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import type { StrategyEvent } from '../../machines/events';
import { lt112 } from '../../machines/variants';
import { createSimulatedClock } from '../../services/market/clock';
import { getStatistics } from '../../services/runtime/statistics';
import { createStrategyActor, DEFAULT_AUDIT_LIMIT, type PersistedStrategy } from '../../services/runtime/strategyActor';
import { createStrategySystem } from '../../services/runtime/strategySystem';
import { FRIDAY_11AM } from '../support/fixtures';

const ROUND: StrategyEvent[] = [
  { type: 'MANUAL_OVERRIDE', target: 'SUSPENDED', reason: 'round', operator: 'test' },
  { type: 'ORDER_FILLED', quantity: 1 },
  { type: 'RESUME' },
];
const machine = createStrategyMachine(lt112);
const seqs = (trail: readonly { seq: number }[]) => trail.map((r) => r.seq);

test('the default cap is 10,000 records: past it the oldest is dropped, the statistics stay whole', () => {
  expect(DEFAULT_AUDIT_LIMIT).toBe(10_000);
  const strategy = createStrategyActor(machine, { id: 'lt', clock: createSimulatedClock(FRIDAY_11AM) });
  strategy.trigger({ type: 'MARKET_OPEN' });
  for (let i = 0; i < DEFAULT_AUDIT_LIMIT + 49; i++) strategy.trigger(ROUND[i % 3]);
  const trail = strategy.getAuditTrail();
  expect(trail).toHaveLength(DEFAULT_AUDIT_LIMIT);
  expect(trail[0].seq).toBe(51);
  expect(trail.at(-1)!.seq).toBe(DEFAULT_AUDIT_LIMIT + 50);
  // The counts live in the context: dropped records still count.
  const stats = getStatistics(strategy);
  expect(stats.totalTransitions + stats.rejectedTriggers).toBe(DEFAULT_AUDIT_LIMIT + 50);
  expect(strategy.getPersistedSnapshot().auditTrail).toHaveLength(DEFAULT_AUDIT_LIMIT);
  strategy.stop();
});

test('auditLimit sets the cap of a strategy and of every strategy of a system', () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const alone = createStrategyActor(machine, { id: 'alone', clock, auditLimit: 5 });
  const system = createStrategySystem({ clock, auditLimit: 4 });
  const inSystem = system.add(lt112, { id: 'in-system' });
  for (const s of [alone, inSystem]) {
    s.trigger({ type: 'MARKET_OPEN' });
    for (let i = 0; i < 12; i++) {
      const result = s.trigger(ROUND[i % 3]);
      // The result's record is the one this trigger wrote, also once older ones are dropped.
      expect(result.record.seq).toBe(i + 2);
    }
  }
  expect(seqs(alone.getAuditTrail())).toEqual([9, 10, 11, 12, 13]);
  expect(seqs(inSystem.getAuditTrail())).toEqual([10, 11, 12, 13]);
  alone.stop();
  system.stop();
});

test('a persisted strategy of the earlier release (whole trail) restores, cut to the cap; one without a trail restores empty', () => {
  const clock = createSimulatedClock(FRIDAY_11AM);
  const source = createStrategyActor(machine, { id: 'lt', clock });
  source.trigger({ type: 'MARKET_OPEN' });
  for (let i = 0; i < 29; i++) source.trigger(ROUND[i % 3]);
  // As the earlier release wrote it: the whole trail in the JSON.
  const saved = JSON.parse(JSON.stringify(source.getPersistedSnapshot())) as PersistedStrategy;
  expect(saved.auditTrail).toHaveLength(30);
  source.stop();

  const whole = createStrategyActor(machine, { clock, snapshot: saved });
  expect(whole.getAuditTrail()).toEqual(saved.auditTrail);
  expect(whole.state).toBe(source.state);
  const capped = createStrategyActor(machine, { clock, snapshot: saved, auditLimit: 8 });
  expect(seqs(capped.getAuditTrail())).toEqual([23, 24, 25, 26, 27, 28, 29, 30]);
  capped.trigger(ROUND[0]);
  expect(seqs(capped.getAuditTrail())).toEqual([24, 25, 26, 27, 28, 29, 30, 31]);

  const system = createStrategySystem({ clock, auditLimit: 3 });
  expect(seqs(system.add(lt112, { id: 'lt', snapshot: saved }).getAuditTrail())).toEqual([28, 29, 30]);
  const { auditTrail: _dropped, ...withoutTrail } = saved;
  const bare = createStrategyActor(machine, { clock, snapshot: withoutTrail });
  expect(bare.getAuditTrail()).toEqual([]);
  expect(bare.state).toBe(source.state);
  expect(bare.trigger(ROUND[0]).record.seq).toBe(31);
  for (const s of [whole, capped, bare]) s.stop();
  system.stop();
});
