#!/usr/bin/env node
// `npm start`: builds dist/ when lib/ changed since the last build, then runs the example in this
// same process. The package script is `exec node scripts/start.js`, so npm's child is this node
// process and the SIGINT or SIGTERM npm forwards reaches the server (a shell in between would
// swallow SIGINT and leave the server running, orphaned, after SIGTERM).
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const built = path.join(root, 'dist/cjs/index.js');

/** The newest modification time of the build's inputs: lib/, the build script and its config. */
function newestInput() {
  let newest = 0;
  const visit = (file) => {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) for (const entry of fs.readdirSync(file)) visit(path.join(file, entry));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const input of ['lib', 'scripts/build.js', 'tsconfig.json', 'tsconfig.build.json', 'package.json'])
    visit(path.join(root, input));
  return newest;
}

if (fs.existsSync(built) && fs.statSync(built).mtimeMs >= newestInput()) {
  console.log('dist/ is up to date with lib/: starting the example.');
} else {
  execFileSync(process.execPath, [path.join(__dirname, 'build.js')], { stdio: 'inherit' });
}
require('../examples/server.js');
