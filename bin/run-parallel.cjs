#!/usr/bin/env node
// `node bin/run-parallel.cjs CMD...`: runs the shell commands at the same time (npm test's build,
// type check, lint and format check: independent, and mostly single-threaded, so two cores run
// them in about half the time). Each command's output is printed in one piece when it ends, with
// its exit status and wall time; the exit status is 1 when any of them failed. All of them run
// to the end, so one run reports every failing check.
const { spawn } = require('node:child_process');

const commands = process.argv.slice(2);
if (commands.length === 0) {
  console.error('usage: node bin/run-parallel.cjs CMD...');
  process.exit(64);
}

/** Runs one command in a shell; resolves with its exit code (1 when it could not start or died of a signal). */
function run(command) {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(command, { shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const finish = (code, why) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (output.trim() !== '') process.stdout.write(output.endsWith('\n') ? output : `${output}\n`);
      process.stdout.write(`[${command}] ${code === 0 ? 'ok' : `FAILED (${why})`} in ${seconds} s\n`);
      done(code);
    };
    child.on('error', (error) => finish(1, error.message));
    child.on('close', (code, signal) => finish(code === 0 ? 0 : 1, signal ? `signal ${signal}` : `exit ${code}`));
  });
}

Promise.all(commands.map(run)).then((codes) => {
  process.exitCode = codes.every((c) => c === 0) ? 0 : 1;
});
