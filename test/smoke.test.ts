import express from 'express';
import request from 'supertest';
import { createTokenGate, authErrorHandler } from '../lib';
import { createTestIssuer, type TestIssuer } from '../lib/testing';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: 'test-project' });
});
afterAll(() => issuer.close());

test('smoke', async () => {
  const gate = createTokenGate(issuer.options);
  const app = express();
  app.get('/me', gate.requireAuth(), (req, res) => res.json(req.wallet));
  app.get('/apes', gate.requireTokens('0xbc4ca0eda7647a8ab7c2061c2e118a18a936f13d', '1'), (req, res) => res.json({ ok: true }));
  app.use(authErrorHandler());
  const token = await issuer.sign();
  const ok = await request(app).get('/me').set('Authorization', `Bearer ${token}`);
  console.log(ok.status, ok.body);
  const no = await request(app).get('/me');
  console.log(no.status, no.headers['www-authenticate'], no.body);
  const apes = await request(app).get('/apes').set('Authorization', `Bearer ${token}`);
  console.log(apes.status, apes.headers['www-authenticate'], apes.body);
});
