/**
 * strategy-lifecycle: the lifecycle of options-trading strategies as XState v5 statecharts.
 * The root entry: machines, guards, the strategy actor, the in-memory system, clocks, market
 * time, the paper broker and every error class. It imports no database driver, no server and no
 * Node built-in, so it also loads in a browser or an edge runtime; stores, persistence and the
 * service are the subpaths in `entries/`. This file only re-exports.
 */
export { createStrategyMachine, definitionOf } from './machines/createStrategyMachine.js';
export type { StrategyActionName, StrategyEmitted, StrategyMachine, StrategySnapshot } from './machines/createStrategyMachine.js';
export { diagramEdges, toMermaid } from './machines/diagram.js';
export type { DiagramEdge, DiagramOptions } from './machines/diagram.js';
export { DEFAULT_STUCK_DEADLINES_MS, resolveDefinition } from './machines/definition.js';
export type {
  HookArgs,
  ResolvedDefinition,
  StrategyDefinition,
  StrategyHook,
  StrategyHooks,
  StuckDeadlines,
  SubstateDefinition,
  SubstateEdge,
} from './machines/definition.js';
export { lifecycleConfig, STATE_TAGS } from './machines/lifecycle.js';
export { hasStateTag, statesTagged } from './machines/tags.js';
export type { StateTag } from './machines/tags.js';
export { ACTOR_NAMES, defaultActors, lifecycleRequest } from './machines/actors.js';
export type { LifecycleRequest, RequestEmitted, StrategyActorInput, StrategyActorName } from './machines/actors.js';
export type { EdgeAction, EdgeEventType, EdgeRow, GuardRef } from './machines/edges.js';
export {
  DuplicateStrategyError,
  InvalidDefinitionError,
  InvalidEventError,
  InvalidParamsError,
  SnapshotRestoreError,
  StrategyLifecycleError,
  StoredDataTooDeepError,
  StrategyInTransitionError,
  StrategyNotFlatError,
  UnknownStrategyError,
} from './machines/errors.js';
export { MAX_DEPTH, tooDeepAt } from './machines/bounds.js';
export { DEFAULT_PARAMS, checkParams, contractsParam, symbolParam } from './machines/params.js';
export type { ParamRule, ParamsSchema } from './machines/params.js';
export type { RejectionCode } from './machines/errors.js';
export { STRATEGY_EVENT_TYPES, isStrategyEventType } from './machines/events.js';
export type {
  DeadlineKind,
  EventBase,
  FillPayload,
  InternalEvent,
  MachineEvent,
  OptionLeg,
  StrategyEvent,
  StrategyEventType,
} from './machines/events.js';
export { FLAT_STATES, POSITION_STATES, STRATEGY_STATES, STUCK_STATES, isStrategyState, topLevelState } from './machines/states.js';
export type { StrategyState, StuckState } from './machines/states.js';
export type { Deadline, Position, StrategyContext, StrategyInput, StrategyStats, TransitionRecord } from './machines/types.js';
export { validateEvent } from './machines/validateEvent.js';
export { STRATEGY_ID_PATTERN, strategyIdProblem } from './machines/strategyId.js';
export type { EventValidation } from './machines/validateEvent.js';
export { lt112, strangle, zeroDte } from './machines/variants/index.js';
export { isDteAtOrBelowDefensive, isDteInBand } from './guards/dte.js';
export { isInsideEntryWindow, isTradingWeekday, isVixInRange } from './guards/entry.js';
export type { Weekday } from './guards/entry.js';
export type { EntryGuard, GuardCheck } from './guards/types.js';
export { createSimulatedClock, realClock } from './services/market/clock.js';
export type { Clock, SimulatedClockHandle, TimerHandle } from './services/market/clock.js';
export { CalendarRangeError, marketCalendar } from './services/market/marketCalendar.js';
export type { MarketSession } from './services/market/marketCalendar.js';
export { getStatistics } from './services/runtime/statistics.js';
export type { StrategyStatistics } from './services/runtime/statistics.js';
export { createStrategyActor, DEFAULT_AUDIT_LIMIT } from './services/runtime/strategyActor.js';
export type {
  PersistedStrategy,
  StrategyActor,
  StrategyActorOptions,
  TransitionListener,
  TransitionNotice,
  TriggerResult,
} from './services/runtime/strategyActor.js';
export { MARKET_ZONE, daysToExpiry, formatDuration } from './services/market/time.js';
export { createStrategySystem } from './services/runtime/strategySystem.js';
export { MemoryStore } from './services/store/memoryStore.js';
export type { MemoryStrategy } from './services/store/memoryStore.js';
export type {
  AddStrategyOptions,
  StrategySystem,
  StrategySystemOptions,
  SystemOperationResult,
} from './services/runtime/strategySystem.js';
export type { SystemSummary } from './services/runtime/systemSummary.js';
export type { KillSwitchControl, KillSwitchOptions, KillSwitchOutcome, KillSwitchResult } from './services/runtime/killSwitch.js';
export { coordinatorMachine } from './machines/coordinator.js';
export type { CoordinatorContext, CoordinatorEvent, TradingStateChange } from './machines/coordinator.js';
export { checkPortfolioLimits, checkTradingState, orderEffectOf } from './guards/portfolio.js';
export { edgeTargetsOf } from './machines/edgeTargets.js';
export type { OrderEffect, PortfolioLimits, TradingState } from './guards/portfolio.js';
export {
  OwnershipLostError,
  PortfolioLimitRefusal,
  StoreConflictError,
  StoreUnavailableError,
  SchemaLayoutError,
  SchemaVersionError,
} from './machines/errors.js';
export { KillSwitchInterruptedError, TradingStateRefusal } from './machines/errors.js';
export { DriverMissingError, InvalidOptionsError, StoreCorruptError, StoreIdentityError } from './machines/errors.js';
export { InvalidExecutionReportError, RefusedFillError, UndeliveredEventError } from './machines/errors.js';
export { ExpiredPositionError, ReconciliationError, UntrackedFillError } from './machines/errors.js';
export { PaperBroker } from './services/broker/broker.js';
export type {
  BrokerAdapter,
  BrokerPosition,
  ExecutionReport,
  OrderRequest,
  PaperBrokerOptions,
  PaperClock,
  PaperScript,
} from './services/broker/broker.js';
export {
  createSessionCache,
  marketClock,
  nextMarketBell,
  scheduleAt,
  scheduleBells,
  startMarketClock,
  toStrategies,
} from './services/market/marketClock.js';
export type {
  BellSchedule,
  MarketBell,
  MarketBellEvent,
  MarketClockInput,
  MarketClockOptions,
  MarketClockTarget,
} from './services/market/marketClock.js';
export {
  TIME_WINDOWS,
  TimeWindowError,
  WINDOW_AUDIENCE,
  isWindowEventFor,
  startTimeWindows,
  timeWindows,
  windowInstants,
  windowsFor,
} from './services/market/timeWindows.js';
export type { TimeWindow, TimeWindowOptions, WindowInstant, WindowKind } from './services/market/timeWindows.js';
export { dteMonitor, startDteMonitor } from './services/market/dteMonitor.js';
export { DteMonitorError, defensiveExitInstant, sameDayExitInstant } from './services/market/dteRules.js';
export type { DteMonitorHandle, DteMonitorOptions } from './services/market/dteMonitorOptions.js';
export type { NoticeTarget, StrategyTarget, WatchedStrategy } from './services/market/strategyTarget.js';
export { EventCalendarError, eventCalendar, parseEventCalendar, startEventCalendar } from './services/market/eventCalendar.js';
export type {
  EventCalendar,
  EventCalendarOptions,
  EventCalendarProblem,
  MarketEvent,
  NoticeOptions,
} from './services/market/eventCalendar.js';
export { SimulationInputError, runSimulation } from './services/simulation/simulation.js';
export type { SimulatedStrategy, SimulationOptions, SimulationResult } from './services/simulation/simulation.js';
export { startTradingDay } from './services/day/tradingDay.js';
export type { ScheduledExit, TradingDay, TradingDayOptions, TradingDayStatus, TradingTarget } from './services/day/tradingDay.js';
export type { OrderTarget } from './services/runtime/routing/routingTarget.js';
export type { CatchUpCause, MarketPresent } from './services/day/catchUp.js';
export { SIMULATION_DTE_BANDS, createSimulatedMarket } from './services/simulation/simulatedMarket.js';
export type { DteBand, EntryConditionSource, SimulatedMarketOptions } from './services/simulation/simulatedMarket.js';
export type { PaperBehaviour } from './services/broker/broker.js';
