// The test files `npm test` runs on their own, one at a time, after the rest of the suite has run
// on two workers (bin/test-jest.cjs). Each is here because another test file running beside it
// could make it fail without a defect: it stops the shared PostgreSQL cluster, or it asserts on
// real-time leases or on throughput (event-stream.test.ts and serve-market.test.ts each failed
// once beside another worker on a heavily loaded machine). Paths from the repository root;
// `npx jest FILE` runs any of them alone as usual (jest.config.cjs runs the whole suite).
module.exports = [
  'tests/persistence/postgres.test.ts', // stops and restarts the run's PostgreSQL cluster mid-test
  'tests/persistence/multi-instance.test.ts', // failover: three processes on a 2.5 s lease, real time
  'tests/cli/serve-instances.test.ts', // failover of two services on a 1.5 s lease, bounded in real time
  'tests/reliability/load.test.ts', // autocannon for seconds: every request answered, none timed out
  'tests/cli/serve-market.test.ts', // a simulated day at 20000x real time: the first status line must come within ~1.7 real s
  'tests/server/event-stream.test.ts', // 8,000 transitions to 20 stalled clients within a timeout; a real-time stall limit
  'tests/persistence/audit-feed.test.ts', // PostgreSQL's feed reads below the cluster's oldest open transaction: another worker's holds it back
  'tests/persistence/sqlite-busy-writer.test.ts', // waits out the store's 5 s busy wait (real time)
];
