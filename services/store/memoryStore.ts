import type { Snapshot } from 'xstate';
import { checkTradingState, type TradingState } from '../../guards/portfolio.js';
import type { TradingStateChange } from '../../machines/coordinator.js';
import { StoreConflictError, TradingStateRefusal } from '../../machines/errors.js';
import { newestKillSwitch } from './killSwitchSteps.js';
import type { KillSwitchProgress, NewStrategy, StoredSystemState, StrategyWrite, SystemStore, TradingStateRequest } from './types.js';

/** One strategy as the memory store holds it: where its last write left it (not its trail). */
export interface MemoryStrategy {
  strategyId: string;
  variant: string;
  params: Record<string, unknown>;
  createdAt: number;
  /** Seq of the newest record written. */
  seq: number;
  /** Top-level state after the newest write. */
  state: string;
  /** The portfolio slot after the newest write that said. */
  slot: { group?: string; holds: boolean } | undefined;
  /** Records written so far (the records themselves stay in the strategy's own trail). */
  written: number;
  /** The persisted snapshot of the newest write, made when asked for (not on every write). */
  snapshot(): Snapshot<unknown>;
}

/**
 * The in-memory system's store: synchronous, so the system over it answers every `send` at once.
 * It checks what a database checks (each write builds on the seq it holds; a write whose orders
 * the stored trading state forbids is refused with {@link TradingStateRefusal}) and keeps the
 * trading state history and kill switch steps, but not the audit trails: each strategy keeps its
 * own (bounded by the system's `auditLimit`), so a long simulation does not grow here.
 *
 * @example
 * ```ts
 * const store = new MemoryStore();
 * const system = createStrategySystem({ clock, store });
 * system.add(lt112, { id: 'lt112-spx' });
 * system.send('lt112-spx', { type: 'MARKET_OPEN' });
 * store.get('lt112-spx')?.state; // 'READY', written before the strategy moved
 * ```
 */
export class MemoryStore implements SystemStore {
  readonly name: string;
  readonly synchronous = true;
  private readonly strategies = new Map<string, MemoryStrategy>();
  private readonly history: TradingStateChange[] = [];
  private readonly steps: KillSwitchProgress[] = [];

  constructor(name = 'memory') {
    this.name = name;
  }

  /** The strategy as written, or undefined. */
  get(strategyId: string): Readonly<MemoryStrategy> | undefined {
    return this.strategies.get(strategyId);
  }

  /** Ids of the stored strategies, in creation order. */
  ids(): string[] {
    return [...this.strategies.keys()];
  }

  /** @throws {StoreConflictError} when the id is stored already. */
  create(strategy: NewStrategy): void {
    if (this.strategies.has(strategy.strategyId)) throw new StoreConflictError(strategy.strategyId, 'already stored');
    const { snapshot } = strategy;
    this.strategies.set(strategy.strategyId, {
      strategyId: strategy.strategyId,
      variant: strategy.variant,
      params: strategy.params,
      createdAt: strategy.at,
      seq: 0,
      state: strategy.state,
      slot: undefined,
      written: 0,
      snapshot: () => snapshot,
    });
  }

  /** @throws {StoreConflictError} (unknown strategy, another seq); {@link TradingStateRefusal}. */
  append(write: StrategyWrite): void {
    const stored = this.strategies.get(write.strategyId);
    if (!stored) throw new StoreConflictError(write.strategyId, 'not stored');
    if (stored.seq !== write.expectedSeq)
      throw new StoreConflictError(write.strategyId, `the stored strategy is not at seq ${write.expectedSeq}`);
    if (write.effect) {
      const refusal = checkTradingState(this.tradingState(), write.effect);
      if (refusal) throw new TradingStateRefusal(write.strategyId, refusal.code as TradingStateRefusal['code'], refusal.reason);
    }
    const last = write.records.at(-1);
    if (last) stored.seq = last.seq;
    stored.state = write.state;
    stored.written += write.records.length;
    if (write.slot) stored.slot = write.slot;
    // Read only when asked: the in-memory system never needs the JSON form of its snapshots.
    stored.snapshot = () => write.snapshot;
  }

  remove(strategyId: string): void {
    this.strategies.delete(strategyId);
  }

  loadSystemState(): StoredSystemState {
    return { tradingStateHistory: this.history.slice(), ...newestKillSwitch(this.steps) };
  }

  saveTradingState(request: TradingStateRequest): TradingStateChange {
    const change: TradingStateChange = {
      from: this.tradingState(),
      to: request.to,
      reason: request.reason,
      at: request.at,
      operator: request.operator,
    };
    this.history.push(change);
    return change;
  }

  saveKillSwitch(progress: KillSwitchProgress): void {
    this.steps.push({ ...progress });
  }

  private tradingState(): TradingState {
    return this.history.at(-1)?.to ?? 'ACTIVE';
  }
}
