/** Within one request, a gate verifies a token once; another gate never trusts its wallet. */
import express from 'express';
import request from 'supertest';
import { authErrorHandler, createTokenGate } from '../../lib';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { APES_CONTRACT, AUDIENCE, OTHER_AUDIENCE } from '../helpers/fixtures';
import { JWKS } from '../helpers/cache';

let issuer: TestIssuer;
beforeEach(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
});
afterEach(() => issuer.close());

describe('requireTokens after requireAuth on the same request reuses the verified wallet', () => {
  test.each([true, false])('isRevoked is asked once per request (cache %s)', async (cached) => {
    let asked = 0;
    const gate = createTokenGate({
      ...issuer.options,
      jwks: JWKS,
      cache: cached ? undefined : false,
      isRevoked: () => (asked++, false),
    });
    const app = express();
    app.get('/nft', gate.requireAuth(), gate.requireTokens(APES_CONTRACT, '1'), (req, res) => {
      res.json({ address: req.wallet!.address });
    });
    app.use(authErrorHandler());
    const token = await issuer.sign({ tokenBalances: { contractAddress: { [APES_CONTRACT]: '1' } } });
    for (let i = 1; i <= 3; i++) {
      expect((await request(app).get('/nft').set('Authorization', `Bearer ${token}`)).status).toBe(200);
      expect(asked).toBe(i);
    }
  });
});

describe('a wallet attached by another gate is not taken as verified', () => {
  test('a second gate for another audience rejects the token the first gate accepted', async () => {
    const first = createTokenGate({ ...issuer.options, jwks: JWKS });
    const second = createTokenGate({ ...issuer.options, audience: OTHER_AUDIENCE, jwks: JWKS });
    const app = express();
    app.get('/both', first.requireAuth(), second.requireAuth(), (_req, res) => {
      res.json({ ok: true });
    });
    app.use(authErrorHandler());
    const res = await request(app)
      .get('/both')
      .set('Authorization', `Bearer ${await issuer.sign()}`);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('audience_mismatch');
  });

  test('a wallet the application put on the request is not taken as verified', async () => {
    const gate = createTokenGate({ ...issuer.options, jwks: JWKS });
    const token = await issuer.sign({ aud: OTHER_AUDIENCE });
    const app = express();
    app.get(
      '/me',
      (req, _res, next) => {
        (req as unknown as Record<string, unknown>).wallet = {
          address: '0x1',
          displayAddress: '0x1',
          chain: 'ethereum',
          claims: {},
          token,
        };
        next();
      },
      gate.requireAuth(),
      (_req, res) => {
        res.json({ ok: true });
      },
    );
    app.use(authErrorHandler());
    const res = await request(app).get('/me').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('audience_mismatch');
  });
});
