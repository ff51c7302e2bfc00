/** Help texts and --version: on stdout, exit 0, whatever else is on the line. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './cli';

const COMMANDS = ['serve', 'simulate', 'replay', 'diagram', 'status'];

test('--help lists every command and the exit codes', () => {
  for (const flag of ['--help', '-h', 'help']) {
    const { code, stdout, stderr } = run([flag]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^Usage: strategy-lifecycle <command> \[options\]/);
    for (const command of COMMANDS) expect(stdout).toMatch(new RegExp(`^  ${command} +\\S`, 'm'));
    expect(stdout).toContain('Exit codes: 0 done, 1 the command failed, 2 bad arguments');
  }
});

test('--version prints the package version', () => {
  const { version } = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-v']) expect(run([flag])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
});

test.each([
  ['serve', ['--data-dir <dir>', '--host <host>', '--port <n>', '--inspect', '--inspect-port <n>', 'SIGTERM']],
  ['simulate', ['--from <date>', '--to <date>', '--strategies <n>', '--seed <n>', '--variants <list>', '--json']],
  ['replay', ['<db>', 'Exit codes: 0 no difference, 1 differences']],
  ['diagram', ['<variant>', '--format mermaid|svg', '--out <file>', 'zeroDte, lt112, strangle']],
  ['status', ['--data-dir <dir>', '--db <file>', 'ERROR']],
])('%s --help documents its options', (command, mentions) => {
  const { code, stdout, stderr } = run([command, '--help']);
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  expect(stdout).toMatch(new RegExp(`^Usage: strategy-lifecycle ${command}\\b`));
  for (const text of mentions) expect(stdout).toContain(text);
  // `help <command>` and `-h` anywhere before `--` say the same; other arguments are not checked.
  expect(run(['help', command]).stdout).toBe(stdout);
  expect(run([command, '--bogus', '-h']).stdout).toBe(stdout);
});
