import request from 'supertest';
import { CompactSign, generateKeyPair } from 'jose';
import {
  createTokenGate,
  verifyAccessToken,
  InvalidTokenError,
  type TokenGate,
  type TokenGateOptions,
} from '../../lib';
import {
  APES_CONTRACT,
  AUDIENCE,
  decodeSegment,
  encodeSegment,
  ISSUER,
  nowSeconds,
  OTHER_AUDIENCE,
  WALLET,
} from '../helpers/fixtures';
import { appWith, useTestIssuer } from '../helpers/harness';

const env = useTestIssuer();

async function answer(token: string, g: TokenGate = env.gate) {
  return request(appWith(g.requireAuth())).get('/r').set('Authorization', `Bearer ${token}`);
}

async function expectRejected(token: string, reason: string, g: TokenGate = env.gate) {
  const res = await answer(token, g);
  expect(res.status).toBe(401);
  expect(res.body.reason).toBe(reason);
  expect(res.headers['www-authenticate']).toMatch(
    /^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/,
  );
  for (const segment of token.split('.')) {
    if (segment.length > 8) expect(JSON.stringify(res.body) + res.headers['www-authenticate']).not.toContain(segment);
  }
}

describe('signature', () => {
  test('accepts a token signed by a key in the issuer JWKS', async () => {
    expect((await answer(await env.issuer.sign())).status).toBe(200);
  });

  test('rejects a token signed by a key the JWKS does not publish (unknown kid)', async () => {
    await expectRejected(await env.issuer.sign({}, { unpublishedKey: true }), 'key_not_found');
  });

  test('rejects a token signed by another key under a published kid', async () => {
    const published = decodeSegment((await env.issuer.sign()).split('.')[0]!).kid as string;
    await expectRejected(await env.issuer.sign({}, { unpublishedKey: true, kid: published }), 'signature_invalid');
  });

  test('rejects a token whose payload was changed after signing', async () => {
    const [h, p, s] = (await env.issuer.sign()).split('.') as [string, string, string];
    const payload = { ...decodeSegment(p), walletAddress: '0x0000000000000000000000000000000000000001' };
    await expectRejected(`${h}.${encodeSegment(payload)}.${s}`, 'signature_invalid');
  });

  test('rejects a token whose algorithm is not allowed, before any key lookup', async () => {
    const { privateKey } = await generateKeyPair('ES384');
    const es384 = await new CompactSign(new TextEncoder().encode(JSON.stringify({ walletAddress: 'x' })))
      .setProtectedHeader({ alg: 'ES384' })
      .sign(privateKey);
    const hits = env.issuer.jwksHits;
    await expectRejected(es384, 'algorithm_not_allowed');
    expect(env.issuer.jwksHits).toBe(hits);
  });

  test('rejects a token with a crit header', async () => {
    await expectRejected(await env.issuer.sign({}, { header: { crit: ['b64'], b64: true } }), 'header_not_allowed');
  });

  test('rejects a token that carries its own key (jwk header)', async () => {
    await expectRejected(await env.issuer.sign({}, { header: { jwk: { kty: 'EC' } } }), 'header_not_allowed');
  });

  test('rejects a token longer than the size cap before decoding it', async () => {
    await expectRejected(await env.issuer.sign({ padding: 'x'.repeat(9000) }), 'token_too_large');
  });

  test('rejects a token that is not three canonical base64url segments', async () => {
    const [h, p, s] = (await env.issuer.sign()).split('.') as [string, string, string];
    await expectRejected(`${h}.${p}`, 'token_malformed');
    await expectRejected(`${h}.${p}.${s}=`, 'token_malformed');
    // A non-canonical final character decodes to the same bytes; it is still refused.
    const last = s.slice(-1);
    const twin = String.fromCharCode(last.charCodeAt(0) + 1);
    await expectRejected(`${h}.${p}.${s.slice(0, -1)}${twin}`, 'token_malformed');
  });
});

describe('typ header', () => {
  test('is ignored unless the typ option is set', async () => {
    expect((await answer(await env.issuer.sign({}, { header: { typ: 'anything' } }))).status).toBe(200);
  });

  test('must match the typ option case-insensitively when set', async () => {
    const strict = createTokenGate({ ...env.issuer.options, typ: ['JWT', 'at+jwt'] });
    expect((await answer(await env.issuer.sign({}, { header: { typ: 'jwt' } }), strict)).status).toBe(200);
    expect((await answer(await env.issuer.sign({}, { header: { typ: 'AT+JWT' } }), strict)).status).toBe(200);
    await expectRejected(await env.issuer.sign({}, { header: { typ: 'id+jwt' } }), 'type_not_allowed', strict);
    await expectRejected(await env.issuer.sign({}, { header: { typ: undefined } }), 'type_not_allowed', strict);
  });
});

describe('issuer and audience', () => {
  test('rejects a token from another issuer, compared exactly', async () => {
    for (const iss of ['picketapi.com/', 'PicketAPI.com', 'https://picketapi.com', 'evil.example']) {
      await expectRejected(await env.issuer.sign({ iss }), 'issuer_mismatch');
    }
  });

  test('rejects a token without iss as claim_invalid', async () => {
    await expectRejected(await env.issuer.sign({ iss: undefined }), 'claim_invalid');
  });

  test('accepts any of several allowed issuers', async () => {
    const multi = createTokenGate({ ...env.issuer.options, issuer: ['other', ISSUER] });
    expect((await answer(await env.issuer.sign(), multi)).status).toBe(200);
  });

  test('rejects a token for another project', async () => {
    await expectRejected(await env.issuer.sign({ aud: OTHER_AUDIENCE }), 'audience_mismatch');
  });

  test('rejects a token without aud as claim_invalid', async () => {
    await expectRejected(await env.issuer.sign({ aud: undefined }), 'claim_invalid');
  });

  test('accepts an aud list that contains the project and rejects one that does not', async () => {
    expect((await answer(await env.issuer.sign({ aud: ['x', AUDIENCE] }))).status).toBe(200);
    await expectRejected(await env.issuer.sign({ aud: ['x', 'y'] }), 'audience_mismatch');
  });
});

describe('missing required claims', () => {
  test.each([
    ['iss', { iss: undefined }],
    ['aud', { aud: undefined }],
    ['exp', { exp: undefined }],
    ['walletAddress', { walletAddress: undefined }],
  ])('rejects a token whose %s is missing as claim_invalid, naming the claim', async (name, claims) => {
    const token = await env.issuer.sign(claims);
    await expectRejected(token, 'claim_invalid');
    await expect(env.gate.verify(token)).rejects.toMatchObject({
      reason: 'claim_invalid',
      message: `The token has no ${name} claim`,
    });
  });

  test('rejects a token without iat as claim_invalid when maxTokenAge needs it', async () => {
    const aged = createTokenGate({ ...env.issuer.options, maxTokenAge: 60 });
    const token = await env.issuer.sign({ iat: undefined });
    await expectRejected(token, 'claim_invalid', aged);
    await expect(aged.verify(token)).rejects.toMatchObject({ message: 'The token has no iat claim' });
  });
});

describe('time claims', () => {
  test('rejects a token whose exp and ext are both missing', async () => {
    await expectRejected(await env.issuer.sign({ exp: undefined }), 'claim_invalid');
  });

  test('reads ext as the expiry when exp is absent', async () => {
    const now = nowSeconds();
    expect((await answer(await env.issuer.sign({ exp: undefined, ext: now + 600 }))).status).toBe(200);
    await expectRejected(await env.issuer.sign({ exp: undefined, ext: now - 600 }), 'token_expired');
  });

  test('ignores ext when exp is present', async () => {
    const now = nowSeconds();
    await expectRejected(await env.issuer.sign({ exp: now - 600, ext: now + 600 }), 'token_expired');
  });

  test.each([
    ['a string', '9999999999'],
    ['null', null],
    ['a list', [1]],
  ])('rejects an exp that is %s', async (_n, exp) => {
    await expectRejected(await env.issuer.sign({ exp }), 'claim_invalid');
  });

  test('tolerates clockTolerance seconds of skew on exp and no more', async () => {
    const now = nowSeconds();
    expect((await answer(await env.issuer.sign({ exp: now - 2 }))).status).toBe(200);
    await expectRejected(await env.issuer.sign({ exp: now - 30 }), 'token_expired');
    const exact = createTokenGate({ ...env.issuer.options, clockTolerance: 0 });
    await expectRejected(await env.issuer.sign({ exp: now - 1 }), 'token_expired', exact);
  });

  test('honours nbf', async () => {
    const now = nowSeconds();
    expect((await answer(await env.issuer.sign({ nbf: now - 10 }))).status).toBe(200);
    await expectRejected(await env.issuer.sign({ nbf: now + 600 }), 'token_not_yet_valid');
  });

  test('rejects a token issued in the future', async () => {
    await expectRejected(await env.issuer.sign({ iat: nowSeconds() + 600 }), 'token_issued_in_future');
  });

  test('rejects exp - iat beyond maxTokenLifetime', async () => {
    const now = nowSeconds();
    await expectRejected(await env.issuer.sign({ iat: now, exp: now + 25 * 3600 }), 'token_lifetime_exceeded');
    const short = createTokenGate({ ...env.issuer.options, maxTokenLifetime: 3600 });
    await expectRejected(await env.issuer.sign({ iat: now, exp: now + 7200 }), 'token_lifetime_exceeded', short);
    expect((await answer(await env.issuer.sign({ iat: now, exp: now + 1800 }), short)).status).toBe(200);
  });

  test('rejects a token without iat that expires beyond maxTokenLifetime from now', async () => {
    await expectRejected(
      await env.issuer.sign({ iat: undefined, exp: nowSeconds() + 48 * 3600 }),
      'token_lifetime_exceeded',
    );
  });
});

describe('claim types', () => {
  test.each([
    ['walletAddress missing', { walletAddress: undefined }],
    ['walletAddress a number', { walletAddress: 42 }],
    ['iat a string', { iat: '1' }],
    ['nbf a string', { nbf: '1' }],
    ['tokenBalance a number', { contractAddress: APES_CONTRACT, tokenBalance: 3 }],
    ['tokenBalance in exponent notation', { contractAddress: APES_CONTRACT, tokenBalance: '1e3' }],
    ['tokenIds not a list', { tokenIds: '1' }],
    ['tokenBalances not an object', { tokenBalances: [] }],
    ['sub naming another wallet', { sub: 'ethereum:0x0000000000000000000000000000000000000001' }],
    [
      'no chain for a non-hex wallet',
      { walletAddress: 'DRpbCBMxVnDK7maPM5tGv6MvB3v1sRMC86PZ8okm21hy', chain: undefined, sub: undefined },
    ],
  ])('rejects %s with claim_invalid', async (_name, claims) => {
    await expectRejected(await env.issuer.sign(claims), 'claim_invalid');
  });
});

describe('revocation', () => {
  test('isRevoked runs after the checks pass and rejects with token_revoked', async () => {
    const seen: string[] = [];
    const revoking = createTokenGate({
      ...env.issuer.options,
      isRevoked: async (claims) => {
        seen.push(claims.tid as string);
        return claims.tid === 'revoked-tid';
      },
    });
    await expectRejected(await env.issuer.sign({ tid: 'revoked-tid' }), 'token_revoked', revoking);
    expect((await answer(await env.issuer.sign({ tid: 'fine-tid' }), revoking)).status).toBe(200);
    await expectRejected(await env.issuer.sign({ tid: 'never-seen', aud: 'other' }), 'audience_mismatch', revoking);
    expect(seen).toEqual(['revoked-tid', 'fine-tid']);
  });

  test('an isRevoked that throws fails closed through the application error handler', async () => {
    const broken = createTokenGate({ ...env.issuer.options, isRevoked: () => Promise.reject(new Error('store down')) });
    const res = await answer(await env.issuer.sign(), broken);
    expect(res.status).toBe(500);
  });

  test('isRevoked receives the request', async () => {
    let path: unknown;
    const g = createTokenGate({ ...env.issuer.options, isRevoked: (_c, req) => ((path = req.url), false) });
    await answer(await env.issuer.sign(), g);
    expect(path).toBe('/r');
  });
});

describe('verifyAccessToken', () => {
  const options = (): TokenGateOptions => env.issuer.options;

  test('returns the normalised claims of a valid token', async () => {
    const claims = await verifyAccessToken(await env.issuer.sign({ tid: 't-1' }), options());
    expect(claims.tid).toBe('t-1');
    expect(claims.walletAddress).toBe(WALLET);
  });

  test('rejects an invalid token with an InvalidTokenError carrying the reason', async () => {
    const failure = verifyAccessToken(await env.issuer.sign({ aud: 'nope' }), options());
    await expect(failure).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(failure).rejects.toMatchObject({ status: 401, reason: 'audience_mismatch' });
  });

  test('rejects a non-string token without throwing synchronously', async () => {
    await expect(verifyAccessToken(undefined as unknown as string, options())).rejects.toMatchObject({
      reason: 'token_malformed',
    });
  });

  test('rejects bad options as a rejected promise naming the option', async () => {
    await expect(verifyAccessToken('a.b.c', { audience: 'x', algorithms: ['none'] })).rejects.toThrow(/"algorithms"/);
  });
});
