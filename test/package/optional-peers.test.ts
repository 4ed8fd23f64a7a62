/**
 * viem is an optional peer dependency: the package loads without it, and loads it only when an
 * evmOwnershipResolver is first asked something. Runs the built package in child processes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closedPort } from '../helpers/net';

const root = path.resolve(__dirname, '../..');
const run = (args: string[], cwd = root) =>
  execFileSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 20_000 });
const VIEM_LOADED =
  "Object.keys(require.cache).some((file) => file.includes(`${require('node:path').sep}viem${require('node:path').sep}`))";

beforeAll(() => {
  if (!fs.existsSync(path.join(root, 'dist/cjs/index.js')))
    throw new Error('dist/ is missing: run `npm run build` (npm test does)');
});

describe('viem loads lazily', () => {
  test("require('express-token-gate') does not load viem, nor does creating an evmOwnershipResolver", () => {
    const script = `
      const m = require('express-token-gate');
      const before = ${VIEM_LOADED};
      m.evmOwnershipResolver({ rpcUrl: 'http://127.0.0.1:8545' });
      console.log(before, ${VIEM_LOADED});
    `;
    expect(run(['-e', script]).trim()).toBe('false false');
  });

  test("import 'express-token-gate' does not load viem either", () => {
    const script = `
      import { createRequire } from 'node:module';
      import { evmOwnershipResolver } from 'express-token-gate';
      const require = createRequire(process.cwd() + '/');
      evmOwnershipResolver({ rpcUrl: 'http://127.0.0.1:8545' });
      console.log(${VIEM_LOADED});
    `;
    expect(run(['--input-type=module', '-e', script]).trim()).toBe('false');
  });
});

describe('viem under Jest', () => {
  test("a user's Jest run (CommonJS, no --experimental-vm-modules) can use evmOwnershipResolver", async () => {
    const run = spawnSync(
      process.execPath,
      [
        require.resolve('jest/bin/jest'),
        '--config',
        'test/package/fixtures/jest-viem/jest.config.js',
        '--ci',
        '--colors=false',
      ],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, CLOSED_PORT: String(await closedPort()) },
      },
    );
    expect({ status: run.status, stderr: run.stderr }).toEqual({
      status: 0,
      stderr: expect.stringMatching(/Tests: +1 passed, 1 total/),
    });
  }, 60_000);
});

describe('without viem installed', () => {
  let project: string;
  beforeAll(() => {
    // A project whose node_modules holds the package and its own dependencies, but no viem.
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'etg-no-viem-'));
    const modules = path.join(project, 'node_modules');
    const pkg = path.join(modules, 'express-token-gate');
    fs.mkdirSync(pkg, { recursive: true });
    fs.copyFileSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
    fs.cpSync(path.join(root, 'dist'), path.join(pkg, 'dist'), { recursive: true });
    for (const dependency of ['jose', 'lru-cache', 'bignumber.js']) {
      fs.symlinkSync(path.join(root, 'node_modules', dependency), path.join(modules, dependency), 'dir');
    }
  });
  afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

  test('the package loads, and evmOwnershipResolver says at startup what to install', () => {
    const script = `
      const m = require('express-token-gate');
      m.picketOwnershipResolver({ apiKey: 'k' });
      try { m.evmOwnershipResolver({ rpcUrl: 'http://127.0.0.1:8545' }); console.log('created'); }
      catch (error) { console.log(error.message); }
    `;
    const out = spawnSync(process.execPath, ['-e', script], { cwd: project, encoding: 'utf8', timeout: 20_000 });
    expect(out.stderr).toBe('');
    expect(out.stdout.trim()).toBe(
      'express-token-gate: evmOwnershipResolver needs the "viem" package (an optional peer dependency). Install it: npm install viem',
    );
  });
});

describe('the frameworks load only through their subpaths', () => {
  const FRAMEWORKS = ['fastify', 'fastify-plugin', 'koa', '@koa/router', 'hono', '@hono/node-server', 'express'];
  const loaded = `JSON.stringify(${JSON.stringify(FRAMEWORKS)}.filter((name) => Object.keys(require.cache).some((file) => file.includes(require('node:path').sep + 'node_modules' + require('node:path').sep + name + require('node:path').sep))))`;

  test("require('express-token-gate') loads none of them, and a gate with its middleware neither", () => {
    const script = `
      const m = require('express-token-gate');
      m.createTokenGate({ audience: 'p' }).requireAuth();
      console.log(${loaded});
    `;
    expect(JSON.parse(run(['-e', script]).trim())).toEqual([]);
  });

  test.each([
    ['express-token-gate/fastify', ['fastify-plugin']],
    ['express-token-gate/koa', []],
    ['express-token-gate/fetch', []],
    ['express-token-gate/hono', ['hono']],
  ])('%s loads %j and no other framework', (subpath, expected) => {
    const script = `require(${JSON.stringify(subpath)}); console.log(${loaded});`;
    expect(JSON.parse(run(['-e', script]).trim())).toEqual(expected);
  });
});
