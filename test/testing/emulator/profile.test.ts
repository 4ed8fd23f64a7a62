/**
 * The `issuer` token profile: tokens shaped like the issuer's sample in its documentation
 * (`sub` `ethereum/mainnet:0x…`, `nbf`, `ext` instead of `exp`, no `kid`), which the gate accepts.
 */
import express from 'express';
import request from 'supertest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { authErrorHandler, createTokenGate, OptionsError } from '../../../lib';
import { TEST_WALLET, createTestIssuer, type TestIssuer } from '../../../lib/testing';
import { PicketJs } from './picket-js';
import { APES_CONTRACT, AUDIENCE, ISSUER } from '../../helpers/fixtures';

let issuer: TestIssuer;
let app: express.Express;
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE, profile: 'issuer' });
  issuer.setBalances(TEST_WALLET, { [APES_CONTRACT]: '1' });
  const gate = createTokenGate(issuer.options);
  app = express();
  app.get('/me', gate.requireAuth(), (req, res) => res.json({ chain: req.wallet!.chain, exp: req.wallet!.claims.exp }));
  app.get('/apes', gate.requireTokens({ contractAddress: APES_CONTRACT }), (_req, res) => res.end('apes'));
  app.use(authErrorHandler());
});
afterAll(() => issuer.close());

describe("profile: 'issuer'", () => {
  test('signs the claims of the sample token: sub with /mainnet, nbf, ext and no exp', async () => {
    const payload = decodeJwt(await issuer.sign());
    expect(payload).toEqual({
      walletAddress: TEST_WALLET,
      displayAddress: TEST_WALLET,
      chain: 'ethereum',
      sub: `ethereum/mainnet:${TEST_WALLET}`,
      nbf: payload.iat,
      iat: expect.any(Number),
      ext: payload.iat! + 12 * 3600,
      iss: ISSUER,
      aud: AUDIENCE,
      tid: expect.any(String),
      ver: 1,
    });
  });

  test('the header names no kid', async () => {
    expect(decodeProtectedHeader(await issuer.sign())).toEqual({ alg: 'ES256', typ: 'JWT' });
  });

  test('the gate accepts it and reads its expiry from ext', async () => {
    const token = await issuer.sign();
    const res = await request(app).get('/me').set('Authorization', `Bearer ${token}`).expect(200);
    expect(res.body).toEqual({ chain: 'ethereum', exp: decodeJwt(token).ext });
  });

  test('optional claims such as email are added like any other', async () => {
    expect(decodeJwt(await issuer.sign({ email: 'ape@example.com' })).email).toBe('ape@example.com');
  });

  test('/authz upgrades keep the profile and the session expiry', async () => {
    const login = await issuer.sign({}, { expiresIn: 3600 });
    const upgraded = await issuer.authorize(login, { contractAddress: APES_CONTRACT });
    const payload = decodeJwt(upgraded);
    expect(payload).toMatchObject({
      sub: `ethereum/mainnet:${TEST_WALLET}`,
      ext: decodeJwt(login).ext,
      nbf: payload.iat,
    });
    expect(payload.exp).toBeUndefined();
    expect(decodeProtectedHeader(upgraded).kid).toBeUndefined();
    await request(app).get('/apes').set('Authorization', `Bearer ${upgraded}`).expect(200);
  });

  test('wallet logins are issued in the profile too', async () => {
    const picket = new PicketJs(AUDIENCE, { baseURL: issuer.apiUrl, origin: 'http://localhost:3000' });
    const wallet = privateKeyToAccount(generatePrivateKey());
    const { accessToken } = await picket.login(wallet);
    expect(decodeJwt(accessToken)).toMatchObject({
      sub: `ethereum/mainnet:${wallet.address}`,
      ext: expect.any(Number),
    });
    await request(app).get('/me').set('Authorization', `Bearer ${accessToken}`).expect(200);
  });

  test('an unknown profile throws an OptionsError naming profile', async () => {
    await expect(createTestIssuer({ audience: AUDIENCE, profile: 'picket' as never })).rejects.toThrow(OptionsError);
    await expect(createTestIssuer({ audience: AUDIENCE, profile: 'picket' as never })).rejects.toThrow('"profile"');
  });
});
