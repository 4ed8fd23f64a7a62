/** The example app's POST /logout: the caller's token is refused afterwards, the wallet's other tokens are not. */
import request from 'supertest';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { assertBuilt } from './start-example';
import { AUDIENCE, OTHER_WALLET } from '../helpers/fixtures';

// The example requires the built package, as an application would.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = () => require('../../examples/app') as { createApp(options: object): import('express').Express };

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

let issuer: TestIssuer;
beforeAll(async () => {
  assertBuilt();
  issuer = await createTestIssuer({ audience: AUDIENCE });
});
afterAll(() => issuer.close());

describe('example app: POST /logout', () => {
  test('refuses the logged-out token with 401 token_revoked; another login of the wallet still works', async () => {
    const app = load().createApp(issuer.options);
    const token = await issuer.sign({ walletAddress: OTHER_WALLET });
    const other = await issuer.sign({ walletAddress: OTHER_WALLET });
    await request(app).get('/me').set(bearer(token)).expect(200);
    await request(app).post('/logout').set(bearer(token)).expect(204);
    const res = await request(app).get('/me').set(bearer(token)).expect(401);
    expect(res.body.reason).toBe('token_revoked');
    await request(app).get('/me').set(bearer(other)).expect(200);
  });

  test('without a token, logout is a 401 like every gated route', async () => {
    await request(load().createApp(issuer.options)).post('/logout').expect(401);
  });
});
