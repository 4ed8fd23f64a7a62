/**
 * A frontend against the emulator, end to end and offline: a wallet logs in with its signature
 * (picket-js's requests, from the page's origin), calls an Express API gated by this library, is
 * told 403 with the requirements, upgrades at /authz, retries, and survives a page reload.
 */
import express from 'express';
import request from 'supertest';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { authErrorHandler, createTokenGate } from '../../../lib';
import { createTestIssuer, type TestIssuer } from '../../../lib/testing';
import { PicketJs } from './picket-js';
import { APES_CONTRACT, AUDIENCE } from '../../helpers/fixtures';

let issuer: TestIssuer;
let api: express.Express;
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
  const gate = createTokenGate(issuer.options);
  api = express();
  api.get('/me', gate.requireAuth(), (req, res) => res.json({ address: req.wallet!.address }));
  api.get('/apes', gate.requireTokens({ contractAddress: APES_CONTRACT }), (_req, res) => res.json({ welcome: 'ape' }));
  api.use(authErrorHandler());
});
afterAll(() => issuer.close());

describe('a frontend logs in, upgrades and reloads against the emulator', () => {
  test('login → 403 → /authz → 200 → reload → still 200', async () => {
    const wallet = privateKeyToAccount(generatePrivateKey());
    issuer.setBalances(wallet.address, { [APES_CONTRACT]: '1' });
    const picket = new PicketJs(AUDIENCE, { baseURL: issuer.apiUrl, origin: 'http://localhost:5173' });

    const login = await picket.login(wallet);
    const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
    await request(api).get('/me').set(bearer(login.accessToken)).expect(200, { address: wallet.address.toLowerCase() });

    const denied = await request(api).get('/apes').set(bearer(login.accessToken)).expect(403);
    expect(denied.body.requirements).toEqual({
      chain: 'ethereum',
      contractAddress: APES_CONTRACT,
      minTokenBalance: '0',
    });

    const upgraded = await picket.authz({ accessToken: login.accessToken, requirements: denied.body.requirements });
    expect(upgraded.user.tokenBalances).toEqual({ contractAddress: { [APES_CONTRACT]: '1' } });
    await request(api).get('/apes').set(bearer(upgraded.accessToken)).expect(200, { welcome: 'ape' });

    const restored = await picket.authStateAfterReload();
    expect(restored).toEqual(upgraded);
    await request(api).get('/apes').set(bearer(restored!.accessToken)).expect(200);
  });

  test('a reload with a session the issuer no longer accepts logs the user out', async () => {
    const picket = new PicketJs(AUDIENCE, { baseURL: issuer.apiUrl, origin: 'http://localhost:5173' });
    picket.stored = {
      accessToken: await issuer.sign({}, { expiresIn: -60 }),
      user: { chain: 'ethereum', walletAddress: '0x', displayAddress: '0x' },
    };
    expect(await picket.authStateAfterReload()).toBeNull();
    expect(picket.stored).toBeNull();
  });
});
