/**
 * Header attacks: parameters that carry or point to a key (RFC 8725 §3.10, RFC 7515 §4.1.2-4.1.6),
 * extensions the gate does not implement (`crit`, `b64`, RFC 7515 §4.1.11, RFC 7797), explicit
 * typing (RFC 8725 §3.11) and hostile `kid` values (RFC 8725 §2.9, §3.10).
 */
import { createPublicKey } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { AUDIENCE, picketClaims } from '../helpers/fixtures';
import { createHarness, expectNoLeak, expectRejected, type Harness, useRawHarness } from '../helpers/harness';
import { createRawIssuer, createTrap, type RawIssuer, type Trap } from '../helpers/jwks-server';

let issuer: TestIssuer;
let harness: Harness;
let trap: Trap;
let attackerKey: CryptoKey;
let attackerJwk: Record<string, unknown>;

beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
  harness = await createHarness(issuer.options);
  trap = await createTrap();
  const pair = await generateKeyPair('ES256', { extractable: true });
  attackerKey = pair.privateKey;
  attackerJwk = { ...(await exportJWK(pair.publicKey)), use: 'sig', alg: 'ES256' };
});
afterAll(async () => {
  await harness.close();
  await trap.close();
  await issuer.close();
});

describe('header parameters that carry or point to a key are refused, never used', () => {
  const ctx = useRawHarness();

  const spkiBase64 = () =>
    createPublicKey({ key: attackerJwk as never, format: 'jwk' })
      .export({ type: 'spki', format: 'der' })
      .toString('base64');

  const cases: Array<[string, () => Record<string, unknown>]> = [
    ['jwk (embedded attacker key, CVE-2018-0114)', () => ({ jwk: attackerJwk })],
    ['jku pointing to an attacker JWKS', () => ({ jku: `${trap.url}/jwks.json` })],
    ['x5u pointing to an attacker certificate', () => ({ x5u: `${trap.url}/cert.pem` })],
    ['x5c carrying attacker key material', () => ({ x5c: [spkiBase64()] })],
    ['x5t thumbprint', () => ({ x5t: 'dGh1bWJwcmludA' })],
    ['x5t#S256 thumbprint', () => ({ 'x5t#S256': 'dGh1bWJwcmludA' })],
    ['jwk and jku together, with the issuer kid', () => ({ jwk: attackerJwk, jku: `${trap.url}/jwks.json` })],
  ];

  test.each(cases)('rejects a token signed by the attacker with %s', async (_name, header) => {
    const hitsBefore = ctx.raw.hits;
    const token = await ctx.raw.signRaw(
      JSON.stringify({ alg: 'ES256', kid: ctx.raw.kid, ...header() }),
      JSON.stringify(picketClaims()),
      attackerKey,
    );
    expectRejected(await ctx.harness.get('/me', token), 401, 'header_not_allowed', token);
    expect(trap.requests).toBe(0);
    expect(ctx.raw.hits).toBe(hitsBefore);
  });

  test.each(cases)('rejects a token signed by the real issuer that also carries %s', async (_name, header) => {
    // Even a genuine signature does not make key-carrying headers acceptable: refusing them
    // outright keeps the gate from ever acting on one.
    const token = await ctx.raw.sign(undefined, header());
    expectRejected(await ctx.harness.get('/me', token), 401, 'header_not_allowed', token);
    expect(trap.requests).toBe(0);
  });

  test('the trap server answers requests (so "no request" above is meaningful)', async () => {
    const before = trap.requests;
    await fetch(`${trap.url}/jwks.json`);
    expect(trap.requests).toBe(before + 1);
  });
});

describe('unsupported extensions: crit and b64', () => {
  // Signed with the raw issuer: jose (rightly) refuses to produce most of these headers.
  const ctx = useRawHarness();

  const cases: Array<[string, Record<string, unknown>]> = [
    ['crit naming a registered claim', { crit: ['exp'], exp: 1 }],
    ['crit naming b64', { crit: ['b64'], b64: true }],
    ['crit with an unknown extension', { crit: ['urn:example:ext'], 'urn:example:ext': true }],
    ['crit as an empty list', { crit: [] }],
    ['crit as a string', { crit: 'exp' }],
    ['crit as null', { crit: null }],
    ['b64 false with crit (RFC 7797 unencoded payload)', { b64: false, crit: ['b64'] }],
    ['b64 false without crit', { b64: false }],
    ['b64 true', { b64: true }],
  ];
  test.each(cases)('rejects a genuinely signed token whose header has %s', async (_name, header) => {
    const token = await ctx.raw.sign(undefined, header);
    expectRejected(await ctx.harness.get('/me', token), 401, 'header_not_allowed', token);
  });

  test('accepts the same issuer token without those parameters', async () => {
    expect((await ctx.harness.get('/me', await ctx.raw.sign())).status).toBe(200);
  });
});

describe('explicit typing: the typ option', () => {
  let typed: Harness;
  beforeAll(async () => {
    typed = await createHarness({ ...issuer.options, typ: ['JWT', 'at+jwt'] });
  });
  afterAll(() => typed.close());

  test.each(['JWT', 'jwt', 'at+jwt', 'AT+JWT', 'application/at+jwt', 'application/JWT'])(
    'accepts typ %s',
    async (typ) => {
      const res = await typed.get('/me', await issuer.sign({}, { header: { typ } }));
      expect(res.status).toBe(200);
    },
  );

  test.each(['JOSE', 'JOSE+JSON', 'dpop+jwt', 'secevent+jwt', 'JWT ', 'application/jose', 'text/jwt', 'at+jwt/'])(
    'rejects typ %s',
    async (typ) => {
      const token = await issuer.sign({}, { header: { typ } });
      expectRejected(await typed.get('/me', token), 401, 'type_not_allowed', token);
    },
  );

  test('rejects a token without typ when typ is configured', async () => {
    const token = await issuer.sign({}, { header: { typ: undefined } });
    expectRejected(await typed.get('/me', token), 401, 'type_not_allowed', token);
  });

  test.each([[42], [['JWT']], [null]])('rejects a typ that is not a string (%j)', async (typ) => {
    const token = await issuer.sign({}, { header: { typ } });
    expectRejected(await typed.get('/me', token), 401, 'token_malformed', token);
  });

  test('accepts any typ when the option is not set', async () => {
    const res = await harness.get('/me', await issuer.sign({}, { header: { typ: 'JOSE' } }));
    expect(res.status).toBe(200);
  });
});

describe('hostile kid values', () => {
  let fresh: TestIssuer;
  let freshHarness: Harness;
  beforeAll(async () => {
    fresh = await createTestIssuer({ audience: AUDIENCE });
    freshHarness = await createHarness(fresh.options);
  });
  afterAll(async () => {
    await freshHarness.close();
    await fresh.close();
  });

  const unknownKids: Array<[string, string]> = [
    ['path traversal', '../../../../etc/passwd'],
    ['path traversal to /dev/null', '../../../../dev/null'],
    ['encoded path traversal', '..%2F..%2F..%2Fetc%2Fpasswd'],
    ['SQL injection', "x' UNION SELECT 'AAAA' --"],
    ['SQL injection with OR', "' OR '1'='1"],
    ['shell metacharacters', '$(curl 127.0.0.1)|;`id`'],
    ['a URL', 'http://127.0.0.1:1/jwks.json'],
    ['NUL and control characters', 'kid\u0000\r\n\u001b[31m'],
    ['non-ASCII', 'clé-\u202e-🔑'],
    ['256 characters (the longest allowed)', 'k'.repeat(256)],
  ];

  test.each(unknownKids)('rejects a kid with %s as an unknown key, without echoing it', async (_name, kid) => {
    const token = await fresh.sign({}, { kid });
    const res = await freshHarness.get('/me', token);
    expectRejected(res, 401, 'key_not_found', token);
    expectNoLeak(res, token, kid.length >= 4 ? kid : undefined);
  });

  test('many unknown kids cause at most one refetch: no JWKS fetch storm', async () => {
    for (let i = 0; i < 25; i += 1) {
      const token = await fresh.sign({}, { kid: `unknown-${i}` });
      expectRejected(await freshHarness.get('/me', token), 401, 'key_not_found', token);
    }
    // One fetch to learn the set, at most one refetch for an unknown kid within the cooldown.
    expect(fresh.jwksHits).toBeGreaterThanOrEqual(1);
    expect(fresh.jwksHits).toBeLessThanOrEqual(2);
  });

  test('unknown kids arriving all at once on a cold key set share one fetch', async () => {
    const cold = await createTestIssuer({ audience: AUDIENCE });
    const coldHarness = await createHarness(cold.options);
    try {
      const tokens = await Promise.all(Array.from({ length: 30 }, (_, i) => cold.sign({}, { kid: `burst-${i}` })));
      const answers = await Promise.all(tokens.map((token) => coldHarness.get('/me', token)));
      for (const [i, res] of answers.entries()) expectRejected(res, 401, 'key_not_found', tokens[i]);
      expect(cold.jwksHits).toBeGreaterThanOrEqual(1);
      expect(cold.jwksHits).toBeLessThanOrEqual(2);
    } finally {
      await coldHarness.close();
      await cold.close();
    }
  });

  const malformedKids: Array<[string, unknown]> = [
    ['a number', 1],
    ['zero', 0],
    ['a float', 1.5],
    ['null', null],
    ['true', true],
    ['an array', ['kid']],
    ['an object', { $ne: null }],
    ['an empty string', ''],
    ['257 characters', 'k'.repeat(257)],
  ];

  test.each(malformedKids)('rejects a kid that is %s as malformed, without a key lookup', async (_name, kid) => {
    const before = fresh.jwksHits;
    const token = await fresh.sign({}, { header: { kid } });
    expectRejected(await freshHarness.get('/me', token), 401, 'token_malformed', token);
    expect(fresh.jwksHits).toBe(before);
  });

  test('rejects a 10 KB kid by size, before decoding anything', async () => {
    const before = fresh.jwksHits;
    const token = await fresh.sign({}, { kid: 'k'.repeat(10_240) });
    const res = await freshHarness.get('/me', token);
    expectRejected(res, 401, 'token_too_large', token);
    expect(fresh.jwksHits).toBe(before);
  });
});
