// ESLint flat config (issue 16). The TypeScript sources are linted with typescript-eslint's
// strict type-checked rules; each file is checked against its nearest tsconfig.json through the
// project service (the root one, bench/tsconfig.json, server/dashboard/browser/tsconfig.json).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The Node globals the CommonJS and ES module scripts use (the `globals` package is not a direct dependency). */
const nodeGlobals = Object.fromEntries(
  [
    'require',
    'module',
    'exports',
    '__dirname',
    '__filename',
    'process',
    'console',
    'Buffer',
    'setTimeout',
    'clearTimeout',
    'setImmediate',
    'setInterval',
    'clearInterval',
    'URL',
  ].map((name) => [name, 'readonly']),
);

export default tseslint.config(
  {
    ignores: ['dist/', 'node_modules/', 'coverage/', 'bench/.build/', 'bench/.profiles/', 'tests/.generated/', 'data/'],
  },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.strictTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // Off: every `String(value)` here shows an `unknown` (or `{}`, an unknown narrowed by a null
      // check) in a message, after the objects have been told apart, or as it came.
      '@typescript-eslint/no-base-to-string': 'off',
      // Numbers and booleans read fine in messages; objects and nullish values do not.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowRegExp: true }],
      // Style only: `() => void send(x)` versus `() => { send(x); }` changes nothing a reader relies on.
      '@typescript-eslint/no-confusing-void-expression': 'off',
      // An `async` method that implements a Promise-returning interface stays `async` without an
      // `await`, so that a throw becomes a rejection, as callers of the interface expect.
      '@typescript-eslint/require-await': 'off',
      // Off: the sources check values at their boundaries (persisted snapshots, JSON bodies,
      // records written by older versions) that the types describe in their ideal shape; the
      // rule would have those checks removed.
      '@typescript-eslint/no-unnecessary-condition': 'off',
    },
  },
  {
    // Tests: a non-null assertion on a value the test has just set up is the assertion itself
    // (a wrong `!` fails the test with a TypeError); the sources must narrow instead.
    files: ['tests/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Tests read JSON bodies (`any` from JSON.parse, inject().json(), fetch().json()) and assert on
      // their shape with expect(): the assertion is the check. Declaring `any` stays an error.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      // Tests load CommonJS workers and files they generate by a path computed at run time.
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: nodeGlobals },
  },
  {
    files: ['**/*.cjs', '**/*.js'],
    extends: [js.configs.recommended],
    rules: { 'no-unused-vars': ['error', { ignoreRestSiblings: true }] },
    languageOptions: {
      sourceType: 'commonjs',
      globals: nodeGlobals,
    },
  },
);
