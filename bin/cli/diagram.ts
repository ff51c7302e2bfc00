/** `strategy-lifecycle diagram`: a variant's state diagram, Mermaid text or SVG. */
import { writeFileSync } from 'node:fs';
import { createStrategyMachine } from '../../machines/createStrategyMachine.js';
import { toMermaid } from '../../machines/diagram.js';
import { diagramSvg } from '../../server/diagramSvg.js';
import { CommandError, PROGRAM, UsageError, oneOf, parse, type Command } from './args.js';
import { VARIANT_IDS, variantNamed } from './variants.js';

const FORMATS = ['mermaid', 'svg'] as const;

const usage = `Usage: ${PROGRAM} diagram <variant> [--format mermaid|svg] [--out file]

The state diagram of a variant (${VARIANT_IDS.join(', ')}), generated from its machine.

Options:
  --format mermaid|svg  Mermaid text (default) or an SVG image; a --out file
                        ending in .svg means svg
  --out <file>          write it to <file> instead of stdout
  -h, --help            this text`;

/** The `diagram` command. */
export const diagramCommand: Command = {
  name: 'diagram',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { format: { type: 'string' }, out: { type: 'string' } }, 1);
    if (positionals.length === 0) throw new UsageError(`missing <variant> (one of ${VARIANT_IDS.join(', ')})`);
    const definition = variantNamed(positionals[0]);
    if (values.out === '') throw new UsageError('--out needs a file name');
    const format =
      values.format !== undefined
        ? oneOf('--format', values.format, FORMATS)
        : values.out?.toLowerCase().endsWith('.svg')
          ? 'svg'
          : 'mermaid';
    const machine = createStrategyMachine(definition);
    const text = format === 'svg' ? await diagramSvg(machine) : toMermaid(machine);
    const body = text.endsWith('\n') ? text : `${text}\n`;
    if (values.out === undefined) {
      io.out(body);
      return 0;
    }
    try {
      writeFileSync(values.out, body);
    } catch (error) {
      throw new CommandError(`cannot write ${values.out}: ${(error as Error).message}`);
    }
    io.err(`wrote the ${format} diagram of ${definition.id} to ${values.out}`);
    return 0;
  },
};
