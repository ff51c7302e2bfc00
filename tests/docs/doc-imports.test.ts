/**
 * Every import a code sample in the README or docs/ shows names a module a user can import, and
 * every name it imports is exported there: a sample once imported `./services/marketClock.js` (a
 * path that exists in no install) and named helpers the package did not export, so it did not
 * compile as written. Samples import from the package's entry points (`strategy-lifecycle`,
 * `strategy-lifecycle/sqlite`, ...) or from other packages, never from relative paths.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const DOCS = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
/** Packages a sample may import besides ours. */
const OTHER_PACKAGES = ['xstate', '@statelyai/inspect', 'pg', 'better-sqlite3', 'luxon', 'ws'];
const exportsMap = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> }).exports;

interface SampleImport {
  doc: string;
  line: number;
  names: Array<{ name: string; typeOnly: boolean }>;
  from: string;
}

function sampleImports(doc: string): SampleImport[] {
  const text = readFileSync(join(root, doc), 'utf8');
  const found: SampleImport[] = [];
  const fence = /```(?:ts|typescript|js|javascript)\n([\s\S]*?)```/g;
  for (const block of text.matchAll(fence)) {
    const blockLine = text.slice(0, block.index).split('\n').length;
    for (const m of block[1].matchAll(/import\s+(type\s+)?\{([^}]*)\}\s+from\s+'([^']+)'/g)) {
      const names = m[2]
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean)
        .map((n) => ({ name: n.replace(/^type\s+/, '').split(/\s+as\s+/)[0], typeOnly: m[1] !== undefined || n.startsWith('type ') }));
      found.push({ doc, line: blockLine + block[1].slice(0, m.index).split('\n').length, names, from: m[3] });
    }
  }
  return found;
}

/** The TypeScript source behind one of the package's entry points (`strategy-lifecycle/sqlite` -> entries/sqlite.ts). */
function sourceOf(specifier: string): string {
  const sub = specifier === 'strategy-lifecycle' ? '.' : `.${specifier.slice('strategy-lifecycle'.length)}`;
  const target = exportsMap[sub] as { import: { default: string } } | undefined;
  if (!target) throw new Error(`${specifier} is not an entry point of package.json "exports"`);
  return target.import.default.split('/').slice(3).join('/').replace(/\.js$/, '.ts');
}

const imports = DOCS.flatMap(sampleImports);

test('the docs have samples that import the package (the check below checks something)', () => {
  expect(imports.filter((i) => i.from.startsWith('strategy-lifecycle')).length).toBeGreaterThan(10);
});

test.each(imports.map((i) => [`${i.doc}:${i.line} ${i.from}`, i]))('%s: the module and every imported name exist', (_label, sample) => {
  const { from, names } = sample;
  if (!from.startsWith('strategy-lifecycle')) {
    expect(from.startsWith('node:') || OTHER_PACKAGES.includes(from)).toBe(true);
    return;
  }
  const file = sourceOf(from);
  const source = readFileSync(join(root, file), 'utf8');
  const runtime = require(join(root, file)) as Record<string, unknown>;
  const missing = names.filter(({ name, typeOnly }) => (typeOnly ? !new RegExp(`\\b${name}\\b`).test(source) : !(name in runtime)));
  expect(missing.map((n) => n.name)).toEqual([]);
});
