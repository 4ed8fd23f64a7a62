/**
 * Algorithm attacks (RFC 8725 §2.1, §3.1, §3.2): unsecured tokens, HMAC keyed with the issuer's
 * public key, and every asymmetric algorithm the gate was not configured for. All are refused
 * from the header alone, before any key lookup: the JWKS is never fetched for them.
 */
import { createHmac, createPublicKey } from 'node:crypto';
import { CompactSign, generateKeyPair } from 'jose';
import { createTokenGate } from '../../lib';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { AUDIENCE, b64url, decodeSegment, encodeSegment, picketClaims } from '../helpers/fixtures';
import { createHarness, expectRejected, type Harness } from '../helpers/harness';

let issuer: TestIssuer;
let harness: Harness;
let claims: string;
/** The issuer's public key, in every form an attacker might feed an HMAC. */
let publicForms: Record<string, Buffer>;

beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
  harness = await createHarness(issuer.options);
  // The attacker reads the public key from the JWKS like anyone else (one fetch, counted here).
  const jwks = (await (await fetch(issuer.jwksUri)).json()) as { keys: Record<string, unknown>[] };
  const jwk = jwks.keys[0]!;
  const key = createPublicKey({ key: jwk as never, format: 'jwk' });
  publicForms = {
    'SPKI PEM': Buffer.from(key.export({ type: 'spki', format: 'pem' }) as string),
    'SPKI DER': key.export({ type: 'spki', format: 'der' }) as Buffer,
    'JWK JSON': Buffer.from(JSON.stringify(jwk)),
    'JWK JSON of the whole set': Buffer.from(JSON.stringify(jwks)),
  };
  claims = encodeSegment(picketClaims({ aud: AUDIENCE, iss: issuer.options.issuer }));
});
afterAll(async () => {
  await harness.close();
  await issuer.close();
});

/** Only the attacker's own JWKS read so far: the gate has not fetched the key set. */
const expectNoGateFetch = () => expect(issuer.jwksHits).toBe(1);

describe('unsecured tokens (alg "none")', () => {
  test.each(['none', 'None', 'NONE', 'nOnE'])(
    'rejects alg "%s" with an empty signature, without fetching keys',
    async (alg) => {
      const token = `${encodeSegment({ alg, typ: 'JWT' })}.${claims}.`;
      expectRejected(await harness.get('/me', token), 401, 'algorithm_not_allowed', token);
      expectNoGateFetch();
    },
  );

  test('rejects alg "none" carrying the signature of a real token', async () => {
    const real = await issuer.sign();
    const token = `${encodeSegment({ alg: 'none' })}.${claims}.${real.split('.')[2]}`;
    expectRejected(await harness.get('/me', token), 401, 'algorithm_not_allowed', token);
    expectNoGateFetch();
  });

  test('rejects alg "none" through optionalAuth too', async () => {
    const token = `${encodeSegment({ alg: 'none' })}.${claims}.`;
    expectRejected(await harness.get('/optional', token), 401, 'algorithm_not_allowed', token);
    expectNoGateFetch();
  });
});

describe('HMAC keyed with the issuer public key (key confusion, CVE-2015-9235, CVE-2016-10555)', () => {
  for (const alg of ['HS256', 'HS384', 'HS512']) {
    test.each(['SPKI PEM', 'SPKI DER', 'JWK JSON', 'JWK JSON of the whole set'])(
      `rejects ${alg} keyed with the public key as %s`,
      async (form) => {
        const kid = (JSON.parse(publicForms['JWK JSON']!.toString()) as { kid: string }).kid;
        const input = `${encodeSegment({ alg, typ: 'JWT', kid })}.${claims}`;
        const mac = createHmac(`sha${alg.slice(2)}`, publicForms[form]!)
          .update(input)
          .digest();
        const token = `${input}.${b64url(mac)}`;
        expectRejected(await harness.get('/me', token), 401, 'algorithm_not_allowed', token);
        expectNoGateFetch();
      },
    );
  }

  test('refuses HS* and none in the algorithms option at startup', () => {
    expect(() => createTokenGate({ ...issuer.options, algorithms: ['HS256'] })).toThrow(/HS256/);
    expect(() => createTokenGate({ ...issuer.options, algorithms: ['ES256', 'none'] })).toThrow(/none/);
    expect(() => createTokenGate({ ...issuer.options, algorithms: ['hs512'] })).toThrow(/hs512/);
  });
});

describe('asymmetric algorithms the gate was not configured for', () => {
  const cases: Array<[string, string, Record<string, unknown>]> = [
    ['RS256', 'RS256', { modulusLength: 2048 }],
    ['PS256', 'PS256', { modulusLength: 2048 }],
    ['ES384', 'ES384', {}],
    ['ES512', 'ES512', {}],
    ['EdDSA', 'EdDSA', {}],
    ['Ed25519', 'Ed25519', {}],
  ];
  test.each(cases)('rejects a real %s token signed by a key of that type', async (alg, keyAlg, keyOptions) => {
    const { privateKey } = await generateKeyPair(keyAlg, keyOptions);
    const token = await new CompactSign(new TextEncoder().encode(Buffer.from(claims, 'base64url').toString()))
      .setProtectedHeader({ alg, typ: 'JWT', kid: 'attacker' })
      .sign(privateKey);
    expectRejected(await harness.get('/me', token), 401, 'algorithm_not_allowed', token);
    expectNoGateFetch();
  });

  test('rejects an RS256 token that names the issuer kid when the gate allows ES256 and RS256', async () => {
    // A separate issuer: this case needs the key set, and the one above must stay cold.
    const other = await createTestIssuer({ audience: AUDIENCE });
    const both = await createHarness({ ...other.options, algorithms: ['ES256', 'RS256'] });
    try {
      const kid = decodeSegment((await other.sign()).split('.')[0]!).kid as string;
      const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
      const token = await new CompactSign(new TextEncoder().encode(Buffer.from(claims, 'base64url').toString()))
        .setProtectedHeader({ alg: 'RS256', kid })
        .sign(privateKey);
      // The only key with that kid is an ES256 key: no RS256 key matches, so nothing verifies.
      expectRejected(await both.get('/me', token), 401, 'key_not_found', token);
      expect(other.jwksHits).toBe(1);
    } finally {
      await both.close();
      await other.close();
    }
    expectNoGateFetch();
  });
});

describe('alg missing or not a string', () => {
  const headers: Array<[string, Record<string, unknown>]> = [
    ['missing', { typ: 'JWT' }],
    ['null', { alg: null }],
    ['a number', { alg: 256 }],
    ['an array', { alg: ['ES256'] }],
    ['an object', { alg: { name: 'ES256' } }],
    ['true', { alg: true }],
    ['empty', { alg: '' }],
    ['ES256 with trailing space', { alg: 'ES256 ' }],
    ['lower-case es256', { alg: 'es256' }],
  ];
  test.each(headers)('rejects alg %s before any key lookup', async (_name, header) => {
    const real = await issuer.sign();
    const token = `${encodeSegment(header)}.${claims}.${real.split('.')[2]}`;
    expectRejected(await harness.get('/me', token), 401, 'algorithm_not_allowed', token);
    expectNoGateFetch();
  });
});

describe('the fetch counter is live', () => {
  // Proves the "no fetch" assertions above could fail: a valid token makes the gate fetch once.
  test('a valid ES256 token is accepted and fetches the key set exactly once', async () => {
    const res = await harness.get('/me', await issuer.sign());
    expect(res.status).toBe(200);
    expect(issuer.jwksHits).toBe(2);
  });
});
