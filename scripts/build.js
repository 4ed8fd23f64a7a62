#!/usr/bin/env node
// Builds CommonJS with declarations (dist/cjs), then thin ES-module wrappers (dist/esm) that
// re-export the same CommonJS instances. One copy of the code serves `require` and `import`, so
// the process-wide key-set cache and `instanceof TokenGateError` hold whichever way it is loaded.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});

const entries = [
  { name: 'index', cjs: './index.js', types: '../cjs/index.js' },
  { name: 'testing', cjs: './testing/index.js', types: '../cjs/testing/index.js' },
  { name: 'redis', cjs: './redis.js', types: '../cjs/redis.js' },
];
fs.mkdirSync(path.join(dist, 'esm'), { recursive: true });
for (const entry of entries) {
  const cjsFile = path.join(dist, 'cjs', entry.cjs);
  const names = Object.keys(require(cjsFile)).filter((n) => n !== '__esModule' && n !== 'default').sort();
  const from = `../cjs/${entry.cjs.slice(2)}`;
  const js = `import cjs from '${from}';\nexport const { ${names.join(', ')} } = cjs;\n`;
  fs.writeFileSync(path.join(dist, 'esm', `${entry.name}.mjs`), js);
  fs.writeFileSync(path.join(dist, 'esm', `${entry.name}.d.mts`), `export * from '${entry.types}';\n`);
}
