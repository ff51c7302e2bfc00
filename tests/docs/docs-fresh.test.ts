import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOC_FILES, main, renderDoc, renderDocs } from '../../bin/generate-docs';

const root = join(__dirname, '..', '..');

describe('generated docs are fresh', () => {
  it.each(DOC_FILES)('%s matches what bin/generate-docs.ts produces now', (file) => {
    const current = readFileSync(join(root, file), 'utf8');
    // On failure: npm run build && npm run docs, then commit the doc.
    expect(current).toBe(renderDoc(file, current));
  });

  it('puts a Mermaid diagram in every diagram block', () => {
    for (const doc of renderDocs(root)) {
      const diagrams = doc.expected.match(/<!-- generated:[\w-]+-diagram:start -->\n[^]*?```mermaid\nstateDiagram-v2\n/g) ?? [];
      expect(diagrams.length).toBe(doc.file === 'docs/lifecycle.md' ? 1 : 3);
    }
  });

  it('replaces only the generated blocks and keeps the prose', () => {
    const file = 'docs/lifecycle.md';
    const current = readFileSync(join(root, file), 'utf8');
    const stale = current
      .replace('<!-- generated:lifecycle-diagram:start -->\n', '<!-- generated:lifecycle-diagram:start -->\nhand-edited\n')
      .replace('## States', '## States (prose edit)');
    const rendered = renderDoc(file, stale);
    expect(rendered).not.toContain('hand-edited');
    expect(rendered).toContain('## States (prose edit)');
    expect(rendered).toBe(current.replace('## States', '## States (prose edit)'));
  });

  it('refuses a doc whose markers are missing or unknown', () => {
    expect(() => renderDoc('docs/variants.md', '# no markers\n')).toThrow(
      'docs/variants.md: missing marker <!-- generated:variants-settings:start -->',
    );
    const current = readFileSync(join(root, 'docs/lifecycle.md'), 'utf8');
    expect(() => renderDoc('docs/lifecycle.md', `${current}\n<!-- generated:bogus:start -->\n<!-- generated:bogus:end -->\n`)).toThrow(
      'unknown generated block "bogus"',
    );
  });

  it('--check reports success for the committed docs', () => {
    const out: string[] = [];
    const err: string[] = [];
    expect(
      main(
        ['--check', '--root', root],
        (l) => out.push(l),
        (l) => err.push(l),
      ),
    ).toBe(0);
    expect(err).toEqual([]);
    expect(out).toEqual(DOC_FILES.map((f) => `${f} is up to date`));
  });
});
