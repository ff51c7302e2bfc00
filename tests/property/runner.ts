/**
 * Runs one generated scenario against the real strategy (and, for the restore and idempotency
 * properties, a twin that is never restored) with the reference model alongside, checking the
 * invariants a property asks for after every step. Clock advances are cut at every deadline the
 * model expects, so each deadline firing is checked on its own, at its exact instant.
 * A failure throws with the concrete steps that led to it (fast-check shrinks them first).
 */
import { validateEvent } from '../../machines/validateEvent';
import type { TransitionRecord } from '../../machines/types';
import { getStatistics } from '../../services/runtime/statistics';
import {
  advanceTarget,
  hookThrows,
  materializeEvent,
  type AdvanceCommand,
  type EventCommand,
  type GenState,
  type Scenario,
} from './commands';
import { Driven } from './driver';
import { ReferenceModel, type ExpectedRecord, type Generated } from './model/referenceModel';
import { STATES, TRAITS, type State } from './model/table';
import { checkErrors, checkPosition, type TrailWatch } from './trailChecks';
import { coverage, tally } from './coverage';

/** Which invariants a property checks. */
export interface Checks {
  model?: boolean;
  position?: boolean;
  errors?: boolean;
  audit?: boolean;
  /** A twin that is never restored must end identical. */
  twin?: boolean;
  /** Every valid event carries a unique id and is delivered again; a twin gets each once. */
  idempotency?: boolean;
}

type Step =
  | { op: 'trigger'; input: unknown; at: number; hook: boolean; again?: boolean }
  | { op: 'advance'; to: number; hook: boolean }
  | { op: 'restore'; at: number };

const fmtTime = (at: number) => new Date(at).toISOString();
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

class Run {
  readonly model: ReferenceModel;
  readonly main: Driven;
  /** The main strategy's incarnation when added: every restore must keep it (its orders carry it). */
  private readonly incarnation: string | undefined;
  readonly twin: Driven | null;
  private readonly gen: GenState = { nextId: 0, sent: [] };
  private readonly steps: Step[] = [];
  private readonly watch: TrailWatch = { terminated: false, errorEntry: null, recoveriesByDay: new Map(), hookFailures: 0 };
  private lastAt = -Infinity;
  /** Idempotency: seqs of the records written by redeliveries, and the inputs that were applied. */
  private readonly redeliveries = new Set<number>();
  private readonly applied: Generated[] = [];

  constructor(
    readonly s: Scenario,
    readonly checks: Checks,
  ) {
    this.model = new ReferenceModel(TRAITS[s.variant], s.start, s.withHooks);
    this.main = new Driven(s.variant, s.start, s.withHooks);
    this.incarnation = this.main.context.incarnation;
    this.twin = checks.twin || checks.idempotency ? new Driven(s.variant, s.start, s.withHooks) : null;
  }

  execute(): void {
    for (const c of this.s.commands) {
      if (c.k === 'ev') this.eventStep(c);
      else if (c.k === 'adv') this.advanceStep(c);
      else this.restoreStep();
    }
    this.finish();
  }

  fail(message: string): never {
    const lines = this.steps.map((step, i) => {
      const n = `${i + 1}.`.padEnd(5);
      if (step.op === 'trigger')
        return `${n}${step.again ? 'again: ' : ''}trigger(${JSON.stringify(step.input)}) at ${fmtTime(step.at)}${step.hook ? '  [hook throws]' : ''}`;
      if (step.op === 'advance') return `${n}clock.set(${fmtTime(step.to)})${step.hook ? '  [hooks throw]' : ''}`;
      return `${n}persist + restore (JSON, new actor, new clock) at ${fmtTime(step.at)}`;
    });
    const head = `variant ${this.s.variant}, clock starts ${fmtTime(this.s.start)}, hooks ${this.s.withHooks ? 'installed (onTransition throws on demand)' : 'none'}`;
    throw new Error(`${message}\n${head}\n${lines.join('\n')}`);
  }

  private eventStep(c: EventCommand): void {
    let g = materializeEvent(c, this.model, this.gen);
    if (this.checks.idempotency && g.ev) {
      const ev = { ...g.ev, eventId: `once-${this.gen.nextId++}` };
      g = { input: ev, ev, sentType: g.sentType };
    }
    this.gen.sent.push(g);
    const hook = !this.checks.idempotency && hookThrows(c);
    const first = this.deliver(g, hook);
    if (!this.checks.idempotency) return;
    if (first.accepted) this.applied.push(g);
    // Delivered again: at once (1 in 3), after a restore (1 in 24), or an older applied one (about 1 in 4).
    const how = c.id % 24;
    if (how < 8) this.redeliver(g, first);
    else if (how === 8) {
      this.restoreStep();
      this.redeliver(g, first);
    } else if (how < 15 && this.applied.length > 0) this.redeliver(this.applied[c.a % this.applied.length], { accepted: true });
  }

  private deliver(g: Generated, hook: boolean): { accepted: boolean; code?: string } {
    if (this.checks.audit && validateEvent(g.input).ok !== (g.ev !== undefined)) {
      this.fail(
        `validateEvent disagrees with the documented event table on ${JSON.stringify(g.input)} (expected ${g.ev ? 'valid' : 'invalid'})`,
      );
    }
    const expected = this.model.trigger(g, hook);
    const before = this.main.trail.length;
    this.steps.push({ op: 'trigger', input: g.input, at: this.model.now, hook });
    const result = this.main.trigger(g.input, hook);
    this.twin?.trigger(g.input, hook);
    this.verify(expected, before, result);
    return result;
  }

  /** Idempotency: the same input again; an applied one must change nothing but add its DUPLICATE_EVENT record. */
  private redeliver(g: Generated, first: { accepted: boolean; code?: string }): void {
    const strip = () => {
      const c = this.main.context;
      return JSON.stringify([
        c.position,
        c.errorCount,
        c.lastError,
        c.deadline,
        c.autoRecoveries,
        c.enteredAt,
        c.recentEventIds.length,
        c.recentEventIds.at(-1),
      ]);
    };
    const stateBefore = this.main.state;
    const contextBefore = strip();
    const before = this.main.trail.length;
    this.model.trigger(g, false);
    this.steps.push({ op: 'trigger', input: g.input, at: this.model.now, hook: false, again: true });
    const result = this.main.trigger(g.input, false);
    this.redeliveries.add(result.record.seq);
    if (this.main.trail.length !== before + 1) this.fail(`a redelivery wrote ${this.main.trail.length - before} records, not 1`);
    if (first.accepted && (result.accepted || result.code !== 'DUPLICATE_EVENT')) {
      this.fail(`an applied event delivered again was answered ${result.accepted ? 'accepted' : result.code}, not DUPLICATE_EVENT`);
    }
    if (!first.accepted && (result.accepted || result.code !== first.code)) {
      this.fail(
        `a rejected event delivered again in the same state was answered ${result.accepted ? 'accepted' : result.code}, first ${first.code}`,
      );
    }
    if (this.main.state !== stateBefore || strip() !== contextBefore) this.fail('a redelivered event changed the strategy');
  }

  private advanceStep(c: AdvanceCommand): void {
    const target = advanceTarget(c, this.model);
    const hook = !this.checks.idempotency && hookThrows(c);
    while (this.model.deadline && this.model.deadline.at <= target) this.advanceTo(this.model.deadline.at, hook);
    this.advanceTo(target, hook);
  }

  private advanceTo(at: number, hook: boolean): void {
    if (at <= this.main.clock.now()) return;
    const expected = this.model.advanceTo(at, hook);
    const before = this.main.trail.length;
    this.steps.push({ op: 'advance', to: at, hook });
    this.main.advanceTo(at, hook);
    this.twin?.advanceTo(at, hook);
    this.verify(expected, before, undefined);
  }

  private restoreStep(): void {
    // The whole trail is compared with the never-restored twin at the end; here, what a restore could lose.
    const view = () =>
      JSON.stringify([this.main.context, this.main.trail.length, this.main.trail.at(-1), this.main.actor.getSnapshot().value]);
    const before = this.checks.twin ? view() : '';
    this.steps.push({ op: 'restore', at: this.main.clock.now() });
    this.main.restore();
    coverage.restores++;
    if (this.checks.twin) {
      const after = view();
      if (after !== before) this.fail(`restoring changed the strategy:\n  before ${before}\n  after  ${after}`);
    }
    this.verify([], this.main.trail.length, undefined);
  }

  private verify(
    expected: ExpectedRecord[],
    before: number,
    result: { accepted: boolean; from: string; to: string; code?: string; record: TransitionRecord } | undefined,
  ): void {
    tally(this.s.variant, this.model, expected);
    const fresh = this.main.trail.slice(before);
    if (this.checks.model) this.checkModel();
    if (this.checks.position) checkPosition(this, this.watch, fresh);
    if (this.checks.errors) checkErrors(this, this.watch, fresh, TRAITS[this.s.variant]);
    if (this.checks.audit) this.checkAudit(expected, fresh, before, result);
    if (this.checks.twin && this.twin && this.twin.state !== this.main.state)
      this.fail(`restored strategy is in ${this.main.state}, the never-restored one in ${this.twin.state}`);
  }

  private checkModel(): void {
    const m = this.model;
    const state = this.main.state as State;
    if (!STATES.includes(state)) this.fail(`state ${state} is not one of the 15`);
    if (state !== m.state) this.fail(`state is ${state}, the reference model says ${m.state}`);
    const ctx = this.main.context;
    const differs = (what: string, actual: unknown, expected: unknown) =>
      this.fail(`${what} is ${JSON.stringify(actual)}, the reference model says ${JSON.stringify(expected)}`);
    if ((ctx.position?.quantity ?? 0) !== m.quantity) differs('position quantity', ctx.position?.quantity ?? 0, m.quantity);
    if (ctx.position?.expiry !== m.expiry) differs('position expiry', ctx.position?.expiry, m.expiry);
    if (ctx.errorCount !== m.errorCount) differs('errorCount', ctx.errorCount, m.errorCount);
    const d = ctx.deadline;
    const md = m.deadline;
    if (d === null ? md !== null : md === null || d.kind !== md.kind || d.state !== md.state || d.at !== md.at) differs('deadline', d, md);
    if (ctx.autoRecoveries.day !== m.recoveries.day || ctx.autoRecoveries.count !== m.recoveries.count)
      differs('autoRecoveries', ctx.autoRecoveries, m.recoveries);
    if (ctx.recentEventIds.length !== m.applied.length || ctx.recentEventIds.at(-1) !== m.applied.at(-1))
      differs('applied event ids', ctx.recentEventIds, m.applied);
    if (m.sub !== null && !same(this.main.actor.getSnapshot().value, { [state]: m.sub }))
      differs('state value', this.main.actor.getSnapshot().value, { [state]: m.sub });
  }

  private checkAudit(
    expected: ExpectedRecord[],
    fresh: readonly TransitionRecord[],
    before: number,
    result: { accepted: boolean; from: string; to: string; code?: string; record: TransitionRecord } | undefined,
  ): void {
    const show = (r: unknown) => JSON.stringify(r);
    const pick = (r: TransitionRecord, e: ExpectedRecord) => ({
      at: r.at,
      trigger: e.trigger === '' ? '' : r.trigger,
      previousState: r.previousState,
      currentState: r.currentState,
      accepted: r.accepted,
      code: r.code,
      eventId: r.eventId,
      reentered: r.reentered,
      data: e.data === undefined ? undefined : r.data,
    });
    const norm = (e: ExpectedRecord) => ({
      at: e.at,
      trigger: e.trigger,
      previousState: e.previousState,
      currentState: e.currentState,
      accepted: e.accepted,
      code: e.code,
      eventId: e.eventId,
      reentered: e.reentered,
      data: e.data,
    });
    if (fresh.length !== expected.length || fresh.some((r, i) => !same(pick(r, expected[i]), norm(expected[i])))) {
      this.fail(
        `audit records differ from the reference model:\n  actual   ${show(fresh.map((r, i) => (expected[i] ? pick(r, expected[i]) : r)))}\n  expected ${show(expected.map(norm))}`,
      );
    }
    fresh.forEach((r, i) => {
      if (r.seq !== before + i + 1) this.fail(`record seq ${r.seq} at position ${before + i + 1}`);
      if (r.at < this.lastAt) this.fail(`record ${r.seq} at ${fmtTime(r.at)} is older than the record before it`);
      if (Date.parse(r.timestamp) !== r.at || !/[+-]\d\d:\d\d$/.test(r.timestamp))
        this.fail(`record ${r.seq} timestamp ${r.timestamp} is not ${fmtTime(r.at)} with a zone offset`);
      this.lastAt = r.at;
    });
    if (result) {
      const first = fresh[0];
      if (result.record !== first) this.fail('trigger() did not answer with the first record it wrote');
      if (
        result.accepted !== first.accepted ||
        result.from !== first.previousState ||
        result.to !== first.currentState ||
        result.code !== first.code
      ) {
        this.fail(
          `trigger() answered ${show({ accepted: result.accepted, from: result.from, to: result.to, code: result.code })}, its record says otherwise`,
        );
      }
    }
    const stats = getStatistics(this.main.actor);
    const now = this.main.clock.now();
    const m = this.model;
    let sum = 0;
    for (const s of STATES) {
      sum += stats.timeInStateMs[s];
      const want = m.timeInState[s] + (s === m.state ? now - m.enteredAt : 0);
      if (stats.timeInStateMs[s] !== want) this.fail(`time in ${s} is ${stats.timeInStateMs[s]} ms, the reference model says ${want} ms`);
    }
    if (sum !== now - m.createdAt) this.fail(`time per state sums to ${sum} ms, the strategy is ${now - m.createdAt} ms old`);
    const totals = {
      totalTransitions: stats.totalTransitions,
      rejectedTriggers: stats.rejectedTriggers,
      openQuantity: stats.openQuantity,
      currentState: stats.currentState,
      errorCount: stats.errorCount,
    };
    const wantTotals = {
      totalTransitions: m.acceptedRecords,
      rejectedTriggers: m.rejectedRecords,
      openQuantity: m.quantity,
      currentState: m.state,
      errorCount: m.errorCount,
    };
    if (!same(totals, wantTotals)) this.fail(`statistics ${show(totals)}, expected ${show(wantTotals)}`);
  }

  private finish(): void {
    if (this.checks.model && !same(this.main.context.recentEventIds, this.model.applied))
      this.fail('applied event ids differ from the reference model');
    const twin = this.twin;
    if (!twin) return;
    const main = this.main;
    const core = (d: Driven) => ({
      state: d.state,
      value: d.actor.getSnapshot().value,
      position: d.context.position,
      errorCount: d.context.errorCount,
      deadline: d.context.deadline,
      autoRecoveries: d.context.autoRecoveries,
      recentEventIds: d.context.recentEventIds,
    });
    if (!same(core(main), core(twin)))
      this.fail(`final strategies differ:\n  ${JSON.stringify(core(main))}\n  ${JSON.stringify(core(twin))}`);
    if (this.checks.twin) {
      // Each strategy added draws its own incarnation: the restored one must still have its first.
      if (main.context.incarnation === undefined || main.context.incarnation !== this.incarnation)
        this.fail(`the incarnation changed across restores: ${this.incarnation} -> ${main.context.incarnation}`);
      const sameIncarnation = { ...main.context, incarnation: twin.context.incarnation };
      if (JSON.stringify(sameIncarnation) !== JSON.stringify(twin.context))
        this.fail(`final contexts differ:\n  restored ${JSON.stringify(main.context)}\n  never    ${JSON.stringify(twin.context)}`);
      if (JSON.stringify(main.trail) !== JSON.stringify(twin.trail))
        this.fail('audit trails differ between the restored strategy and the never-restored one');
    }
    if (this.checks.idempotency) {
      const strip = (records: readonly TransitionRecord[]) => JSON.stringify(records.map(({ seq: _seq, ...rest }) => rest));
      const kept = main.trail.filter((r) => !this.redeliveries.has(r.seq));
      if (strip(kept) !== strip(twin.trail))
        this.fail('without the redeliveries, the audit trail differs from the strategy that got each event once');
      const appliedTimes = new Map<string, number>();
      for (const r of main.trail)
        if (r.accepted && r.eventId !== undefined) appliedTimes.set(r.eventId, (appliedTimes.get(r.eventId) ?? 0) + 1);
      for (const [id, times] of appliedTimes) if (times > 1) this.fail(`eventId ${id} was applied ${times} times`);
    }
  }
}

/** Runs one scenario with the given checks; throws with the concrete steps on the first violation. */
export function runScenario(s: Scenario, checks: Checks): void {
  new Run(s, checks).execute();
}
