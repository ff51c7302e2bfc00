// Prints one plain closing line, "N passed, N failed, N skipped", that CI reads whatever the runner.
// With JEST_SUMMARY_FILE set (bin/test-jest.cjs, which runs jest twice), it writes the counts to
// that file as JSON instead, and the script prints the one line for both runs.
const fs = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const counts = { passed: results.numPassedTests, failed: results.numFailedTests, skipped: results.numPendingTests };
    if (process.env.JEST_SUMMARY_FILE) fs.writeFileSync(process.env.JEST_SUMMARY_FILE, JSON.stringify(counts));
    else process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}
module.exports = SummaryReporter;
