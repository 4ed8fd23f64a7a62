// A user's node:test file: CommonJS, through the package's own exports (after `npm run build`).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const express = require('express');
const request = require('supertest');
const { createTokenGate, authErrorHandler } = require('express-token-gate');
const { createTestIssuer } = require('express-token-gate/testing');

const APES = '0xbc4ca0eda7647a8ab7c2061c2e118a18a936f13d';
let issuer;
let app;

before(async () => {
  issuer = await createTestIssuer({ audience: 'test-project' });
  issuer.setBalances('0xA548ac9c6f41B19175023B5f09c6E70f99cFeec8', { [APES]: '1' });
  const gate = createTokenGate(issuer.options);
  app = express();
  app.get('/apes', gate.requireTokens(APES, '1'), (req, res) => res.json({ wallet: req.wallet.address }));
  app.use(authErrorHandler());
});
after(() => issuer.close());

test('a token without the ape is refused with 403', async () => {
  const res = await request(app)
    .get('/apes')
    .set('Authorization', `Bearer ${await issuer.sign()}`);
  assert.equal(res.status, 403);
  assert.equal(res.body.reason, 'insufficient_balance');
});

test('the token upgraded through /authz passes', async () => {
  const token = await issuer.authorize(await issuer.sign(), { contractAddress: APES });
  const res = await request(app).get('/apes').set('Authorization', `Bearer ${token}`);
  assert.equal(res.status, 200);
});

test('an expired token is refused with 401', async () => {
  const res = await request(app)
    .get('/apes')
    .set('Authorization', `Bearer ${await issuer.sign({}, { expiresIn: -60 })}`);
  assert.equal(res.status, 401);
  assert.equal(res.body.reason, 'token_expired');
});
