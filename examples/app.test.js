// app.test.js: the community API against a real issuer on 127.0.0.1 (keys, JWKS and /authz).
const request = require('supertest');
const { createTestIssuer } = require('express-token-gate/testing');
const { createApp } = require('./app');

const APES = '0xbc4ca0eda7647a8ab7c2061c2e118a18a936f13d';
const WALLET = '0x1111111111111111111111111111111111111111';

let issuer;
let app;
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: 'test-project' });
  app = createApp(issuer.options); // { issuer, audience, jwksUri } for createTokenGate
});
afterAll(() => issuer.close());

const bearer = (token) => ({ Authorization: `Bearer ${token}` });

test('/me answers 401 without a token and 200 with one', async () => {
  await request(app).get('/me').expect(401);
  const token = await issuer.sign({ walletAddress: WALLET });
  await request(app)
    .get('/me')
    .set(bearer(token))
    .expect(200, { address: WALLET, displayAddress: WALLET, chain: 'ethereum' });
});

test('expired tokens and tokens for another project are refused', async () => {
  const expired = await issuer.sign({ walletAddress: WALLET }, { expiresIn: -60 });
  const res = await request(app).get('/me').set(bearer(expired)).expect(401);
  expect(res.body.reason).toBe('token_expired');
  const elsewhere = await issuer.sign({ aud: 'another-project' });
  await request(app).get('/me').set(bearer(elsewhere)).expect(401);
});

test('a community opens to a token that proves its collection', async () => {
  const holder = await issuer.sign({ walletAddress: WALLET, tokenBalances: { contractAddress: { [APES]: '1' } } });
  await request(app).get('/communities/apes').set(bearer(holder)).expect(200);
});

test('posting takes two apes: the 403 names the requirements, /authz proves them', async () => {
  issuer.setBalances(WALLET, { [APES]: '2' });
  const login = await issuer.sign({ walletAddress: WALLET });
  const denied = await request(app).post('/communities/apes/posts').set(bearer(login)).send({ text: 'gm' }).expect(403);

  const upgraded = await issuer.authorize(login, denied.body.requirements);
  await request(app).post('/communities/apes/posts').set(bearer(upgraded)).send({ text: 'gm' }).expect(201);
});
