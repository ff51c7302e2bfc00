// Starts the throwaway PostgreSQL cluster (bin/pg-test-cluster.sh) once for the test run, unless
// PG_TEST_URL points at one already. If it cannot start, PG_TEST_ERROR says why and the
// PostgreSQL tests fail with that message: they are never skipped.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async () => {
  if (process.env.PG_TEST_URL) return;
  try {
    const out = execFileSync(path.join(__dirname, '../../bin/pg-test-cluster.sh'), ['start'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
      .trim()
      .split('\n');
    process.env.PG_TEST_DIR = out[out.length - 2];
    process.env.PG_TEST_URL = out[out.length - 1];
    process.env.PG_TEST_STARTED = '1';
  } catch (error) {
    process.env.PG_TEST_ERROR = `PostgreSQL test cluster could not start: ${String(error.stderr || error.message).trim()}`;
  }
};
