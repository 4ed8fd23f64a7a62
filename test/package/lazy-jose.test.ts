/**
 * jose loads lazily: `require('express-token-gate')` and every ES256 key and token go through
 * node:crypto; jose is required on the first key or token of another algorithm. Runs the built
 * package in child processes, with keys and tokens made here through node:crypto.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AUDIENCE, encodeSegment, ISSUER, picketClaims } from '../helpers/fixtures';

const root = path.resolve(__dirname, '../..');
const JOSE_LOADED = 'Object.keys(require.cache).some((file) => /[\\\\/]node_modules[\\\\/]jose[\\\\/]/.test(file))';

beforeAll(() => {
  if (!fs.existsSync(path.join(root, 'dist/cjs/index.js')))
    throw new Error('dist/ is missing: run `npm run build` (npm test does)');
});

type Alg = 'ES256' | 'ES384' | 'EdDSA';

interface Key {
  alg: Alg;
  kid: string;
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
}

function makeKey(alg: Alg, kid: string): Key {
  const { privateKey, publicKey } =
    alg === 'EdDSA'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: alg === 'ES256' ? 'P-256' : 'P-384' });
  return { alg, kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } };
}

function signToken(key: Key, alg: Alg = key.alg): string {
  const input = `${encodeSegment({ alg, typ: 'JWT', kid: key.kid })}.${encodeSegment(picketClaims())}`;
  const signature =
    key.alg === 'EdDSA'
      ? sign(null, Buffer.from(input), key.privateKey)
      : sign(key.alg === 'ES256' ? 'sha256' : 'sha384', Buffer.from(input), {
          key: key.privateKey,
          dsaEncoding: 'ieee-p1363',
        });
  return `${input}.${signature.toString('base64url')}`;
}

/** Verifies `token` against a static key set in a fresh process: its outcome and whether jose was loaded. */
function verifyInChild(keys: Key[], token: string, algorithms: string[]): { outcome: string; jose: boolean } {
  const options = { audience: AUDIENCE, issuer: ISSUER, keys: { keys: keys.map((k) => k.jwk) }, algorithms };
  const script = `
    const { verifyAccessToken } = require('express-token-gate');
    verifyAccessToken(${JSON.stringify(token)}, ${JSON.stringify(options)}).then(
      (claims) => 'verified ' + claims.chain,
      (error) => 'refused ' + error.reason,
    ).then((outcome) => console.log(JSON.stringify({ outcome, jose: ${JOSE_LOADED} })));
  `;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', timeout: 20_000 }));
}

describe('jose loads only for a key or token of another algorithm than ES256', () => {
  test("require('express-token-gate') does not load jose", () => {
    const out = execFileSync(process.execPath, ['-e', `require('express-token-gate'); console.log(${JOSE_LOADED})`], {
      cwd: root,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(out.trim()).toBe('false');
  });

  test("import 'express-token-gate' does not load jose either", () => {
    const script = `
      import { createRequire } from 'node:module';
      import 'express-token-gate';
      const require = createRequire(process.cwd() + '/');
      console.log(${JOSE_LOADED});
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(out.trim()).toBe('false');
  });

  const es256 = makeKey('ES256', 'p256');
  const es384 = makeKey('ES384', 'p384');
  const ed25519 = makeKey('EdDSA', 'ed');
  const rows: Array<[string, Key[], string, string[], { outcome: string; jose: boolean }]> = [
    [
      'an ES256 token under an ES256 key',
      [es256],
      signToken(es256),
      ['ES256'],
      { outcome: 'verified ethereum', jose: false },
    ],
    [
      'an ES256 token whose header names ES384, refused before any key is used',
      [es256],
      signToken(es256, 'ES384'),
      ['ES256'],
      { outcome: 'refused algorithm_not_allowed', jose: false },
    ],
    [
      'an ES256 token under a set that also holds an ES384 key',
      [es256, es384],
      signToken(es256),
      ['ES256', 'ES384'],
      { outcome: 'verified ethereum', jose: true },
    ],
    [
      'an ES384 token under an ES384 key',
      [es384],
      signToken(es384),
      ['ES384'],
      { outcome: 'verified ethereum', jose: true },
    ],
    [
      'an EdDSA token under an Ed25519 key',
      [ed25519],
      signToken(ed25519),
      ['EdDSA'],
      { outcome: 'verified ethereum', jose: true },
    ],
  ];
  test.each(rows)('%s', (_name, keys, token, algorithms, expected) => {
    expect(verifyInChild(keys, token, algorithms)).toEqual(expected);
  });
});
