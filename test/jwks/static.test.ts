/**
 * Static key sets: `keys: { keys: [...] }` instead of `jwksUri`. Tokens verify without any HTTP,
 * and every key rule of a fetched set applies, as a startup error instead of a skipped entry.
 */
import { generateKeyPairSync } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { CompactSign, exportJWK, generateKeyPair, type JWK } from 'jose';
import { authErrorHandler, createTokenGate, OptionsError, verifyAccessToken, type TokenGateOptions } from '../../lib';
import { AUDIENCE, picketClaims } from '../helpers/fixtures';
import { createTrap, makeSigningKey, type SigningKey, type Trap } from '../helpers/jwks-server';

async function sign(
  key: SigningKey,
  claims: Record<string, unknown> = picketClaims(),
  header: Record<string, unknown> = {},
): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: key.kid, ...header })
    .sign(key.privateKey);
}

function appOf(options: TokenGateOptions) {
  const app = express();
  app.get('/me', createTokenGate(options).requireAuth(), (req, res) => res.json({ address: req.wallet!.address }));
  app.use(authErrorHandler());
  return app;
}

let key: SigningKey;
let other: SigningKey;
let trap: Trap;
const saved = { ...process.env };
beforeAll(async () => {
  [key, other] = await Promise.all([makeSigningKey('static-1'), makeSigningKey('static-2')]);
  // The environment points at a server that must never be asked: `keys` replaces any jwksUri.
  trap = await createTrap();
  process.env.PICKET_JWKS_URI = `${trap.url}/jwks.json`;
});
afterAll(async () => {
  process.env = saved;
  await trap.close();
  expect(trap.requests).toBe(0);
});

describe('keys: tokens verify against a JWK Set given in the options, without HTTP', () => {
  test('a token signed by a listed key is accepted', async () => {
    const res = await request(appOf({ audience: AUDIENCE, keys: { keys: [key.jwk, other.jwk] } }))
      .get('/me')
      .set('Authorization', `Bearer ${await sign(other)}`);
    expect(res.status).toBe(200);
    expect(res.body.address).toBe(String(picketClaims().walletAddress).toLowerCase());
  });

  test('verifyAccessToken works the same way', async () => {
    await expect(
      verifyAccessToken(await sign(key), { audience: AUDIENCE, keys: { keys: [key.jwk] } }),
    ).resolves.toMatchObject({ chain: 'ethereum' });
  });

  test('a token without kid verifies against the only key', async () => {
    const res = await request(appOf({ audience: AUDIENCE, keys: { keys: [key.jwk] } }))
      .get('/me')
      .set('Authorization', `Bearer ${await sign(key, picketClaims(), { kid: undefined })}`);
    expect(res.status).toBe(200);
  });

  test('a kid the set lacks is refused with key_not_found, and a forgery under a listed kid with signature_invalid', async () => {
    const app = appOf({ audience: AUDIENCE, keys: { keys: [key.jwk] } });
    const unknown = await request(app)
      .get('/me')
      .set('Authorization', `Bearer ${await sign(other)}`);
    expect(unknown.body.reason).toBe('key_not_found');
    const forged = await request(app)
      .get('/me')
      .set('Authorization', `Bearer ${await sign(other, picketClaims(), { kid: key.kid })}`);
    expect(forged.body.reason).toBe('signature_invalid');
  });

  test("changing the caller's object after startup changes nothing", async () => {
    const document = { keys: [{ ...key.jwk }] as JWK[] };
    const app = appOf({ audience: AUDIENCE, keys: document });
    document.keys[0] = other.jwk;
    await request(app)
      .get('/me')
      .set('Authorization', `Bearer ${await sign(key)}`)
      .expect(200);
  });

  test('the gate reports a static, fresh key set', () => {
    const gate = createTokenGate({ audience: AUDIENCE, keys: { keys: [key.jwk, other.jwk] } });
    expect(gate.options.jwksUri).toBeUndefined();
    expect(gate.keySet.status()).toEqual({
      state: 'fresh',
      source: 'static',
      keyIds: ['static-1', 'static-2'],
      keys: 2,
      failures: 0,
    });
  });
});

describe('keys: exactly one of keys and jwksUri', () => {
  test('both together throw an OptionsError naming keys', () => {
    expect(() =>
      createTokenGate({ audience: AUDIENCE, keys: { keys: [key.jwk] }, jwksUri: 'https://issuer.example/jwks.json' }),
    ).toThrow(/option "keys" cannot be combined with jwksUri/);
  });
});

describe('keys: the key rules of fetched sets apply, and a bad key throws at startup', () => {
  let ed: JWK;
  let rsaSmall: JWK;
  beforeAll(async () => {
    ed = await exportJWK((await generateKeyPair('EdDSA', { extractable: true })).publicKey);
    rsaSmall = {
      ...(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }) as JWK),
      alg: 'RS256',
    };
  });

  const cases: [string, () => unknown, RegExp][] = [
    ['not a JWK Set', () => [key.jwk], /option "keys" must be a JWK Set/],
    ['an empty set', () => ({ keys: [] }), /option "keys.keys" must hold at least one key/],
    ['more than 100 keys', () => ({ keys: Array(101).fill(key.jwk) }), /option "keys.keys" must hold at most 100/],
    [
      'a private key',
      () => ({ keys: [key.jwk, { ...key.jwk, d: 'AAAA' }] }),
      /option "keys.keys\[1\]" holds private or symmetric/,
    ],
    [
      'a symmetric key',
      () => ({ keys: [{ kty: 'oct', k: 'c2VjcmV0', alg: 'HS256' }] }),
      /"keys.keys\[0\]" holds private or symmetric/,
    ],
    ['an encryption key', () => ({ keys: [{ ...key.jwk, use: 'enc' }] }), /"keys.keys\[0\]" is not a signature key/],
    [
      'key_ops without verify',
      () => ({ keys: [{ ...key.jwk, key_ops: ['encrypt'] }] }),
      /"keys.keys\[0\]" may not verify/,
    ],
    [
      'an alg that does not fit the key',
      () => ({ keys: [{ ...key.jwk, alg: 'RS256' }] }),
      /"keys.keys\[0\]" does not name one accepted algorithm/,
    ],
    [
      'a curve with no alg naming one algorithm',
      () => ({ keys: [{ ...key.jwk, alg: undefined, crv: 'secp256k1' }] }),
      /does not name one accepted algorithm/,
    ],
    [
      'an RSA key below 2048 bits',
      () => ({ keys: [rsaSmall] }),
      /"keys.keys\[0\]" is an RSA key shorter than 2048 bits/,
    ],
    [
      'a point off the curve',
      () => ({ keys: [{ ...key.jwk, y: Buffer.alloc(32, 1).toString('base64url') }] }),
      /"keys.keys\[0\]" is not a valid public key/,
    ],
    ['an over-long kid', () => ({ keys: [{ ...key.jwk, kid: 'k'.repeat(257) }] }), /"keys.keys\[0\]" has a kid/],
  ];
  test.each(cases)('%s', (_name, keys, message) => {
    expect(() => createTokenGate({ audience: AUDIENCE, keys: keys() as never })).toThrow(OptionsError);
    expect(() => createTokenGate({ audience: AUDIENCE, keys: keys() as never })).toThrow(message);
  });

  test('an Ed25519 key (bound to EdDSA by its curve) is accepted', () => {
    expect(() => createTokenGate({ audience: AUDIENCE, algorithms: ['EdDSA'], keys: { keys: [ed] } })).not.toThrow();
  });
});
