/**
 * Applications without Redis never load a Redis client: the main entry does not touch `redis`,
 * the `express-token-gate/redis` entry loads it only when a store is created from a URL, and
 * without the package installed that creation fails with a message saying what to install.
 * Each case runs in a fresh Node process on the built package.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const run = (args: string[]) =>
  execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 20_000 }).trim();

/** Prints whether any module of node-redis is loaded, after `code` ran. */
const redisLoadedAfter = (code: string) =>
  run([
    '-e',
    `${code}; console.log(Object.keys(require.cache).some((f) => /node_modules[\\\\/](redis|@redis)[\\\\/]/.test(f)))`,
  ]);

beforeAll(() => {
  if (!fs.existsSync(path.join(root, 'dist/cjs/redis.js'))) {
    throw new Error('dist/ is missing: `npm test` builds before running jest (or run `npm run build`)');
  }
});

describe('node-redis loads only when a Redis store is created', () => {
  test('requiring the main entry and using a revocation list leaves node-redis unloaded', () => {
    expect(redisLoadedAfter("const m = require('express-token-gate'); m.createRevocationList()")).toBe('false');
  });

  test('requiring express-token-gate/redis alone leaves it unloaded too', () => {
    expect(redisLoadedAfter("require('express-token-gate/redis')")).toBe('false');
  });

  test('creating a store from a URL loads it', () => {
    const code =
      "const s = require('express-token-gate/redis').redisRevocationStore({ url: 'redis://127.0.0.1:1' }); s.close()";
    expect(redisLoadedAfter(code)).toBe('true');
  });

  test('the ES-module entry gives the same function', () => {
    const script = `
      import { createRequire } from 'node:module';
      import { redisRevocationStore } from 'express-token-gate/redis';
      const cjs = createRequire(process.cwd() + '/')('express-token-gate/redis');
      console.log(redisRevocationStore === cjs.redisRevocationStore);
    `;
    expect(run(['--input-type=module', '-e', script])).toBe('true');
  });
});

describe('without the redis package', () => {
  test('creating a store from a URL throws a clear error naming what to install', () => {
    // A resolver hook that makes `redis` absent, as in an application that never installed it.
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
        const { redisRevocationStore } = require('express-token-gate/redis');
        try { redisRevocationStore({ url: 'redis://127.0.0.1:1' }); console.log('created'); }
        catch (error) { console.log(error.message); }`;
      expect(run(['-r', hide, '-e', code])).toMatch(/needs the `redis` package .*npm install redis/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
