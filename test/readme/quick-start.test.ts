/**
 * The README's "Quick start" block, run as written: only `app.listen` is captured so supertest can
 * drive the app, and the environment points the gate at a test issuer.
 */
import express from 'express';
import request from 'supertest';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { block, capturingExpress } from '../helpers/docs';
import { APES_CONTRACT } from '../helpers/fixtures';

let issuer: TestIssuer;
const saved = { ...process.env };
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: 'readme-project' });
  process.env.PICKET_PROJECT_ID = 'readme-project';
  process.env.PICKET_JWKS_URI = issuer.jwksUri;
});
afterAll(async () => {
  process.env = saved;
  await issuer.close();
});

function runQuickStart(): express.Express {
  const capturing = capturingExpress();
  const modules: Record<string, unknown> = { express: capturing.express, 'express-token-gate': require('../../lib') };
  new Function('require', 'process', block('README.md', 'Quick start'))((name: string) => modules[name], process);
  const app = capturing.app();
  if (!app) throw new Error('the Quick start did not call app.listen');
  return app;
}

describe('README Quick start', () => {
  test('serves /me to a logged-in wallet and refuses anonymous requests', async () => {
    const app = runQuickStart();
    const me = await request(app)
      .get('/me')
      .set('Authorization', `Bearer ${await issuer.sign()}`);
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ wallet: '0xa548ac9c6f41b19175023b5f09c6e70f99cfeec8' });
    expect((await request(app).get('/me')).status).toBe(401);
  });

  test('gates /apes on a BAYC balance and says what is missing', async () => {
    const app = runQuickStart();
    const without = await request(app)
      .get('/apes')
      .set('Authorization', `Bearer ${await issuer.sign()}`);
    expect(without.status).toBe(403);
    expect(without.body.requirements).toEqual({
      chain: 'ethereum',
      contractAddress: APES_CONTRACT,
      minTokenBalance: '1',
    });
    const holder = await issuer.sign({ contractAddress: APES_CONTRACT, tokenBalance: '1' });
    const withApe = await request(app).get('/apes').set('Authorization', `Bearer ${holder}`);
    expect(withApe.status).toBe(200);
    expect(withApe.body).toEqual({ welcome: true });
  });
});
