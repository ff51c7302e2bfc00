export { lt112 } from './lt112.js';
export { strangle } from './strangle.js';
export { zeroDte } from './zeroDte.js';
