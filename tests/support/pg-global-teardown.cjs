const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async () => {
  if (process.env.PG_TEST_STARTED && process.env.PG_TEST_DIR) {
    execFileSync(path.join(__dirname, '../../bin/pg-test-cluster.sh'), ['stop', process.env.PG_TEST_DIR], { stdio: 'ignore' });
  }
};
