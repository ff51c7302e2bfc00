"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.BENCHES = void 0;
const broadcast_js_1 = require("./broadcast.js");
const eventsPerSecond_js_1 = require("./eventsPerSecond.js");
const memoryPerActor_js_1 = require("./memoryPerActor.js");
const simulatedYear_js_1 = require("./simulatedYear.js");
const spawnSystem_js_1 = require("./spawnSystem.js");
/** The benchmark modules `npm run bench` runs and the smoke test runs once each. */
exports.BENCHES = [eventsPerSecond_js_1.eventsPerSecond, memoryPerActor_js_1.memoryPerActor, spawnSystem_js_1.spawnSystem, broadcast_js_1.broadcast, simulatedYear_js_1.simulatedYear]; // eslint-disable-line @typescript-eslint/no-explicit-any -- each module has its own sizes type
//# sourceMappingURL=index.js.map