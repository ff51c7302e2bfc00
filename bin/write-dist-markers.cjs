// Marks each build output folder with its module format, so Node loads dist/esm as ESM
// and dist/cjs as CommonJS whatever the package's own "type" is, and copies in the hand-written
// CommonJS files (with their declarations) that both builds share: tsc does not emit them.
const fs = require('node:fs');
const path = require('node:path');
const root = path.join(__dirname, '..');
const SHARED_COMMONJS = ['services/store/pgDriver.cjs', 'services/store/pgDriver.d.cts'];
// `write-dist-markers.cjs <dir>`: only copies those files into another CommonJS build (the bench's).
if (process.argv[2]) {
  for (const file of SHARED_COMMONJS) fs.copyFileSync(path.join(root, file), path.join(root, process.argv[2], file));
  process.exit(0);
}
for (const [dir, type] of [
  ['esm', 'module'],
  ['cjs', 'commonjs'],
]) {
  fs.writeFileSync(path.join(root, 'dist', dir, 'package.json'), JSON.stringify({ type }) + '\n');
  for (const file of SHARED_COMMONJS) fs.copyFileSync(path.join(root, file), path.join(root, 'dist', dir, file));
}
