#!/usr/bin/env node
// Builds CommonJS with declarations and source maps holding their sources (dist/cjs), then thin
// ES-module wrappers (dist/esm) that re-export the same CommonJS instances. One copy of the code
// serves `require` and `import`, so the process-wide key-set cache and `instanceof TokenGateError`
// hold whichever way it is loaded.
//
// The entry points are read from package.json `exports`: a subpath is added there (an `import`
// and a `require` target, with their `types`) and in `typesVersions` (for moduleResolution node10);
// test/package checks that the two agree and that every target is built.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const started = Date.now();
process.stdout.write('Building express-token-gate (TypeScript to dist/)… ');
fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});

const { exports: exportMap } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
for (const [subpath, target] of Object.entries(exportMap)) {
  if (typeof target === 'string') continue; // ./package.json
  const cjs = path.join(root, target.require.default);
  const esm = path.join(root, target.import.default);
  const esmTypes = path.join(root, target.import.types);
  const names = Object.keys(require(cjs))
    .filter((n) => n !== '__esModule' && n !== 'default')
    .sort();
  const hasDefault = Object.hasOwn(require(cjs), 'default');
  let from = path.relative(path.dirname(esm), cjs).split(path.sep).join('/');
  if (!from.startsWith('.')) from = `./${from}`;
  const js = [`import cjs from '${from}';`, `export const { ${names.join(', ')} } = cjs;`];
  const dts = [`export * from '${from}';`];
  if (hasDefault) {
    js.push('export default cjs.default;');
    dts.push(`export { default } from '${from}';`);
  }
  fs.mkdirSync(path.dirname(esm), { recursive: true });
  fs.writeFileSync(esm, `${js.join('\n')}\n`);
  fs.writeFileSync(esmTypes, `${dts.join('\n')}\n`);
  if (!fs.existsSync(path.join(root, target.require.types)))
    throw new Error(`${subpath}: ${target.require.types} was not built`);
}
process.stdout.write(`done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
