/**
 * The /healthz recipe of docs/key-sets.md, run as written against a real gate: ready with a reachable issuer,
 * 503 with the reason when the key set cannot be fetched.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { createTokenGate, type TokenGate } from '../../lib';
import { createTestIssuer } from '../../lib/testing';
import { block } from '../helpers/docs';
import { AUDIENCE } from '../helpers/fixtures';

const recipe = () => block('docs/key-sets.md', 'Key-set health');

function appWithRecipe(gate: TokenGate): express.Express {
  const app = express();
  new Function('app', 'gate', recipe())(app, gate);
  return app;
}

describe('the /healthz recipe of docs/key-sets.md', () => {
  test('answers 200 with fresh keys once it fetched them', async () => {
    const issuer = await createTestIssuer({ audience: AUDIENCE });
    try {
      const res = await request(appWithRecipe(createTokenGate(issuer.options)))
        .get('/healthz')
        .expect(200);
      expect(res.body).toMatchObject({
        ready: true,
        keys: { state: 'fresh', source: 'jwks', keyIds: [issuer.kid], failures: 0 },
      });
      expect(issuer.jwksHits).toBe(1);
    } finally {
      await issuer.close();
    }
  });

  test('answers 503 with the error when the issuer cannot be reached', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const gate = createTokenGate({ audience: AUDIENCE, jwksUri: `http://127.0.0.1:${port}/jwks.json`, logger: false });
    const res = await request(appWithRecipe(gate)).get('/healthz').expect(503);
    expect(res.body).toMatchObject({
      ready: false,
      keys: { state: 'failing', failures: 1, lastError: { message: expect.stringMatching(/ECONNREFUSED/) } },
    });
  });
});
