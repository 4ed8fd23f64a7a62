/**
 * The Redis issuer store loads node-redis only when it is created from a URL, and without the
 * package says what to install. Each case runs in a fresh Node process on the built package.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');
const run = (args: string[]) =>
  execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 20_000 }).trim();
const redisLoaded = 'Object.keys(require.cache).some((f) => /node_modules[\\\\/](redis|@redis)[\\\\/]/.test(f))';

beforeAll(() => {
  if (!fs.existsSync(path.join(root, 'dist/cjs/issuer/store/redis.js'))) {
    throw new Error(
      'dist/ is missing the issuer store: `npm test` builds before running jest (or run `npm run build`)',
    );
  }
});

test('express-token-gate/redis exports redisIssuerStore without loading node-redis; creating one loads it', () => {
  const code = `
    const { redisIssuerStore } = require('express-token-gate/redis');
    const before = ${redisLoaded};
    const store = redisIssuerStore({ url: 'redis://127.0.0.1:1' });
    console.log(typeof redisIssuerStore, before, ${redisLoaded});
    store.close();`;
  expect(run(['-e', code])).toBe('function false true');
});

test('without the redis package, creating a store throws a clear error naming what to install', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'token-gate-no-redis-'));
  const hide = path.join(dir, 'hide-redis.js');
  fs.writeFileSync(
    hide,
    `const Module = require('node:module');
     const resolve = Module._resolveFilename;
     Module._resolveFilename = function (request, ...rest) {
       if (request === 'redis') throw Object.assign(new Error("Cannot find module 'redis'"), { code: 'MODULE_NOT_FOUND' });
       return resolve.call(this, request, ...rest);
     };`,
  );
  try {
    const code = `
      const { redisIssuerStore } = require('express-token-gate/redis');
      try { redisIssuerStore({ url: 'redis://127.0.0.1:1' }); console.log('created'); }
      catch (error) { console.log(error.message); }`;
    expect(run(['-r', hide, '-e', code])).toMatch(/needs the `redis` package .*npm install redis/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
