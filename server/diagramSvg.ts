import type { StrategyMachine } from '../machines/createStrategyMachine.js';
import { STRATEGY_STATES } from '../machines/states.js';

/** A minimal SVG of the 15 states (replaced by the full renderer). */
export function diagramSvg(machine: StrategyMachine, highlight?: string): string {
  void machine;
  const boxes = STRATEGY_STATES.map((s, i) => `<g data-state="${s}"><rect x="${(i % 5) * 160 + 10}" y="${Math.floor(i / 5) * 80 + 10}" width="140" height="40" fill="${s === highlight ? '#fde68a' : '#fff'}" stroke="#333"/><text x="${(i % 5) * 160 + 80}" y="${Math.floor(i / 5) * 80 + 35}" text-anchor="middle" font-size="12">${s}</text></g>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="820" height="250">${boxes.join('')}</svg>`;
}
