/**
 * CORS preflights pass: a browser sends `OPTIONS` with `Access-Control-Request-Method` and no
 * credentials before a cross-origin request carrying `Authorization`. Refusing it would keep the
 * real request from ever being sent. `allowPreflight: false` turns this off.
 */
import express from 'express';
import request from 'supertest';
import { authErrorHandler, createTokenGate, OptionsError, type TokenGateOptions } from '../../lib';
import { APES_CONTRACT } from '../helpers/fixtures';
import { useTestIssuer } from '../helpers/harness';

const env = useTestIssuer();

/** An app whose routes (and their OPTIONS) sit behind the gate, with a CORS answer for preflights. */
function corsApp(options: Partial<TokenGateOptions> = {}) {
  const gate = createTokenGate({ ...env.issuer.options, ...options });
  const app = express();
  app.use('/me', gate.requireAuth());
  app.use('/apes', gate.requireTokens(APES_CONTRACT, '1'));
  app.options(['/me', '/apes'], (req, res) => {
    res.set({ 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Headers': 'Authorization' });
    res.json({ wallet: req.wallet ?? null });
  });
  app.get('/me', (req, res) => res.json({ wallet: req.wallet?.address }));
  app.use(authErrorHandler());
  return app;
}

const preflight = (app: express.Express, path: string) =>
  request(app).options(path).set({
    Origin: 'https://app.example',
    'Access-Control-Request-Method': 'GET',
    'Access-Control-Request-Headers': 'authorization',
  });

describe('a CORS preflight passes the gate without a token', () => {
  test('requireAuth and requireTokens let OPTIONS with Access-Control-Request-Method through, without a wallet', async () => {
    const app = corsApp();
    for (const path of ['/me', '/apes']) {
      const res = await preflight(app, path);
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.body).toEqual({ wallet: null });
    }
  });

  test('a plain OPTIONS request (no Access-Control-Request-Method) still needs a token', async () => {
    const res = await request(corsApp()).options('/me').set('Origin', 'https://app.example');
    expect(res.status).toBe(401);
  });

  test('the real request after the preflight is gated as usual', async () => {
    const app = corsApp();
    expect((await request(app).get('/me').set('Origin', 'https://app.example')).status).toBe(401);
    const token = await env.issuer.sign();
    expect((await request(app).get('/me').set('Authorization', `Bearer ${token}`)).status).toBe(200);
  });
});

describe('allowPreflight: false', () => {
  test('a preflight is treated like any request: 401 without a token', async () => {
    const res = await preflight(corsApp({ allowPreflight: false }), '/me');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
  });

  test('a value other than true or false fails at startup', () => {
    expect(() => createTokenGate({ ...env.issuer.options, allowPreflight: 'no' as never })).toThrow(OptionsError);
    expect(() => createTokenGate({ ...env.issuer.options, allowPreflight: 'no' as never })).toThrow('"allowPreflight"');
  });
});
