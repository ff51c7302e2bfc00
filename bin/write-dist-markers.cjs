// Marks each build output folder with its module format, so Node loads dist/esm as ESM
// and dist/cjs as CommonJS whatever the package's own "type" is.
const fs = require('node:fs');
const path = require('node:path');
for (const [dir, type] of [['esm', 'module'], ['cjs', 'commonjs']]) {
  fs.writeFileSync(path.join(__dirname, '..', 'dist', dir, 'package.json'), JSON.stringify({ type }) + '\n');
}
