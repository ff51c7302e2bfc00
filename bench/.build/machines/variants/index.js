"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.zeroDte = exports.strangle = exports.lt112 = void 0;
var lt112_js_1 = require("./lt112.js");
Object.defineProperty(exports, "lt112", { enumerable: true, get: function () { return lt112_js_1.lt112; } });
var strangle_js_1 = require("./strangle.js");
Object.defineProperty(exports, "strangle", { enumerable: true, get: function () { return strangle_js_1.strangle; } });
var zeroDte_js_1 = require("./zeroDte.js");
Object.defineProperty(exports, "zeroDte", { enumerable: true, get: function () { return zeroDte_js_1.zeroDte; } });
//# sourceMappingURL=index.js.map