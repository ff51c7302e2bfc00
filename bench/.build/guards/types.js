"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.eventTime = eventTime;
/** The time of an event: stamped by the strategy actor; 0 only for hand-made bare events. */
function eventTime(event) {
    return typeof event.at === 'number' ? event.at : 0;
}
//# sourceMappingURL=types.js.map