import pg = require('pg');
/** The `pg` driver, or undefined when it is not installed (it is an optional peer dependency). */
export declare function requirePg(): typeof pg | undefined;
