/** `walletOf(req)` and `gate.walletOf(req)`: the wallet, typed as present, or a loud mistake. */
import express from 'express';
import request from 'supertest';
import { authErrorHandler, createTokenGate, walletOf, type Wallet } from '../../lib';
import { useTestIssuer } from '../helpers/harness';

const env = useTestIssuer();
const WALLET = '0xa548ac9c6f41b19175023b5f09c6e70f99cfeec8';

/** An app whose final handler reports any non-token error as a 500 with its message. */
function app(build: (app: express.Express) => void): express.Express {
  const created = express();
  build(created);
  created.use(authErrorHandler());
  created.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ message: err.message });
  });
  return created;
}

describe('walletOf(req)', () => {
  test('returns the wallet requireAuth attached', async () => {
    const served = app((a) =>
      a.get('/me', env.gate.requireAuth(), (req, res) => res.json({ address: walletOf(req).address })),
    );
    const res = await request(served)
      .get('/me')
      .set('Authorization', `Bearer ${await env.issuer.sign()}`);
    expect(res.body).toEqual({ address: WALLET });
  });

  test('throws, naming the fix, when no middleware of the gate ran before the handler', async () => {
    const served = app((a) => a.get('/me', (req, res) => res.json({ address: walletOf(req).address })));
    const res = await request(served).get('/me');
    expect(res.status).toBe(500);
    expect(res.body.message).toBe(
      'express-token-gate: no wallet at req.wallet; put requireAuth() or requireTokens() in front of this handler',
    );
  });

  test('throws behind optionalAuth when no token was sent', async () => {
    const served = app((a) =>
      a.get('/feed', env.gate.optionalAuth(), (req, res) => res.json({ address: walletOf(req).address })),
    );
    expect((await request(served).get('/feed')).status).toBe(500);
  });

  test('reads another requestProperty when told, and refuses a value that is not a wallet', () => {
    const wallet = { address: WALLET } as Wallet;
    expect(walletOf({ account: wallet }, 'account')).toBe(wallet);
    expect(() => walletOf({ wallet: 'a string' })).toThrow(/no wallet at req\.wallet/);
    expect(() => walletOf({ wallet })).not.toThrow();
  });
});

describe('gate.walletOf(req)', () => {
  test("reads the gate's own requestProperty", async () => {
    const gate = createTokenGate({ ...env.issuer.options, requestProperty: 'account' });
    const served = app((a) =>
      a.get('/me', gate.requireAuth(), (req, res) =>
        res.json({ address: gate.walletOf(req).address, wallet: req.wallet ?? null }),
      ),
    );
    const res = await request(served)
      .get('/me')
      .set('Authorization', `Bearer ${await env.issuer.sign()}`);
    expect(res.body).toEqual({ address: WALLET, wallet: null });
  });

  test('throws naming that property when the wallet is missing', () => {
    const gate = createTokenGate({ ...env.issuer.options, requestProperty: 'account' });
    expect(() => gate.walletOf({})).toThrow('no wallet at req.account');
  });
});
