import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { assertBuilt, ROOT } from '../example/start-example';

describe('the test kit under node:test, through the built package', () => {
  test('runs a CommonJS and an ES-module test file to completion, every test passing', () => {
    assertBuilt();
    const files = ['gated-route.cjs', 'gated-route.mjs'].map((f) => path.join(__dirname, 'node-test', f));
    // node --test only finishes once each file's event loop is empty: a server or socket left
    // open by close() would hold it until the guard below kills it.
    const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', ...files], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect({ status: run.status, signal: run.signal }).toEqual({ status: 0, signal: null });
    expect(run.stdout).toMatch(/^# pass 6$/m);
    expect(run.stdout).toMatch(/^# fail 0$/m);
  });
});
