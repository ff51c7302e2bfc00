/** `diagram`: Mermaid text or SVG of each variant, to stdout or a file. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStrategyMachine } from '../../machines/createStrategyMachine';
import { toMermaid } from '../../machines/diagram';
import { lt112, strangle, zeroDte } from '../../machines/variants';
import { run, tempDir } from './cli';

test.each([zeroDte, lt112, strangle])('$id: Mermaid by default, exactly what toMermaid generates', (def) => {
  const { code, stdout, stderr } = run(['diagram', def.id]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  expect(stdout).toBe(`${toMermaid(createStrategyMachine(def)).trimEnd()}\n`);
  expect(stdout).toMatch(/^stateDiagram-v2\n/);
  expect(run(['diagram', def.id, '--format', 'mermaid']).stdout).toBe(stdout);
});

test('--format svg writes one SVG document', () => {
  const { code, stdout, stderr } = run(['diagram', 'strangle', '--format', 'svg']);
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  expect(stdout).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  expect(stdout.trimEnd().endsWith('</svg>')).toBe(true);
  expect(stdout.match(/<svg\b/g)).toHaveLength(1);
});

test('--out writes the file (svg when it ends in .svg) and says so on stderr', () => {
  const { dir, cleanup } = tempDir();
  try {
    const svg = join(dir, 'lt112.svg');
    expect(run(['diagram', 'lt112', '--out', svg])).toEqual({ code: 0, stdout: '', stderr: `wrote the svg diagram of lt112 to ${svg}\n` });
    expect(readFileSync(svg, 'utf8')).toBe(run(['diagram', 'lt112', '--format', 'svg']).stdout);
    const mmd = join(dir, 'lt112.mmd');
    expect(run(['diagram', 'lt112', '--out', mmd]).code).toBe(0);
    expect(readFileSync(mmd, 'utf8')).toBe(run(['diagram', 'lt112']).stdout);
    const bad = join(dir, 'no-such-dir', 'x.svg');
    const failed = run(['diagram', 'lt112', '--out', bad]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      new RegExp(`^strategy-lifecycle: diagram: cannot write ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: ENOENT[^\\n]*\\n$`),
    );
  } finally {
    cleanup();
  }
});
