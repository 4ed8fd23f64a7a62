import http from 'node:http';
import connect from 'connect';
import express from 'express';
import request from 'supertest';
import { authErrorHandler, createTokenGate, type TokenGate } from '../../lib';
import { APES_CONTRACT } from '../helpers/fixtures';
import { useTestIssuer } from '../helpers/harness';
import { rawGet } from '../helpers/net';

// Express 4 is installed under an npm alias next to Express 5.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const express4 = require('express4') as typeof express;

const env = useTestIssuer();
let valid: string;
let owner: string;
beforeAll(async () => {
  valid = await env.issuer.sign();
  owner = await env.issuer.sign({ tokenBalances: { contractAddress: { [APES_CONTRACT]: '1' } } });
});

type Handler = http.RequestListener;

/** Each framework mounts /me (requireAuth) and /apes (requireTokens) with no error handler of ours. */
const frameworks: Array<[string, () => Handler]> = [
  [
    'Express 5',
    () => {
      const app = express();
      app.get('/me', env.gate.requireAuth(), (req, res) => res.json({ address: req.wallet!.address }));
      app.get('/apes', env.gate.requireTokens(APES_CONTRACT, '1'), (_req, res) => res.json({ ok: true }));
      return app;
    },
  ],
  [
    'Express 4',
    () => {
      const app = express4();
      app.get('/me', env.gate.requireAuth(), (req, res) => res.json({ address: req.wallet!.address }));
      app.get('/apes', env.gate.requireTokens(APES_CONTRACT, '1'), (_req, res) => res.json({ ok: true }));
      return app as unknown as Handler;
    },
  ],
  [
    'Connect',
    () => {
      const app = connect();
      app.use('/me', env.gate.requireAuth());
      app.use('/me', (req: http.IncomingMessage, res: http.ServerResponse) => {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ address: (req as unknown as { wallet: { address: string } }).wallet.address }));
      });
      app.use('/apes', env.gate.requireTokens(APES_CONTRACT, '1'));
      app.use('/apes', (_req: http.IncomingMessage, res: http.ServerResponse) => res.end('{"ok":true}'));
      return app as unknown as Handler;
    },
  ],
  [
    'plain http',
    () => {
      const me = env.gate.requireAuth();
      const apes = env.gate.requireTokens(APES_CONTRACT, '1');
      const errorHandler = authErrorHandler();
      return (req, res) => {
        const mw = req.url === '/me' ? me : apes;
        mw(req, res, (err?: unknown) => {
          if (err) return errorHandler(err, req, res, () => res.end());
          res.setHeader('Content-Type', 'application/json');
          const wallet = (req as unknown as { wallet: { address: string } }).wallet;
          res.end(JSON.stringify(req.url === '/me' ? { address: wallet.address } : { ok: true }));
        });
      };
    },
  ],
];

describe.each(frameworks)('%s', (_name, build) => {
  test('a valid token reaches the handler with the wallet', async () => {
    const res = await request(build()).get('/me').set('Authorization', `Bearer ${valid}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ address: '0xa548ac9c6f41b19175023b5f09c6e70f99cfeec8' });
  });

  test('no token: 401 with the bare challenge', async () => {
    const res = await request(build()).get('/me');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
  });

  test('a bad token: 401 invalid_token', async () => {
    const res = await request(build())
      .get('/me')
      .set('Authorization', `Bearer ${valid.slice(0, -4)}AAAA`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  });

  test('two Authorization headers: 400', async () => {
    const res = await rawGet(build(), '/me', [
      ['Authorization', `Bearer ${valid}`],
      ['Authorization', `Bearer ${valid}`],
    ]);
    expect(res.status).toBe(400);
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_request"/);
  });

  test('ownership: 200 for an owner, 403 insufficient_scope otherwise', async () => {
    expect((await request(build()).get('/apes').set('Authorization', `Bearer ${owner}`)).status).toBe(200);
    const res = await request(build()).get('/apes').set('Authorization', `Bearer ${valid}`);
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);
  });
});
