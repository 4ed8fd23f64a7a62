/**
 * The published shape: `require` and `import` of the built package (through its own `exports`)
 * give the same working instances, and the declarations type-check for both module kinds.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 20_000 });

beforeAll(() => {
  if (!fs.existsSync(path.join(root, 'dist/cjs/index.js'))) {
    throw new Error('dist/ is missing: `npm test` builds before running jest (or run `npm run build`)');
  }
});

describe('package entry points', () => {
  test('require() loads the CommonJS build with every public export', () => {
    const out = run(['-e', "const m = require('express-token-gate'); console.log(Object.keys(m).sort().join(','))"]);
    expect(out.trim().split(',')).toEqual(
      expect.arrayContaining([
        'TokenGateError', 'authErrorHandler', 'createTokenGate', 'optionalAuth', 'requireAuth', 'requireTokens', 'verifyAccessToken',
      ]),
    );
  });

  test('import loads the same instances as require (one key-set registry, one error class)', () => {
    const script = `
      import { createRequire } from 'node:module';
      import * as esm from 'express-token-gate';
      import * as kit from 'express-token-gate/testing';
      const cjs = createRequire(process.cwd() + '/')('express-token-gate');
      console.log(esm.TokenGateError === cjs.TokenGateError, esm.createTokenGate === cjs.createTokenGate, typeof kit.createTestIssuer);
    `;
    expect(run(['--input-type=module', '-e', script]).trim()).toBe('true true function');
  });

  test('the built package verifies a token end to end from an ES module', () => {
    const script = `
      import { verifyAccessToken } from 'express-token-gate';
      import { createTestIssuer } from 'express-token-gate/testing';
      const issuer = await createTestIssuer({ audience: 'pkg' });
      try {
        const claims = await verifyAccessToken(await issuer.sign(), issuer.options);
        console.log(claims.chain);
      } finally {
        await issuer.close();
      }
    `;
    expect(run(['--input-type=module', '-e', script]).trim()).toBe('ethereum');
  });

  test('declarations type-check for CommonJS and ES-module consumers', () => {
    const tsc = require.resolve('typescript/bin/tsc');
    expect(() => run([tsc, '-p', path.join(__dirname, 'fixtures/tsconfig.json')])).not.toThrow();
  });
});
