"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.StoreConflictError = exports.SchemaVersionError = exports.StoreUnavailableError = exports.StrategyNotFlatError = exports.DuplicateStrategyError = exports.UnknownStrategyError = exports.SnapshotRestoreError = exports.InvalidDefinitionError = exports.InvalidEventError = exports.StrategyLifecycleError = void 0;
/** Base class of every error this package throws or returns. */
class StrategyLifecycleError extends Error {
    name = 'StrategyLifecycleError';
}
exports.StrategyLifecycleError = StrategyLifecycleError;
/**
 * An event that is not one of the {@link StrategyEvent} union or whose payload is malformed.
 * `field` names the offending field (`type` for an unknown event type).
 */
class InvalidEventError extends StrategyLifecycleError {
    eventType;
    field;
    problem;
    name = 'InvalidEventError';
    constructor(
    /** The event type as sent (may itself be the problem). */
    eventType, 
    /** The field at fault, e.g. `quantity`. */
    field, 
    /** What is wrong with it, e.g. `must be a positive integer, got -3`. */
    problem) {
        super(`${eventType}: ${field} ${problem}`);
        this.eventType = eventType;
        this.field = field;
        this.problem = problem;
    }
}
exports.InvalidEventError = InvalidEventError;
/** A strategy definition that cannot make a machine; `field` names the setting at fault. */
class InvalidDefinitionError extends StrategyLifecycleError {
    definitionId;
    field;
    problem;
    name = 'InvalidDefinitionError';
    constructor(definitionId, field, problem) {
        super(`strategy definition "${definitionId}": ${field} ${problem}`);
        this.definitionId = definitionId;
        this.field = field;
        this.problem = problem;
    }
}
exports.InvalidDefinitionError = InvalidDefinitionError;
/** A persisted snapshot that does not belong to this machine or this format. */
class SnapshotRestoreError extends StrategyLifecycleError {
    name = 'SnapshotRestoreError';
}
exports.SnapshotRestoreError = SnapshotRestoreError;
/** A strategy id that the system does not know. */
class UnknownStrategyError extends StrategyLifecycleError {
    strategyId;
    name = 'UnknownStrategyError';
    constructor(strategyId) {
        super(`unknown strategy "${strategyId}"`);
        this.strategyId = strategyId;
    }
}
exports.UnknownStrategyError = UnknownStrategyError;
/** A strategy id that the system already holds. */
class DuplicateStrategyError extends StrategyLifecycleError {
    strategyId;
    name = 'DuplicateStrategyError';
    constructor(strategyId) {
        super(`strategy "${strategyId}" already exists in this system`);
        this.strategyId = strategyId;
    }
}
exports.DuplicateStrategyError = DuplicateStrategyError;
/** An operation that needs a flat strategy (no position) was asked of one holding a position. */
class StrategyNotFlatError extends StrategyLifecycleError {
    strategyId;
    state;
    quantity;
    name = 'StrategyNotFlatError';
    constructor(strategyId, state, quantity) {
        super(`strategy "${strategyId}" holds ${quantity} contracts in ${state}: exit before removing it`);
        this.strategyId = strategyId;
        this.state = state;
        this.quantity = quantity;
    }
}
exports.StrategyNotFlatError = StrategyNotFlatError;
/**
 * The store could not commit (disk full, read-only file, database down, lost lease). The
 * transition was not applied: the strategy is where it was, and the same call can be retried.
 */
class StoreUnavailableError extends StrategyLifecycleError {
    store;
    cause;
    name = 'StoreUnavailableError';
    constructor(
    /** Which store failed, e.g. `sqlite:./data/strategy-lifecycle.db`. */
    store, message, cause) {
        super(`store ${store} unavailable: ${message}`);
        this.store = store;
        this.cause = cause;
    }
}
exports.StoreUnavailableError = StoreUnavailableError;
/** A database whose schema this version does not know (written by a newer version). */
class SchemaVersionError extends StrategyLifecycleError {
    store;
    found;
    supported;
    name = 'SchemaVersionError';
    constructor(store, found, supported) {
        super(`store ${store} has schema version ${found}, written by a newer strategy-lifecycle; this version supports up to ${supported}. Nothing was written.`);
        this.store = store;
        this.found = found;
        this.supported = supported;
    }
}
exports.SchemaVersionError = SchemaVersionError;
/** A write lost a race: the stored strategy moved on, or another instance owns it. */
class StoreConflictError extends StrategyLifecycleError {
    strategyId;
    name = 'StoreConflictError';
    constructor(strategyId, message) {
        super(`strategy "${strategyId}": ${message}`);
        this.strategyId = strategyId;
    }
}
exports.StoreConflictError = StoreConflictError;
//# sourceMappingURL=errors.js.map