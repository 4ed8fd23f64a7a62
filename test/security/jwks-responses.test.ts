/**
 * Hostile or broken JWKS responses (RFC 7517 §4.2-4.3, RFC 8725 §3.4, §3.5): a key set that leaks
 * private material, keys meant for encryption, wrong curves, points off the curve, duplicate kids
 * and kid-less keys. No such key is ever used to accept a token it should not, nothing crashes,
 * and unknown kids do not turn into a fetch storm.
 *
 * Each case runs against its own issuer URL, so each starts from an empty key set.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { b64url, picketClaims } from '../helpers/fixtures';
import { createHarness, expectRejected, type Harness } from '../helpers/harness';
import { createRawIssuer, type RawIssuer } from '../helpers/jwks-server';
import { wycheproofDir } from './helpers';

interface Setup {
  raw: RawIssuer;
  harness: Harness;
}
const open: Setup[] = [];

/** A fresh issuer serving `jwks` (built from its own signing key) and a gate on it. */
async function serve(jwks: (own: JWK) => unknown): Promise<Setup> {
  const raw = await createRawIssuer();
  raw.jwks = jwks(raw.publicJwk);
  // These sets are broken on purpose: keep the key-set warnings out of the suite's output.
  const harness = await createHarness({ ...raw.options, logger: false });
  const setup = { raw, harness };
  open.push(setup);
  return setup;
}
afterEach(async () => {
  for (const { raw, harness } of open.splice(0)) {
    await harness.close();
    await raw.close();
  }
});

/** The private scalar `d` of a freshly generated key, with its public JWK. */
async function keyPair(alg = 'ES256', options: Record<string, unknown> = {}) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...options });
  return { privateKey, publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) };
}

const header = (kid?: string) =>
  JSON.stringify(kid === undefined ? { alg: 'ES256', typ: 'JWT' } : { alg: 'ES256', typ: 'JWT', kid });

/**
 * Serves `bad(own)` beside a clean control key (kid `control`): tokens for the bad entry are refused
 * as `key_not_found`, and the control still verifies, so one bad entry never spoils the others.
 */
async function expectEntryUnused(bad: (own: JWK) => unknown): Promise<void> {
  const control = await keyPair();
  const { raw, harness } = await serve((own) => ({
    keys: [bad(own), { ...control.publicJwk, kid: 'control', alg: 'ES256', use: 'sig' }],
  }));
  const token = await raw.sign();
  expectRejected(await harness.get('/me', token), 401, 'key_not_found', token);
  const controlToken = await raw.signRaw(header('control'), JSON.stringify(picketClaims()), control.privateKey);
  expect((await harness.get('/me', controlToken)).status).toBe(200);
}

describe('keys carrying private material are never used', () => {
  test('rejects tokens for a kid whose JWK includes d, and still accepts the clean key beside it', async () => {
    const leaked = await keyPair();
    const { raw, harness } = await serve((own) => ({
      keys: [{ ...leaked.privateJwk, kid: 'leaked', alg: 'ES256', use: 'sig' }, own],
    }));
    const forged = await raw.signRaw(header('leaked'), JSON.stringify(picketClaims()), leaked.privateKey);
    expectRejected(await harness.get('/me', forged), 401, 'key_not_found', forged);
    expect((await harness.get('/me', await raw.sign())).status).toBe(200);
  });

  test('a set whose only key is private has no usable key: 503, and the key is never used', async () => {
    const leaked = await keyPair();
    const { raw, harness } = await serve(() => ({ keys: [{ ...leaked.privateJwk, kid: 'leaked', alg: 'ES256' }] }));
    const forged = await raw.signRaw(header('leaked'), JSON.stringify(picketClaims()), leaked.privateKey);
    const res = await harness.get('/me', forged);
    expect({ status: res.status, reason: res.body?.reason }).toEqual({ status: 503, reason: 'jwks_unavailable' });
  });
});

describe('keys not meant for verification are never used', () => {
  test.each([
    ['use "enc"', { use: 'enc' }],
    ['use "ENC"', { use: 'ENC' }],
    ['key_ops ["encrypt"]', { use: undefined, key_ops: ['encrypt'] }],
    ['key_ops ["sign"]', { use: undefined, key_ops: ['sign'] }],
    ['key_ops that is not a list', { use: undefined, key_ops: 'verify' }],
  ])('rejects tokens for a key with %s', async (_name, change) => {
    await expectEntryUnused((own) => ({ ...own, ...change }));
  });

  test('accepts tokens for a key with key_ops ["verify"] (the control)', async () => {
    const { raw, harness } = await serve((own) => ({ keys: [{ ...own, use: undefined, key_ops: ['verify'] }] }));
    expect((await harness.get('/me', await raw.sign())).status).toBe(200);
  });

  test('Wycheproof ec_key_for_encryption: the key of the valid ES256 vector, published for encryption, is not used', async () => {
    const vectors = JSON.parse(readFileSync(path.join(wycheproofDir(), 'json_web_signature_test.json'), 'utf8')) as {
      testGroups: Array<{ comment: string; private: JWK; public?: JWK }>;
    };
    const groups = vectors.testGroups.filter((g) => g.comment === 'ec_key_for_encryption');
    expect(groups).toHaveLength(2);
    for (const group of groups) {
      const signer = (await importJWK({ ...group.private, use: undefined, key_ops: undefined }, 'ES256')) as CryptoKey;
      const { raw, harness } = await serve((own) => ({ keys: [group.public, own] }));
      const token = await raw.signRaw(header(group.public!.kid), JSON.stringify(picketClaims()), signer);
      expectRejected(await harness.get('/me', token), 401, 'key_not_found', token);
      expect((await harness.get('/me', await raw.sign())).status).toBe(200);
    }
  });
});

describe('keys on the wrong curve, or off any curve, are never used', () => {
  test('rejects tokens for a P-256 point labelled P-384', async () => {
    await expectEntryUnused((own) => ({ ...own, crv: 'P-384' }));
  });

  test('rejects ES256 tokens when the kid names a genuine P-384 key labelled ES256', async () => {
    const p384 = await keyPair('ES384');
    await expectEntryUnused((own) => ({ ...p384.publicJwk, kid: own.kid, alg: 'ES256' }));
  });

  test('rejects tokens for a secp256k1 key labelled ES256', async () => {
    await expectEntryUnused((own) => ({ ...own, crv: 'secp256k1' }));
  });

  test.each([
    ['a y coordinate with one bit flipped', (own: JWK) => ({ ...own, y: flipLastBit(own.y!) })],
    ['the point (0, 0)', (own: JWK) => ({ ...own, x: zero(32), y: zero(32) })],
    [
      '31-byte coordinates',
      (own: JWK) => ({ ...own, x: own.x && b64url(Buffer.from(own.x, 'base64url').subarray(1)) }),
    ],
    [
      'x equal to the field prime',
      (own: JWK) => ({
        ...own,
        x: b64url(Buffer.from('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff', 'hex')),
      }),
    ],
    ['a missing y', (own: JWK) => ({ ...own, y: undefined })],
  ])('rejects tokens for a key with %s, without crashing', async (_name, corrupt) => {
    await expectEntryUnused(corrupt);
  });
});

describe('duplicate kids are dropped; for kid-less tokens the signature decides, forgeries never pass', () => {
  /** Either reason is fail-closed: no key matched, or none of the matching keys verified. */
  const FORGERY = ['signature_invalid', 'key_not_found'];

  test('two different keys share a kid: both are dropped, tokens from either are refused, the other keys still serve', async () => {
    const second = await keyPair();
    const control = await keyPair();
    const { raw, harness } = await serve((own) => ({
      keys: [
        own,
        { ...second.publicJwk, kid: own.kid, alg: 'ES256', use: 'sig' },
        { ...control.publicJwk, kid: 'control', alg: 'ES256', use: 'sig' },
      ],
    }));
    const own = await raw.sign();
    expectRejected(await harness.get('/me', own), 401, 'key_not_found', own);
    const fromSecond = await raw.signRaw(header(raw.kid), JSON.stringify(picketClaims()), second.privateKey);
    expectRejected(await harness.get('/me', fromSecond), 401, 'key_not_found', fromSecond);
    const fromControl = await raw.signRaw(header('control'), JSON.stringify(picketClaims()), control.privateKey);
    expect((await harness.get('/me', fromControl)).status).toBe(200);
  });

  test('during a rotation (two keys, each with its kid), a kid-less token from either verifies, a forgery does not', async () => {
    const second = await keyPair();
    const { raw, harness } = await serve((own) => ({
      keys: [own, { ...second.publicJwk, kid: 'next', alg: 'ES256', use: 'sig' }],
    }));
    const stranger = await keyPair();
    const forged = await raw.signRaw(header(), JSON.stringify(picketClaims()), stranger.privateKey);
    expectRejected(await harness.get('/me', forged), 401, FORGERY, forged);
    expect((await harness.get('/me', await raw.signRaw(header(), JSON.stringify(picketClaims())))).status).toBe(200);
    const fromSecond = await raw.signRaw(header(), JSON.stringify(picketClaims()), second.privateKey);
    expect((await harness.get('/me', fromSecond)).status).toBe(200);
  });

  test('two keys without kid: a kid-less token from either verifies, a forgery does not', async () => {
    const second = await keyPair();
    const { raw, harness } = await serve((own) => ({
      keys: [
        { ...own, kid: undefined },
        { ...second.publicJwk, alg: 'ES256', use: 'sig' },
      ],
    }));
    const stranger = await keyPair();
    const forged = await raw.signRaw(header(), JSON.stringify(picketClaims()), stranger.privateKey);
    expectRejected(await harness.get('/me', forged), 401, FORGERY, forged);
    expect((await harness.get('/me', await raw.signRaw(header(), JSON.stringify(picketClaims())))).status).toBe(200);
    const fromSecond = await raw.signRaw(header(), JSON.stringify(picketClaims()), second.privateKey);
    expect((await harness.get('/me', fromSecond)).status).toBe(200);
  });

  test('one key without kid: a kid-less token verifies (the issuer’s own tokens carry no kid)', async () => {
    const { raw, harness } = await serve((own) => ({ keys: [{ ...own, kid: undefined }] }));
    expect((await harness.get('/me', await raw.signRaw(header(), JSON.stringify(picketClaims())))).status).toBe(200);
  });
});

describe('bad key sets do not cause a fetch storm', () => {
  test('fifty tokens against a set of unusable keys fetch it at most twice', async () => {
    const { raw, harness } = await serve((own) => ({
      keys: [
        { ...own, use: 'enc' },
        { ...own, kid: 'p', crv: 'P-384' },
      ],
    }));
    for (let i = 0; i < 50; i += 1) {
      const res = await harness.get('/me', await raw.sign(undefined, { kid: i % 2 ? raw.kid : `kid-${i}` }));
      // No usable key at all: the set is treated as unavailable (503), never as "any key goes".
      expect({ status: res.status, reason: res.body?.reason }).toEqual({ status: 503, reason: 'jwks_unavailable' });
    }
    expect(raw.hits).toBeGreaterThanOrEqual(1);
    expect(raw.hits).toBeLessThanOrEqual(2);
  });
});

function flipLastBit(coordinate: string): string {
  const bytes = Buffer.from(coordinate, 'base64url');
  bytes[bytes.length - 1]! ^= 1;
  return b64url(bytes);
}
const zero = (length: number) => b64url(Buffer.alloc(length));
