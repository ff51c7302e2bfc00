#!/usr/bin/env node
// Fails (exit 1) when `npm audit` reports a high or critical advisory in production dependencies.
// When the registry does not answer audit requests at all, there is nothing to judge: it prints
// NOT CHECKED and exits 0, which is why it is neither part of `npm test` nor of CI (`.ci/run`): a
// step that cannot fail must not count as a passing check. Run it by hand; it is advisory.
const { spawnSync } = require('node:child_process');

const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8' });
let report;
try {
  report = JSON.parse(run.stdout || '{}');
} catch {
  report = {};
}
const counts = report.metadata && report.metadata.vulnerabilities;
if (!counts) {
  const why =
    (report.error && (report.error.summary || report.error.code)) ||
    (run.stderr || '').split('\n').find((l) => l.includes('error')) ||
    'no report';
  console.log(`audit-check: NOT CHECKED: the registry gave no audit report (${String(why).trim()})`);
  process.exit(0);
}
const serious = (counts.high || 0) + (counts.critical || 0);
console.log(
  `audit-check: production dependencies: ${counts.critical || 0} critical, ${counts.high || 0} high, ${counts.moderate || 0} moderate, ${counts.low || 0} low`,
);
process.exit(serious > 0 ? 1 : 0);
