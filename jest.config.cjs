/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 60000,
  // A worker whose memory passed this after a test file is replaced by a fresh one: a worker that
  // ends the run with a heap of 450 MB takes over 500 ms to exit and jest then force-exits it,
  // printing "A worker process has failed to exit gracefully" although nothing leaked.
  workerIdleMemoryLimit: '350MB',
  globalSetup: '<rootDir>/tests/support/pg-global-setup.cjs',
  globalTeardown: '<rootDir>/tests/support/pg-global-teardown.cjs',
  testSequencer: '<rootDir>/tests/support/sequencer.cjs',
  reporters: ['default', '<rootDir>/tests/support/summary-reporter.cjs'],
};
