// The same as an ES module: `import` goes through the package's ESM entry points.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import request from 'supertest';
import { createTokenGate, authErrorHandler, TokenGateError } from 'express-token-gate';
import { createTestIssuer, AuthzError } from 'express-token-gate/testing';

let issuer;
let app;
let caught;

before(async () => {
  issuer = await createTestIssuer({ audience: 'test-project' });
  const gate = createTokenGate(issuer.options);
  app = express();
  app.get('/me', gate.requireAuth(), (req, res) => res.json({ wallet: req.wallet.address }));
  app.use((err, req, res, next) => {
    caught = err;
    next(err);
  });
  app.use(authErrorHandler());
});
after(() => issuer.close());

test('a signed token reaches the handler', async () => {
  const res = await request(app)
    .get('/me')
    .set('Authorization', `Bearer ${await issuer.sign()}`);
  assert.equal(res.status, 200);
  assert.equal(res.body.wallet, '0xa548ac9c6f41b19175023b5f09c6e70f99cfeec8');
});

test('a rejection is a TokenGateError of the one shared copy of the library', async () => {
  const res = await request(app)
    .get('/me')
    .set('Authorization', `Bearer ${await issuer.sign({}, { unpublishedKey: true })}`);
  assert.equal(res.status, 401);
  assert.ok(caught instanceof TokenGateError);
});

test('a refused upgrade rejects with AuthzError', async () => {
  await assert.rejects(
    issuer.authorize(await issuer.sign(), { contractAddress: '0xbc4ca0eda7647a8ab7c2061c2e118a18a936f13d' }),
    AuthzError,
  );
});
