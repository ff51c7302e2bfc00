// Loads the optional `pg` driver with require(), from both builds: the ESM build cannot catch a
// missing package in a static import (Node fails while linking, before any code runs) and has no
// synchronous require of its own, so this one CommonJS file is shared by dist/esm and dist/cjs.
'use strict';

/** @returns {typeof import('pg') | undefined} the driver, or undefined when `pg` is not installed. */
exports.requirePg = function requirePg() {
  try {
    return require('pg');
  } catch (error) {
    // Only `pg` itself missing is "not installed"; a broken install of it must surface as it is.
    if (error && error.code === 'MODULE_NOT_FOUND' && /['"]pg['"]/.test(String(error.message).split('\n')[0])) return undefined;
    throw error;
  }
};
