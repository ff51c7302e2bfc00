/** The variants the command line knows, by id: the same three the service runs. */
import type { StrategyDefinition } from '../../machines/definition.js';
import { lt112, strangle, zeroDte } from '../../machines/variants/index.js';
import { UsageError } from './args.js';

/** Variant ids in the order they are listed. */
export const VARIANT_IDS = ['zeroDte', 'lt112', 'strangle'] as const;

/** The definitions, by id. */
export const VARIANTS: Readonly<Record<string, StrategyDefinition>> = Object.freeze({ zeroDte, lt112, strangle });

/** The definition of `id`, or a usage error naming the known ones (after `where`, e.g. `--variants: `). */
export function variantNamed(id: string, where = ''): StrategyDefinition {
  const def = Object.prototype.hasOwnProperty.call(VARIANTS, id) ? VARIANTS[id] : undefined;
  if (!def) throw new UsageError(`${where}unknown variant ${JSON.stringify(id)} (known: ${VARIANT_IDS.join(', ')})`);
  return def;
}
