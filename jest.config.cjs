/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 60000,
  globalSetup: '<rootDir>/tests/support/pg-global-setup.cjs',
  globalTeardown: '<rootDir>/tests/support/pg-global-teardown.cjs',
  testSequencer: '<rootDir>/tests/support/sequencer.cjs',
  reporters: ['default', '<rootDir>/tests/support/summary-reporter.cjs'],
};
