/**
 * `claimsProperty`: the claims also at `req.auth` (or another name), for apps migrating from
 * express-jwt, with the wallet still where `requestProperty` says.
 */
import express from 'express';
import request from 'supertest';
import { createTokenGate, OptionsError, type TokenGate } from '../../lib';
import { APES_CONTRACT, WALLET } from '../helpers/fixtures';
import { useTestIssuer } from '../helpers/harness';

const env = useTestIssuer();

type Loose = Record<string, { walletAddress?: string; address?: string } | undefined>;

function echo(...middleware: express.RequestHandler[]) {
  const app = express();
  app.get('/r', ...middleware, (req, res) => {
    const r = req as unknown as Loose;
    res.json({
      auth: r.auth?.walletAddress ?? null,
      wallet: r.wallet?.address ?? null,
      picket: r.picket?.address ?? null,
    });
  });
  return app;
}

const gateWith = (options: object): TokenGate => createTokenGate({ ...env.issuer.options, ...options });

describe('claimsProperty puts the verified claims on the request too', () => {
  test("claims at req.auth, as express-jwt's payload, and the wallet at req.wallet", async () => {
    const token = await env.issuer.sign();
    const res = await request(echo(gateWith({ claimsProperty: 'auth' }).requireAuth()))
      .get('/r')
      .set('Authorization', `Bearer ${token}`);
    expect(res.body).toEqual({ auth: WALLET, wallet: '0xa548ac9c6f41b19175023b5f09c6e70f99cfeec8', picket: null });
  });

  test('the wallet follows requestProperty', async () => {
    const gate = gateWith({ claimsProperty: 'auth', requestProperty: 'picket' });
    const res = await request(echo(gate.requireAuth()))
      .get('/r')
      .set('Authorization', `Bearer ${await env.issuer.sign()}`);
    expect(res.body).toMatchObject({ auth: WALLET, wallet: null, picket: expect.any(String) });
  });

  test('holds when a later middleware of the gate reuses the wallet', async () => {
    const gate = gateWith({ claimsProperty: 'auth' });
    const token = await env.issuer.sign({ contractAddress: APES_CONTRACT, tokenBalance: '1' });
    const res = await request(echo(gate.requireAuth(), gate.requireTokens(APES_CONTRACT, '1')))
      .get('/r')
      .set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body.auth).toBe(WALLET);
  });

  test('is not set by default', async () => {
    const res = await request(echo(env.gate.requireAuth()))
      .get('/r')
      .set('Authorization', `Bearer ${await env.issuer.sign()}`);
    expect(res.body.auth).toBeNull();
  });
});

describe('claimsProperty is checked at startup', () => {
  test.each([
    ['the same name as requestProperty', { claimsProperty: 'wallet' }, /must differ from requestProperty/],
    ['__proto__', { claimsProperty: '__proto__' }, /plain identifier/],
    ['a dotted path', { claimsProperty: 'auth.claims' }, /plain identifier/],
  ])('refuses %s', (_name, options, message) => {
    expect(() => gateWith(options)).toThrow(OptionsError);
    expect(() => gateWith(options)).toThrow(message);
  });
});
