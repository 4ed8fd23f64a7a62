import { generateKeyPairSync } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { resolveOptions } from '../../lib/http/options';
import { TokenVerifier } from '../../lib/token/verify';
import { MAX_CANDIDATE_KEYS } from '../../lib/jwks/key-set';
import { AUDIENCE, ISSUER } from '../helpers/fixtures';
import { HUGE_BYTES, makeSigningKey, signAccessToken } from '../helpers/jwks-server';
import { expectKeys, type Fixture, keySetFixture, xOf } from '../helpers/key-set';

let f: Fixture;
afterEach(() => f.server.close());

async function publicJwk(alg: string, extra: Record<string, unknown> = {}): Promise<JWK> {
  const { publicKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(publicKey)), ...extra };
}

describe('fetch timeout', () => {
  test('a fetch is abandoned after timeoutMs of (simulated) time, not before', async () => {
    f = await keySetFixture({ timeoutMs: 2_000 });
    f.server.answer = 'slow';
    const result = f.set.getKeys('ES256', f.key.kid);
    await f.server.waitForHits(1);
    f.clock.advance(1_999);
    expect(f.eventsOf('failed')).toHaveLength(0);
    f.clock.advance(1);
    await expect(result).rejects.toMatchObject({ status: 503 });
    expect(f.eventsOf('failed')[0]!.error).toBe('no complete answer within 2000 ms');
  });
});

describe('response size cap', () => {
  test('a body without Content-Length is read only until it passes the cap', async () => {
    f = await keySetFixture();
    f.server.answer = 'huge';
    await expect(f.set.getKeys('ES256', f.key.kid)).rejects.toMatchObject({ status: 503 });
    const outcome = await f.server.hugeOutcome();
    expect(outcome.completed).toBe(false);
    expect(outcome.written).toBeLessThan(HUGE_BYTES);
  });

  test('a declared Content-Length over the cap is refused before reading the body', async () => {
    f = await keySetFixture();
    f.server.answer = 'huge-declared';
    await expect(f.set.getKeys('ES256', f.key.kid)).rejects.toMatchObject({ status: 503 });
    expect(f.eventsOf('failed')[0]!.error).toBe(`declared body of ${HUGE_BYTES} bytes is larger than 262144`);
    expect((await f.server.hugeOutcome()).completed).toBe(false);
  });

  test('a body of exactly maxBytes is accepted; one byte more is refused', async () => {
    const key = await makeSigningKey('k');
    const size = Buffer.byteLength(JSON.stringify({ keys: [key.jwk] }));
    f = await keySetFixture({ maxBytes: size });
    f.server.keys = [key.jwk];
    await expectKeys(f.set.getKeys('ES256', 'k'), key.jwk);
    const smaller = await keySetFixture({ maxBytes: size - 1 });
    try {
      smaller.server.keys = [key.jwk];
      await expect(smaller.set.getKeys('ES256', 'k')).rejects.toMatchObject({ status: 503 });
      expect(smaller.eventsOf('failed')[0]!.error).toBe(`body is larger than ${size - 1} bytes`);
    } finally {
      await smaller.server.close();
    }
  });
});

describe('key-count cap', () => {
  test('a set with more than maxKeys entries is refused whole', async () => {
    f = await keySetFixture({ maxKeys: 2 });
    f.server.keys = [f.key.jwk, (await makeSigningKey('b')).jwk, (await makeSigningKey('c')).jwk];
    await expect(f.set.getKeys('ES256', f.key.kid)).rejects.toMatchObject({ status: 503 });
    expect(f.eventsOf('failed')[0]!.error).toBe('document lists 3 keys, more than 2');
  });

  test('a set of exactly maxKeys entries is used', async () => {
    f = await keySetFixture({ maxKeys: 2 });
    const b = await makeSigningKey('b');
    f.server.keys = [f.key.jwk, b.jwk];
    await expectKeys(f.set.getKeys('ES256', 'b'), b.jwk);
    expect(f.eventsOf('fetched')).toEqual([expect.objectContaining({ keys: 2, skipped: 0 })]);
  });
});

describe('unusable keys are skipped, never fatal for the others', () => {
  let bad: unknown[];
  beforeAll(async () => {
    const ec = await makeSigningKey('template');
    const offCurve = Buffer.from(ec.jwk.y!, 'base64url');
    offCurve[31]! ^= 1;
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    bad = [
      { ...ec.jwk, kid: 'use-enc', use: 'enc' },
      { ...ec.jwk, kid: 'ops-encrypt', key_ops: ['encrypt'] },
      { ...ec.jwk, kid: 'ops-not-a-list', key_ops: 'verify' },
      { ...(await exportJWK(privateKey)), kid: 'private', alg: 'ES256' },
      { ...ec.jwk, kid: 'ec-as-rs256', alg: 'RS256' },
      await publicJwk('ES384', { kid: 'p384-as-es256', alg: 'ES256' }),
      { kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0', alg: 'HS256', kid: 'hmac' },
      { ...ec.jwk, kid: 'alg-none', alg: 'none' },
      { ...ec.jwk, kid: 'off-curve', y: offCurve.toString('base64url') },
      await publicJwk('RS256', { kid: 'rsa-without-alg' }),
      { ...rsa1024, kid: 'rsa-1024', alg: 'RS256' },
      await publicJwk('Ed25519', { kid: 'x25519', crv: 'X25519' }),
      { ...ec.jwk, kid: 'x-not-a-string', x: 123 },
      { ...ec.jwk, kid: 7 },
      { ...ec.jwk, kid: '' },
      'not an object',
      null,
      [ec.jwk],
    ];
  });

  test('one good key among 18 bad entries: fetched with 1 key, 18 skipped, the good one verifies', async () => {
    f = await keySetFixture();
    f.server.keys = [...bad, f.key.jwk];
    expect(await xOf(await f.set.getKeys('ES256', f.key.kid))).toBe(f.key.jwk.x);
    expect(f.eventsOf('fetched')).toEqual([{ type: 'fetched', uri: f.server.uri, keys: 1, skipped: 18 }]);
  });

  test.each([
    'use-enc',
    'ops-encrypt',
    'ops-not-a-list',
    'private',
    'ec-as-rs256',
    'p384-as-es256',
    'hmac',
    'alg-none',
    'off-curve',
    'rsa-without-alg',
    'rsa-1024',
    'x25519',
    'x-not-a-string',
  ])('the %s entry resolves no key for any algorithm', async (kid) => {
    f = await keySetFixture();
    f.server.keys = [...bad, f.key.jwk];
    for (const alg of ['ES256', 'ES384', 'RS256', 'HS256', 'EdDSA']) {
      await expect(f.set.getKeys(alg, kid)).rejects.toMatchObject({ status: 401, reason: 'key_not_found' });
    }
    expect(f.server.hits).toBe(1);
  });

  test('usable keys of other types work, each only with its own algorithm', async () => {
    f = await keySetFixture();
    const rsa = await publicJwk('RS256', { kid: 'rsa', alg: 'RS256' });
    const ed = await publicJwk('Ed25519', { kid: 'ed' });
    const p384 = await publicJwk('ES384', { kid: 'p384' });
    f.server.keys = [rsa, ed, p384, f.key.jwk];
    await expectKeys(f.set.getKeys('RS256', 'rsa'), rsa);
    await expect(f.set.getKeys('PS256', 'rsa')).rejects.toMatchObject({ reason: 'key_not_found' });
    await expectKeys(f.set.getKeys('EdDSA', 'ed'), ed);
    await expectKeys(f.set.getKeys('Ed25519', 'ed'), ed);
    await expectKeys(f.set.getKeys('ES384', 'p384'), p384);
    await expect(f.set.getKeys('ES256', 'p384')).rejects.toMatchObject({ reason: 'key_not_found' });
    await expect(f.set.getKeys('ES384', f.key.kid)).rejects.toMatchObject({ reason: 'key_not_found' });
  });
});

describe('duplicate kids', () => {
  test('two different keys under one kid are both dropped; the other keys stay', async () => {
    f = await keySetFixture();
    const a = await makeSigningKey('dup');
    const b = await makeSigningKey('dup');
    f.server.keys = [a.jwk, b.jwk, f.key.jwk];
    await expect(f.set.getKeys('ES256', 'dup')).rejects.toMatchObject({ status: 401, reason: 'key_not_found' });
    expect(f.eventsOf('fetched')).toEqual([expect.objectContaining({ keys: 1, skipped: 2 })]);
    const verifier = new TokenVerifier(
      resolveOptions({ audience: AUDIENCE, issuer: ISSUER, jwksUri: f.server.uri, cache: false }),
      f.set,
    );
    for (const signer of [a, b])
      await expect(verifier.verify(await signAccessToken(signer))).rejects.toMatchObject({ reason: 'key_not_found' });
    // Nor does a token without kid reach them.
    await expect(verifier.verify(await signAccessToken(a, { kid: undefined }))).rejects.toMatchObject({
      reason: 'signature_invalid',
    });
    await expect(verifier.verify(await signAccessToken(f.key))).resolves.toMatchObject({ aud: AUDIENCE });
  });

  test('the same key listed twice is kept once', async () => {
    f = await keySetFixture();
    f.server.keys = [f.key.jwk, { ...f.key.jwk }];
    expect(await xOf(await f.set.getKeys('ES256', f.key.kid))).toBe(f.key.jwk.x);
    expect(f.eventsOf('fetched')).toEqual([expect.objectContaining({ keys: 1, skipped: 1 })]);
  });

  test('a kid shared with an unusable entry is not ambiguous: only one key can verify', async () => {
    f = await keySetFixture();
    f.server.keys = [{ ...(await makeSigningKey(f.key.kid)).jwk, use: 'enc' }, f.key.jwk];
    expect(await xOf(await f.set.getKeys('ES256', f.key.kid))).toBe(f.key.jwk.x);
  });
});

describe('tokens without kid: the signature decides among the few keys that fit', () => {
  const verifierFor = (fixture: Fixture) =>
    new TokenVerifier(
      resolveOptions({ audience: AUDIENCE, issuer: ISSUER, jwksUri: fixture.server.uri, cache: false }),
      fixture.set,
    );
  const withoutKid = ({ kid: _kid, ...jwk }: JWK) => jwk;

  test('with two kid-less keys, a token without kid signed by either verifies; a stranger does not', async () => {
    f = await keySetFixture();
    const a = await makeSigningKey();
    const b = await makeSigningKey();
    f.server.keys = [withoutKid(a.jwk), withoutKid(b.jwk)];
    for (const signer of [a, b]) {
      const token = await signAccessToken(signer, { kid: undefined });
      await expect(verifierFor(f).verify(token)).resolves.toMatchObject({ aud: AUDIENCE });
    }
    const stranger = await signAccessToken(await makeSigningKey(), { kid: undefined });
    await expect(verifierFor(f).verify(stranger)).rejects.toMatchObject({ status: 401, reason: 'signature_invalid' });
  });

  test('a token without kid may be verified by a key that has one (issuers often omit kid in tokens)', async () => {
    f = await keySetFixture();
    const token = await signAccessToken(f.key, { kid: undefined });
    await expect(verifierFor(f).verify(token)).resolves.toMatchObject({ aud: AUDIENCE });
  });

  test(`more than ${MAX_CANDIDATE_KEYS} candidate keys are refused rather than all tried`, async () => {
    f = await keySetFixture();
    const signers = await Promise.all(Array.from({ length: MAX_CANDIDATE_KEYS + 1 }, () => makeSigningKey()));
    f.server.keys = signers.map((k) => withoutKid(k.jwk));
    await expect(f.set.getKeys('ES256', undefined)).rejects.toMatchObject({ reason: 'key_not_found' });
    f.server.keys = signers.slice(0, MAX_CANDIDATE_KEYS).map((k) => withoutKid(k.jwk));
    const fresh = await keySetFixture();
    fresh.server.keys = f.server.keys;
    expect(await fresh.set.getKeys('ES256', undefined)).toHaveLength(MAX_CANDIDATE_KEYS);
    fresh.server.close();
  });

  test('a token with a kid never falls back to a kid-less key', async () => {
    f = await keySetFixture();
    const { kid: _kid, ...jwk } = f.key.jwk;
    f.server.keys = [jwk];
    await expect(f.set.getKeys('ES256', 'some-kid')).rejects.toMatchObject({ reason: 'key_not_found' });
    await expectKeys(f.set.getKeys('ES256', undefined), jwk);
  });
});
