/**
 * The issuer's signing keys: loading ES256 private keys from PEM and JWK, their kids (the JWK's own
 * or the RFC 7638 thumbprint), what the JWKS publishes, every bad key refused at startup with its
 * index, and tokens signed with node:crypto that the library's own gate and jose both verify.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import { calculateJwkThumbprint, compactVerify, createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { createTokenGate, OptionsError, verifyAccessToken } from '../../lib';
import { jwksDocument, loadSigningKeys, signToken, type SigningKeys } from '../../lib/issuer/keys';
import { AUDIENCE, ISSUER, picketClaims } from '../helpers/fixtures';
import { closeServer, listen } from '../helpers/net';

/**
 * A fixed P-256 test key (for these tests only), and its RFC 7638 thumbprint computed apart from
 * the library, with OpenSSL:
 *   printf '%s' '{"crv":"P-256","kty":"EC","x":"…","y":"…"}' | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '='
 */
const FIXED_JWK = {
  kty: 'EC',
  crv: 'P-256',
  x: '3f4C0gIsSqCj5U_cWvpvKelny-ZqLMyFJAYC9V4_vW4',
  y: 'WZZuHUuEHCYhhH-4dbUSiqp_qdDhAdHPYPzakUVNyHA',
  d: 'KIDArtee4UmugYIHg7RnqXpo5KH8uCsVlTYlr3qcRwc',
};
const FIXED_SEC1_PEM = `-----BEGIN EC PRIVATE KEY-----
MHcCAQEEICiAwK7XnuFJroGCB4O0Z6l6aOSh/LgrFZU2Ja96nEcHoAoGCCqGSM49
AwEHoUQDQgAE3f4C0gIsSqCj5U/cWvpvKelny+ZqLMyFJAYC9V4/vW5Zlm4dS4Qc
JiGEf7h1tRKKqn+p0OEB0c9g/NqRRU3IcA==
-----END EC PRIVATE KEY-----
`;
const FIXED_THUMBPRINT = 'pFIZLst9J_dd3JD55TsAnGtsmRLtIkUKcsUYR3gKltg';

const ecKey = (namedCurve: string) => generateKeyPairSync('ec', { namedCurve }).privateKey;
const pkcs8 = (key: KeyObject) => key.export({ format: 'pem', type: 'pkcs8' }) as string;
const jwkOf = (key: KeyObject) => key.export({ format: 'jwk' });
const p256 = () => ecKey('P-256');

describe('loading keys', () => {
  test.each([
    ['a PKCS#8 PEM', () => pkcs8(createPrivateKey({ key: FIXED_JWK, format: 'jwk' }))],
    ['a SEC1 "EC PRIVATE KEY" PEM', () => FIXED_SEC1_PEM],
    ['a private JWK', () => FIXED_JWK],
  ])('%s loads, with the RFC 7638 thumbprint as its kid', (_, input) => {
    const { current } = loadSigningKeys([input()]);
    expect(current.kid).toBe(FIXED_THUMBPRINT);
    expect(current.publicJwk).toEqual({
      kty: 'EC',
      crv: 'P-256',
      x: FIXED_JWK.x,
      y: FIXED_JWK.y,
      kid: FIXED_THUMBPRINT,
      alg: 'ES256',
      use: 'sig',
    });
  });

  test("the thumbprint agrees with jose's calculateJwkThumbprint on fresh keys", async () => {
    for (let i = 0; i < 5; i++) {
      const key = p256();
      const { current } = loadSigningKeys([pkcs8(key)]);
      expect(current.kid).toBe(await calculateJwkThumbprint(jwkOf(createPublicKey(key)) as never, 'sha256'));
    }
  });

  test("a JWK's own kid is kept", () => {
    expect(loadSigningKeys([{ ...FIXED_JWK, kid: '2026-01' }]).current.kid).toBe('2026-01');
  });

  test('the first key signs; every key is published, in order, without d', () => {
    const [first, second, third] = [p256(), p256(), p256()];
    const keys = loadSigningKeys([pkcs8(first), { ...jwkOf(second), kid: 'second' }, pkcs8(third)]);
    expect(keys.current).toBe(keys.keys[0]);
    expect(keys.keys.map((k) => k.publicJwk)).toEqual(keys.jwks.keys);
    expect(keys.jwks.keys.map((k) => [k.x, k.y])).toEqual(
      [first, second, third].map((k) => [jwkOf(createPublicKey(k)).x, jwkOf(createPublicKey(k)).y]),
    );
    expect(keys.jwks.keys[1]!.kid).toBe('second');
    for (const jwk of keys.jwks.keys)
      expect(Object.keys(jwk).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(JSON.stringify(keys.jwks)).not.toMatch(/"d"/);
  });

  test('the loaded set cannot be changed afterwards', () => {
    const keys = loadSigningKeys([FIXED_JWK]);
    expect(Object.isFrozen(keys.jwks.keys)).toBe(true);
    expect(Object.isFrozen(keys.current.publicJwk)).toBe(true);
  });

  test('ephemeral: true generates one fresh key per call', () => {
    const one = loadSigningKeys({ ephemeral: true });
    const two = loadSigningKeys({ ephemeral: true });
    expect(one.keys).toHaveLength(1);
    expect(one.current.kid).not.toBe(two.current.kid);
    expect(one.current.privateKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
  });
});

describe('a bad key is refused at startup, naming its index and its problem', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const ed25519 = generateKeyPairSync('ed25519').privateKey;
  const other = jwkOf(p256());
  const cases: [string, () => unknown, RegExp][] = [
    ['nothing', () => undefined, /must be a PEM private key string or a private JWK object/],
    ['null', () => null, /must be a PEM private key string or a private JWK object/],
    ['a number', () => 42, /must be a PEM private key string or a private JWK object/],
    ['a list', () => [FIXED_JWK], /must be a PEM private key string or a private JWK object/],
    ['a public PEM', () => createPublicKey(p256()).export({ format: 'pem', type: 'spki' }), /is a public key/],
    ['a public JWK (no d)', () => jwkOf(createPublicKey(p256())), /is a public JWK \(no "d"\)/],
    ['a P-384 PEM', () => pkcs8(ecKey('P-384')), /is an EC key on P-384: ES256 needs P-256/],
    ['a P-384 JWK', () => jwkOf(ecKey('P-384')), /is an EC key on P-384: ES256 needs P-256/],
    ['a P-521 PEM', () => pkcs8(ecKey('P-521')), /is an EC key on P-521/],
    ['a secp256k1 PEM', () => pkcs8(ecKey('secp256k1')), /is an EC key on secp256k1: ES256 needs P-256/],
    ['a secp256k1 JWK', () => jwkOf(ecKey('secp256k1')), /is an EC key on secp256k1/],
    ['an RSA PEM', () => pkcs8(rsa), /is an RSA key: ES256 needs an EC key on P-256/],
    ['an RSA JWK', () => jwkOf(rsa), /is an RSA key/],
    ['an Ed25519 PEM', () => pkcs8(ed25519), /is an Ed25519 key/],
    ['an Ed25519 JWK', () => jwkOf(ed25519), /is an Ed25519 key/],
    ['a truncated PEM', () => FIXED_SEC1_PEM.slice(0, 80), /is not a readable private key/],
    ['a string that is no key', () => 'ISSUER_KEY', /is not a readable private key/],
    ['an empty string', () => '', /is not a readable private key/],
    [
      'an encrypted PEM',
      () => p256().export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'secret' }),
      /is an encrypted PEM/,
    ],
    [
      'a JWK whose x and y belong to another key',
      () => ({ ...FIXED_JWK, x: other.x, y: other.y }),
      /x and y that are not the public key of its d/,
    ],
    [
      'a JWK whose d is 0',
      () => ({ ...FIXED_JWK, d: Buffer.alloc(32).toString('base64url') }),
      /d that is not a P-256 private key/,
    ],
    [
      'a JWK whose d is the group order',
      () => ({ ...FIXED_JWK, d: '_____wAAAAD__________7zm-q2nF56E87nKwvxjJVE' }),
      /d that is not a P-256 private key/,
    ],
    ['a JWK whose d is short', () => ({ ...FIXED_JWK, d: FIXED_JWK.d.slice(0, 40) }), /d that is not 32 bytes/],
    ['a JWK without x', () => ({ ...FIXED_JWK, x: undefined }), /is not a readable private JWK/],
    ['a JWK with d of the wrong type', () => ({ ...FIXED_JWK, d: 7 }), /is not a readable private JWK/],
    ['a JWK for RS256', () => ({ ...FIXED_JWK, alg: 'RS256' }), /has alg "RS256": it must sign ES256/],
    ['a JWK for encryption', () => ({ ...FIXED_JWK, use: 'enc' }), /has use "enc"/],
    ['a JWK that may only verify', () => ({ ...FIXED_JWK, key_ops: ['verify'] }), /has key_ops without "sign"/],
    ['a JWK with an empty kid', () => ({ ...FIXED_JWK, kid: '' }), /kid that is not a string of 1 to 256/],
    ['a JWK with a 257-character kid', () => ({ ...FIXED_JWK, kid: 'k'.repeat(257) }), /kid that is not a string/],
    ['a JWK with a numeric kid', () => ({ ...FIXED_JWK, kid: 5 }), /kid that is not a string/],
  ];
  test.each(cases)('%s', (_, input, problem) => {
    const load = () => loadSigningKeys([pkcs8(p256()), input() as string]);
    expect(load).toThrow(OptionsError);
    expect(load).toThrow(/option "signingKeys\[1\]" /);
    expect(load).toThrow(problem);
  });

  test('a kid used twice is refused, naming both entries', () => {
    const twice = () =>
      loadSigningKeys([{ ...jwkOf(p256()), kid: 'k' }, pkcs8(p256()), { ...jwkOf(p256()), kid: 'k' }]);
    expect(twice).toThrow(/option "signingKeys\[2\]" has the kid "k" of signingKeys\[0\]/);
  });

  test('the same key twice (as PEM and as JWK) has one thumbprint, so it is refused too', () => {
    expect(() => loadSigningKeys([FIXED_SEC1_PEM, FIXED_JWK])).toThrow(
      `option "signingKeys[1]" has the kid "${FIXED_THUMBPRINT}" of signingKeys[0]`,
    );
  });

  test.each([
    ['an empty list', [], /"signingKeys" must hold at least one key/],
    ['a single PEM instead of a list', FIXED_SEC1_PEM, /"signingKeys" must be a list of private keys/],
    ['ephemeral: false', { ephemeral: false }, /"signingKeys" must be a list/],
    ['nothing', undefined, /"signingKeys" must be a list/],
    ['101 keys', Array.from({ length: 101 }, () => FIXED_JWK), /"signingKeys" must hold at most 100 keys/],
  ])('%s is refused', (_, input, problem) => {
    expect(() => loadSigningKeys(input as never)).toThrow(OptionsError);
    expect(() => loadSigningKeys(input as never)).toThrow(problem);
  });
});

describe('signToken', () => {
  const keys = loadSigningKeys([pkcs8(p256()), pkcs8(p256())]);
  const claims = () => picketClaims({ tid: 'token-1' });

  test("writes header { alg: 'ES256', typ: 'JWT', kid } and a 64-byte r‖s signature", () => {
    const token = signToken(claims(), keys.current);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', typ: 'JWT', kid: keys.current.kid });
    expect(Object.keys(decodeProtectedHeader(token))).toEqual(['alg', 'typ', 'kid']);
    expect(Buffer.from(token.split('.')[2]!, 'base64url')).toHaveLength(64);
  });

  test('{ kid: false } leaves the kid out (the legacy token profile)', () => {
    expect(decodeProtectedHeader(signToken(claims(), keys.current, { kid: false }))).toEqual({
      alg: 'ES256',
      typ: 'JWT',
    });
  });

  test('jose verifies it against the published JWKS, with the claims as given', async () => {
    for (const key of keys.keys) {
      const { payload, protectedHeader } = await jwtVerify(
        signToken(claims(), key),
        createLocalJWKSet(keys.jwks as never),
        {
          issuer: ISSUER,
          audience: AUDIENCE,
          algorithms: ['ES256'],
        },
      );
      expect(payload).toEqual(claims());
      expect(protectedHeader.kid).toBe(key.kid);
    }
  });

  test("the library's gate verifies it with the published keys as static keys, with and without kid", async () => {
    const single = loadSigningKeys([pkcs8(p256())]);
    const options = { audience: AUDIENCE, keys: { keys: [...single.jwks.keys] } };
    for (const token of [signToken(claims(), single.current), signToken(claims(), single.current, { kid: false })]) {
      const verified = await verifyAccessToken(token, options);
      expect(verified).toMatchObject({ walletAddress: claims().walletAddress, tid: 'token-1' });
    }
    const rotated = { audience: AUDIENCE, keys: { keys: [...keys.jwks.keys] } };
    for (const key of keys.keys)
      await expect(verifyAccessToken(signToken(claims(), key), rotated)).resolves.toBeDefined();
  });

  test('a changed payload or a key the JWKS does not publish fails both verifiers', async () => {
    const token = signToken(claims(), keys.current);
    const [header, , signature] = token.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims(), walletAddress: '0x0' })).toString('base64url')}.${signature}`;
    const stranger = signToken(claims(), { ...loadSigningKeys({ ephemeral: true }).current, kid: keys.current.kid });
    const options = { audience: AUDIENCE, keys: { keys: [...keys.jwks.keys] } };
    for (const bad of [forged, stranger]) {
      await expect(compactVerify(bad, createLocalJWKSet(keys.jwks as never))).rejects.toThrow();
      await expect(verifyAccessToken(bad, options)).rejects.toMatchObject({ status: 401, reason: 'signature_invalid' });
    }
  });

  test.each([
    ['null', null],
    ['a list', []],
    ['a string', 'claims'],
  ])('claims that are %s are a TypeError', (_, bad) => {
    expect(() => signToken(bad as never, keys.current)).toThrow(TypeError);
  });
});

describe('jwksDocument', () => {
  let keys: SigningKeys;
  beforeAll(() => {
    keys = loadSigningKeys([pkcs8(p256()), pkcs8(p256())]);
  });

  test('answers the public keys as JSON with Cache-Control: public, max-age=300', () => {
    const { headers, body } = jwksDocument(keys);
    expect(headers).toEqual({ 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' });
    expect(JSON.parse(body)).toEqual({ keys: keys.jwks.keys });
    expect(body).not.toMatch(/"d"/);
  });

  test('a gate fetching it over HTTP verifies the tokens and holds the set for 300 s (refreshing from 80 %)', async () => {
    const server = createServer((req, res) => {
      const { headers, body } = jwksDocument(keys);
      res.writeHead(200, headers).end(body);
    });
    const port = await listen(server);
    try {
      const gate = createTokenGate({ audience: AUDIENCE, jwksUri: `http://127.0.0.1:${port}/.well-known/jwks.json` });
      await expect(gate.verify(signToken(picketClaims(), keys.current))).resolves.toBeDefined();
      const status = gate.keySet.status();
      expect(status).toMatchObject({ state: 'fresh', keyIds: keys.keys.map((k) => k.kid) });
      // Without the header the gate would hold the set for its default 600 s (refreshing at 480 s).
      expect(status.nextRefreshAt! - status.lastFetchAt!).toBe(240_000);
    } finally {
      await closeServer(server);
    }
  });
});
