#!/usr/bin/env node
'use strict';
// How long `require('express-token-gate')` takes in a fresh process: the built CommonJS entry
// (dist/cjs), loaded by N new node processes one after another, each timing its own require with
// process.hrtime. Prints the median and the range, and whether jose was loaded.
//
//   npm run build && node bench/require-time.js        21 processes
//   BENCH_RUNS=51 node bench/require-time.js           more of them
//
// Every process pays the same start-up of node itself, which is not counted; the machine's load
// is, so compare numbers taken side by side.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'dist/cjs/index.js');
if (!fs.existsSync(entry)) throw new Error('dist/ is missing: run `npm run build` first');
const RUNS = Number(process.env.BENCH_RUNS ?? 21);

const probe = `
  const started = process.hrtime.bigint();
  require(${JSON.stringify(entry)});
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const jose = Object.keys(require.cache).some((file) => /[\\\\/]node_modules[\\\\/]jose[\\\\/]/.test(file));
  console.log(JSON.stringify({ ms, jose }));
`;

const samples = [];
let jose = false;
for (let i = 0; i < RUNS; i++) {
  const out = JSON.parse(execFileSync(process.execPath, ['-e', probe], { cwd: root, encoding: 'utf8' }));
  samples.push(out.ms);
  jose ||= out.jose;
}
samples.sort((a, b) => a - b);
const median = samples[Math.floor(samples.length / 2)];
const fmt = (ms) => `${ms.toFixed(1)} ms`;
console.log(
  `require('express-token-gate'): median ${fmt(median)} over ${RUNS} fresh processes ` +
    `(min ${fmt(samples[0])}, max ${fmt(samples[samples.length - 1])}); jose loaded: ${jose ? 'yes' : 'no'}`,
);
